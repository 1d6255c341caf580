"""spaCy components of spinecode, registered with @Language.factory on import."""

from . import sentences  # noqa: F401
from . import targets  # noqa: F401,E402
