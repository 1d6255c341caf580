"""Import medspaCy without its QuickUMLS import chain.

medspacy/util.py imports quickumls (→ nltk → scipy.stats, ≈ 1 s) at import time although we never
use QuickUMLS. A placeholder module stands in for it, only while medspaCy is first imported, and only
if quickumls has not been imported already (then nothing is changed).
"""

from __future__ import annotations

import sys
import types


def import_medspacy() -> None:
    if "medspacy" in sys.modules or "quickumls" in sys.modules:
        import medspacy
        return
    placeholder = types.ModuleType("quickumls")
    placeholder.spacy_component = types.ModuleType("quickumls.spacy_component")
    sys.modules["quickumls"] = placeholder
    sys.modules["quickumls.spacy_component"] = placeholder.spacy_component
    try:
        import medspacy  # noqa: F401
    finally:
        del sys.modules["quickumls"]
        del sys.modules["quickumls.spacy_component"]
