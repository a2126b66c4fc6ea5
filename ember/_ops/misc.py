"""Smaller ops and aliases: select/slice scatter, unfold windows, gcd/lcm, logaddexp, resize_ ..."""
import math

import numpy as np

from .. import _dtype as D
from .._device import array_module, is_array
from .._tensor import Tensor
from ..autograd.function import Op
from ._util import install, wrap_dim
from .elementwise import where, exp, log, log1p, abs as _abs, maximum, sin, promote, finish
from .inplace import inplace_method, write_out, apply_inplace
from .indexing import BasicIndex, IndexPut
from .shape import split, _sizes


def select(input, dim, index):
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {d}")
    return BasicIndex.apply(input, (slice(None),) * d + (int(index),))


def select_scatter(input, src, dim, index):
    d = wrap_dim(dim, input._data.ndim)
    return IndexPut.apply(input, src, (slice(None),) * d + (int(index),), False)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    d = wrap_dim(dim, input._data.ndim)
    return IndexPut.apply(input, src, (slice(None),) * d + (slice(start, end, step),), False)


class UnfoldWindows(Op):
    """``Tensor.unfold``: windows of ``size`` every ``step`` along ``dim``, as a new last dim (a view)."""
    is_view = True

    def forward(ctx, x, dim, size, step):
        ctx.in_shape, ctx.args = x.shape, (dim, size, step)
        win = array_module(x).lib.stride_tricks.sliding_window_view(x, size, axis=dim)
        idx = (slice(None),) * dim + (slice(None, None, step),)
        return win[idx]

    def backward(ctx, g):
        dim, size, step = ctx.args
        n_win = g.shape[dim]
        out = g.new_zeros(ctx.in_shape)
        # each window position k reads input indices [k*step, k*step + size): add them back, offset by offset
        gm = g.movedim(dim, 0).movedim(-1, 1)  # (n_win, size, ...)
        out = out.movedim(dim, 0)
        starts = array_module(g._data).arange(n_win) * step
        for j in range(size):
            idx = Tensor._wrap(starts + j)
            out = out.index_add(0, idx, gm[:, j])
        return out.movedim(0, dim), None, None, None


def unfold(self, dimension, size, step):
    d = wrap_dim(dimension, self._data.ndim) if self._data.ndim else 0
    if self._data.ndim == 0:
        return self.reshape(1)
    n = self._data.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return UnfoldWindows.apply(self, d, size, step)


def logaddexp(input, other):
    m = maximum(input, other).detach()
    m = where(m.isinf(), 0.0, m)
    return log(exp(input - m) + exp(other - m)) + m


def logaddexp2(input, other):
    return logaddexp(input * math.log(2), other * math.log(2)) / math.log(2)


def deg2rad(input):
    return input * (math.pi / 180) if input.is_floating_point() else input.float() * (math.pi / 180)


def rad2deg(input):
    return input * (180 / math.pi) if input.is_floating_point() else input.float() * (180 / math.pi)


def sinc(input):
    x = input * math.pi
    safe = where(input == 0, 1.0, x)
    return where(input == 0, 1.0, sin(safe) / safe)


def heaviside(input, values):
    return where(input == 0, values.to(input.dtype) if isinstance(values, Tensor) else values,
                 (input > 0).to(input.dtype))


def _int_binary(fn):
    def op(input, other):
        a, b, dt = promote(input._data, other._data if isinstance(other, Tensor) else other)
        if dt.kind not in "iub":
            raise RuntimeError(f'"{fn.__name__}_cpu" not implemented for \'{D._BY_NP[dt].name.capitalize()}\'')
        return Tensor._wrap(finish(fn(a, b), dt))
    op.__name__ = fn.__name__
    return op


gcd = _int_binary(np.gcd)
lcm = _int_binary(np.lcm)


def ldexp(input, other):
    return input * (2.0 ** other if not isinstance(other, Tensor) else other.to(D.get_default_dtype()).exp2())


def frexp(input):
    m, e = np.frexp(input._data)
    return Tensor._wrap(m.astype(input._data.dtype)), Tensor._wrap(e.astype(np.int32))


def nextafter(input, other):
    return Tensor._wrap(np.nextafter(input._data, other._data))


def fill_diagonal_(self, fill_value, wrap=False):
    with_grad = self.requires_grad
    arr = self._data
    if with_grad:
        return apply_inplace(self, lambda old: _filled_diag(old, fill_value, wrap))
    np.fill_diagonal(arr, fill_value, wrap=wrap)
    self._bump_version()
    return self


def _filled_diag(t, value, wrap):
    mask = array_module(t._data).zeros(t._data.shape, bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return t.masked_fill(Tensor._wrap(mask), value)


def resize_(self, *sizes):
    shape = _sizes(sizes)
    n = int(np.prod(shape))
    flat = self._data.reshape(-1)
    if n <= flat.size:
        self._data = flat[:n].reshape(shape)
    else:
        new = array_module(flat).zeros(n, self._data.dtype)
        new[:flat.size] = flat
        self._data = new.reshape(shape)
    self._bump_version()
    return self


def as_strided(input, size, stride, storage_offset=None):
    base = input._data
    while is_array(base.base):
        base = base.base
    offset = input.storage_offset() if storage_offset is None else storage_offset
    flat = base.reshape(-1)[offset:]
    item = base.itemsize
    arr = array_module(flat).lib.stride_tricks.as_strided(flat, tuple(size), tuple(s * item for s in stride))
    out = Tensor._wrap(arr)
    out._vc = input._version_counter()
    out._base = input._base if input._base is not None else input
    return out


def hsplit(input, sections):
    return input.tensor_split(sections, 1 if input.ndim > 1 else 0)


def vsplit(input, sections):
    return input.tensor_split(sections, 0)


def dsplit(input, sections):
    return input.tensor_split(sections, 2)


def isreal(input):
    if input.is_complex():
        return input.imag == 0
    return Tensor._wrap(array_module(input._data).ones(input._data.shape, bool))


def is_same_size(input, other):
    return input._data.shape == other._data.shape


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def narrow_copy(input, dim, start, length):
    return input.narrow(dim, start, length).clone()


def _apply_elementwise(self, fn):
    flat = self._data.reshape(-1)
    for i in range(flat.size):
        flat[i] = fn(flat[i].item())
    self._bump_version()
    return self


def _map(self, other, fn):
    a = self._data.reshape(-1)
    b = np.broadcast_to(other._data, self._data.shape).reshape(-1)
    for i in range(a.size):
        a[i] = fn(a[i].item(), b[i].item())
    self._bump_version()
    return self


def _softmax_method(self, dim=None, dtype=None):
    from ..nn import functional as F
    return F.softmax(self, dim, dtype=dtype)


def _log_softmax_method(self, dim=None, dtype=None):
    from ..nn import functional as F
    return F.log_softmax(self, dim, dtype=dtype)


def _relu_method(self):
    from ..nn import functional as F
    return F.relu(self)


install(select=select, select_scatter=select_scatter, slice_scatter=slice_scatter, unfold=unfold,
        logaddexp=logaddexp, logaddexp2=logaddexp2, deg2rad=deg2rad, rad2deg=rad2deg, sinc=sinc,
        heaviside=heaviside, gcd=gcd, lcm=lcm, ldexp=ldexp, frexp=frexp, nextafter=nextafter,
        fill_diagonal_=fill_diagonal_, resize_=resize_, resize_as_=lambda self, other: resize_(self, other.shape),
        as_strided=as_strided, hsplit=hsplit, vsplit=vsplit, dsplit=dsplit, isreal=isreal,
        is_same_size=is_same_size, is_nonzero=is_nonzero, narrow_copy=narrow_copy, apply_=_apply_elementwise,
        map_=_map, softmax=_softmax_method, log_softmax=_log_softmax_method, relu=_relu_method,
        relu_=lambda self: apply_inplace(self, _relu_method),
        is_signed=lambda self: self.dtype.is_signed, is_conj=lambda self: False, is_neg=lambda self: False,
        is_inference=lambda self: False, resolve_conj=lambda self: self, resolve_neg=lambda self: self,
        conj_physical=lambda self: self.conj(), output_nr=property(lambda self: self._out_nr),
        unsafe_chunk=lambda self, chunks, dim=0: self.chunk(chunks, dim),
        unsafe_split=lambda self, size, dim=0: self.split(size, dim),
        new=lambda self, *args: Tensor(*args) if args else self.new_empty(0),
        diagflat=lambda self, offset=0: self.reshape(-1).diag(offset),
        swapaxes_=lambda self, a, b: self.transpose_(a, b), swapdims_=lambda self, a, b: self.transpose_(a, b),
        as_subclass=lambda self, cls: Tensor._make_subclass(cls, self._data, self.requires_grad))
for _name in ("deg2rad", "rad2deg", "sinc", "heaviside", "gcd", "lcm", "ldexp", "logaddexp", "logaddexp2"):
    setattr(Tensor, _name + "_", inplace_method(globals()[_name]))
for _alias, _target in (("absolute_", "abs_"), ("arccos_", "acos_"), ("arccosh_", "acosh_"), ("arcsin_", "asin_"),
                        ("arcsinh_", "asinh_"), ("arctan_", "atan_"), ("arctanh_", "atanh_"), ("arctan2_", "atan2_"),
                        ("fix_", "trunc_"), ("greater_", "gt_"), ("greater_equal_", "ge_"), ("less_", "lt_"),
                        ("less_equal_", "le_"), ("negative_", "neg_"), ("not_equal_", "ne_"),
                        ("bitwise_left_shift_", None), ("bitwise_right_shift_", None), ("cumprod_", None)):
    if _target is not None:
        setattr(Tensor, _alias, getattr(Tensor, _target))
Tensor.bitwise_left_shift_ = inplace_method(Tensor.bitwise_left_shift)
Tensor.bitwise_right_shift_ = inplace_method(Tensor.bitwise_right_shift)
Tensor.cumprod_ = lambda self, dim, *, dtype=None: self.copy_(self.cumprod(dim, dtype=dtype))

__all__ = ["select", "select_scatter", "slice_scatter", "logaddexp", "logaddexp2", "deg2rad", "rad2deg", "sinc",
           "heaviside", "gcd", "lcm", "ldexp", "frexp", "nextafter", "as_strided", "hsplit", "vsplit", "dsplit",
           "isreal", "is_same_size", "is_nonzero", "narrow_copy"]
