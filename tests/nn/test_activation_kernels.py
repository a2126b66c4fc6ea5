"""The compiled activation kernels (ember/_kernels/activation.py: GELU, row softmax) against torch, with the
kernel layer on and inside ``_jit.disabled()`` (the NumPy path): forward and backward, odd and block-crossing
sizes, non-contiguous inputs, NaN/inf, fully masked softmax rows, float64 gradcheck. Each test also counts
the kernel calls, so a dispatch that silently falls back to NumPy (or a kernel run with the layer off) fails."""
import contextlib
import math

import numpy as np
import pytest

import ember
from ember import _jit
from ember._kernels import activation as K
from kernel_layer import kernel_layer, expect_calls
from oracle import needs_torch, torch, check_op, gradcheck_op, assert_same

rng = np.random.default_rng(11)
KERNELS = ("gelu_forward", "gelu_backward", "gelu_tanh", "softmax_rows", "softmax_rows_backward", "relu_backward")


def randn(*shape, dtype=np.float32, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


layer = kernel_layer(K, KERNELS)


def F(lib):
    return lib.nn.functional


# ---------------------------------------------------------------- GELU

@needs_torch
@pytest.mark.parametrize("shape", [(7,), (3, 5, 11), (2, 700), (1300,)], ids=str)
def test_gelu_forward_backward(layer, shape):
    x = randn(*shape, scale=3.0)
    check_op(lambda lib, t: F(lib).gelu(t), x, atol=2e-6, rtol=1e-6, grad_atol=2e-6, grad_rtol=1e-6)
    expect_calls(layer, "gelu_forward", "gelu_backward")


@needs_torch
def test_gelu_non_contiguous(layer):
    x = randn(9, 6, scale=2.0)
    check_op(lambda lib, t: F(lib).gelu(t.transpose(0, 1)[::2]), x, atol=2e-6, rtol=1e-6)
    expect_calls(layer, "gelu_forward", "gelu_backward")


@needs_torch
def test_gelu_special_values(layer):
    """NaN propagates; +-inf and large magnitudes follow torch's x * Phi(x) (gelu(-inf) is nan there)."""
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 9.0, -9.0, 40.0, -40.0, 3.5, -3.5, 1e-30],
                 np.float32)
    check_op(lambda lib, t: F(lib).gelu(t), x, atol=2e-6, rtol=1e-6)
    e = F(ember).gelu(ember.tensor(x))
    assert np.isnan(e.detach().numpy()[0])
    expect_calls(layer, "gelu_forward", "gelu_backward")


@needs_torch
@pytest.mark.parametrize("dtype", [np.float16, "bfloat16"])
def test_gelu_half_computes_in_float32(layer, dtype):
    import ml_dtypes
    x = randn(4, 9).astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)
    check_op(lambda lib, t: F(lib).gelu(t), x)
    expect_calls(layer, "gelu_forward", "gelu_backward")


@needs_torch
@pytest.mark.parametrize("shape", [(7,), (3, 5, 11), (1300,)], ids=str)
def test_gelu_tanh_forward_backward(layer, shape):
    x = randn(*shape, scale=3.0)
    # the NumPy path's float32 np.tanh loses a few more ulps where 1 + t cancels
    tol = 2e-6 if layer[0] == "jit" else 1e-5
    check_op(lambda lib, t: F(lib).gelu(t, approximate="tanh"), x, atol=tol, rtol=1e-6, grad_atol=tol,
             grad_rtol=1e-6)
    expect_calls(layer, "gelu_tanh")


@needs_torch
def test_gelu_tanh_special_values_and_small_inputs(layer):
    """Both tanh branches (|y| < 0.625 and above), tiny inputs (no cancellation), NaN, +-inf, overflow."""
    x = np.concatenate([np.linspace(-6, 6, 97), np.geomspace(1e-30, 0.5, 20), -np.geomspace(1e-30, 0.5, 20),
                        [np.nan, np.inf, -np.inf, 1e20, -1e20]]).astype(np.float32)
    tol = 2e-6 if layer[0] == "jit" else 1e-5
    check_op(lambda lib, t: F(lib).gelu(t, approximate="tanh"), x, atol=tol, rtol=1e-6, grad_atol=tol,
             grad_rtol=1e-6)
    expect_calls(layer, "gelu_tanh")


@needs_torch
def test_gelu_float64_takes_numpy(layer):
    check_op(lambda lib, t: F(lib).gelu(t), randn(5, 3, dtype=np.float64))
    check_op(lambda lib, t: F(lib).gelu(t, approximate="tanh"), randn(5, 3, dtype=np.float64))
    expect_calls(layer)


def test_gelu_tanh_gradcheck_float64(layer):
    gradcheck_op(lambda lib, t: F(lib).gelu(t, approximate="tanh"), randn(3, 4, dtype=np.float64, scale=2.0))


def test_gelu_gradcheck_float64(layer):
    gradcheck_op(lambda lib, t: F(lib).gelu(t), randn(3, 4, dtype=np.float64, scale=2.0))


@needs_torch
def test_gelu_double_backward_float32(layer):
    """create_graph=True takes the ember-op backward; its second derivative matches torch's."""
    x = randn(6, 5, scale=2.0)
    res = []
    for lib in (ember, torch):
        t = (ember.from_numpy if lib is ember else torch.from_numpy)(x.copy()).requires_grad_(True)
        g, = lib.autograd.grad(F(lib).gelu(t).sum(), t, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), t)
        res.append((g, gg))
    assert_same(res[0][0], res[1][0], atol=2e-6, rtol=1e-6)
    assert_same(res[0][1], res[1][1], atol=1e-5, rtol=1e-5)
    expect_calls(layer, "gelu_forward")


# ---------------------------------------------------------------- softmax

@needs_torch
@pytest.mark.parametrize("shape", [(5,), (3, 7), (2, 3, 129), (4, 1), (2, 2, 600)], ids=str)
def test_softmax_last_dim(layer, shape):
    x = randn(*shape, scale=4.0)
    check_op(lambda lib, t: F(lib).softmax(t, dim=-1), x, atol=1e-7, rtol=1e-6, grad_atol=1e-6, grad_rtol=1e-5)
    expect_calls(layer, "softmax_rows", "softmax_rows_backward")


@needs_torch
def test_softmax_wide_range_underflows_like_torch(layer):
    """Entries 80..120 below the row max: exp underflows to (sub)normals or 0, within 1.2e-38 of torch."""
    x = np.concatenate([np.zeros((3, 1)), -np.linspace(0, 120, 60)[None].repeat(3, 0)], 1).astype(np.float32)
    check_op(lambda lib, t: F(lib).softmax(t, dim=1), x, atol=1.2e-38, rtol=1e-6, grad_atol=1e-7, grad_rtol=1e-5)
    expect_calls(layer, "softmax_rows", "softmax_rows_backward")


@needs_torch
def test_softmax_masked_rows(layer):
    """masked_fill(-inf) with a causal bool mask; a fully masked row, a NaN row and a +inf row give nan."""
    x = randn(2, 6, 6, scale=3.0)
    mask = np.triu(np.ones((6, 6), bool), 1)
    mask[3] = True
    x[1, 4, 2] = np.nan
    x[1, 5, 1] = np.inf

    def fn(lib, t):
        return F(lib).softmax(t.masked_fill(lib.from_numpy(mask), float("-inf")), dim=-1)
    check_op(fn, x, atol=1e-7, rtol=1e-6, grad_atol=1e-6, grad_rtol=1e-5)
    out = fn(ember, ember.from_numpy(x)).numpy()
    assert np.isnan(out[:, 3]).all() and np.isnan(out[1, 4:]).all() and not np.isnan(out[0, 4:]).any()
    expect_calls(layer, "softmax_rows", "softmax_rows_backward")


@needs_torch
def test_softmax_other_dims_and_strides(layer):
    """A non-last dim takes NumPy; a non-contiguous last-dim input is copied into the kernel."""
    x = randn(4, 5, 6, scale=2.0)
    check_op(lambda lib, t: F(lib).softmax(t, dim=1), x)
    _, calls = layer
    assert calls["softmax_rows"] == 0
    check_op(lambda lib, t: F(lib).softmax(t.transpose(0, 2), dim=-1), x, atol=1e-7, rtol=1e-6,
             grad_atol=1e-6, grad_rtol=1e-5)
    expect_calls(layer, "softmax_rows", "softmax_rows_backward")


@needs_torch
def test_log_softmax_special_rows(layer):
    """log_softmax shares the max shift: rows of -inf, +inf and NaN give nan, as torch."""
    x = np.array([[1.0, 2.0, 3.0], [-np.inf] * 3, [1.0, np.inf, 0.0], [np.nan, 1.0, 2.0], [-np.inf, 0.0, 1.0]],
                 np.float32)
    check_op(lambda lib, t: F(lib).log_softmax(t, dim=-1), x)


@needs_torch
def test_softmax_half_and_float64(layer):
    """float16 computes in float32 (kernel forward); float64's backward uses the generic row kernel."""
    check_op(lambda lib, t: F(lib).softmax(t, dim=-1), randn(3, 8).astype(np.float16))
    expect_calls(layer, "softmax_rows", "softmax_rows_backward")
    x64 = randn(3, 8, dtype=np.float64)
    check_op(lambda lib, t: F(lib).softmax(t, dim=-1), x64)


def test_softmax_gradcheck_float64(layer):
    gradcheck_op(lambda lib, t: F(lib).softmax(t, dim=-1), randn(3, 5, dtype=np.float64))


@needs_torch
def test_softmax_double_backward(layer):
    x = randn(3, 7)
    res = []
    for lib in (ember, torch):
        t = (ember.from_numpy if lib is ember else torch.from_numpy)(x.copy()).requires_grad_(True)
        w = (ember.from_numpy if lib is ember else torch.from_numpy)(np.arange(7, dtype=np.float32))
        g, = lib.autograd.grad((F(lib).softmax(t, dim=-1) * w).sum(), t, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), t)
        res.append((g, gg))
    assert_same(res[0][0], res[1][0], atol=1e-6, rtol=1e-5)
    assert_same(res[0][1], res[1][1], atol=1e-5, rtol=1e-4)


# ---------------------------------------------------------------- the kernels directly

def test_kernel_and_numpy_paths_agree_closely():
    """The two paths evaluate the same erf and close exps: they agree to a few float32 ulps."""
    if not _jit.available():
        pytest.skip("numba not installed")
    x = randn(3, 257, scale=3.0)
    t = ember.from_numpy(x).requires_grad_(True)
    outs = []
    for ctx in (_jit.disabled, None):
        t.grad = None
        with (ctx() if ctx else _nullcontext()):
            y = F(ember).gelu(t)
            s = F(ember).softmax(y, dim=-1)
            (s * ember.from_numpy(x)).sum().backward()
        outs.append((y.detach().numpy(), s.detach().numpy(), t.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=3e-6, atol=1e-6)


def _nullcontext():
    import contextlib
    return contextlib.nullcontext()


def test_erf_polynomial_error_bound():
    """gelu_forward at x: x * (1 + erf(x / sqrt 2)) / 2 within 5e-7 * |x| of the float64 value."""
    if not _jit.available():
        pytest.skip("numba not installed")
    x = np.linspace(-8, 8, 4001, dtype=np.float32)
    out = np.empty_like(x)
    K.gelu_forward(x, out)
    exact = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])
    assert np.all(np.abs(out - exact) <= 5e-7 * np.maximum(np.abs(x), 1) + 1e-7)


@needs_torch
@pytest.mark.parametrize("shape", [(7,), (2, 3, 5, 5)])
def test_relu_backward_matches_torch_including_nan_outputs(layer, shape):
    x = randn(*shape)
    x.reshape(-1)[0] = np.nan
    x.reshape(-1)[-1] = -1.0
    g = randn(*shape)
    results = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        lib.relu(xt).backward(lib.tensor(g))
        results.append(xt.grad)
    assert_same(results[0], results[1])
    expect_calls(layer, "relu_backward")
    gradcheck_op(lambda lib, t: lib.relu(t), randn(3, 4) + 0.1)


@needs_torch
@pytest.mark.parametrize("transposed", [False, True])
def test_relu_forward_and_backward_on_any_layout_match_torch(transposed):
    """F.relu's recorded fast path (kernel or NumPy) on a C-contiguous and a transposed input, with -0.0."""
    x = randn(4, 6)
    x[0, :3] = [-0.0, 0.0, -2.0]
    g = randn(6, 4) if transposed else randn(4, 6)
    results = []
    for lib in (ember, torch):
        for mode in ((_jit.disabled(),) if lib is ember else ()) + (contextlib.nullcontext(),):
            with mode:
                xt = lib.tensor(x, requires_grad=True)
                y = lib.nn.functional.relu(xt.T if transposed else xt)
                y.backward(lib.tensor(g))
                results.append((y.detach().numpy(), xt.grad.numpy()))
    for other in results[:-1]:  # each ember path against torch (the last), -0.0 included
        np.testing.assert_array_equal(other[0], results[-1][0])
        np.testing.assert_array_equal(other[1], results[-1][1])
        assert np.array_equal(np.signbit(other[0]), np.signbit(results[-1][0]))


@needs_torch
@pytest.mark.parametrize("grad", [False, True])
def test_relu_keeps_negative_zero_as_torch(layer, grad):
    """torch's relu is clamp_min(x, 0): -0.0 stays -0.0 and NaN passes, on the kernel and NumPy paths."""
    x = np.array([-0.0, 0.0, -1.5, np.nan, 2.0, -np.inf], np.float32)
    t = ember.from_numpy(x.copy()).requires_grad_(grad)
    ours = ember.nn.functional.relu(t).detach().numpy()
    theirs = torch.relu(torch.from_numpy(x.copy())).numpy()
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    np.testing.assert_array_equal(ours, theirs)
