"""spaCy components of spinecode, registered with @Language.factory on import."""

from . import (
    sectionizer,  # noqa: F401
    sentences,  # noqa: F401
    targets,  # noqa: F401
)
