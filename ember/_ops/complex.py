"""Moving between complex and real tensors, differentiably: real, imag, view_as_real, view_as_complex,
complex, polar.

Gradients follow torch's convention for complex numbers: the gradient of a real loss L with respect to
z is dL/d(conj z), so a linear map's backward is its adjoint. ``real(z)`` passes a real gradient back
as ``g + 0j``, ``imag(z)`` as ``g * 1j``; ``real``, ``imag`` and the two ``view_as_*`` are views that
share storage with their input, as in torch.
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from ._util import install
from .._device import array_module

__all__ = ["real", "imag", "view_as_real", "view_as_complex", "complex", "polar"]

_REAL_OF = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}
_COMPLEX_OF = {v: k for k, v in _REAL_OF.items()}


class Real(Op):
    is_view = True

    def forward(ctx, z):
        return z.real

    def backward(ctx, g):
        return _to_complex(g, g.new_zeros(()))


class Imag(Op):
    is_view = True

    def forward(ctx, z):
        return z.imag

    def backward(ctx, g):
        return _to_complex(g.new_zeros(()), g)


class ViewAsReal(Op):
    is_view = True

    def forward(ctx, z):
        # any strides: the real parts, plus a last axis of length 2 stepping to the imaginary part
        re = z.real
        return array_module(z).lib.stride_tricks.as_strided(re, z.shape + (2,), z.strides + (re.itemsize,))

    def backward(ctx, g):
        return _to_complex(g[..., 0], g[..., 1])


class ViewAsComplex(Op):
    is_view = True

    def forward(ctx, x):
        return x.view(_COMPLEX_OF[x.dtype]).reshape(x.shape[:-1])

    def backward(ctx, g):
        return view_as_real(g)


class Complex(Op):
    def forward(ctx, re, im):
        out = array_module(re).empty(np.broadcast_shapes(re.shape, im.shape), _COMPLEX_OF[re.dtype])
        out.real[...] = re  # through views: a device array's real part cannot be assigned as an attribute
        out.imag[...] = im
        return out

    def backward(ctx, g):
        need_re, need_im = ctx.needs_input_grad
        return (real(g) if need_re else None), (imag(g) if need_im else None)


def _to_complex(re, im):
    return Complex.apply(re, im)


def real(input):
    """torch.real: a view of the real part (the tensor itself when it is not complex)."""
    return Real.apply(input) if input.is_complex() else input


def imag(input):
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


def view_as_real(input):
    if not input.is_complex():
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return ViewAsReal.apply(input)


def view_as_complex(input):
    data = input._data
    if data.dtype not in _COMPLEX_OF:
        raise RuntimeError(f"view_as_complex is only supported for float and double tensors, but got a tensor "
                           f"of scalar type: {input.dtype}")
    if data.shape[-1:] != (2,):
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if data.strides[-1] != data.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * data.itemsize) for s in data.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return ViewAsComplex.apply(input)


def complex(real, imag, *, out=None):
    """torch.complex: ``real + 1j * imag`` from two float tensors of one dtype."""
    if real.dtype != imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {real.dtype.name.capitalize()} but got scalar type "
                           f"{imag.dtype.name.capitalize()} for second argument")
    if real._data.dtype not in _COMPLEX_OF:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{real.dtype.name.capitalize()} and {imag.dtype.name.capitalize()}")
    from .inplace import write_out
    return write_out(Complex.apply(real, imag), out)


def polar(abs, angle, *, out=None):
    """torch.polar: ``abs * (cos(angle) + 1j * sin(angle))``; differentiable through ``complex``."""
    result = complex(abs * angle.cos(), abs * angle.sin())
    if out is not None:
        from .inplace import write_out
        return write_out(result, out)
    return result


install(real=property(real), imag=property(imag), view_as_real=view_as_real, view_as_complex=view_as_complex)
