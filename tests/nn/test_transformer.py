"""Transformer layers, stacks and the full model against torch (weights copied via state_dict)."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, check_error, assert_same
from nn.util import copy_weights

pytestmark = needs_torch
if torch is not None:
    torch.set_num_threads(1)
rng = np.random.default_rng(0)
D, NHEAD, FF = 8, 2, 16


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def _grads_match(em, tm, e_out, t_out, e_in, t_in, tol=1e-4):
    w = rng.standard_normal(tuple(t_out.shape))
    (t_out * torch.from_numpy(w).float()).sum().backward()
    (e_out * ember.from_numpy(w).float()).sum().backward()
    for a, b in zip(e_in, t_in):
        assert_same(a.grad, b.grad, tol, tol, "input grad")
    t_params = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        assert_same(p.grad, t_params[name].grad, tol, tol, f"grad of {name}")


def _run(build, inputs, call=lambda m, *xs: m(*xs), train=True):
    tm = build(torch.nn)
    em = copy_weights(tm, build(ember.nn))
    tm.train(train), em.train(train)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    t_in = [torch.from_numpy(a.copy()).requires_grad_() for a in inputs]
    e_in = [ember.from_numpy(a.copy()).requires_grad_() for a in inputs]
    t_out, e_out = call(tm, *t_in), call(em, *e_in)
    assert_same(e_out, t_out, 1e-4, 1e-4)
    _grads_match(em, tm, e_out, t_out, e_in, t_in)
    return em, tm


def _gelu(x):
    return x * 0.5 * (1 + (x / 2 ** 0.5).erf())


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable"])
def test_encoder_layer(norm_first, batch_first, activation):
    act = _gelu if activation == "callable" else activation
    x = randn(2, 5, D) if batch_first else randn(5, 2, D)

    def build(nn):
        return nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0, activation=act, batch_first=batch_first,
                                          norm_first=norm_first)
    em, tm = _run(build, [x])
    assert repr(em) == repr(tm) or activation == "callable"
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[1, 3:] = True
    causal = ember.nn.Transformer.generate_square_subsequent_mask(5)
    _run(build, [x], lambda m, x: m(x, src_mask=(causal if isinstance(x, ember.Tensor)
                                                 else torch.from_numpy(causal.numpy())), is_causal=True))
    _run(build, [x], lambda m, x: m(x, src_key_padding_mask=(ember if isinstance(x, ember.Tensor) else torch)
                                    .from_numpy(kpm)))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(norm_first, batch_first):
    tgt = randn(2, 4, D) if batch_first else randn(4, 2, D)
    mem = randn(2, 6, D) if batch_first else randn(6, 2, D)
    mkpm = np.zeros((2, 6), dtype=bool)
    mkpm[0, 4:] = True

    def build(nn):
        return nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0, batch_first=batch_first, norm_first=norm_first)

    def call(m, t, mem):
        lib = ember if isinstance(t, ember.Tensor) else torch
        mask = lib.nn.Transformer.generate_square_subsequent_mask(4)
        return m(t, mem, tgt_mask=mask, memory_key_padding_mask=lib.from_numpy(mkpm), tgt_is_causal=True)
    _run(build, [tgt, mem], call)


def test_stacks_and_full_transformer():
    enc = lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0), 2,  # noqa: E731
                                           norm=nn.LayerNorm(D), enable_nested_tensor=False)
    em, tm = _run(enc, [randn(5, 2, D)])
    assert repr(em) == repr(tm)
    dec = lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0), 2)  # noqa: E731
    _run(dec, [randn(4, 2, D), randn(6, 2, D)])

    def full(nn):
        return nn.Transformer(D, NHEAD, 2, 2, FF, dropout=0.0, batch_first=True)

    def call(m, src, tgt):
        return m(src, tgt, tgt_mask=m.generate_square_subsequent_mask(4))
    em, tm = _run(full, [randn(2, 6, D), randn(2, 4, D)], call)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())


def test_square_subsequent_mask_and_default_init():
    assert_same(ember.nn.Transformer.generate_square_subsequent_mask(4),
                torch.nn.Transformer.generate_square_subsequent_mask(4))
    assert_same(ember.nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64),
                torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64))
    m = ember.nn.Transformer(16, 2, 1, 1, 32)
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    bound = (6 / (16 + 32)) ** 0.5  # xavier_uniform_ on every matrix
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound


def test_train_mode_dropout_and_eval():
    m = ember.nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.5)
    x = ember.from_numpy(randn(5, 2, D))
    a, b = m(x), m(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    m.eval()
    assert np.array_equal(m(x).detach().numpy(), m(x).detach().numpy())


def test_errors():
    m = lambda lib: lib.nn.Transformer(D, NHEAD, 1, 1, FF)  # noqa: E731
    check_error(lambda lib, s, t: m(lib)(s, t), randn(5, 2, D), randn(4, 3, D),
                match="the batch number of src and tgt must be equal")
    check_error(lambda lib, s, t: m(lib)(s, t), randn(5, 2, D + 1), randn(4, 2, D + 1),
                match="the feature number of src and tgt must be equal to d_model")
    check_error(lambda lib: lib.nn.TransformerEncoderLayer(D, NHEAD, activation="tanh"),
                match="activation should be relu/gelu, not tanh")
