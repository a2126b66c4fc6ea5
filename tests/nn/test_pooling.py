"""Pooling vs torch: max (with indices), average (divisor rules), adaptive, power-average and
unpooling; functional and module forms; forward, input gradients, gradcheck and errors."""
import numpy as np
import pytest

import ember
from ember import _jit
from ember._kernels import conv as K
from kernel_layer import kernel_layer
from oracle import needs_torch, torch, check_op, check_error, gradcheck_op, assert_same
from nn.util import check_module

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def F(lib):
    return lib.nn.functional


X2 = (2, 3, 7, 8)
# (id, fn(lib, x), input shape)
CASES = [
    ("max2d", lambda lib, x: F(lib).max_pool2d(x, 2), X2),
    ("max2d_stride_pad", lambda lib, x: F(lib).max_pool2d(x, 3, stride=2, padding=1), X2),
    ("max2d_ceil", lambda lib, x: F(lib).max_pool2d(x, (3, 2), stride=(2, 3), ceil_mode=True), X2),
    ("max2d_ceil_pad", lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1, ceil_mode=True), X2),
    ("max2d_dilation_indices", lambda lib, x: F(lib).max_pool2d(x, 3, 1, 1, dilation=2, return_indices=True), X2),
    ("max2d_indices_ceil", lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True, ceil_mode=True), X2),
    ("max2d_unbatched", lambda lib, x: F(lib).max_pool2d(x, 2), (3, 6, 6)),
    ("max1d_indices", lambda lib, x: F(lib).max_pool1d(x, 3, 2, 1, return_indices=True), (2, 3, 9)),
    ("max3d_indices_ceil", lambda lib, x: F(lib).max_pool3d(x, 2, return_indices=True, ceil_mode=True),
     (2, 2, 5, 6, 5)),
    ("avg2d", lambda lib, x: F(lib).avg_pool2d(x, 2), X2),
    ("avg2d_pad", lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1), X2),
    ("avg2d_exclude_pad", lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, count_include_pad=False), X2),
    ("avg2d_ceil_exclude", lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), X2),
    ("avg2d_ceil_include", lambda lib, x: F(lib).avg_pool2d(x, (3, 2), (2, 3), (1, 0), ceil_mode=True), X2),
    ("avg2d_divisor", lambda lib, x: F(lib).avg_pool2d(x, 3, padding=1, divisor_override=5), X2),
    ("avg1d_ceil", lambda lib, x: F(lib).avg_pool1d(x, 3, 2, 1, ceil_mode=True), (2, 3, 9)),
    ("avg3d_exclude", lambda lib, x: F(lib).avg_pool3d(x, 3, 2, 1, count_include_pad=False), (2, 2, 5, 6, 5)),
    ("adaptive_avg2d_1", lambda lib, x: F(lib).adaptive_avg_pool2d(x, 1), X2),
    ("adaptive_avg2d_uneven", lambda lib, x: F(lib).adaptive_avg_pool2d(x, (4, 5)), X2),
    ("adaptive_avg2d_none", lambda lib, x: F(lib).adaptive_avg_pool2d(x, (None, 3)), X2),
    ("adaptive_avg1d", lambda lib, x: F(lib).adaptive_avg_pool1d(x, 4), (2, 3, 9)),
    ("adaptive_avg3d", lambda lib, x: F(lib).adaptive_avg_pool3d(x, (2, 3, 4)), (2, 2, 5, 6, 5)),
    ("adaptive_max2d_even", lambda lib, x: F(lib).adaptive_max_pool2d(x, (7, 4), return_indices=True), X2),
    ("adaptive_max2d_uneven", lambda lib, x: F(lib).adaptive_max_pool2d(x, (3, 5), return_indices=True), X2),
    ("adaptive_max1d", lambda lib, x: F(lib).adaptive_max_pool1d(x, 4), (2, 3, 9)),
    ("lp2d", lambda lib, x: F(lib).lp_pool2d(x.abs() + 0.1, 2, 3, 2), X2),
    ("lp1d_p15", lambda lib, x: F(lib).lp_pool1d(x.abs() + 0.1, 1.5, 2), (2, 3, 9)),
    ("unpool2d", lambda lib, x: F(lib).max_unpool2d(*F(lib).max_pool2d(x, 2, return_indices=True), 2,
                                                      output_size=(7, 8)), X2),
    ("unpool1d", lambda lib, x: F(lib).max_unpool1d(*F(lib).max_pool1d(x, 2, return_indices=True), 2), (2, 3, 8)),
]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn,shape", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pool_matches_torch(fn, shape, dtype):
    check_op(fn, randn(*shape, dtype=dtype))


@pytest.mark.parametrize("fn", [
    lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1),
    lambda lib, x: F(lib).max_pool2d(x, 2),  # disjoint windows: the offset-scatter gradient
    lambda lib, x: F(lib).max_pool2d(x, 2, ceil_mode=True),
    lambda lib, x: F(lib).max_pool2d(x, 2, stride=3, padding=1),
    lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda lib, x: F(lib).adaptive_max_pool2d(x, 3),
    lambda lib, x: F(lib).adaptive_avg_pool2d(x, 3),
    lambda lib, x: F(lib).max_unpool2d(*F(lib).max_pool2d(x, 2, return_indices=True), 2, output_size=(5, 5)),
])
def test_pool_gradcheck(fn):
    gradcheck_op(fn, randn(1, 2, 5, 5, dtype=np.float64))


@needs_torch
def test_max_pool_nan_and_ties_follow_torch():
    x = np.zeros((1, 1, 4, 4), np.float32)  # all ties: torch picks the first in scan order
    x[0, 0, 1, 1] = np.nan
    check_op(lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True), x, grad=False)


@needs_torch
@pytest.mark.parametrize("kernel,stride", [(2, 2), (2, 3), (3, 3)])
def test_disjoint_max_pool_grad_ties_and_nan_follow_torch(kernel, stride):
    """Disjoint windows take the offset-scatter backward; ties and NaN must route the gradient to
    the same element as torch's."""
    x = np.round(randn(2, 3, 9, 10) * 2) / 2  # many ties
    x[0, 0, 1, 1] = x[1, 2, 4, 3] = np.nan
    x[0, 1] = 0.0
    check_op(lambda lib, x: F(lib).max_pool2d(x, kernel, stride), x)
    check_op(lambda lib, x: F(lib).max_pool2d(x, kernel, stride, ceil_mode=True), x)


@needs_torch
def test_integer_pooling():
    x = rng.integers(-5, 5, (2, 3, 6, 6)).astype(np.int64)
    check_op(lambda lib, x: F(lib).max_pool2d(x, 2), x, grad=False)
    check_op(lambda lib, x: F(lib).avg_pool2d(x, 2), x, grad=False)


counted_pool_layer = kernel_layer(K, ("max_pool2d", "max_pool2d_scatter"))


@pytest.fixture
def pool_layer(counted_pool_layer):
    """(mode, kernel calls); the "jit" mode skips when EMBER_JIT=0 switches the layer off."""
    if counted_pool_layer[0] == "jit" and not _jit.enabled():
        pytest.skip("kernel layer switched off (EMBER_JIT=0)")
    return counted_pool_layer

# (id, fn, input, whether the windows are disjoint: the offset-scatter backward)
COMPILED_MAX_POOL = [
    ("k2", lambda lib, x: F(lib).max_pool2d(x, 2), (2, 3, 8, 8), True),
    ("k3_s2_pad", lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1), (2, 3, 7, 8), False),
    ("k2x3_ceil", lambda lib, x: F(lib).max_pool2d(x, (2, 3), (2, 3), ceil_mode=True), (2, 2, 7, 8), True),
    ("stride_past_kernel_pad", lambda lib, x: F(lib).max_pool2d(x, 2, 3, 1), (1, 3, 9, 8), True),
    ("dilation_indices", lambda lib, x: F(lib).max_pool2d(x, 2, 1, 1, dilation=2, return_indices=True), (2, 2, 6, 7),
     False),
    ("unbatched", lambda lib, x: F(lib).max_pool2d(x, 2), (3, 6, 6), True),
]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", COMPILED_MAX_POOL, ids=[c[0] for c in COMPILED_MAX_POOL])
def test_compiled_max_pool(pool_layer, case, dtype):
    """The compiled 2-d max pool (forward with offsets, scatter backward for disjoint windows) and its
    NumPy twin, on ties and NaN too."""
    _, fn, shape, disjoint = case
    x = (np.round(randn(*shape) * 2) / 2).astype(dtype)  # many ties
    x.reshape(-1)[[3, 17]] = np.nan
    check_op(fn, x)
    mode, calls = pool_layer
    jit = mode == "jit"
    assert calls["max_pool2d"] == (1 if jit else 0)
    assert calls["max_pool2d_scatter"] == (1 if jit and disjoint else 0)


MODULES = [
    ("MaxPool2d", lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True), X2),
    ("MaxPool1d", lambda nn: nn.MaxPool1d(2), (2, 3, 8)),
    ("MaxPool3d", lambda nn: nn.MaxPool3d(2, return_indices=True), (1, 2, 4, 4, 4)),
    ("AvgPool2d", lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False), X2),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(3, 2, 1), (2, 3, 8)),
    ("AvgPool3d", lambda nn: nn.AvgPool3d(2, divisor_override=3), (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((3, None)), X2),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d(3, return_indices=True), X2),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(3), (2, 3, 8)),
    ("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(3), (2, 3, 8)),
    ("LPPool2d", lambda nn: nn.LPPool2d(2, 2), X2),
]


@needs_torch
@pytest.mark.parametrize("build,shape", [m[1:] for m in MODULES], ids=[m[0] for m in MODULES])
def test_pool_modules(build, shape):
    check_module(build, np.abs(randn(*shape)) + 0.1)
    assert repr(build(ember.nn)) == repr(build(torch.nn))


@needs_torch
def test_max_unpool_module():
    x = randn(1, 2, 6, 6)
    tp, tu = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    ep, eu = ember.nn.MaxPool2d(2, return_indices=True), ember.nn.MaxUnpool2d(2)
    assert_same(eu(*ep(ember.from_numpy(x))), tu(*tp(torch.from_numpy(x))))
    assert repr(eu) == repr(tu)


@needs_torch
@pytest.mark.parametrize("fn,shape", [
    (lambda lib, x: F(lib).max_pool2d(x, 3, padding=2), X2),
    (lambda lib, x: F(lib).max_pool2d(x, 2), (2, 5)),
    (lambda lib, x: F(lib).max_pool2d(x, 8), X2),
    (lambda lib, x: F(lib).max_pool2d(x, 2, stride=0), X2),
    (lambda lib, x: F(lib).avg_pool2d(x, 3, padding=2), X2),
    (lambda lib, x: F(lib).avg_pool1d(x, 2), X2),
    (lambda lib, x: F(lib).max_pool1d(x, 2), (5,)),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, 2), (5,)),
    (lambda lib, x: F(lib).adaptive_max_pool2d(x, 2), (5,)),
    (lambda lib, x: F(lib).max_unpool2d(x, F(lib).max_pool2d(x, 2, return_indices=True)[1], 2), X2),
])
def test_pool_errors(fn, shape):
    e, t = check_error(fn, randn(*shape))
    assert str(e) == str(t)
