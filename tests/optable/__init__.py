"""The op table: one entry per op drives the generic differential, gradcheck and layout tests.

Each family module exports ``OPS``, a list of ``OpInfo``. An entry's ``fn(lib, *inputs)`` runs on
ember and on torch alike; ``samples(rng)`` returns input tuples of NumPy float64 arrays (cast to each
dtype in ``dtypes``), integer arrays, or plain Python values.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class OpInfo:
    name: str
    fn: Callable
    samples: Callable
    dtypes: tuple = ("float32", "float64")
    grad: bool = True
    gradcheck: bool = True
    gradgrad: bool = True
    atol: float = None
    rtol: float = None
    grad_atol: float = None
    gradcheck_atol: float = 1e-5
    noncontiguous: bool = True
    tags: tuple = field(default_factory=tuple)


def randn(rng, *shape):
    return rng.standard_normal(shape)


def positive(rng, *shape, low=0.5, high=2.0):
    return rng.uniform(low, high, shape)


def unit(rng, *shape):
    return rng.uniform(-0.9, 0.9, shape)


def ints(rng, *shape, low=0, high=5):
    return rng.integers(low, high, shape).astype(np.int64)


# shapes used by most elementwise entries: plain, broadcasting, 0-d and empty
UNARY_SHAPES = [(3, 4), (), (0, 3), (2, 1, 3)]
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (3,)), ((0, 3), (1, 3))]


def all_ops():
    """Every OpInfo from every family module in this package (found automatically)."""
    import importlib
    import pkgutil
    ops = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        ops.extend(getattr(importlib.import_module(f"{__name__}.{info.name}"), "OPS", []))
    return ops
