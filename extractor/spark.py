"""Spark / ETL entry point: notes in a DataFrame → one contract record per row.

    from extractor.spark import extract_dataframe
    out = extract_dataframe(notes_df, text_col="note_text", id_col="note_id", date_col="service_date")
    out.select("note_id", "codes", "review", "error").show()

The result has the columns `note_id`, `result` (the whole contract record as a JSON string), and the
flat columns `codes` (array of "22514x1"), `levels` (array of treated levels), `review`, `confidence`
and `error` ("Type: message", null for a good note). Errors never stop the job: a row whose text is
null, empty, binary or too large gets an error record like `spinecode batch` gives.

Extraction runs in `mapInPandas`: the spaCy pipeline is built once per Python worker process of each
executor (and reused across tasks while Spark reuses its Python workers, the default). Executors need
spinecode with the `spark` extra installed, and on a cluster `PYSPARK_PYTHON` (or `spark.pyspark.python`)
must point at that Python. In local mode with neither set, the workers run the driver's interpreter.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .readers import DEFAULT_MAX_BYTES, note_from_fields
from .writers import flat_record

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from pyspark.sql import DataFrame

    from .api import Extractor

OUTPUT_SCHEMA = ("note_id string, result string, codes array<string>, levels array<string>, review boolean, "
                 "confidence double, error string")
COLUMNS = [column.split()[0] for column in OUTPUT_SCHEMA.split(", ")]
CHUNK = 32

_EXTRACTORS: dict[str, Extractor] = {}  # one pipeline per code set per Python worker process


def _local_workers_use_this_python(session) -> None:
    # Spark's default worker command is "python3", often not the interpreter that has spinecode installed
    import os
    import sys

    sc = session.sparkContext
    if (sc.master.startswith("local") and "PYSPARK_PYTHON" not in os.environ
            and not sc.getConf().get("spark.pyspark.python")):
        sc.pythonExec = sys.executable


def _extractor(code_set: str) -> Extractor:
    if code_set not in _EXTRACTORS:
        from .api import Extractor

        _EXTRACTORS[code_set] = Extractor(code_set=code_set)
    return _EXTRACTORS[code_set]


def records_for_rows(ids: list, texts: list, dates: list, code_set: str = "current",
                     max_bytes: int = DEFAULT_MAX_BYTES, id_col: str = "note_id", text_col: str = "text",
                     date_col: str | None = None) -> list[dict]:
    """Contract records for parallel lists of ids, texts (str or bytes) and dates, in order."""
    from .batch import process_notes

    extractor = _extractor(code_set)
    out: list[dict] = []
    for start in range(0, len(ids), CHUNK):
        notes = [note_from_fields(i, t, d, max_bytes, "row", text_col, id_col, date_col)
                 for i, t, d in zip(ids[start:start + CHUNK], texts[start:start + CHUNK], dates[start:start + CHUNK])]
        out.extend(process_notes(extractor, notes))
    return out


def _row(record: dict, note_id) -> dict:
    """One row of OUTPUT_SCHEMA: the whole record, and flat columns (null for an error record) from writers."""
    flat = flat_record(record)
    good = flat.error is None
    return {
        "note_id": record.get("note_id") if record.get("note_id") is not None else note_id,
        "result": json.dumps(record, ensure_ascii=False),
        "codes": flat.codes if good else None,
        "levels": flat.levels if good else None,
        "review": bool(flat.review) if good else None,
        "confidence": float(flat.confidence) if good else None,
        "error": flat.error,
    }


def _map_batches(batches: Iterator[pd.DataFrame], code_set: str, max_bytes: int, id_col: str, text_col: str,
                 date_col: str | None) -> Iterator[pd.DataFrame]:
    import pandas as pd

    for frame in batches:
        ids = frame["_id"].tolist()
        texts = frame["_text"].tolist()
        dates = frame["_dos"].tolist()
        records = records_for_rows(ids, texts, dates, code_set, max_bytes, id_col, text_col, date_col)
        rows = [_row(r, raw_id) for r, raw_id in zip(records, ids)]
        out = pd.DataFrame(rows, columns=COLUMNS)
        out["review"] = out["review"].astype(object)  # nullable booleans travel as objects
        yield out


def extract_dataframe(df: DataFrame, text_col: str = "text", id_col: str = "note_id", date_col: str | None = None,
                      code_set: str = "current", max_bytes: int = DEFAULT_MAX_BYTES) -> DataFrame:
    """A DataFrame of one contract record per input row (see the module docstring for the columns).

    text_col may be a string or binary column (bytes are decoded like note files: UTF-8, else cp1252 with a
    warning). date_col (optional) may be a date, timestamp or ISO string column; it feeds --code-set auto.
    """
    from pyspark.sql import functions as F

    from .coding import resolve_code_set

    resolve_code_set(code_set, None)  # a wrong name fails here, on the driver, not in every task
    for name in (id_col, text_col, date_col):
        if name is not None and name not in df.columns:
            raise ValueError(f"no column {name!r} in the DataFrame (columns: {', '.join(df.columns)})")
    _local_workers_use_this_python(df.sparkSession)
    date = F.col(date_col).cast("string") if date_col else F.lit(None).cast("string")
    selected = df.select(F.col(id_col).cast("string").alias("_id"), F.col(text_col).alias("_text"),
                         date.alias("_dos"))
    fn = functools.partial(_map_batches, code_set=code_set, max_bytes=max_bytes, id_col=id_col, text_col=text_col,
                           date_col=date_col)
    return selected.mapInPandas(fn, schema=OUTPUT_SCHEMA)
