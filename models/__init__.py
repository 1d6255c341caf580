"""The confidence model, shipped in the wheel as package data `extractor.models` (see review/runtime.py)."""
