"""spaCy components of spinecode, registered with @Language.factory on import."""

from . import (
    sentences,  # noqa: F401
    targets,  # noqa: F401
)
