"""spinecode: vertebral augmentation notes -> per-level facts -> CPT codes.

    from extractor import extract, Extractor
    result = extract(text, note_id="n1")          # NoteResult; result.to_dict() is the contract JSON

The NLP half loads lazily, so `import extractor.coding` (pure Python) never pulls in spaCy.
"""

__version__ = "0.1.0"
__all__ = ["Extractor", "NoteResult", "__version__", "extract"]


def __getattr__(name: str):
    if name in ("Extractor", "NoteResult", "extract"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
