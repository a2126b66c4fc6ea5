"""Sliding-window views and their adjoint, the kernels under convolution and pooling.

``windows`` turns a (N, C, *spatial) array into a read-only strided view (N, C, *kernel, *out): no copy,
so a reshape of it is im2col in one NumPy copy. ``col2im`` is its adjoint: it accumulates a
(N, C, *kernel, *out) array back onto the input by looping over kernel offsets only (kh*kw strided
adds over whole arrays), never over pixels or samples.
"""
import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._device import array_module


def out_size(size, kernel, stride, pad_lo, pad_hi, dilation, ceil_mode=False):
    """Output length of a window op along one dim (torch's formula, ceil_mode as in pooling)."""
    span = size + pad_lo + pad_hi - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    # the last window must start inside the input or the left padding
    if (out - 1) * stride >= size + pad_lo:
        out -= 1
    return out


def pad_array(x, pads, value=0):
    """Pad the trailing dims by ``pads`` = ((lo, hi), ...); returns ``x`` itself when all are zero."""
    if not any(lo or hi for lo, hi in pads):
        return x
    lead = x.ndim - len(pads)
    shape = x.shape[:lead] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], pads))
    xp = array_module(x)
    out = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[lead:], pads))] = x
    return out


def crop(x, pads):
    """Inverse of ``pad_array``: drop ``pads`` from the trailing dims (a view)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return x[(Ellipsis,) + tuple(slice(lo, n - hi) for n, (lo, hi) in zip(x.shape[x.ndim - len(pads):], pads))]


def windows(x, kernel, stride, dilation, out):
    """Read-only view (N, C, *kernel, *out) of windows of the (already padded) ``x``."""
    st = x.strides
    sp = st[2:]
    shape = x.shape[:2] + tuple(kernel) + tuple(out)
    strides = st[:2] + tuple(s * d for s, d in zip(sp, dilation)) + tuple(s * k for s, k in zip(sp, stride))
    return strided_view(x, shape, strides)


def strided_view(x, shape, strides):
    """``as_strided`` in ``x``'s array module; read-only on NumPy (CuPy's has no ``writeable``)."""
    if x.__class__ is np.ndarray:
        return as_strided(x, shape, strides, writeable=False)
    return array_module(x).lib.stride_tricks.as_strided(x, shape, strides)


def col2im(block, padded_shape, kernel, stride, dilation, out):
    """Adjoint of ``windows``: sum ``block(k)``, the (N, C, *out) contribution of kernel offset k, onto a
    zero array of ``padded_shape`` = (N, C, *padded). Loops over the K kernel offsets only; each step is
    one strided add over the whole batch."""
    first = block(0)
    gx = array_module(first).zeros(padded_shape, dtype=first.dtype)
    lead = (slice(None), slice(None))
    for k, offset in enumerate(itertools.product(*(range(n) for n in kernel))):
        key = lead + tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                           for o, d, s, n in zip(offset, dilation, stride, out))
        view = gx[key]
        np.add(view, block(k), out=view)  # in place: ``gx[key] += ...`` would copy the view back
    return gx
