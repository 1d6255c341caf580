"""The sentence pipe: factory.py registers it, sentences.py is the component, patterns.py its word lists."""
