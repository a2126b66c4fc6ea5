"""torch.fft: discrete Fourier transforms on NumPy's pocketfft, differentiable.

Three one-dimensional ops carry the gradients; everything else (2-d, n-d, Hermitian transforms) is
composed from them, so higher-order gradients come for free.

- complex-to-complex (``fft``/``ifft``): the adjoint of a transform is the opposite-direction
  transform with the same scale factor, i.e. the opposite direction with the "dual" ``norm``.
- real-to-complex (``rfft``): adjoint of "full transform, keep the first n//2+1 bins": zero-pad the
  gradient to n bins, inverse-transform, keep the real part.
- complex-to-real (``irfft``): adjoint is ``rfft`` of the gradient with the bins that stand for two
  conjugate-symmetric bins doubled (torch's formula).

The length argument ``n`` zero-pads or trims the input along ``dim``; the backward undoes that.
"""
import numpy as np

from . import _dtype as D
from ._device import array_module, as_array
from ._tensor import Tensor
from .autograd.function import Op
from ._ops._util import wrap_dim
from ._ops.inplace import write_out

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX = {np.dtype(np.float32): np.complex64, np.dtype(np.complex64): np.complex64,
            np.dtype(np.float64): np.complex128, np.dtype(np.complex128): np.complex128}


def _norm(norm):
    norm = "backward" if norm is None else norm
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _complex_dtype(x):
    return _COMPLEX[x.dtype]


def _resize(a, axis, length):
    """``a`` trimmed or zero-padded to ``length`` along ``axis`` (what ``n=`` does to an input)."""
    have = a.shape[axis]
    if have == length:
        return a
    if have > length:
        return a[(slice(None),) * axis + (slice(0, length),)]
    widths = [(0, 0)] * a.ndim
    widths[axis] = (0, length - have)
    return np.pad(a, widths)


def _resize_tensor(t, dim, length):
    have = t.shape[dim]
    if have == length:
        return t
    if have > length:
        return t.narrow(dim, 0, length)
    from .nn.functional import pad
    widths = [0, 0] * (t.dim() - 1 - dim) + [0, length - have]
    return pad(t, widths)


class _C2C(Op):
    def forward(ctx, x, n, dim, norm, inverse):
        ctx.args, ctx.in_len, ctx.real_input = (n, dim, norm, inverse), x.shape[dim], x.dtype.kind != "c"
        transform = np.fft.ifft if inverse else np.fft.fft
        return as_array(transform(x, n, dim, norm), _complex_dtype(x))

    def backward(ctx, g):
        n, dim, norm, inverse = ctx.args
        gx = _resize_tensor(_C2C.apply(g, None, dim, _DUAL[norm], not inverse), dim, ctx.in_len)
        return gx.real if ctx.real_input else gx, None, None, None, None


class _R2C(Op):
    def forward(ctx, x, n, dim, norm):
        ctx.args, ctx.in_len = (dim, norm), x.shape[dim]
        ctx.full = x.shape[dim] if n is None else n
        return as_array(np.fft.rfft(x, n, dim, norm), _complex_dtype(x))

    def backward(ctx, g):
        dim, norm = ctx.args
        full = _resize_tensor(g, dim, ctx.full)
        gx = _C2C.apply(full, None, dim, _DUAL[norm], True).real
        return _resize_tensor(gx, dim, ctx.in_len), None, None, None


class _C2R(Op):
    def forward(ctx, x, n, dim, norm):
        ctx.args, ctx.in_len = (dim, norm), x.shape[dim]
        out_len = 2 * (x.shape[dim] - 1) if n is None else n
        if out_len < 1:
            raise RuntimeError(f"Invalid number of data points ({out_len}) specified")
        ctx.out_len = out_len
        real = np.float32 if _complex_dtype(x) == np.complex64 else np.float64
        return as_array(np.fft.irfft(x, out_len, dim, norm), real)

    def backward(ctx, g):
        dim, norm = ctx.args
        gx = _R2C.apply(g, None, dim, _DUAL[norm])
        onesided = gx.shape[dim]
        doubled = ctx.out_len - onesided  # bins 1 .. n - onesided stand for a conjugate pair each
        if doubled > 0:
            scale = array_module(gx._data).ones(onesided, gx._data.real.dtype)
            scale[1:1 + doubled] = 2.0
            shape = [1] * gx.dim()
            shape[dim] = onesided
            gx = gx * Tensor._wrap(scale.reshape(shape))
        return _resize_tensor(gx, dim, ctx.in_len), None, None, None


# ---------------------------------------------------------------- argument checks shared by every transform
def _prepare(input, n, dim, real_only=False, name="fft"):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dt = input._data.dtype
    if dt == np.float16 or input.dtype is D.bfloat16:
        raise RuntimeError(f"Unsupported dtype {'Half' if dt == np.float16 else 'BFloat16'}")
    if real_only and dt.kind == "c":
        raise RuntimeError(f"{name} expects a real input tensor, but got {D._BY_NP[dt].name.capitalize()}")
    if dt.kind in "biu":
        input = input.to(D.get_default_dtype())
    dim = wrap_dim(dim, max(input.dim(), 1))
    if n is not None and n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return input, dim


def _one_dim(op, input, n, dim, norm, out, *extra, real_only=False, name="fft"):
    input, dim = _prepare(input, n, dim, real_only, name)
    return write_out(op.apply(input, n, dim, _norm(norm), *extra), out)


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    return _one_dim(_C2C, input, n, dim, norm, out, False)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    return _one_dim(_C2C, input, n, dim, norm, out, True)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _one_dim(_R2C, input, n, dim, norm, out, real_only=True, name="rfft")


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _one_dim(_C2R, input, n, dim, norm, out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The forward transform of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    input, dim = _prepare(input, n, dim)
    return write_out(_C2R.apply(input.conj(), n, dim, _DUAL[_norm(norm)]), out)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    input, dim = _prepare(input, n, dim, real_only=True, name="ihfft")
    return write_out(_R2C.apply(input, n, dim, _DUAL[_norm(norm)]).conj(), out)


# ---------------------------------------------------------------- n-dimensional transforms
def _dims_and_sizes(input, s, dim):
    """torch's rules: ``dim`` defaults to the last len(s) dims when ``s`` is given, else to all dims."""
    if dim is not None and s is not None and len(s) != len(dim if isinstance(dim, (tuple, list)) else (dim,)):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    if dim is None:
        dims = list(range(input.dim() - len(s), input.dim())) if s is not None else list(range(input.dim()))
    else:
        dims = [wrap_dim(d, input.dim()) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    sizes = list(s) if s is not None else [None] * len(dims)
    return dims, [None if size == -1 else size for size in sizes]


def _c2c_n(input, s, dim, norm, inverse, out):
    input, _ = _prepare(input, None, -1)
    dims, sizes = _dims_and_sizes(input, s, dim)
    norm = _norm(norm)
    for d, size in zip(dims, sizes):
        input = _C2C.apply(input, _check_size(size), d, norm, inverse)
    return write_out(input, out)


def _check_size(size):
    if size is not None and size < 1:
        raise RuntimeError(f"Invalid number of data points ({size}) specified")
    return size


def _r2c_n(input, s, dim, norm, name="rfftn"):
    input, _ = _prepare(input, None, -1, real_only=True, name=name)
    dims, sizes = _dims_and_sizes(input, s, dim)
    norm = _norm(norm)
    result = _R2C.apply(input, _check_size(sizes[-1]), dims[-1], norm)
    for d, size in zip(dims[:-1], sizes[:-1]):
        result = _C2C.apply(result, _check_size(size), d, norm, False)
    return result


def _c2r_n(input, s, dim, norm):
    input, _ = _prepare(input, None, -1)
    dims, sizes = _dims_and_sizes(input, s, dim)
    for d, size in zip(dims[:-1], sizes[:-1]):
        input = _C2C.apply(input, _check_size(size), d, norm, True)
    return _C2R.apply(input, _check_size(sizes[-1]), dims[-1], norm)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    return _c2c_n(input, s, dim, norm, False, out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    return _c2c_n(input, s, dim, norm, True, out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    return write_out(_r2c_n(input, s, dim, norm), out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    return write_out(_c2r_n(input, s, dim, _norm(norm)), out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    return write_out(_c2r_n(input.conj(), s, dim, _DUAL[_norm(norm)]), out)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    return write_out(_r2c_n(input, s, dim, _DUAL[_norm(norm)], name="ihfftn").conj(), out)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return fftn(input, s, dim, norm, out=out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return ifftn(input, s, dim, norm, out=out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return rfftn(input, s, dim, norm, out=out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return irfftn(input, s, dim, norm, out=out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return hfftn(input, s, dim, norm, out=out)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return ihfftn(input, s, dim, norm, out=out)


# ---------------------------------------------------------------- frequencies and shifts
def _frequencies(values, dtype, device, requires_grad):
    from ._ops.creation import _finish
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    return _finish(np.asarray(values, dtype=dt.np), requires_grad, device)


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    return write_out(_frequencies(np.fft.fftfreq(n, d), dtype, device, requires_grad), out)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    return write_out(_frequencies(np.fft.rfftfreq(n, d), dtype, device, requires_grad), out)


def _shift(input, dim, sign):
    dims = list(range(input.dim())) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    shifts = [sign * (input.shape[d] // 2) for d in dims]
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    """Moves the zero-frequency bin to the centre: a roll by n//2 along each dim."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    return _shift(input, dim, -1)
