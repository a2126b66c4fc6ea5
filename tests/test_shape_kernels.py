"""The shape kernels (ember/_kernels/shape.py): ``cat`` of parts whose last two axes are swapped in memory
(the gradient of ``k.transpose(-2, -1)`` in attention) goes through the tiled copy kernel, with the layer on
and inside ``_jit.disabled()``, against torch: values and gradients, partial tiles, float64, a cat along
another axis, and the cases that stay on NumPy (small parts, leading axes that do not merge)."""
import numpy as np
import pytest

from ember._kernels import shape as K
from kernel_layer import kernel_layer, expect_calls
from oracle import needs_torch, check_op

rng = np.random.default_rng(5)
layer = kernel_layer(K, ("copy_transposed",))


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 40, 48), (2, 3, 33, 70)], ids=str)  # 16 x 16 tiles and partial ones
def test_cat_of_a_transposed_part(layer, shape, dtype):
    def fn(lib, q, kt, v):
        return lib.cat([q, kt.transpose(-2, -1), v], -1)
    t_shape = shape[:-2] + (shape[-1], shape[-2])
    check_op(fn, randn(*shape, dtype=dtype), randn(*t_shape, dtype=dtype), randn(*shape, dtype=dtype))
    expect_calls(layer, "copy_transposed")


@needs_torch
def test_cat_along_a_leading_axis(layer):
    check_op(lambda lib, a, bt: lib.cat([a, bt.transpose(1, 2)], 1), randn(2, 7, 90), randn(2, 90, 60))
    expect_calls(layer, "copy_transposed")


@needs_torch
def test_transposed_parts_that_stay_on_numpy(layer):
    # small: below the kernel's size threshold
    check_op(lambda lib, a, bt: lib.cat([a, bt.transpose(-2, -1)], -1), randn(4, 5, 6), randn(4, 6, 5))
    # large, but the leading axes (swapped too) do not merge into one without a copy
    check_op(lambda lib, a, b: lib.cat([a, b.permute(1, 0, 3, 2)], -1), randn(3, 2, 40, 50), randn(2, 3, 50, 40))
    expect_calls(layer)
