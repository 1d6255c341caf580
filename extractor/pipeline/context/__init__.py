"""The ConText pipe: factory.py registers it, context.py is the component."""
