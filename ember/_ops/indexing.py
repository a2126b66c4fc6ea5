"""Indexing: ``__getitem__``/``__setitem__`` with basic and advanced keys, and gather-style ops."""
import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import _enabled
from ._util import install, wrap_dim, shape_str
from .inplace import apply_inplace, check_cast

_ND = np.ndarray


def _convert_key(key):
    """Raw NumPy key from a torch key; reports whether it is basic (a view) or advanced."""
    if not isinstance(key, tuple):
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
        elif isinstance(k, (list, np.ndarray)):
            a = np.asarray([_unwrap(x) for x in k] if isinstance(k, list) else k)
            if a.dtype == object or a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a)
            basic = False
        elif isinstance(k, bool) or isinstance(k, np.bool_):
            out.append(bool(k))
            basic = False
        elif k is None or k is Ellipsis:
            out.append(k)
        else:
            try:
                out.append(k.__index__())
            except AttributeError:
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                                 "are valid indices (got " + type(k).__name__ + ")") from None
    return tuple(out), basic


def _int(v):
    return None if v is None else (int(v) if not isinstance(v, Tensor) else int(v.item()))


def _unwrap(x):
    return x.item() if isinstance(x, Tensor) else x


def _index(x, key):
    try:
        return x[key]
    except IndexError as e:
        raise IndexError(_torch_index_message(str(e), x.shape, key)) from None


def _torch_index_message(msg, shape, key):
    if "boolean index did not match" in msg:
        for i, k in enumerate(key):
            if isinstance(k, np.ndarray) and k.dtype == np.bool_:
                for j, n in enumerate(k.shape):
                    if i + j < len(shape) and shape[i + j] != n:
                        return (f"The shape of the mask {shape_str(k.shape)} at index {j} does not match the shape "
                                f"of the indexed tensor {shape_str(shape)} at index {i + j}")
    if "too many indices" in msg:
        return f"too many indices for tensor of dimension {len(shape)}"
    return msg.replace("axis", "dimension")


class BasicIndex(Op):
    is_view = True

    def forward(ctx, x, key):
        ctx.in_shape, ctx.key, ctx.dtype = x.shape, key, x.dtype
        out = _index(x, key)
        return out if out.__class__ is _ND else np.asarray(out)

    def backward(ctx, g):
        return IndexPutAcc.apply(g.new_zeros(ctx.in_shape), g, ctx.key), None


class AdvancedIndex(Op):
    def forward(ctx, x, key):
        ctx.in_shape, ctx.key = x.shape, key
        out = _index(x, key)
        return out if out.__class__ is _ND else np.asarray(out)

    def backward(ctx, g):
        return IndexPutAcc.apply(g.new_zeros(ctx.in_shape), g, ctx.key), None


class IndexPutAcc(Op):
    """``base`` with ``values`` added at ``key`` (duplicates accumulate)."""

    def forward(ctx, base, values, key):
        ctx.key = key
        out = base.copy()
        np.add.at(out, key, values) if _has_array(key) else out.__setitem__(key, out[key] + values)
        return out

    def backward(ctx, g):
        return g, AdvancedIndex.apply(g, ctx.key), None


class IndexPut(Op):
    """``base`` with ``values`` written at ``key`` (the out-of-place form of ``base[key] = values``)."""

    def forward(ctx, base, values, key, accumulate):
        ctx.key, ctx.accumulate = key, accumulate
        out = base.copy()
        v = values if values.__class__ is _ND else np.asarray(values)
        try:
            if accumulate:
                np.add.at(out, key, v.astype(out.dtype))
            else:
                out[key] = v.astype(out.dtype) if v.dtype != out.dtype else v
        except IndexError as e:
            raise IndexError(_torch_index_message(str(e), base.shape, key)) from None
        except ValueError:
            target = out[key].shape
            raise RuntimeError(f"shape mismatch: value tensor of shape {shape_str(v.shape)} cannot be broadcast to "
                               f"indexing result of shape {shape_str(target)}") from None
        return out

    def backward(ctx, g):
        need_base, need_values = ctx.needs_input_grad[:2]
        gb = gv = None
        if need_base:
            gb = g if ctx.accumulate else IndexPut.apply(g, 0.0, ctx.key, False)
        if need_values:
            gv = AdvancedIndex.apply(g, ctx.key)
        return gb, gv, None, None


def _has_array(key):
    return any(isinstance(k, _ND) or isinstance(k, bool) for k in key)


def getitem(self, key):
    raw, basic = _convert_key(key)
    return (BasicIndex if basic else AdvancedIndex).apply(self, raw)


def setitem(self, key, value):
    raw, _ = _convert_key(key)
    if isinstance(value, Tensor):
        check_cast(value.dtype, self.dtype) if value._data.ndim else None
        if value.device != self.device:
            raise RuntimeError(f"expected device {self.device} but got device {value.device}")
    if _enabled[0] and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        apply_inplace(self, lambda old, v: IndexPut.apply(old, v, raw, False), value)
        return
    v = value._data if isinstance(value, Tensor) else value
    try:
        self._data[raw] = v
    except IndexError as e:
        raise IndexError(_torch_index_message(str(e), self._data.shape, raw)) from None
    except ValueError:
        vs = np.shape(v)
        raise RuntimeError(f"shape mismatch: value tensor of shape {shape_str(vs)} cannot be broadcast to indexing "
                           f"result of shape {shape_str(self._data[raw].shape)}") from None
    self._bump_version()


def index_put(input, indices, values, accumulate=False):
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
    return ScatterAlong.apply(g.new_zeros(in_shape), g, dim, idx)


class ScatterAlong(Op):
    """``base`` with ``src`` written at ``idx`` along ``dim`` (``scatter``), as an out-of-place op."""

    def forward(ctx, base, src, dim, idx):
        ctx.dim, ctx.idx = dim, idx
        out = base.copy()
        np.put_along_axis(out, idx, src, dim)
        return out

    def backward(ctx, g):
        gb = ScatterAlong.apply(g, g.new_zeros(()).expand(ctx.idx.shape), ctx.dim, ctx.idx) \
            if ctx.needs_input_grad[0] else None
        gs = Gather.apply(g, ctx.dim, ctx.idx) if ctx.needs_input_grad[1] else None
        return gb, gs, None, None


class Gather(Op):
    def forward(ctx, x, dim, idx):
        ctx.in_shape, ctx.dim, ctx.idx = x.shape, dim, idx
        return np.take_along_axis(x, idx, dim) if x.ndim else x[()].reshape(idx.shape) if idx.size else x.copy()

    def backward(ctx, g):
        return ScatterAddAlong.apply(g.new_zeros(ctx.in_shape), g, ctx.dim, ctx.idx), None, None


class ScatterAddAlong(Op):
    def forward(ctx, base, src, dim, idx):
        ctx.dim, ctx.idx = dim, idx
        out = base.copy()
        full_idx = list(np.indices(idx.shape, sparse=True))
        full_idx[dim] = idx
        src_part = src[tuple(slice(0, n) for n in idx.shape)]
        np.add.at(out, tuple(full_idx), src_part)
        return out

    def backward(ctx, g):
        return g, Gather.apply(g, ctx.dim, ctx.idx), None, None


def _check_index(index, name):
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        dt = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{name}(): Expected dtype int64 for index" + ("" if isinstance(index, Tensor) else f", got {dt}"))


def gather(input, dim, index, *, sparse_grad=False, out=None):
    _check_index(index, "gather")
    d = wrap_dim(dim, input._data.ndim)
    if index._data.ndim != input._data.ndim and input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    idx = index._data
    n = input._data.shape[d] if input._data.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > input._data.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {shape_str(idx.shape)} to be "
                               f"smaller than self {shape_str(input._data.shape)} apart from dimension {d}")
    return Gather.apply(input, d, idx)


def index_select(input, dim, index, *, out=None):
    if index._data.dtype.kind not in "iu":
        raise IndexError("index_select(): Expected dtype int32/int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(dim, input._data.ndim)
    idx = index._data.reshape(-1)
    n = input._data.shape[d] if input._data.ndim else 1
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError(f"index out of range in self")
    key = (slice(None),) * d + (idx,)
    return AdvancedIndex.apply(input, key) if input._data.ndim else input.reshape(-1)[idx]


class MaskedFill(Op):
    def forward(ctx, x, mask, value):
        if mask.dtype != np.bool_:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                               f"{D._BY_NP[mask.dtype].name if mask.dtype in D._BY_NP else mask.dtype}")
        ctx.mask = mask
        v = value if value.__class__ is not _ND else value.astype(x.dtype)
        if np.broadcast_shapes(x.shape, mask.shape) != x.shape:
            raise RuntimeError(f"The size of tensor a ({x.shape[-1]}) must match the size of tensor b ({mask.shape[-1]}) "
                               f"at non-singleton dimension {x.ndim - 1}")
        return np.where(mask, v, x).astype(x.dtype, copy=False)

    def backward(ctx, g):
        m = Tensor._wrap(ctx.mask)
        z = g.new_zeros(())
        gv = None
        if ctx.needs_input_grad[2]:
            gv = g.where(m, z).sum()
        return g.where(~m, z), None, gv


def masked_fill(input, mask, value):
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    return MaskedFill.apply(input, mask, value)


def nonzero(input, *, out=None, as_tuple=False):
    idx = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in idx)
    return Tensor._wrap(np.stack(idx, axis=1).astype(np.int64) if input._data.ndim else
                        np.zeros((int(bool(input._data)), 0), np.int64))


def argwhere(input):
    return nonzero(input)


install(__getitem__=getitem, __setitem__=setitem, index_put=index_put, index_put_=index_put_, gather=gather,
        index_select=index_select, masked_fill=masked_fill,
        masked_fill_=lambda self, mask, value: apply_inplace(self, masked_fill, mask, value),
        nonzero=nonzero, argwhere=argwhere)

__all__ = ["gather", "index_select", "masked_fill", "nonzero", "argwhere", "index_put"]
