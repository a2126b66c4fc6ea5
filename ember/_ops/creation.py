"""Tensor factories and random sampling."""
import builtins
import math

import numpy as np

from .. import _dtype as D
from .._device import CPU, device_of, is_device_array, to_device, to_host
from .._tensor import Tensor
from ._util import install
from .shape import _sizes


def _finish(arr, requires_grad=False, device=None):
    t = Tensor._wrap(arr if device is None else _on_device(arr, to_device(device)))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _on_device(arr, device):
    """``arr`` (a host or device array) on ``device``, copied only if it lives elsewhere."""
    if device.type == "cpu":
        return arr if arr.__class__ is np.ndarray or not is_device_array(arr) else to_host(arr)
    if is_device_array(arr) and device_of(arr) == device:
        return arr
    xp = device.xp
    with xp.cuda.Device(device.index or 0):
        return xp.asarray(arr)


def _module(device):
    """The array module that creates arrays on ``device`` (None: the CPU)."""
    if device is None:
        return np
    device = to_device(device)
    return np if device.type == "cpu" else device.xp


def _create(device, make):
    """``make(xp)`` run with the array module of ``device``, on that device: factories allocate
    there directly instead of filling host memory and copying it over."""
    xp = _module(device)
    if xp is np:
        return make(np)
    with xp.cuda.Device(to_device(device).index or 0):
        return make(xp)


def _np_dtype(dtype, default=None):
    if dtype is None:
        return (default or D.get_default_dtype()).np
    return D.to_dtype(dtype).np


def _infer_array(data, dtype):
    """Array for ``data`` with torch's dtype inference for Python values: a copy on the device of a
    tensor or device array, a NumPy array otherwise."""
    if isinstance(data, Tensor):
        return _copy_as(data._data, dtype)
    if isinstance(data, np.ndarray):
        if dtype is None:
            D.from_numpy_dtype(data.dtype)
        return np.array(data, dtype=_np_dtype(dtype) if dtype is not None else data.dtype)
    if isinstance(data, (list, tuple)):
        data = _unwrap_nested(data)
    elif data.__class__ not in _PY_SCALARS and is_device_array(data):
        return _copy_as(data, dtype)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(_ragged_message(data)) from e
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(np.ravel(arr)[0]).__name__}")
    if dtype is not None:
        return arr.astype(_np_dtype(dtype))
    if isinstance(data, np.generic):
        return arr
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(D.get_default_dtype().np)
    if kind == "c":
        return arr.astype(D._default_complex().np)
    if kind in "iu":
        return arr.astype(np.int64)
    if kind == "b":
        return arr
    if kind in "US":
        raise TypeError(f"new(): invalid data type '{'str'}'")
    return arr


_PY_SCALARS = frozenset((int, float, complex, bool))


def _copy_as(arr, dtype):
    """A copy of a tensor's or device array's data, on its device."""
    return arr.astype(_np_dtype(dtype)) if dtype is not None else arr.copy()


def _unwrap_nested(data):
    if isinstance(data, Tensor):
        return to_host(data._data)  # values are read on the host, as torch reads them with item()
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(x) for x in data]
    return data


def _ragged_message(data, dim=0):
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple)):
        n = len(data[0])
        for x in data:
            if not isinstance(x, (list, tuple)) or len(x) != n:
                return f"expected sequence of length {n} at dim {dim + 1} (got {len(x) if hasattr(x, '__len__') else 'a scalar'})"
        for x in data:
            m = _ragged_message(x, dim + 1)
            if m:
                return m
    return ""


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays or tensors)."""
    return _finish(_infer_array(data, dtype), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device) if dtype is not None or device is not None else data
    if is_device_array(data) and (dtype is None or D.to_dtype(dtype).np == data.dtype):
        return _finish(data, device=device)
    if isinstance(data, np.ndarray) and (dtype is None or D.to_dtype(dtype).np == data.dtype):
        return _finish(data, device=device)
    return _finish(_infer_array(data, dtype), device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    return Tensor._wrap(ndarray)


def _factory(np_fn, name):
    def factory(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
                memory_format=None):
        shape = _sizes(size)
        if any(s < 0 for s in shape):
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
        if device is None:
            return _finish(np_fn(shape, _np_dtype(dtype)), requires_grad)
        return _finish(_create(device, lambda xp: getattr(xp, name)(shape, _np_dtype(dtype))), requires_grad)
    factory.__name__ = name
    return factory


zeros = _factory(np.zeros, "zeros")
ones = _factory(np.ones, "ones")
empty = _factory(np.empty, "empty")


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if dtype is None:
        dtype = D.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    np_dt = _np_dtype(dtype)
    value = fill_value.item() if isinstance(fill_value, Tensor) else checked_scalar(fill_value, np_dt)
    if device is None:
        return _finish(np.full(tuple(size), value, np_dt), requires_grad)
    return _finish(_create(device, lambda xp: xp.full(tuple(size), value, np_dt)), requires_grad)


_C_TYPE_NAMES = {np.dtype(np.int8): "int8_t", np.dtype(np.int16): "int16_t", np.dtype(np.int32): "int",
                 np.dtype(np.int64): "int64_t", np.dtype(np.uint8): "uint8_t", np.dtype(np.float32): "float"}
_FLOAT_LIMITS = {np.dtype(np.float32): (float(np.finfo(np.float32).max), "float"),
                 np.dtype(np.float16): (65504.0, "c10::Half"), D.bfloat16.np: (3.3895313892515355e38, "c10::BFloat16")}


def checked_scalar(value, dt):
    """A Python number about to be stored in a tensor of NumPy dtype ``dt``, checked as torch's fill
    checks it: integer and float types reject finite values beyond their range (float64 has none that
    a Python float can exceed), and uint8 wraps negative values."""
    if value.__class__ is bool or not isinstance(value, (int, float)) or dt.kind in "bc":
        return value
    if value.__class__ is int and not -2 ** 63 <= value < 2 ** 64:
        raise OverflowError("int too big to convert")
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if value > info.max or (dt.kind == "i" and value < info.min):
            raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES.get(dt, dt.name)} without overflow")
        if dt.kind == "u" and value < 0:  # negative values wrap, as in C
            return int(value) % (1 << info.bits)
        return value
    limit, name = _FLOAT_LIMITS.get(dt, (None, None))
    if limit is not None and math.isfinite(value) and abs(value) > limit:
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    return value
    if value.__class__ is int and not -2 ** 63 <= value < 2 ** 64:
        raise OverflowError("int too big to convert")
    if not isinstance(value, (int, float)):
        return value
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if value > info.max or (dt.kind == "i" and value < info.min):
            raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES.get(dt, dt.name)} without overflow")
        if value < 0:  # unsigned: negative values wrap, as in C
            return int(value) % (1 << info.bits)
    elif dt == np.float32 and abs(value) > _FLOAT32_MAX and value != float("inf") and value != -float("inf"):
        raise RuntimeError("value cannot be converted to type float without overflow")
    return value


def _like(fn):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
        return fn(input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                  device=device if device is not None else _device_of_data(input))
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return full(input._data.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad,
                device=device if device is not None else _device_of_data(input))


def _device_of_data(t):
    """``t``'s device for a ``*_like`` factory; None (the CPU, without device handling) for host data."""
    return None if t._data.__class__ is np.ndarray else t.device


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = D.int64 if builtins.all(isinstance(v, (int, np.integer)) for v in vals) else D.get_default_dtype()
    n = builtins.max(math.ceil((vals[1] - vals[0]) / vals[2]), 0)
    arr = (vals[0] + np.arange(n, dtype=np.float64 if D.to_dtype(dtype).is_floating_point else np.int64) * vals[2])
    return _finish(arr.astype(_np_dtype(dtype)), requires_grad, device)


def range_(start, end, step=1, *, dtype=None, device=None, requires_grad=False):
    n = int(math.floor((end - start) / step)) + 1
    arr = start + np.arange(n, dtype=np.float64) * step
    return _finish(arr.astype(_np_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    # torch fills the first half from the start and the second half from the end
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i)) if steps > 1 else np.full(steps, start, np.float64)
    return _finish(arr.astype(_np_dtype(dtype)), requires_grad, device)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    exps = linspace(start, end, steps, dtype=D.float64)._data
    return _finish(np.power(base, exps).astype(_np_dtype(dtype)), requires_grad, device)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if device is None:
        return _finish(np.eye(n, m if m is not None else n, dtype=_np_dtype(dtype)), requires_grad)
    return _finish(_create(device, lambda xp: xp.eye(n, m if m is not None else n, dtype=_np_dtype(dtype))),
                   requires_grad)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    r, c = np.tril_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(_np_dtype(dtype, D.int64)), device=device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    r, c = np.triu_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(_np_dtype(dtype, D.int64)), device=device)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.asarray(s, dtype=_np_dtype(dtype)), requires_grad, device)


install(zero_=lambda self: _fill(self, 0), fill_=lambda self, value: _fill(self, value))


def _fill(self, value):
    from .inplace import apply_inplace
    from ..autograd.grad_mode import _enabled
    v = value.item() if isinstance(value, Tensor) and not value.requires_grad else value
    if isinstance(v, Tensor) or (_enabled[0] and self.requires_grad):
        return apply_inplace(self, lambda old, val: old * 0 + val, v)
    self._data[...] = checked_scalar(v, self._data.dtype)
    self._bump_version()
    return self


__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "empty_like", "full_like", "arange", "linspace", "logspace", "eye", "tril_indices",
           "triu_indices", "scalar_tensor"]
