"""scaled_dot_product_attention and MultiheadAttention against torch (values and gradients)."""
import itertools

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, check_op, check_error, assert_same, gradcheck_op
from nn.util import copy_weights

pytestmark = needs_torch
if torch is not None:
    torch.set_num_threads(1)
rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def sdpa(lib, q, k, v, mask=None, **kw):
    if mask is not None:
        kw["attn_mask"] = mask if isinstance(mask, (ember.Tensor, torch.Tensor)) else lib.from_numpy(mask)
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


Q, K, V = randn(2, 3, 4, 5), randn(2, 3, 6, 5), randn(2, 3, 6, 7)
BOOL = rng.random((4, 6)) > 0.4
BOOL[1] = False  # a fully masked row gives zeros, as torch


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"mask": BOOL}, {"mask": BOOL, "scale": 0.3},
                                {"is_causal": True, "scale": 2.0}])
def test_sdpa(kw):
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, **kw), Q, K, V)


@pytest.mark.parametrize("L,S", [(70, 70), (70, 90), (96, 40)])
def test_sdpa_causal_long_blocks(L, S):
    # long causal sequences take the blocked path that skips the masked upper triangle
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True), randn(2, 2, L, 4), randn(2, 2, S, 4),
             randn(2, 2, S, 3))
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True, enable_gqa=True),
             *(a.astype(np.float64) for a in (randn(1, 4, L, 4), randn(1, 2, S, 4), randn(1, 2, S, 3))))


def test_sdpa_float_mask_gets_gradient_and_dtypes():
    check_op(lambda lib, q, k, v, m: sdpa(lib, q, k, v, m), Q, K, V, randn(3, 4, 6))
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True), *(a.astype(np.float64) for a in (Q, K, V)))
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v), Q[0, 0], K[0, 0], V[0, 0])  # 2-D inputs


def test_sdpa_causal_with_mask_raises():
    check_error(lambda lib, q, k, v: sdpa(lib, q, k, v, lib.from_numpy(BOOL), is_causal=True),
                Q, K, V, match="Explicit attn_mask should not be set when is_causal=True")


def test_sdpa_gqa():
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, enable_gqa=True, is_causal=True), randn(2, 4, 4, 5),
             randn(2, 2, 6, 5), randn(2, 2, 6, 3))


def test_sdpa_errors():
    check_error(lambda lib, q, k, v: sdpa(lib, q, k, v), Q.astype(np.float64), K, V,
                match="Expected query, key, and value to have the same dtype")
    check_error(lambda lib, q, k, v: sdpa(lib, q, k, v, np.zeros((4, 6), np.int64)), Q, K, V,
                match="Expected attn_mask dtype to be bool or float")


def test_sdpa_gradcheck_and_double_backward():
    gradcheck_op(lambda lib, q, k, v: sdpa(lib, q, k, v, BOOL), Q[:1, :1], K[:1, :1], V[:1, :1])
    gradcheck_op(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True, enable_gqa=True),
                 randn(1, 2, 3, 2), randn(1, 1, 3, 2), randn(1, 1, 3, 2))


def test_sdpa_dropout():
    q, k, v = (ember.from_numpy(a) for a in (Q, K, V))
    full = sdpa(ember, q, k, v)
    ember.manual_seed(0)
    a = sdpa(ember, q, k, v, dropout_p=0.5)
    ember.manual_seed(0)
    b = sdpa(ember, q, k, v, dropout_p=0.5)
    assert np.array_equal(a.numpy(), b.numpy()) and not np.allclose(a.numpy(), full.numpy())
    # inverted dropout keeps the expectation: average over many draws approaches the full output
    mean = np.mean([sdpa(ember, q, k, v, dropout_p=0.3).numpy() for _ in range(400)], axis=0)
    np.testing.assert_allclose(mean, full.numpy(), atol=0.15)
    # its backward uses the same kept mask: the gradient is consistent with a finite difference
    q64, k64, v64 = (ember.from_numpy(x[:1, :1].astype(np.float64)).requires_grad_(True) for x in (Q, K, V))

    def f(*xs):
        ember.manual_seed(3)
        return sdpa(ember, *xs, dropout_p=0.4)
    assert ember.autograd.gradcheck(f, (q64, k64, v64))


# ---------------------------------------------------------------- MultiheadAttention
E, H, N, L, S = 8, 2, 3, 4, 5
MHA_OPTIONS = [{}, {"batch_first": True}, {"bias": False}, {"add_bias_kv": True}, {"add_zero_attn": True},
               {"kdim": 4, "vdim": 6}, {"add_bias_kv": True, "add_zero_attn": True, "batch_first": True}]
KPM = rng.random((N, S)) < 0.3
KPM[:, 0] = False
AM = rng.random((L, S)) < 0.3
AM[:, 1] = False
MASKS = [{}, {"kpm": KPM}, {"am": AM}, {"kpm": KPM, "am": AM}, {"am": randn(N * H, L, S)}]


def _mha_pair(kw):
    tm = torch.nn.MultiheadAttention(E, H, **kw)
    return copy_weights(tm, ember.nn.MultiheadAttention(E, H, **kw)), tm


@pytest.mark.parametrize("kw", MHA_OPTIONS)
def test_multihead_attention(kw):
    em, tm = _mha_pair(kw)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert repr(em) == repr(tm)
    bf = kw.get("batch_first", False)
    shape = (lambda l, e: (N, l, e)) if bf else (lambda l, e: (l, N, e))
    q, k, v = randn(*shape(L, E)), randn(*shape(S, kw.get("kdim", E))), randn(*shape(S, kw.get("vdim", E)))
    for (need, avg), masks in itertools.product([(True, True), (True, False), (False, True)], MASKS):
        def run(lib, q, k, v):
            extra = {}
            if "kpm" in masks:
                extra["key_padding_mask"] = lib.from_numpy(masks["kpm"])
            if "am" in masks:
                extra["attn_mask"] = lib.from_numpy(masks["am"])
            return (em if lib is ember else tm)(q, k, v, need_weights=need, average_attn_weights=avg, **extra)
        check_op(run, q, k, v)


@pytest.mark.parametrize("batch_first", [False, True])
def test_self_attention_packed_projection(batch_first):
    em, tm = _mha_pair({"batch_first": batch_first})
    x = randn(N, L, E) if batch_first else randn(L, N, E)
    causal = np.triu(np.full((L, L), -np.inf, dtype=np.float32), 1)
    check_op(lambda lib, x: (em if lib is ember else tm)(x, x, x), x)
    check_op(lambda lib, x: (em if lib is ember else tm)(x, x, x, attn_mask=lib.from_numpy(causal), is_causal=True,
                                                          need_weights=False), x)
    check_op(lambda lib, x: (em if lib is ember else tm)(x, x, x, key_padding_mask=lib.from_numpy(KPM[:, :L])), x)

    def unbatched(lib, x):
        x1 = x[0] if batch_first else x[:, 0]
        return (em if lib is ember else tm)(x1, x1, x1)
    check_op(unbatched, x)


def test_mha_fully_masked_rows_as_torch():
    # torch: nan rows with need_weights (plain softmax), zeros without (SDPA)
    em, tm = _mha_pair({})
    mask = np.zeros((L, L), dtype=bool)
    mask[1] = True
    for need in (True, False):
        check_op(lambda lib, x: (em if lib is ember else tm)(x, x, x, attn_mask=lib.from_numpy(mask),
                                                              need_weights=need), randn(L, N, E), grad=False)


def test_mha_dropout_train_eval_and_functional():
    em, tm = _mha_pair({"dropout": 0.5})
    x = ember.from_numpy(randn(L, N, E))
    em.eval()
    a = em(x, x, x)[0]
    assert np.array_equal(a.detach().numpy(), em(x, x, x)[0].detach().numpy())
    em.train()
    assert not np.allclose(em(x, x, x)[0].detach().numpy(), a.detach().numpy())
    tm.eval()
    assert_same(a, tm(*(torch.from_numpy(x.numpy()),) * 3)[0])

    def functional(lib, q):
        m = em if lib is ember else tm
        return lib.nn.functional.multi_head_attention_forward(
            q, q, q, E, H, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight,
            m.out_proj.bias, training=False)
    check_op(functional, randn(L, N, E))


def test_mha_errors():
    check_error(lambda lib: lib.nn.MultiheadAttention(8, 3), match="embed_dim must be divisible by num_heads")
    em, tm = _mha_pair({})
    check_error(lambda lib, x, m: (em if lib is ember else tm)(x, x, x, attn_mask=m), randn(L, N, E),
                randn(L, L + 1), match="The shape of the 2D attn_mask")
    check_error(lambda lib, x: (em if lib is ember else tm)(x, x, x, is_causal=True), randn(L, N, E),
                match="Need attn_mask if specifying the is_causal hint")
