"""The coding half must stay usable without spaCy: importing it must not load spaCy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_coding_and_gold_does_not_load_spacy():
    code = (
        "import sys\n"
        "import extractor.coding, extractor.gold\n"
        "from extractor.coding import assign_codes\n"
        "from extractor.facts import LevelFacts, NoteFacts\n"
        "assign_codes(NoteFacts(procedures=[LevelFacts('T12', 'vertebroplasty')]))\n"
        "loaded = sorted(m for m in sys.modules if m == 'spacy' or m.startswith(('spacy.', 'medspacy')))\n"
        "print(','.join(loaded))\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"spaCy was imported: {proc.stdout.strip()} {proc.stderr[-2000:]}"
