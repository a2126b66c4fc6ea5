"""Copies and conversions: dtype casts, clone, contiguous, copy_, device moves."""
import numpy as np

from .. import _dtype as D
from .._device import array_module, device_of, is_device_array, to_device
from .._tensor import Tensor
from ..autograd.function import Op
from ._util import install


def _to_copy_name(node):
    return "ToCopyBackward0"  # torch records dtype casts and device moves as one op, aten::_to_copy


class Cast(Op):
    name = _to_copy_name

    def forward(ctx, x, np_dtype):
        ctx.in_dtype = x.dtype
        if x.dtype.kind == "c" and np_dtype.kind != "c":
            x = x.real
        return x.astype(np_dtype)

    def backward(ctx, g):
        return g._to_np_dtype(ctx.in_dtype) if g._data.dtype in D.FLOATING_NP and ctx.in_dtype in D.FLOATING_NP \
            else None, None


def _to_np_dtype(self, np_dtype):
    if self._data.dtype == np_dtype:
        return self
    return Cast.apply(self, np_dtype)


class Clone(Op):
    def forward(ctx, x):
        return x.copy()

    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


class Contiguous(Op):
    def forward(ctx, x):
        return np.ascontiguousarray(x) if x.__class__ is np.ndarray else array_module(x).ascontiguousarray(x)

    def backward(ctx, g):
        return g


def contiguous(input, memory_format=None):
    return input if input._data.flags.c_contiguous else Contiguous.apply(input)


class CopyInto(Op):
    """``dst`` replaced by ``src`` broadcast to its shape (the out-of-place form of ``copy_``)."""

    def forward(ctx, dst, src):
        ctx.src_dtype = src.dtype
        out = np.empty_like(dst)  # dispatches to the device for device arrays
        if src.dtype.kind == "c" and dst.dtype.kind != "c":
            src = src.real
        np.copyto(out, np.broadcast_to(src, dst.shape) if src.shape != dst.shape else src, casting="unsafe")
        return out

    def backward(ctx, g):
        return None, g


def copy_(self, src, non_blocking=False):
    from .inplace import apply_inplace
    if not isinstance(src, Tensor):
        src = Tensor._wrap(src if is_device_array(src) else np.asarray(src))
    try:
        np.broadcast_shapes(src._data.shape, self._data.shape)
        if np.broadcast_shapes(src._data.shape, self._data.shape) != self._data.shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match "
                           f"the size of tensor b ({src._data.shape[-1] if src._data.ndim else 1}) at non-singleton "
                           "dimension 0") from None
    if src.device != self.device:
        src = to_device_op(src, self.device)
    from ..autograd.grad_mode import _enabled
    if not (_enabled[0] and (self.requires_grad or src.requires_grad)):
        np.copyto(self._data, src._data if src._data.dtype.kind != "c" or self._data.dtype.kind == "c"
                  else src._data.real, casting="unsafe")
        self._bump_version()
        return self
    return apply_inplace(self, lambda old, s: CopyInto.apply(old, s), src)


class ToDevice(Op):
    name = _to_copy_name

    def forward(ctx, x, device):
        ctx.src = device_of(x)
        if device.type == "cpu":
            return x.get() if not isinstance(x, np.ndarray) else x
        xp = device.xp
        with xp.cuda.Device(device.index or 0):
            return xp.asarray(x)

    def backward(ctx, g):
        return ToDevice.apply(g, ctx.src), None


def to_device_op(t, device):
    device = to_device(device)
    if device.type == "cuda":
        from .. import cuda
        cuda._cupy()
    return ToDevice.apply(t, device)


def _new_module(self, device):
    """The array module of a ``new_*`` result: ``self``'s device unless ``device`` names another."""
    if device is None:
        return array_module(self._data)
    device = to_device(device)
    if device.type == "cpu":
        return np
    return device.xp


def _new_factory(np_fn):
    def factory(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        from .shape import _sizes
        dt = D.to_dtype(dtype).np if dtype is not None else self._data.dtype
        if device is None and self._data.__class__ is np.ndarray:
            t = Tensor._wrap(np_fn(_sizes(size), dt))
        else:
            t = Tensor._wrap(getattr(_new_module(self, device), np_fn.__name__)(_sizes(size), dt))
        t.requires_grad = requires_grad
        return t
    return factory


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    dt = D.to_dtype(dtype).np if dtype is not None else self._data.dtype
    xp = np if device is None and self._data.__class__ is np.ndarray else _new_module(self, device)
    t = Tensor._wrap(xp.full(tuple(size), fill_value, dt))
    t.requires_grad = requires_grad
    return t


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    from .creation import tensor
    return tensor(data, dtype=dtype or (self.dtype if not isinstance(data, Tensor) else data.dtype),
                  device=device if device is not None else self.device, requires_grad=requires_grad)


install(_to_np_dtype=_to_np_dtype, clone=clone, contiguous=contiguous, copy_=copy_,
        new_zeros=_new_factory(np.zeros), new_ones=_new_factory(np.ones), new_empty=_new_factory(np.empty),
        new_full=new_full, new_tensor=new_tensor)

__all__ = ["clone"]
