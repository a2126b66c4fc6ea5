"""The compiled embedding weight gradient (ember/_kernels/embedding.py) against torch, with the kernel
layer on and off: repeated indices, padding_idx, scale_grad_by_freq, float64, embedding_bag."""
import contextlib

import numpy as np
import pytest

from ember import _jit
from oracle import needs_torch, check_op

pytestmark = needs_torch
needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba not installed")
LAYER = [pytest.param(True, marks=needs_numba, id="jit"), pytest.param(False, id="numpy")]


def _layer(on):
    return contextlib.nullcontext() if on else _jit.disabled()


def _weight(num, dim, dtype=np.float32):
    return np.random.default_rng(0).standard_normal((num, dim)).astype(dtype)


def _indices(shape, num, seed=1):
    return np.random.default_rng(seed).integers(0, num, shape).astype(np.int64)


@pytest.mark.parametrize("on", LAYER)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"scale_grad_by_freq": True}])
def test_embedding_gradient(on, dtype, kw):
    idx = _indices((7, 5), 6)  # 35 lookups into 6 rows: every row repeated
    idx[0, :3] = 2
    with _layer(on):
        check_op(lambda T, w, i: T.nn.functional.embedding(i, w, **kw), _weight(6, 3, dtype), idx)


@pytest.mark.parametrize("on", LAYER)
def test_embedding_gradient_non_contiguous_output_grad(on):
    # the gradient reaching the lookup is a transposed view
    with _layer(on):
        check_op(lambda T, w, i: T.nn.functional.embedding(i, w).transpose(0, 1), _weight(9, 4), _indices((3, 5), 9))


@pytest.mark.parametrize("on", LAYER)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradient(on, mode):
    offsets = np.array([0, 2, 2, 5], dtype=np.int64)
    with _layer(on):
        check_op(lambda T, w, i, o: T.nn.functional.embedding_bag(i, w, o, mode=mode),
                 _weight(8, 3), _indices(9, 8), offsets)
