"""The sections pipe: factory.py registers it, sectionizer.py is the component."""
