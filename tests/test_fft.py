"""ember.fft against torch.fft: values, dtypes, gradients (complex and real inputs), norms, n/s
padding and trimming, n-d dims, Hermitian transforms, frequencies, shifts and torch's errors."""
import numpy as np
import pytest

import ember
from oracle import check_error, needs_torch, torch, assert_same

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
REAL_INPUT = {"rfft", "ihfft"}


def _input(lib, name, dtype, shape=(3, 8), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if name not in REAL_INPUT and dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    t = lib.tensor(a.astype(dtype))
    return t.requires_grad_(True)


def _loss(lib, out):
    weights = lib.arange(out.numel(), dtype=lib.float64).reshape(out.shape).to(out.real.dtype if out.is_complex()
                                                                               else out.dtype) / 10
    return (lib.view_as_real(out.resolve_conj()) * weights.unsqueeze(-1)).sum() if out.is_complex() else (out * weights).sum()


def _compare(fn, name, dtype, shape=(3, 8)):
    outs, grads = [], []
    for lib in (ember, torch):
        x = _input(lib, name, dtype, shape)
        out = fn(lib, x)
        _loss(lib, out).backward()
        outs.append(out)
        grads.append(x.grad)
    assert_same(outs[0], outs[1])
    assert_same(grads[0], grads[1])


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("name", ONE_D)
def test_one_dimensional_transforms_match_torch(name, norm, dtype):
    if name in REAL_INPUT and dtype.startswith("complex"):
        return
    _compare(lambda lib, x: getattr(lib.fft, name)(x, norm=norm), name, dtype)


@needs_torch
@pytest.mark.parametrize("n", [5, 8, 13])
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("name", ONE_D)
def test_length_argument_pads_and_trims(name, dim, n):
    dtype = "float64" if name in REAL_INPUT else "complex128"
    _compare(lambda lib, x: getattr(lib.fft, name)(x, n=n, dim=dim), name, dtype, shape=(6, 7))


@needs_torch
@pytest.mark.parametrize("name", ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
                                  "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"])
@pytest.mark.parametrize("kwargs", [{}, {"s": (4, 6)}, {"dim": (0, 2)}, {"s": (3, 5), "dim": (2, 0)},
                                    {"norm": "ortho"}])
def test_multidimensional_transforms_match_torch(name, kwargs):
    if name.endswith("n") and not kwargs:
        kwargs = {"s": (2, 4, 6)}
    if name.endswith("2") and "dim" in kwargs and len(kwargs["dim"]) != 2:
        return
    base = name.rstrip("2n")
    dtype = "float64" if base in REAL_INPUT else "complex128"
    _compare(lambda lib, x: getattr(lib.fft, name)(x, **kwargs), base, dtype, shape=(3, 4, 6))


@needs_torch
def test_integer_input_promotes_to_default_float():
    e, t = ember.fft.fft(ember.arange(6)), torch.fft.fft(torch.arange(6))
    assert_same(e, t)
    assert ember.fft.rfft(ember.arange(6)).dtype is ember.complex64


@needs_torch
def test_gradcheck_through_composed_transforms():
    x = ember.randn(4, 6, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.fft.irfft(ember.fft.rfft(t) * ember.fft.rfft(t), n=6), (x,))
    z = ember.randn(5, dtype=ember.complex128, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.fft.ifft(ember.fft.fft(t, n=7) * ember.fft.fftfreq(7)), (z,))
    assert ember.autograd.gradcheck(lambda t: ember.fft.hfft(t, n=8, norm="ortho"), (z,))


@needs_torch
@pytest.mark.parametrize("args", [(7,), (8, 0.5)])
def test_frequencies_match_torch(args):
    assert_same(ember.fft.fftfreq(*args), torch.fft.fftfreq(*args))
    assert_same(ember.fft.rfftfreq(*args), torch.fft.rfftfreq(*args))
    assert_same(ember.fft.fftfreq(*args, dtype=ember.float64), torch.fft.fftfreq(*args, dtype=torch.float64))


@needs_torch
@pytest.mark.parametrize("dim", [None, 0, (0, 1), -1])
def test_shifts_match_torch(dim):
    a = np.arange(35.0).reshape(5, 7)
    for name in ("fftshift", "ifftshift"):
        assert_same(getattr(ember.fft, name)(ember.tensor(a), dim=dim), getattr(torch.fft, name)(torch.tensor(a),
                                                                                                  dim=dim))


@needs_torch
def test_errors_match_torch():
    check_error(lambda lib: lib.fft.fft(lib.ones(4), n=0))
    check_error(lambda lib: lib.fft.rfft(lib.ones(4, dtype=lib.complex64)))
    check_error(lambda lib: lib.fft.fft(lib.ones(4), norm="bad"))
    check_error(lambda lib: lib.fft.fft(lib.ones(4), dim=3))
    check_error(lambda lib: lib.fft.irfft(lib.ones(1)))
    check_error(lambda lib: lib.fft.fft(lib.ones(4, dtype=lib.float16)))
    check_error(lambda lib: lib.fft.fftn(lib.ones(2, 3), s=(4,), dim=(0, 1)))


def test_fft_round_trip_recovers_the_signal():
    x = ember.randn(3, 10, dtype=ember.float64)
    np.testing.assert_allclose(ember.fft.irfft(ember.fft.rfft(x), n=10).numpy(), x.numpy(), atol=1e-12)
    np.testing.assert_allclose(ember.fft.ifftn(ember.fft.fftn(x)).real.numpy(), x.numpy(), atol=1e-12)
