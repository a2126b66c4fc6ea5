"""Op families. Importing this package attaches every op to Tensor as methods and operators."""
from . import elementwise, reduction, shape, conversion, blas, creation, random, indexing, scatter, sorting, misc, complex  # noqa: F401

FAMILIES = [elementwise, reduction, shape, conversion, blas, creation, random, indexing, scatter, sorting, misc, complex]
