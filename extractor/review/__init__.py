"""The review stage: facts and codes -> `confidence`, `review` and the concerns shown in `warnings`.

Modules, in the order they depend on each other:
features (the model's own reading of the note text) → store (safe files: skops and JSON only) →
runtime (the heads' probabilities for one note, the process-wide model) → confidence (rule concerns
routed by code through routing.json, combined with the model's view) → card (MODEL_CARD.md) →
training (`spinecode train`; only cli.py imports it). Nothing here imports api, cli or batch.
"""
