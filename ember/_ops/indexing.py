"""Indexing: ``__getitem__``/``__setitem__`` with basic and advanced keys, and gather-style ops."""
import re

import numpy as np

from .. import _dtype as D, _jit
from .._kernels import indexing as _index_kernels
from .._device import array_module, as_array, is_device_array
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import _enabled
from ._util import install, wrap_dim, shape_str, type_name, broadcast_shapes
from .inplace import apply_inplace, inplace_method, write_out
from .scatter import Scatter, device_ufunc_at, gather

_ND = np.ndarray


def _is_arr(k):
    """An index array in a raw key (NumPy or CuPy): the other key items are ints, bools, slices, None and
    Ellipsis, none of which has a dtype."""
    return k.__class__ is _ND or hasattr(k, "dtype")


def _convert_key(key):
    """Raw NumPy key from a torch key; reports whether it is basic (a view) or advanced."""
    cls = key.__class__
    if cls is int:  # the common keys skip the general walk below
        return (key,), True
    if cls is slice and _plain_slice(key):
        return (key,), True
    if cls is tuple and all(k.__class__ in _PLAIN or (k.__class__ is slice and _plain_slice(k)) for k in key):
        return key, True
    if cls is list and _list_is_tuple(key):
        key = tuple(key)
    elif not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, Tensor):
            a = k._data
            if a.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if a.dtype == np.uint8:
                a = a.astype(bool)
            if a.ndim == 0 and a.dtype != np.bool_:
                out.append(int(a))
                continue
            out.append(a)
            basic = False
        elif isinstance(k, slice):
            if k.step is not None and _int(k.step) <= 0:
                raise ValueError("step must be greater than zero")
            out.append(slice(_int(k.start), _int(k.stop), _int(k.step)))
        elif isinstance(k, (list, tuple, np.ndarray)):
            a = np.asarray([_unwrap(x) for x in k] if not isinstance(k, np.ndarray) else k)
            if a.size == 0 and a.dtype.kind == "f":  # x[[]]: an empty index list
                a = a.astype(np.int64)
            if a.dtype == object or a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a)
            basic = False
        elif isinstance(k, bool) or isinstance(k, np.bool_):
            out.append(bool(k))
            basic = False
        elif k is None or k is Ellipsis:
            out.append(k)
        elif k.__class__ is not int and is_device_array(k):
            if k.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(k)
            basic = False
        else:
            try:
                out.append(k.__index__())
            except AttributeError:
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                                 "are valid indices (got " + type(k).__name__ + ")") from None
    if not basic and any(type(k) is int for k in out):
        return _split_ints(out), False
    return tuple(out), basic


class _TwoStep(tuple):
    """``(int_key, rest)``. torch selects integer indices before applying index tensors; NumPy counts an
    int as an index array, which moves the result's dims when an int sits between index arrays."""


def _split_ints(key):
    first = []
    for k in key:
        if type(k) is int or k is Ellipsis:
            first.append(k)
        elif _is_arr(k) and k.dtype == np.bool_:
            first.extend([slice(None)] * k.ndim)
        elif k is not None and not isinstance(k, bool):
            first.append(slice(None))
    return _TwoStep((tuple(first), tuple(k for k in key if type(k) is not int)))


def _locate(arr, key):
    """(array view, key into it) for a raw key; a two-step key selects its ints first (a view)."""
    if key.__class__ is _TwoStep:
        return _index(arr, key[0]), key[1]
    return arr, key


_PLAIN = (int, type(None), type(Ellipsis))


def _list_is_tuple(key):
    """torch (like old NumPy) reads ``x[[a, b]]`` as ``x[a, b]`` when an item is itself a sequence, a
    tensor, a slice, None or Ellipsis."""
    return any(isinstance(k, (list, tuple, Tensor, slice)) or k is None or k is Ellipsis for k in key)


def _plain_slice(k):
    """A slice NumPy reads exactly as torch does: Python-int (or absent) bounds, positive step."""
    step = k.step
    return (k.start is None or k.start.__class__ is int) and (k.stop is None or k.stop.__class__ is int) and \
        (step is None or (step.__class__ is int and step > 0))


def _int(v):
    return None if v is None else (int(v) if not isinstance(v, Tensor) else int(v.item()))


def _unwrap(x):
    return x.item() if isinstance(x, Tensor) else x


def _index(x, key):
    if key.__class__ is _TwoStep:
        return _index(_index(x, key[0]), key[1])
    if x.__class__ is not _ND:
        return _device_index(x, key)
    try:
        out = x[key]
    except IndexError as e:
        raise IndexError(_torch_index_message(str(e), x.shape, key)) from None
    except TypeError:
        _raise_if_device_key(x, key)
        raise
    if out.__class__ is not _ND:  # all ints gave a NumPy scalar; an Ellipsis gives the 0-d *view* torch has
        out = x[key + (Ellipsis,)]
    return out


def _device_index(x, key):
    key = device_key(x, key)
    try:
        out = x[key]
    except IndexError as e:
        raise IndexError(_torch_index_message(_numpy_style(e), x.shape, key)) from None
    if out.ndim == 0 and not any(k is Ellipsis or _is_arr(k) for k in key):
        out = x[key + (Ellipsis,)]  # the 0-d *view* torch has (not every array library gives one for ints)
    return out


def device_key(x, key, check=True):
    """``key`` for indexing the device array ``x``: host index arrays moved to the device, integer index
    arrays checked against ``x``'s shape (CuPy wraps out-of-range indices around where torch raises)."""
    xp = array_module(x)
    out = []
    pos, ellipsis_dims = 0, x.ndim - sum(_dims_consumed(k) for k in key)
    for k in key:
        if k is Ellipsis:
            pos += ellipsis_dims
        elif _is_arr(k):
            if k.__class__ is _ND:
                k = xp.asarray(k)
            if check and k.dtype != np.bool_ and k.size and pos < x.ndim:
                _check_device_bounds(k, x.shape, pos, key)
        elif k.__class__ is int and pos < x.ndim and not -x.shape[pos] <= k < x.shape[pos]:
            msg = f"index {k} is out of bounds for axis {pos} with size {x.shape[pos]}"
            raise IndexError(_torch_index_message(msg, x.shape, key))
        pos += _dims_consumed(k)
        out.append(k)
    return tuple(out)


def _numpy_style(error):
    """An array library's IndexError message worded as NumPy words it (CuPy capitalises some)."""
    msg = str(error)
    return msg[:1].lower() + msg[1:]


def _dims_consumed(k):
    if k is None or k is Ellipsis or k.__class__ is bool:
        return 0
    return k.ndim if _is_arr(k) and k.dtype == np.bool_ else 1


def _check_device_bounds(k, shape, axis, key):
    n = shape[axis]
    bad = (k >= n) | (k < -n)
    if bool(bad.any()):
        first = int(k[bad].reshape(-1)[0])
        msg = f"index {first} is out of bounds for axis {axis} with size {n}"
        raise IndexError(_torch_index_message(msg, shape, key))


def _raise_if_device_key(x, key):
    """torch's error for index tensors on the device of a CPU tensor (NumPy refuses them with a TypeError)."""
    if any(is_device_array(k) for k in key):
        raise RuntimeError("indices should be either on cpu or on the same device as the indexed tensor (cpu)")


def _torch_index_message(msg, shape, key):
    if "boolean index did not match" in msg:
        for i, k in enumerate(key):
            if _is_arr(k) and k.dtype == np.bool_:
                for j, n in enumerate(k.shape):
                    if i + j < len(shape) and shape[i + j] != n:
                        return (f"The shape of the mask {shape_str(k.shape)} at index {j} does not match the shape "
                                f"of the indexed tensor {shape_str(shape)} at index {i + j}")
    if "too many indices" in msg:
        return f"too many indices for tensor of dimension {len(shape)}"
    m = _OOB.match(msg)
    if m and _has_array(key):
        dim = _advanced_dim(key, len(shape), int(m[2]))
        return f"index {m[1]} is out of bounds for dimension {dim} with size {m[3]}"
    return msg.replace("axis", "dimension")


_OOB = re.compile(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)")


def _advanced_dim(key, ndim, axis):
    """torch moves index-tensor dims to the front before indexing, and names the dim in that order."""
    consumed = [0 if k is None or k is Ellipsis else (k.ndim if _is_arr(k) and k.dtype == np.bool_ else 1)
                for k in key]
    pos, n_adv = 0, 0
    for k, c in zip(key, consumed):
        if k is Ellipsis:
            pos += ndim - sum(consumed)
            continue
        if pos <= axis < pos + c:
            return n_adv + axis - pos if _is_arr(k) else axis
        if _is_arr(k):
            n_adv += c
        pos += c
    return axis


class BasicIndex(Op):
    is_view = True

    def forward(ctx, x, key):
        ctx.in_shape, ctx.key, ctx.dtype = x.shape, key, x.dtype
        out = _index(x, key)
        return out if out.__class__ is _ND else as_array(out)

    def backward(ctx, g):
        return IndexPutAcc.apply(g.new_zeros(ctx.in_shape), g, ctx.key), None


class AdvancedIndex(Op):
    def forward(ctx, x, key):
        ctx.in_shape, ctx.key = x.shape, key
        out = _index(x, key)
        return out if out.__class__ is _ND else as_array(out)

    def backward(ctx, g):
        return IndexPutAcc.apply(g.new_zeros(ctx.in_shape), g, ctx.key), None


class IndexPutAcc(Op):
    """``base`` with ``values`` added at ``key`` (duplicates accumulate)."""

    def forward(ctx, base, values, key):
        ctx.key = key
        out = base.copy()
        view, k = _locate(out, key)
        if view.__class__ is not _ND:
            k = device_key(view, k, check=False)  # checked when the forward indexed with it
        _add_at(view, k, values) if _has_array(k) else view.__setitem__(k, view[k] + values)
        return out

    def backward(ctx, g):
        return g, AdvancedIndex.apply(g, ctx.key), None


class IndexPut(Op):
    """``base`` with ``values`` written at ``key`` (the out-of-place form of ``base[key] = values``)."""

    def forward(ctx, base, values, key, accumulate):
        ctx.key, ctx.accumulate = key, accumulate
        out = base.copy()
        view, k = _locate(out, key)
        if out.__class__ is _ND:
            v = values if values.__class__ is _ND else np.asarray(values)
        else:
            v = values if is_device_array(values) else array_module(out).asarray(values)
            k = device_key(view, k)
        try:
            if accumulate:
                _add_at(view, k, v.astype(out.dtype, copy=False))
            else:
                view[k] = v.astype(out.dtype) if v.dtype != out.dtype else v
        except IndexError as e:
            raise IndexError(_torch_index_message(str(e), view.shape, k)) from None
        except ValueError:
            raise RuntimeError(_shape_mismatch(v, view[k].shape, k)) from None
        return out

    def backward(ctx, g):
        need_base, need_values = ctx.needs_input_grad[:2]
        gb = gv = None
        if need_base:
            gb = g if ctx.accumulate else IndexPut.apply(g, 0.0, ctx.key, False)
        if need_values:
            gv = AdvancedIndex.apply(g, ctx.key)
        return gb, gv, None, None


def _add_at(target, key, values):
    """``target[key] += values`` with duplicates accumulating (``np.add.at``), done on flat positions:
    NumPy's ``ufunc.at`` is many times faster with one 1-D index than with a multi-dim key."""
    if target.__class__ is not _ND:
        _add_at_device(target, key, values)
        return
    if _no_repeats(key):  # each element is hit once: a plain fancy-indexed add is exact and fastest
        target[key] += values
        return
    pos = _positions(target.shape, key)
    flat = target.reshape(-1)
    if not target.flags.c_contiguous:  # a strided view: reshape would copy, leaving nothing to write through
        np.add.at(target, key, values)
        return
    np.add.at(flat, pos.reshape(-1), np.broadcast_to(values, pos.shape).reshape(-1))


def _add_at_device(target, key, values):
    if any(_is_arr(k) and k.dtype == np.bool_ or k.__class__ is bool for k in key):
        target[key] += values  # a mask addresses each element once
    else:
        device_ufunc_at(array_module(target).add, target, key, values)


def _no_repeats(key):
    """True when ``key`` cannot address an element twice: one boolean mask, or one index array whose
    (non-negative) entries are distinct."""
    arrays = [k for k in key if isinstance(k, _ND) or isinstance(k, bool)]
    if len(arrays) != 1 or not isinstance(arrays[0], _ND):
        return False
    a = arrays[0]
    if a.dtype == np.bool_ or a.size < 2:
        return True
    flat = a.reshape(-1)
    return flat.min() >= 0 and np.unique(flat).size == flat.size


def _positions(shape, key):
    """Flat position of every element of ``x[key]`` for a C-contiguous ``x`` of ``shape``."""
    size = int(np.prod(shape))
    if size <= 1 << 16:
        return np.arange(size).reshape(shape)[key]
    # big arrays: sum each dim's contribution, indexed through zero-stride views (no size-n arange)
    pos = None
    stride = 1
    for d in range(len(shape) - 1, -1, -1):
        coord = np.arange(shape[d]) * stride
        view = np.broadcast_to(coord.reshape((-1,) + (1,) * (len(shape) - d - 1)), shape)
        pos = view[key] if pos is None else pos + view[key]
        stride *= shape[d]
    return pos


def _has_array(key):
    if key.__class__ is _TwoStep:
        key = key[1]
    return any(k.__class__ is _ND or isinstance(k, bool) or hasattr(k, "dtype") for k in key)


def getitem(self, key):
    raw, basic = _convert_key(key)
    if basic and not (self.requires_grad and _enabled[0]):
        # untracked view: what BasicIndex.apply would do, minus building a graph node
        out = Tensor._wrap(_index(self._data, raw))
        out._become_view_of(self, BasicIndex, (raw,))
        return out
    return (BasicIndex if basic else AdvancedIndex).apply(self, raw)


def setitem(self, key, value):
    if isinstance(value, (list, tuple)):
        raise TypeError(f"can't assign a {type(value).__name__} to a torch.{type_name(self.dtype)}Tensor")
    raw, basic = _convert_key(key)
    if isinstance(value, Tensor):
        if value._data.__class__ is not self._data.__class__ or (self._data.__class__ is not _ND and
                                                                 value.device != self.device):
            value = _value_on_device(self, value, basic)
        # basic keys copy_ (any cast); index tensors index_put_, which wants equal dtypes, except for a
        # 0-d value under boolean masks (torch's masked_fill path)
        if not basic and value.dtype != self.dtype and (value._data.ndim or not _masks_only(raw)):
            _index_put_dtype_error(self, value)
    if _enabled[0] and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        apply_inplace(self, lambda old, v: IndexPut.apply(old, v, raw, False), value)
        return
    v = value._data if isinstance(value, Tensor) else value
    view, k = _locate(self._data, raw)
    if view.__class__ is not _ND:
        k = device_key(view, k)
    try:
        view[k] = v
    except IndexError as e:
        raise IndexError(_torch_index_message(str(e), view.shape, k)) from None
    except ValueError:
        raise RuntimeError(_shape_mismatch(v if _is_arr(v) else np.asarray(v), view[k].shape, k)) from None
    except TypeError:
        _raise_if_device_key(view, k)
        raise
    self._bump_version()


def _value_on_device(self, value, basic):
    """A value from another device, moved as torch moves it: basic keys write with ``copy_`` (any device),
    index tensors take a 0-d value from any device and other values only from ``self``'s."""
    if basic or not value._data.ndim:
        return value.to(self.device)
    raise RuntimeError(f"expected device {self.device} but got device {value.device}")


def _shape_mismatch(v, target, key):
    """torch's message when a value can't be written into ``x[key]`` (shape ``target``)."""
    if _has_array(key):
        return (f"shape mismatch: value tensor of shape {shape_str(v.shape)} cannot be broadcast to indexing "
                f"result of shape {shape_str(target)}")
    vs = v.shape
    while vs and vs[0] == 1 and len(vs) > len(target):  # basic keys write with copy_, which drops leading 1s
        vs = vs[1:]
    if len(vs) > len(target):
        legacy = f"torch.{type_name(D._BY_NP[v.dtype])}Tensor"
        return (f"expand({legacy}{{{shape_str(v.shape)}}}, size={shape_str(target)}): "
                f"the number of sizes provided ({len(target)}) must be greater or equal to the number of dimensions "
                f"in the tensor ({len(v.shape)})")
    for i in range(1, len(vs) + 1):
        if vs[-i] != 1 and vs[-i] != target[-i]:
            return (f"The expanded size of the tensor ({target[-i]}) must match the existing size ({vs[-i]}) at "
                    f"non-singleton dimension {len(target) - i}.  Target sizes: {shape_str(target)}.  "
                    f"Tensor sizes: {shape_str(vs)}")
    return f"shape mismatch: cannot write a value of shape {shape_str(v.shape)} into shape {shape_str(target)}"


def _masks_only(raw):
    key = raw[1] if raw.__class__ is _TwoStep else raw
    return all(k.dtype == np.bool_ for k in key if _is_arr(k))


def _index_put_dtype_error(target, value):
    raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                       f"{type_name(target.dtype)} for the destination and {type_name(value.dtype)} for the source.")


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``values`` written (or added, with ``accumulate``) at the index tensors ``indices``.

    >>> ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.tensor(1.), accumulate=True)
    tensor([2., 0., 0.])
    """
    if isinstance(values, Tensor) and values.dtype != input.dtype:
        _index_put_dtype_error(input, values)
    raw, _ = _convert_key(tuple(indices))
    return IndexPut.apply(input, values, raw, accumulate)


def index_put_(input, indices, values, accumulate=False):
    return apply_inplace(input, lambda old, v: index_put(old, indices, v, accumulate), values)


def scatter_raw_grad(g, in_shape, dim, idx, keepdim):
    """Gradient of a reduction that picked ``idx`` along ``dim`` (max/min/median...)."""
    if not keepdim and len(in_shape):
        g = g.unsqueeze(dim)
    if not len(in_shape):
        return g
    return Scatter.apply(g.new_zeros(in_shape), g, dim, idx)


def index_select(input, dim, index, *, out=None):
    """The slices of ``input`` at ``index`` along ``dim``.

    >>> ember.arange(6).view(2, 3).index_select(1, ember.tensor([2, 0]))
    tensor([[2, 0],
            [5, 3]])
    """
    if not isinstance(index, Tensor) or index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(dim, input._data.ndim)
    idx = index._data.reshape(-1)
    n = input._data.shape[d] if input._data.ndim else 1
    if idx.size and (idx.max() >= n or idx.min() < 0):
        raise IndexError("index out of range in self")
    if not input._data.ndim:
        if idx.size != 1:
            raise IndexError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        return write_out(input.clone(), out)
    key = (slice(None),) * d + (idx,)
    return write_out(AdvancedIndex.apply(input, key), out)


class MaskedFill(Op):
    def forward(ctx, x, mask, value):
        if x.__class__ is not _ND:  # a CPU mask or 0-d value may index or fill a device tensor
            mask = on_device_of(x, mask)
            value = on_device_of(x, value) if _is_arr(value) else value
        ctx.mask = mask
        ctx.block = block = _fill_block(x, mask)
        if block is not None and value.__class__ in _PY_FILL:
            return _fill_tiled(x, block, value)
        v = value if value.__class__ is not _ND else value.astype(x.dtype)
        return np.where(mask, v, x).astype(x.dtype, copy=False)

    def backward(ctx, g):
        gd = g._data
        need_value = ctx.needs_input_grad[2]
        if ctx.block is not None and not (_enabled[0] or need_value) and _fill_serves(gd):
            return Tensor._wrap(_fill_tiled(gd, ctx.block, 0)), None, None  # nothing records: the raw kernel
        m = Tensor._wrap(ctx.mask)
        z = g.new_zeros(())
        gv = g.where(m, z).sum() if need_value else None
        return z.where(m, g), None, gv  # where(m, 0, g): no inverted copy of the mask


_PY_FILL = (float, int, bool)
_FILL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fill_block(x, mask):
    """The block that ``mask`` (``x``'s shape, a broadcast view) repeats over its leading dims, flat and
    C-contiguous, when the compiled fill serves ``x``; else None. Attention's (T, T) causal mask
    broadcast over (batch, heads) is one (T * T) block."""
    if not (x.size and mask.__class__ is _ND and _fill_serves(x)):
        return None
    strides = mask.strides
    lead = 0
    while lead < len(strides) and strides[lead] == 0:
        lead += 1
    block = mask[(0,) * lead] if lead else mask
    return block.reshape(-1) if block.flags.c_contiguous else None


def _fill_serves(x):
    """Whether the compiled fill takes ``x``: a C-contiguous float32/64 host array, kernels on."""
    return x.__class__ is _ND and x.dtype in _FILL_DTYPES and x.flags.c_contiguous and _jit.enabled()


def _fill_tiled(x, block, value):
    """``value`` where the repeating mask ``block`` is set, else ``x`` (C-contiguous), as a new array."""
    out = np.empty(x.shape, x.dtype)
    _index_kernels.masked_fill_tiled(x.reshape(-1), block, x.dtype.type(value), out.reshape(-1))
    return out


# torch names a mask's dtype by its C++ type in masked_fill's error
_C_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
           "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
           "uint8": "unsigned char", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or 0-d tensor) where ``mask`` is True; the two broadcast.

    >>> ember.zeros(2, 2).masked_fill(ember.tensor([True, False]), 5.0)
    tensor([[5., 0.],
            [5., 0.]])
    """
    m = mask._data
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_C_TYPE.get(m.dtype.name, m.dtype.name)}")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    if m.shape != input._data.shape:
        shape = broadcast_shapes(m.shape, input._data.shape)
        if shape != input._data.shape:
            input = input.expand(shape)
        m = np.broadcast_to(m, shape)
    return MaskedFill.apply(input, m, value)


def on_device_of(x, a):
    """The host array ``a`` copied to the device of the device array ``x`` (device arrays pass)."""
    return array_module(x).asarray(a)


def _bool_mask(mask, name):
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        got = type_name(mask.dtype) if isinstance(mask, Tensor) else type(mask).__name__
        if name == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype {got}")
    return mask._data


def masked_select(input, mask, *, out=None):
    """The elements of ``input`` where ``mask`` (broadcast together) is True, as a 1-D tensor.

    >>> ember.tensor([1., 2., 3.]).masked_select(ember.tensor([True, False, True]))
    tensor([1., 3.])
    """
    m = _bool_mask(mask, "masked_select")
    shape = broadcast_shapes(m.shape, input._data.shape)
    x = input if input._data.shape == shape else input.expand(shape)
    return write_out(AdvancedIndex.apply(x, (np.broadcast_to(m, shape),)), out)


class MaskedScatter(Op):
    """``x`` with the True positions of ``mask`` filled, in order, by the leading elements of ``source``."""

    def forward(ctx, x, mask, source):
        if x.__class__ is not _ND:
            mask = on_device_of(x, mask)
        ctx.mask, ctx.src_shape = mask, source.shape
        n = int(np.count_nonzero(mask))
        if n > source.size:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        out = x.copy()
        out[mask] = source.reshape(-1)[:n]
        return out

    def backward(ctx, g):
        m = Tensor._wrap(ctx.mask)
        gx = g.masked_fill(m, 0.0) if ctx.needs_input_grad[0] else None
        gs = None
        if ctx.needs_input_grad[2]:
            picked = AdvancedIndex.apply(g, (ctx.mask,))
            size = int(np.prod(ctx.src_shape))
            positions = array_module(g._data).arange(picked.shape[0])
            gs = IndexPut.apply(g.new_zeros(size), picked, (positions,), False).reshape(ctx.src_shape)
        return gx, None, gs


def masked_scatter(input, mask, source):
    """``input`` with its elements where ``mask`` is True replaced, in order, by ``source``'s elements.

    >>> ember.zeros(4).masked_scatter(ember.tensor([True, False, True, False]), ember.tensor([1., 2.]))
    tensor([1., 0., 2., 0.])
    """
    m = _bool_mask(mask, "masked_scatter_")
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{type_name(input.dtype)} and {type_name(source.dtype)}")
    shape = broadcast_shapes(input._data.shape, m.shape)
    if shape != input._data.shape:
        input = input.expand(shape)
    return MaskedScatter.apply(input, np.broadcast_to(m, shape), source)


def _long_index(index, name):
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        got = type_name(index.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got {got}")
    return index._data


def _flat_index(idx, numel):
    """``idx`` into a flattened tensor, negatives wrapped, with torch's out-of-range error."""
    if idx.size:
        bad = (idx >= numel) | (idx < -numel)
        if bad.any():
            raise IndexError(f"out of range: tried to access index {idx[bad].reshape(-1)[0]} on a tensor of "
                             f"{numel} elements.")
    return np.where(idx < 0, idx + numel, idx)


def take(input, index):
    """Elements of ``input`` seen as 1-D, at ``index`` (result has ``index``'s shape).

    >>> ember.tensor([[4, 3], [5, 7]]).take(ember.tensor([0, 3]))
    tensor([4, 7])
    """
    idx = _flat_index(_long_index(index, "take"), input._data.size)
    return AdvancedIndex.apply(input.reshape(-1), (idx,))


def put(input, index, source, accumulate=False):
    """``input`` with ``source`` written (or, with ``accumulate``, added) at flat positions ``index``."""
    idx = _long_index(index, "put_")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{type_name(input.dtype)} and source.dtype = {type_name(source.dtype)}")
    if idx.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {idx.size}")
    idx = _flat_index(idx, input._data.size).reshape(-1)
    flat = IndexPut.apply(input.reshape(-1), source.reshape(-1), (idx,), accumulate)
    return flat.reshape(input._data.shape)


def take_along_dim(input, indices, dim=None, *, out=None):
    """``gather`` with broadcasting: ``input`` and ``indices`` broadcast in every dim but ``dim``.

    >>> x = ember.tensor([[10., 30., 20.]])
    >>> ember.take_along_dim(x, x.argsort(dim=1), dim=1)
    tensor([[10., 20., 30.]])
    """
    if not isinstance(indices, Tensor) or indices._data.dtype != np.int64:
        got = type_name(indices.dtype) if isinstance(indices, Tensor) else type(indices).__name__
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {got}")
    if dim is None:
        return write_out(gather(input.reshape(-1), 0, indices.reshape(-1)), out)
    xs, ishape = input._data.shape, indices._data.shape
    if len(xs) != len(ishape):
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {len(xs)} dimensions for input, and {len(ishape)} dimensions for indices")
    d = wrap_dim(dim, len(xs))
    rest = broadcast_shapes(xs[:d] + (1,) + xs[d + 1:], ishape[:d] + (1,) + ishape[d + 1:])
    x_shape = rest[:d] + xs[d:d + 1] + rest[d + 1:]
    i_shape = rest[:d] + ishape[d:d + 1] + rest[d + 1:]
    x = input if xs == x_shape else input.expand(x_shape)
    i = indices if ishape == i_shape else indices.expand(i_shape)
    return write_out(gather(x, d, i), out)


def nonzero(input, *, out=None, as_tuple=False):
    idx = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in idx)
    return Tensor._wrap(np.stack(idx, axis=1).astype(np.int64) if input._data.ndim else
                        array_module(input._data).zeros((int(bool(input._data)), 0), np.int64))


def argwhere(input):
    return nonzero(input)


install(__getitem__=getitem, __setitem__=setitem, index_put=index_put, index_put_=index_put_,
        index_select=index_select, masked_fill=masked_fill, masked_fill_=inplace_method(masked_fill),
        masked_select=masked_select, masked_scatter=masked_scatter, masked_scatter_=inplace_method(masked_scatter),
        take=take, put=put, put_=inplace_method(put), take_along_dim=take_along_dim,
        nonzero=nonzero, argwhere=argwhere)

__all__ = ["index_select", "masked_fill", "masked_select", "masked_scatter", "take", "put", "take_along_dim",
           "nonzero", "argwhere", "index_put", "index_put_"]
