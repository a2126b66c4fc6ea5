"""All layer classes; each family lives in its own file."""
from .module import Module  # noqa: F401
