"""The compiled LSTM step (ember/_kernels/rnn.py) against torch, with the kernel layer on and off:
outputs, final states and every gradient, for the layer shapes the kernels see (bidirectional,
proj_size, packed batches, odd sizes, saturated gates, NaN)."""
import contextlib
import warnings

import numpy as np
import pytest

import ember
from ember import _jit
from ember._kernels import rnn as kernels
from oracle import needs_torch, torch, assert_same, check_op
from nn.util import copy_weights

pytestmark = needs_torch
if torch is not None:
    torch.set_num_threads(1)
needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba not installed")
LAYER = [pytest.param(True, marks=needs_numba, id="jit"), pytest.param(False, id="numpy")]
TOL = 2e-5


def _layer(on):
    return contextlib.nullcontext() if on else _jit.disabled()


def randn(*shape, scale=1.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _compare(tm, x, hx=None, dtype=np.float32, tol=TOL):
    """Run torch's module and a weight copy in ember; compare outputs, states and all gradients."""
    em = copy_weights(tm, ember.nn.LSTM(tm.input_size, tm.hidden_size, num_layers=tm.num_layers,
                                        bidirectional=tm.bidirectional, proj_size=tm.proj_size))
    if dtype == np.float64:
        tm.double(), em.double()
    tx = torch.from_numpy(x.astype(dtype)).requires_grad_(True)
    ex = ember.from_numpy(x.astype(dtype)).requires_grad_(True)
    t_hx = None if hx is None else tuple(torch.from_numpy(h.astype(dtype)).requires_grad_(True) for h in hx)
    e_hx = None if hx is None else tuple(ember.from_numpy(h.astype(dtype)).requires_grad_(True) for h in hx)
    t_out, (t_h, t_c) = tm(tx, t_hx)
    e_out, (e_h, e_c) = em(ex, e_hx)
    assert_same((e_out, e_h, e_c), (t_out, t_h, t_c), tol, tol)
    ws = [randn(*o.shape, seed=i + 1).astype(dtype) for i, o in enumerate((t_out, t_h, t_c))]
    sum((o * torch.from_numpy(w)).sum() for o, w in zip((t_out, t_h, t_c), ws)).backward()
    sum((o * ember.from_numpy(w)).sum() for o, w in zip((e_out, e_h, e_c), ws)).backward()
    assert_same(ex.grad, tx.grad, tol, tol, "grad of input")
    if hx is not None:
        for i, (a, b) in enumerate(zip(e_hx, t_hx)):
            assert_same(a.grad, b.grad, tol, tol, f"grad of hx[{i}]")
    t_params = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        assert_same(p.grad, t_params[name].grad, tol, tol, f"grad of {name}")


@pytest.mark.parametrize("on", LAYER)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("hidden,batch", [(1, 1), (5, 3), (17, 2)])
def test_lstm_matches_torch(on, bidirectional, hidden, batch):
    torch.manual_seed(0)
    tm = torch.nn.LSTM(4, hidden, num_layers=2, bidirectional=bidirectional)
    L = 2 * (2 if bidirectional else 1)
    with _layer(on):
        _compare(tm, randn(6, batch, 4), (randn(L, batch, hidden, seed=3), randn(L, batch, hidden, seed=4)))


@pytest.mark.parametrize("on", LAYER)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_proj_size(on, bidirectional):
    torch.manual_seed(0)
    tm = torch.nn.LSTM(4, 7, num_layers=2, proj_size=3, bidirectional=bidirectional)
    L = 2 * (2 if bidirectional else 1)
    with _layer(on), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _compare(tm, randn(5, 3, 4), (randn(L, 3, 3, seed=3), randn(L, 3, 7, seed=4)))


@pytest.mark.parametrize("on", LAYER)
def test_lstm_float64(on):
    torch.manual_seed(0)
    with _layer(on):  # the forward kernel is float32 only; the backward kernel runs in float64 too
        _compare(torch.nn.LSTM(3, 6, num_layers=2), randn(5, 2, 3), dtype=np.float64, tol=1e-10)


@pytest.mark.parametrize("on", LAYER)
def test_saturated_gates(on):
    """Pre-activations of +-100s: sigmoid and tanh at 0 and 1, exp clamped without overflow."""
    torch.manual_seed(0)
    tm = torch.nn.LSTM(4, 6)
    with _layer(on):
        _compare(tm, randn(5, 3, 4, scale=300.0))


@pytest.mark.parametrize("on", LAYER)
@pytest.mark.parametrize("bidirectional,enforce_sorted", [(False, True), (True, False)])
def test_packed_sequences(on, bidirectional, enforce_sorted):
    lengths = [6, 4, 2, 1] if enforce_sorted else [2, 6, 1, 4]
    torch.manual_seed(0)
    tm = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=bidirectional)
    em = copy_weights(tm, ember.nn.LSTM(3, 5, num_layers=2, bidirectional=bidirectional))
    L = 2 * (2 if bidirectional else 1)

    def run(lib, x, h):
        U = lib.nn.utils.rnn
        packed = U.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        out, hn = (em if lib is ember else tm)(packed, (h, h * 0.5))
        padded, lens = U.pad_packed_sequence(out)
        return padded, lens, hn

    with _layer(on):
        check_op(run, randn(6, 4, 3), randn(L, 4, 5, seed=2), atol=TOL, rtol=TOL)


@pytest.mark.parametrize("on", LAYER)
def test_nan_input_propagates_like_torch(on):
    x = randn(4, 2, 3)
    x[1, 0, 2] = np.nan
    torch.manual_seed(0)
    tm = torch.nn.LSTM(3, 5)
    em = copy_weights(tm, ember.nn.LSTM(3, 5))
    with _layer(on):
        e_out = em(ember.from_numpy(x))[0].detach().numpy()
    t_out = tm(torch.from_numpy(x))[0].detach().numpy()
    assert np.isnan(t_out).any()
    np.testing.assert_array_equal(np.isnan(e_out), np.isnan(t_out))
    np.testing.assert_allclose(e_out, t_out, rtol=TOL, atol=TOL)


@needs_numba
def test_forward_kernel_against_float64():
    """One step of the kernel against the gate math in float64 (errors of about 1e-7)."""
    H, B = 37, 3
    gates, rec = randn(B, 4 * H, scale=4.0), randn(B, 4 * H, scale=4.0, seed=1)
    c0 = randn(B, H, seed=2)
    c, tc, h = c0.copy(), np.empty((B, H), np.float32), np.empty((B, H), np.float32)
    act = gates.copy()
    kernels.lstm_cell_forward(act, rec, *kernels.gate_constants(H), c, tc, h, np.empty(4 * H, np.int32))
    z = gates.astype(np.float64) + rec
    sig = 1 / (1 + np.exp(-z))
    i, f, g, o = sig[:, :H], sig[:, H:2 * H], np.tanh(z[:, 2 * H:3 * H]), sig[:, 3 * H:]
    c_ref = f * c0 + i * g
    np.testing.assert_allclose(act, np.concatenate([i, f, g, o], 1), atol=2e-7)
    np.testing.assert_allclose(c, c_ref, atol=1e-6)
    np.testing.assert_allclose(tc, np.tanh(c_ref), atol=2e-7)
    np.testing.assert_allclose(h, o * np.tanh(c_ref), atol=2e-7)
