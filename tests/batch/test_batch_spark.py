"""extractor.spark.extract_dataframe in Spark local[2] mode: the same records as Extractor.pipe.

Skipped when pyspark is not installed (pip install 'spinecode[spark]') or no Java runtime is found.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
from batch_helpers import NOTES

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
pytest.importorskip("pandas")
if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
    pytest.skip("no Java runtime for Spark", allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers must import this environment's extractor
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("spinecode-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_extract_dataframe_equals_pipe(spark, extractor):
    from extractor.spark import extract_dataframe

    notes = [(f"s{k}", NOTES[k % len(NOTES)]) for k in range(10)]
    rows = [(i, t, "2014-06-30" if k % 2 else None) for k, (i, t) in enumerate(notes)]
    rows += [("empty", "", None), ("null", None, None), ("baddate", NOTES[0], "June 30")]
    df = spark.createDataFrame(spark.sparkContext.parallelize(rows, 2), "id string, body string, day string")
    out = extract_dataframe(df, text_col="body", id_col="id", date_col="day", code_set="auto")
    assert out.columns == ["note_id", "result", "codes", "levels", "review", "confidence", "error"]
    got = {r.note_id: r for r in out.collect()}
    assert set(got) == {r[0] for r in rows}

    from extractor import Extractor

    auto = Extractor(code_set="auto")
    expected = [r.to_dict() for r in auto.pipe(rows[:10])]
    for want in expected:
        row = got[want["note_id"]]
        assert json.loads(row.result) == want
        assert row.codes == [f"{c['code']}x{c['units']}" for c in want["codes"]]
        assert row.levels == [p["level"] for p in want["procedures"]]
        assert row.review == want["review"] and row.confidence == want["confidence"] and row.error is None
    assert got["empty"].error.startswith("EmptyNote:") and got["empty"].codes is None
    assert got["null"].error.startswith("MissingText:")
    assert got["baddate"].error.startswith("InvalidDateOfService:") and "June" not in got["baddate"].error


def test_extract_dataframe_checks_arguments_on_the_driver(spark):
    from extractor.spark import extract_dataframe

    df = spark.createDataFrame([("a", "x")], "note_id string, text string")
    with pytest.raises(ValueError, match="code_set"):
        extract_dataframe(df, code_set="nonsense")
    with pytest.raises(ValueError, match="no column 'body'"):
        extract_dataframe(df, text_col="body")


def test_local_mode_needs_no_pyspark_python(tmp_path):
    # a fresh driver process without PYSPARK_PYTHON: Spark's default "python3" worker may lack spinecode
    import subprocess

    script = (
        "from pyspark.sql import SparkSession\n"
        "from extractor.spark import extract_dataframe\n"
        "s = SparkSession.builder.master('local[1]').config('spark.ui.enabled', 'false').getOrCreate()\n"
        "df = s.createDataFrame([('a', 'Vertebroplasty of T12 with 3 mL PMMA under fluoroscopy.')], 'note_id string, text string')\n"
        "row = extract_dataframe(df).collect()[0]\n"
        "assert s.sparkContext.pythonExec == __import__('sys').executable\n"
        "print(row.levels, row.error)\n"
        "s.stop()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "['T12'] None" in out.stdout
