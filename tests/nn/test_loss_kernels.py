"""The compiled softmax cross-entropy (ember/_kernels/loss.py) against torch, with the kernel layer on
and off: values, gradients, large vocabularies and the non-finite logits that send it to the general path."""
import contextlib

import numpy as np
import pytest

import ember
from ember import _jit
from ember._kernels import loss as kernels
from oracle import needs_torch, torch, check_op

pytestmark = needs_torch
needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba not installed")
LAYER = [pytest.param(True, marks=needs_numba, id="jit"), pytest.param(False, id="numpy")]


def _layer(on):
    return contextlib.nullcontext() if on else _jit.disabled()


def _logits(n, c, scale=3.0, dtype=np.float32, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, c)) * scale).astype(dtype)


def _targets(n, c, seed=1):
    return np.random.default_rng(seed).integers(0, c, n).astype(np.int64)


@pytest.mark.parametrize("on", LAYER)
@pytest.mark.parametrize("n,c", [(1, 1), (3, 7), (5, 33), (17, 1000)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_torch(on, n, c, reduction):
    with _layer(on):
        check_op(lambda T, x, t: T.nn.functional.cross_entropy(x, t, reduction=reduction),
                 _logits(n, c), _targets(n, c), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("on", LAYER)
def test_large_logits_and_minus_inf_entries(on):
    x = _logits(6, 50, scale=40.0)  # exp of the shifted values spans the whole float32 range
    x[1, 3] = -np.inf               # a masked class: probability 0, gradient 0
    x[2, :] = 80.0                  # a flat row
    t = _targets(6, 50)
    t[1] = 4
    with _layer(on):
        check_op(lambda T, x, t: T.nn.functional.cross_entropy(x, t), x, t, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("on", LAYER)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_logits_match_torch(on, bad):
    x = _logits(4, 9)
    x[2, 5] = bad
    with _layer(on):
        e = ember.nn.functional.cross_entropy(ember.from_numpy(x), ember.from_numpy(_targets(4, 9)))
        for reduction in ("sum", "none"):  # the bad row is nan (gradient too), the others as usual
            check_op(lambda T, x, t: T.nn.functional.cross_entropy(x, t, reduction=reduction), x, _targets(4, 9))
    t = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(_targets(4, 9)))
    assert np.isnan(e.item()) and np.isnan(t.item())


@needs_numba
def test_kernel_softmax_rows_accuracy():
    """The kernel's exp(x - max) and the loss against float64, for a 10k vocabulary."""
    x = _logits(8, 10_000, scale=10.0)
    t = _targets(8, 10_000)
    e = np.empty_like(x)
    sum_e = np.empty(8, np.float32)
    total = kernels.softmax_xent_forward(x, x.max(1), t, e, sum_e, np.empty(10_000, np.int32))
    x64 = x.astype(np.float64)
    m = x64.max(1, keepdims=True)
    e64 = np.exp(x64 - m)
    ref = (np.log(e64.sum(1)) + m[:, 0] - x64[np.arange(8), t]).sum()
    assert abs(total - ref) < 1e-5 * abs(ref)
    exact = np.exp((x - x.max(1, keepdims=True)).astype(np.float64))  # of the float32 difference
    big = exact > 1e-30  # relative error of the polynomial exp: about one float32 ulp
    assert np.max(np.abs(e[big] - exact[big]) / exact[big]) < 1.5e-7
    np.testing.assert_allclose(sum_e, e64.sum(1), rtol=1e-5)


@needs_numba
def test_kernel_and_numpy_paths_agree_on_gradient():
    x, t = _logits(30, 2000), _targets(30, 2000)
    grads = []
    for on in (True, False):
        with _layer(on):
            a = ember.from_numpy(x.copy()).requires_grad_(True)
            ember.nn.functional.cross_entropy(a, ember.from_numpy(t)).backward()
            grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-9)
