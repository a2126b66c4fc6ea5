"""ember.fft, stft/istft and torch.gradient on the CUDA device: the CPU's results, forward and backward.

Runs on real CuPy where there is a GPU, on the strict stand-in ``fake_cupy`` elsewhere (see
``tests/test_device_backend.py``)."""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.usefixtures("cuda_backend")  # real CuPy, or fake_cupy (tests/conftest.py)


def _real(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _complex(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


# name, function, input makers: each case runs once on the CPU and once on the device
CASES = [
    ("fft", lambda x: ember.fft.fft(x), [_complex, (3, 8)]),
    ("fft_real_n_pad", lambda x: ember.fft.fft(x, n=10, dim=0, norm="ortho"), [_real, (6, 3)]),
    ("ifft_trim", lambda x: ember.fft.ifft(x, n=5), [_complex, (2, 8)]),
    ("rfft", lambda x: ember.fft.rfft(x), [_real, (4, 9)]),
    ("rfft_forward_norm", lambda x: ember.fft.rfft(x, n=6, dim=0, norm="forward"), [_real, (8, 2)]),
    ("irfft", lambda x: ember.fft.irfft(x), [_complex, (3, 5)]),
    ("irfft_n_odd", lambda x: ember.fft.irfft(x, n=7, norm="ortho"), [_complex, (2, 4)]),
    ("hfft", lambda x: ember.fft.hfft(x), [_complex, (3, 5)]),
    ("ihfft", lambda x: ember.fft.ihfft(x), [_real, (3, 6)]),
    ("fft2", lambda x: ember.fft.fft2(x), [_complex, (2, 4, 6)]),
    ("ifftn_s", lambda x: ember.fft.ifftn(x, s=(3, 5)), [_complex, (4, 4)]),
    ("rfft2", lambda x: ember.fft.rfft2(x), [_real, (5, 6)]),
    ("irfftn", lambda x: ember.fft.irfftn(x, dim=(0, 1)), [_complex, (4, 3)]),
    ("hfftn", lambda x: ember.fft.hfftn(x), [_complex, (3, 4)]),
    ("ihfft2", lambda x: ember.fft.ihfft2(x), [_real, (4, 6)]),
    ("fftshift", lambda x: ember.fft.fftshift(x), [_real, (4, 5)]),
    ("ifftshift_dim", lambda x: ember.fft.ifftshift(x, dim=1), [_real, (3, 5)]),
    ("stft", lambda x: ember.stft(x, 8, hop_length=2, window=ember.hann_window(8, device=x.device),
                                  return_complex=True), [_real, (2, 32)]),
    ("stft_no_center_onesided_false", lambda x: ember.stft(x, 6, hop_length=3, center=False, onesided=False,
                                                           normalized=True, return_complex=True), [_real, (20,)]),
    ("istft", lambda s: ember.istft(s, 8, hop_length=2, window=ember.hann_window(8, device=s.device)),
     [lambda rng, *shape: _stft_of(rng, 2, 24), ()]),
    ("gradient", lambda x: ember.gradient(x, spacing=0.5, edge_order=2), [_real, (5, 6)]),
    ("gradient_coordinates", lambda x: ember.gradient(x, spacing=(ember.tensor([0., 1., 3., 4.5], device=x.device),),
                                                      dim=0), [_real, (4, 3)]),
]


def _stft_of(rng, batch, length):
    """A consistent spectrogram (the stft of a real signal), so that istft's round trip is defined."""
    signal = ember.from_numpy(_real(rng, batch, length))
    window = ember.hann_window(8)
    return ember.stft(signal, 8, hop_length=2, window=window, return_complex=True).numpy()


def _flat(result):
    return list(result) if isinstance(result, tuple) else [result]


def _loss(outs, weights):
    """A real scalar that depends on every real and imaginary part of every output."""
    total = 0
    for out, w in zip(outs, weights):
        parts = (out.real, out.imag) if out.is_complex() else (out,)
        for part, wp in zip(parts, w):
            total = total + (part * wp).sum()
    return total


def _run(fn, x_host, weight_host, device):
    x = ember.from_numpy(x_host.copy()).to(device).requires_grad_(True)
    outs = _flat(fn(x))
    weights = [[ember.from_numpy(wp).to(device) for wp in w] for w in weight_host]
    _loss(outs, weights).backward()
    return outs, x.grad


def _weights(rng, outs):
    return [[rng.standard_normal(o.shape).astype(np.float32) for _ in range(2 if o.is_complex() else 1)]
            for o in outs]


@pytest.mark.parametrize("name,fn,make", CASES, ids=[c[0] for c in CASES])
def test_fft_op_on_cuda_matches_cpu(name, fn, make):
    rng = np.random.default_rng(0)
    maker, shape = make
    x_host = maker(rng, *shape)
    weight_host = _weights(rng, _flat(fn(ember.from_numpy(x_host.copy()))))
    cpu_outs, cpu_grad = _run(fn, x_host, weight_host, "cpu")
    gpu_outs, gpu_grad = _run(fn, x_host, weight_host, "cuda")
    for c, g in zip(cpu_outs, gpu_outs):
        assert g.device.type == "cuda"
        assert g.dtype == c.dtype and g.shape == c.shape
        np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-4, atol=1e-4)
    assert gpu_grad.device.type == "cuda" and gpu_grad.dtype == cpu_grad.dtype
    np.testing.assert_allclose(gpu_grad.cpu().numpy(), cpu_grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fn", [ember.fft.fftfreq, ember.fft.rfftfreq])
def test_frequencies_on_cuda(fn):
    on_device = fn(9, 0.25, device="cuda")
    assert on_device.device.type == "cuda"
    np.testing.assert_array_equal(on_device.cpu().numpy(), fn(9, 0.25).numpy())


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_windows_on_cuda(name):
    on_device = getattr(ember, name)(7, periodic=False, device="cuda")
    assert on_device.device.type == "cuda"
    np.testing.assert_array_equal(on_device.cpu().numpy(), getattr(ember, name)(7, periodic=False).numpy())
