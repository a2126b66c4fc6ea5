"""scaled_dot_product_attention and MultiheadAttention with the compiled row softmax
(ember/_kernels/activation.py ``softmax_rows``) on and inside ``_jit.disabled()``, against torch: bool and
additive masks with fully masked (-inf) rows, is_causal on the blocked long-sequence path, need_weights
(torch's plain softmax: nan for fully masked rows), NaN inputs, float64 gradcheck. Each test counts the
kernel calls, so a silent fallback to NumPy (or a kernel call with the layer off) fails."""
import numpy as np
import pytest

import ember
from ember import _jit
from ember._kernels import activation as K
from oracle import needs_torch, torch, check_op, gradcheck_op
from nn.util import copy_weights

pytestmark = needs_torch
rng = np.random.default_rng(5)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@pytest.fixture(params=["jit", "numpy"])
def layer(request, monkeypatch):
    """Runs the test body with the layer on or off; yields (mode, calls): the masked_rows_zero flag of
    every softmax_rows call."""
    calls = []

    def spy(x, out, masked_rows_zero, _kernel=K.softmax_rows):
        calls.append(masked_rows_zero)
        return _kernel(x, out, masked_rows_zero)
    monkeypatch.setattr(K, "softmax_rows", spy)
    if request.param == "jit":
        if not _jit.available():
            pytest.skip("numba not installed")
        yield "jit", calls
    else:
        with _jit.disabled():
            yield "numpy", calls


def expect_kernel(layer, masked_rows_zero):
    mode, calls = layer
    if mode == "numpy":
        assert calls == []
    else:
        assert calls and all(flag == masked_rows_zero for flag in calls), calls


def sdpa(lib, q, k, v, mask=None, **kw):
    if mask is not None:
        kw["attn_mask"] = lib.from_numpy(mask)
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


def test_sdpa_bool_mask_with_fully_masked_rows(layer):
    mask = rng.random((5, 7)) > 0.4
    mask[[1, 3]] = False  # nothing to attend to: zeros, as torch
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, mask), randn(2, 3, 5, 4), randn(2, 3, 7, 4),
             randn(2, 3, 7, 6))
    expect_kernel(layer, True)


def test_sdpa_additive_mask_with_inf_rows(layer):
    mask = np.where(rng.random((2, 1, 5, 7)) > 0.5, 0.0, -np.inf).astype(np.float32)
    mask[0, 0, 2] = -np.inf
    mask[1, 0, 0] = rng.standard_normal(7)
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, mask), randn(2, 3, 5, 4), randn(2, 3, 7, 4),
             randn(2, 3, 7, 6))
    expect_kernel(layer, True)


@pytest.mark.parametrize("L,S", [(70, 70), (65, 90)])
def test_sdpa_causal_blocks(layer, L, S):
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True), randn(2, 2, L, 8), randn(2, 2, S, 8),
             randn(2, 2, S, 5))
    expect_kernel(layer, True)


def test_sdpa_nan_query_propagates(layer):
    q = randn(1, 2, 4, 3)
    q[0, 1, 2, 0] = np.nan
    out = sdpa(ember, ember.from_numpy(q), ember.from_numpy(randn(1, 2, 5, 3)), ember.from_numpy(randn(1, 2, 5, 3)),
               is_causal=True).numpy()
    assert np.isnan(out[0, 1, 2]).all() and not np.isnan(np.delete(out[0, 1], 2, 0)).any()
    assert not np.isnan(out[0, 0]).any()
    expect_kernel(layer, True)


def test_sdpa_gradcheck_float64(layer):
    mask = rng.random((3, 4)) > 0.3
    mask[0] = False
    gradcheck_op(lambda lib, q, k, v: sdpa(lib, q, k, v, mask), randn(1, 2, 3, 2, dtype=np.float64),
                 randn(1, 2, 4, 2, dtype=np.float64), randn(1, 2, 4, 3, dtype=np.float64), second_order=False)


def _mha_pair(E=8, H=2):
    e_mha = ember.nn.MultiheadAttention(E, H, batch_first=True)
    t_mha = torch.nn.MultiheadAttention(E, H, batch_first=True)
    copy_weights(t_mha, e_mha)
    return e_mha, t_mha


def test_mha_need_weights_nan_rows(layer):
    """need_weights returns torch's plain-softmax weights: a fully masked row is nan there."""
    e_mha, t_mha = _mha_pair()
    mask = np.triu(np.ones((5, 5), bool), 1)
    mask[2] = True

    def fn(lib, x):
        mha = e_mha if lib is ember else t_mha
        return mha(x, x, x, attn_mask=lib.from_numpy(mask), need_weights=True, average_attn_weights=False)
    check_op(fn, randn(2, 5, 8), atol=1e-5, rtol=1e-4)
    expect_kernel(layer, False)


def test_mha_causal_training_step(layer):
    """The TransformerEncoder causal path (is_causal hint, no weights) through MHA, forward and backward."""
    e_mha, t_mha = _mha_pair(16, 4)
    mask = np.triu(np.full((70, 70), -np.inf, np.float32), 1)

    def fn(lib, x):
        mha = e_mha if lib is ember else t_mha
        return mha(x, x, x, attn_mask=lib.from_numpy(mask), is_causal=True, need_weights=False)[0]
    check_op(fn, randn(2, 70, 16))
    expect_kernel(layer, True)
