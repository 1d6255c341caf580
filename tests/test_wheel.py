"""A built wheel, installed (not editable) in a fresh venv outside the repository, extracts a note with
the rules and the confidence model (package data, not the source tree's models/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTE = "Vertebroplasty of T12 with 3 mL PMMA under fluoroscopy. No complications."


def test_installed_wheel_uses_the_shipped_model(tmp_path):
    import importlib.util

    from extractor.api import Extractor

    # without the `wheel` package here, pip builds in isolation (setuptools and wheel from PyPI)
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("wheel") else []
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation,
                            "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True, check=False)
    if built.returncode != 0:
        pytest.skip(f"cannot build the wheel here: {built.stderr[-300:]}")
    wheel = next((tmp_path / "dist").glob("spinecode-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies come from this environment; spinecode itself only from the wheel
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    Path(purelib, "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", purelib, str(wheel)],
                   check=True, capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    (work / "note.txt").write_text(NOTE)
    env = {k: v for k, v in os.environ.items() if k not in ("SPINECODE_MODEL_DIR", "PYTHONPATH")}
    out = subprocess.run([str(py), "-c", "import sys; from extractor.cli import main; sys.argv[0] = 'spinecode'; main()",
                          "extract", "note.txt"], cwd=work, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    where = subprocess.run([str(py), "-c", "import extractor; print(extractor.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where and purelib in where
    rec = json.loads(out.stdout)
    expected = Extractor().extract(NOTE, note_id="note").to_dict()
    assert rec["codes"] == expected["codes"] and rec["codes"]
    assert rec["confidence"] == expected["confidence"]  # the model's, not the no-model fallback
    assert not any("model" in w.lower() and "unavailable" in w.lower() for w in rec["warnings"])
