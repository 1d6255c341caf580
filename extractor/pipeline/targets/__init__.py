"""The target rules pipe: factory.py registers it, targets.py is the component."""
