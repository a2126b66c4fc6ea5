"""torch.stft / torch.istft and torch.gradient against torch: values and gradients."""
import warnings

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same, check_error

SIGNAL = np.random.default_rng(0).standard_normal((2, 50))
CONFIGS = [dict(n_fft=16), dict(n_fft=16, hop_length=5, win_length=12), dict(n_fft=8, center=False),
           dict(n_fft=16, onesided=False), dict(n_fft=16, normalized=True), dict(n_fft=10, pad_mode="constant")]


def _stft_roundtrip(lib, cfg, windowed):
    x = lib.tensor(SIGNAL, requires_grad=True)
    win = lib.hann_window(cfg.get("win_length", cfg["n_fft"]), dtype=lib.float64) if windowed else None
    spec = lib.stft(x, window=win, return_complex=True, **cfg)
    inverse_cfg = {k: v for k, v in cfg.items() if k != "pad_mode"}
    out = lib.istft(spec * (1 + 0.5j), window=win, length=50, **inverse_cfg)
    (lib.view_as_real(spec.resolve_conj()).square().sum() + (out * lib.arange(50.0)).sum()).backward()
    return spec, out, x.grad


@needs_torch
@pytest.mark.parametrize("windowed", [False, True])
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_stft_and_istft_match_torch(cfg, windowed):
    if windowed and cfg.get("center") is False:
        check_error(lambda lib: _stft_roundtrip(lib, cfg, True))  # hann window: zero overlap-add envelope
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [_stft_roundtrip(lib, cfg, windowed) for lib in (ember, torch)]
    for e, t in zip(*results):
        assert_same(e, t)


@needs_torch
def test_stft_single_signal_and_real_output():
    x = np.random.default_rng(1).standard_normal(40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(ember.stft(ember.tensor(x), 8, return_complex=False), torch.stft(torch.tensor(x), 8,
                                                                                    return_complex=False))
    assert_same(ember.tensor(x).stft(8, return_complex=True), torch.tensor(x).stft(8, return_complex=True))


@needs_torch
def test_stft_errors_match_torch():
    check_error(lambda lib: lib.stft(lib.ones(32), 8))  # return_complex must be given
    check_error(lambda lib: lib.stft(lib.ones(32), 8, win_length=9, return_complex=True))
    check_error(lambda lib: lib.stft(lib.ones(2, 2, 32), 8, return_complex=True))
    check_error(lambda lib: lib.istft(lib.ones(5, 4), 8))


GRADIENT_CASES = [dict(), dict(spacing=0.5), dict(dim=1), dict(dim=(0, 1), spacing=[2.0, 0.25]), dict(edge_order=2),
                  dict(spacing=[0.5], dim=0, edge_order=2), dict(dim=-1, edge_order=2, spacing=3)]


@needs_torch
@pytest.mark.parametrize("kwargs", GRADIENT_CASES, ids=str)
def test_gradient_matches_torch(kwargs):
    a = np.random.default_rng(2).standard_normal((4, 6))
    grads = []
    outs = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        out = lib.gradient(x, **kwargs)
        sum((o * (k + 1)).sum() for k, o in enumerate(out)).backward()
        outs.append(out)
        grads.append(x.grad)
    for e, t in zip(*outs):
        assert_same(e, t)
    assert_same(grads[0], grads[1])


@needs_torch
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_with_uneven_coordinates_matches_torch(edge_order):
    a = np.random.default_rng(3).standard_normal((5, 7))
    coords = [np.array([0.0, 0.5, 1.5, 1.75, 3.0]), np.cumsum(np.linspace(0.2, 1.0, 7))]
    e = ember.gradient(ember.tensor(a), spacing=[ember.tensor(c) for c in coords], edge_order=edge_order)
    t = torch.gradient(torch.tensor(a), spacing=[torch.tensor(c) for c in coords], edge_order=edge_order)
    for x, y in zip(e, t):
        assert_same(x, y)


@needs_torch
def test_gradient_errors_and_integer_input_match_torch():
    check_error(lambda lib: lib.gradient(lib.ones(2, 4), edge_order=2))
    check_error(lambda lib: lib.gradient(lib.ones(3, 4), spacing=[1.0, 2.0, 3.0]))
    assert_same(ember.gradient(ember.tensor([1, 4, 9, 16]))[0], torch.gradient(torch.tensor([1, 4, 9, 16]))[0])
