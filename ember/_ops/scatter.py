"""Gather and scatter along a dim, and the ``index_*`` ops built on them.

Every op here addresses elements by their *flat positions*: for an index array ``idx`` along ``dim``
of a C-contiguous array, ``idx * stride[dim]`` plus the positions of the other coordinates. 1-D
``np.take`` and ``np.<ufunc>.at`` on flat positions are an order of magnitude faster than NumPy's
multi-dimensional fancy indexing (``ufunc.at`` especially). The ``index_*`` ops (one index per slice)
reuse the scatter ops with the index broadcast over the source's shape.

The primitive ops assume checked arguments: ``idx`` an int64 array with no negative entries,
``src`` exactly ``idx``'s shape, and at least one dim (the public functions handle 0-d tensors).
"""
import functools

import numpy as np

from .. import _dtype as D
from .._device import array_module, device_of, to_host
from .._tensor import Tensor
from ..autograd.function import Op
from ._util import install, wrap_dim, shape_str, type_name
from .inplace import inplace_method, write_out

_ND = np.ndarray


@functools.lru_cache(maxsize=256)
def _offsets(idx_shape, dim, shape):
    """Flat offsets of every coordinate but ``dim`` (read-only, cached: loops reuse shapes)."""
    strides = np.ones(len(shape), np.int64)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]
    base = np.zeros(idx_shape, np.int64)
    for k, n in enumerate(idx_shape):
        if k != dim and n > 1:
            base += (np.arange(n, dtype=np.int64) * strides[k]).reshape((-1,) + (1,) * (len(idx_shape) - k - 1))
    base.flags.writeable = False
    return base, int(strides[dim])


@functools.lru_cache(maxsize=64)
def _device_offsets(idx_shape, dim, shape, device):
    """``_offsets`` on a device (cached there too: a transfer per call would cost more than the op)."""
    xp = device.xp
    with xp.cuda.Device(device.index or 0):
        return xp.asarray(_offsets(idx_shape, dim, shape)[0])


def flat_along(idx, dim, shape):
    """Flat positions, in a C-contiguous array of ``shape``, of ``idx`` taken along ``dim``."""
    base, stride = _offsets(idx.shape, dim, shape)
    if idx.__class__ is not _ND:
        base = _device_offsets(idx.shape, dim, shape, device_of(idx))
    return idx * stride + base


def _flat(a):
    return a.reshape(-1)  # a view for the fresh contiguous outputs below


def _flat_src(src, out):
    """``src`` (an array, or a scalar to fill) as values for flat positions of ``out``, on its device."""
    if not hasattr(src, "ndim"):
        return src
    if src.__class__ is _ND and out.__class__ is not _ND:  # a CPU 0-d fill value for a device tensor
        src = array_module(out).asarray(src)
    return src.reshape(-1) if src.ndim else src


# The ufuncs and dtypes CuPy's ``ufunc.at`` implements (atomic scatters); the others go through the host.
_ATOMIC = frozenset(np.dtype(t) for t in ("int32", "uint32", "uint64", "float32", "float64"))
_DEVICE_AT = {"add": _ATOMIC | {np.dtype(np.float16)}, "maximum": _ATOMIC, "minimum": _ATOMIC}


def _at(ufunc, flat_out, pos, values):
    """``ufunc.at(flat_out, pos, values)`` on either device."""
    if flat_out.__class__ is _ND:
        ufunc.at(flat_out, pos, values)
    else:
        device_ufunc_at(ufunc, flat_out, pos, values)


def device_ufunc_at(ufunc, target, key, values):
    """``ufunc.at`` on a device array: CuPy's atomic scatter where it has one for this ufunc and dtype,
    a round trip through the host otherwise (multiply, int64, complex...)."""
    if target.dtype in _DEVICE_AT.get(ufunc.__name__, ()):
        ufunc.at(target, key, values)
        return
    host_key = tuple(_host(k) for k in key) if key.__class__ is tuple else _host(key)
    host = to_host(target)
    getattr(np, ufunc.__name__).at(host, host_key, _host(values))
    target[...] = array_module(target).asarray(host)


def _host(a):
    return to_host(a) if hasattr(a, "ndim") else a


def _on_device_of(x, idx):
    """A host index array moved to the device of ``x`` (CPU index tensors may address device tensors)."""
    return idx if x.__class__ is _ND or idx.__class__ is not _ND else array_module(x).asarray(idx)


# ------------------------------------------------------------------ primitive ops
class Gather(Op):
    def forward(ctx, x, dim, idx):
        ctx.in_shape, ctx.dim, ctx.idx = x.shape, dim, idx
        return np.take(x.reshape(-1), flat_along(idx, dim, x.shape))

    def backward(ctx, g):
        return ScatterAdd.apply(g.new_zeros(ctx.in_shape), g, ctx.dim, ctx.idx), None, None


class Scatter(Op):
    """``base`` with ``src`` (an array, or a scalar to fill) written at ``idx`` along ``dim``."""

    def forward(ctx, base, src, dim, idx):
        ctx.dim, ctx.idx = dim, idx
        out = base.copy(order="C")
        if out.__class__ is _ND:
            v = src.reshape(-1) if src.__class__ is _ND and src.ndim else src
        else:
            v = _flat_src(src, out)
        _flat(out)[flat_along(idx, dim, base.shape).reshape(-1)] = v
        return out

    def backward(ctx, g):
        gb = Scatter.apply(g, 0.0, ctx.dim, ctx.idx) if ctx.needs_input_grad[0] else None
        gs = Gather.apply(g, ctx.dim, ctx.idx) if ctx.needs_input_grad[1] else None
        return gb, gs, None, None


def _ufunc_at(ufunc, out, dim, idx, src):
    """``ufunc.at`` of ``src`` into the contiguous ``out`` at ``idx`` along ``dim``."""
    pos = flat_along(idx, dim, out.shape).reshape(-1)
    if out.__class__ is _ND:
        ufunc.at(_flat(out), pos, src.reshape(-1) if src.__class__ is _ND and src.ndim else src)
    else:
        device_ufunc_at(ufunc, _flat(out), pos, _flat_src(src, out))


class ScatterAdd(Op):
    def forward(ctx, base, src, dim, idx):
        ctx.dim, ctx.idx = dim, idx
        out = base.copy(order="C")
        _ufunc_at(np.add, out, dim, idx, src)
        return out

    def backward(ctx, g):
        gs = Gather.apply(g, ctx.dim, ctx.idx) if ctx.needs_input_grad[1] else None
        return g, gs, None, None


class IndexAdd(Op):
    """``index_add``: slices of ``src`` added into ``base`` at the 1-D ``idx`` along ``dim``."""

    def forward(ctx, base, src, dim, idx):
        ctx.dim, ctx.idx, ctx.src_shape = dim, idx, src.shape
        out = base.copy(order="C")
        if idx.size < 2 or np.bincount(idx).max() < 2:  # no duplicates: one fancy-indexed add
            out[(slice(None),) * dim + (idx,)] += src
        else:
            _ufunc_at(np.add, out, dim, _broadcast_index(idx, dim, src.shape), src)
        return out

    def backward(ctx, g):
        gs = None
        if ctx.needs_input_grad[1]:
            gs = Gather.apply(g, ctx.dim, _broadcast_index(ctx.idx, ctx.dim, ctx.src_shape))
        return g, gs, None, None


class ScatterLegacyReduce(Op):
    """``scatter(..., reduce='add'|'multiply')``: torch defines no derivative for it."""

    def forward(ctx, base, src, dim, idx, ufunc):
        out = base.copy(order="C")
        _ufunc_at(ufunc, out, dim, idx, src)
        return out

    def backward(ctx, g):
        raise RuntimeError("derivative for aten::scatter is not implemented")


class ScatterReduce(Op):
    """``scatter_reduce``: ``src`` reduced into ``base`` at ``idx`` along ``dim``."""

    def forward(ctx, base, src, dim, idx, reduce, include_self):
        ctx.dim, ctx.idx, ctx.reduce, ctx.include_self = dim, idx, reduce, include_self
        pos = flat_along(idx, dim, base.shape).reshape(-1)
        flat_src = src.reshape(-1)
        out = base.copy(order="C")
        flat_out = _flat(out)
        hit = None
        if not include_self:  # positions that receive a value start from the reduction's identity
            hit = array_module(base).zeros(base.size, bool)
            hit[pos] = True
            flat_out[hit] = _identity(reduce, out.dtype)
        floating = out.dtype.kind in "fc" or out.dtype in D.REDUCED_NP
        if reduce in ("amax", "amin") and floating:
            _nan_ignoring_at(reduce, flat_out, pos, flat_src)
            nan_at = np.isnan(base).reshape(-1) if include_self else array_module(base).zeros(base.size, bool)
            nan_at[pos[np.isnan(flat_src)]] = True  # torch propagates NaN
            flat_out[nan_at] = np.nan
        else:
            _at(_UFUNC[reduce], flat_out, pos, flat_src)
        if reduce == "mean":
            count = np.bincount(pos, minlength=base.size)
            count += 1 if include_self else hit == 0
            count = np.maximum(count, 1).reshape(base.shape)
            out = (out // count if not floating else out / count).astype(out.dtype)
            ctx.count = count
        if reduce in ("prod", "amax", "amin"):
            ctx.save_for_backward(base, src, out)
        return out

    def backward(ctx, g):
        dim, idx, reduce = ctx.dim, ctx.idx, ctx.reduce
        gb = gs = None
        if reduce == "sum":
            gb, gs = g, Gather.apply(g, dim, idx)
        elif reduce == "mean":
            g = g / Tensor._wrap(ctx.count.astype(g._data.dtype))
            gb, gs = g, Gather.apply(g, dim, idx)
        elif reduce == "prod":
            gb, gs = _prod_grads(ctx, g)
        else:
            base, src, out = ctx.saved_tensors
            self_eq = (base == out).to(g.dtype)
            src_eq = (src == Gather.apply(out, dim, idx)).to(g.dtype)
            count = ScatterAdd.apply(self_eq, src_eq, dim, idx)  # torch counts self even if excluded
            g = g / count
            gb, gs = g * self_eq, Gather.apply(g, dim, idx) * src_eq
        if not ctx.include_self:
            gb = Scatter.apply(gb, 0.0, dim, idx)
        return gb, gs, None, None, None, None


def _nan_ignoring_at(reduce, flat_out, pos, flat_src):
    """``fmax.at``/``fmin.at``; CuPy has ``maximum.at``/``minimum.at`` only, so NaN sources are first
    replaced by the identity (the caller writes NaN where one arrived)."""
    if flat_out.__class__ is _ND:
        (np.fmax if reduce == "amax" else np.fmin).at(flat_out, pos, flat_src)
        return
    xp = array_module(flat_out)
    src = xp.where(xp.isnan(flat_src), -np.inf if reduce == "amax" else np.inf, flat_src).astype(flat_src.dtype)
    device_ufunc_at(xp.maximum if reduce == "amax" else xp.minimum, flat_out, pos, src)


def _prod_grads(ctx, g):
    """d(prod)/d(element) = product of the other elements, computed without dividing by zero."""
    base, src, out = ctx.saved_tensors
    dim, idx = ctx.dim, ctx.idx
    one = g.new_ones(())
    base_zero, src_zero = base == 0, src == 0
    base_nz, src_nz = base.where(~base_zero, one), src.where(~src_zero, one)
    zeros = ScatterAdd.apply(base_zero.to(g.dtype) if ctx.include_self else g.new_zeros(base.shape),
                                  src_zero.to(g.dtype), dim, idx)
    nz_prod = ScatterReduce.apply(base_nz, src_nz, dim, idx, "prod", ctx.include_self)
    g_prod = g * nz_prod
    gb = g_prod / base_nz * ((zeros - base_zero.to(g.dtype)) == 0).to(g.dtype)
    others_zero = Gather.apply(zeros, dim, idx) - src_zero.to(g.dtype)
    gs = Gather.apply(g_prod, dim, idx) / src_nz * (others_zero == 0).to(g.dtype)
    return gb, gs


_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "b":
        return reduce == "amin"
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    return -np.inf if reduce == "amax" else np.inf


# ------------------------------------------------------------------ argument checks
def _index_array(index, name, dtypes="int32/int64"):
    if not isinstance(index, Tensor) or index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype {dtypes} for index")
    return index._data.astype(np.int64, copy=False)


def _check_bounds(idx, size, dim, exc=RuntimeError, prefix="", allow_negative=False):
    """torch's out-of-range message for the first bad index; returns ``idx`` with negatives wrapped."""
    if not idx.size:
        return idx
    lo, hi = idx.min(), idx.max()
    low = -size if allow_negative else 0
    if hi >= size or lo < low:
        bad = idx.reshape(-1)[np.argmax((idx.reshape(-1) >= size) | (idx.reshape(-1) < low))]
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")
    return np.where(idx < 0, idx + size, idx) if lo < 0 else idx


def _prepare_scatter(name, input, dim, index, src):
    """Checked (input, dim, idx, src) for a scatter/gather-style op; 0-d tensors become 1-element vectors."""
    idx = _index_array(index, name)
    x = input._data
    d = wrap_dim(dim, x.ndim)
    if idx.ndim != x.ndim and (x.ndim or idx.ndim > 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor):
        if src.dtype != input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        if src._data.ndim != idx.ndim and (src._data.ndim or idx.ndim > 1):
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if x.__class__ is not _ND:
        idx = _on_device_of(x, idx)
    if not x.ndim:
        input, idx = input.reshape(1), idx.reshape(-1)
        src = src.reshape(-1) if isinstance(src, Tensor) else src
    shape = input._data.shape
    if isinstance(src, Tensor):
        too_big = any(n > s for n, s in zip(idx.shape, src._data.shape))
    else:
        too_big = False
    if too_big or any(n > s for k, (n, s) in enumerate(zip(idx.shape, shape)) if k != d):
        raise RuntimeError(f"Expected index {shape_str(index.shape)} to be no larger than self {shape_str(shape)} "
                           f"apart from dimension {d}" + (f" and to be no larger size than src "
                                                          f"{shape_str(src.shape)}" if isinstance(src, Tensor) else ""))
    idx = _check_bounds(idx, shape[d], d)
    if isinstance(src, Tensor) and src._data.shape != idx.shape:
        src = src[tuple(slice(0, n) for n in idx.shape)]  # torch uses the leading block of a bigger src
    return input, d, idx, src


def _done(result, input):
    return result.reshape(()) if not input._data.ndim else result


# ------------------------------------------------------------------ gather / scatter
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """Values of ``input`` at ``index`` along ``dim``.

    >>> ember.gather(ember.tensor([[1, 2], [3, 4]]), 1, ember.tensor([[0, 0], [1, 0]]))
    tensor([[1, 1],
            [4, 3]])
    """
    x = input._data
    idx = _index_array(index, "gather")
    if x.__class__ is not _ND:
        idx = _on_device_of(x, idx)
    d = wrap_dim(dim, x.ndim)
    if idx.ndim != x.ndim and (x.ndim or idx.ndim > 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if not x.ndim:
        _check_bounds(idx, 1, d)
        return write_out(Gather.apply(input.reshape(1), 0, idx.reshape(-1)).reshape(idx.shape), out)
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > x.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {shape_str(idx.shape)} to be "
                               f"no larger than self {shape_str(x.shape)} apart from dimension {d}")
    return write_out(Gather.apply(input, d, _check_bounds(idx, x.shape[d], d)), out)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """``input`` with ``src`` (a tensor or a scalar ``value``) written at ``index`` along ``dim``.

    >>> ember.zeros(2, 3).scatter(1, ember.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    if src is None:
        src = value
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    x, d, idx, s = _prepare_scatter("scatter", input, dim, index, src)
    if reduce is not None:
        ufunc = np.add if reduce == "add" else np.multiply
        return _done(ScatterLegacyReduce.apply(x, s, d, idx, ufunc), input)
    return _done(Scatter.apply(x, s, d, idx), input)


def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim`` (duplicates accumulate)."""
    x, d, idx, s = _prepare_scatter("scatter", input, dim, index, src)
    return _done(ScatterAdd.apply(x, s, d, idx), input)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``src`` reduced into ``input`` at ``index`` along ``dim`` ('sum', 'prod', 'mean', 'amax', 'amin').

    >>> ember.zeros(2).scatter_reduce(0, ember.tensor([0, 0, 1]), ember.tensor([1., 3., 5.]), 'amax')
    tensor([3., 5.])
    """
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    x, d, idx, s = _prepare_scatter("scatter", input, dim, index, src)
    return _done(ScatterReduce.apply(x, s, d, idx, reduce, include_self), input)


# ------------------------------------------------------------------ index_* ops (one index per slice)
def _slice_index(name, input, dim, index, source, *, long_only_msg=None):
    """Checks shared by index_add/index_copy/index_reduce; returns (x, d, idx along source, source)."""
    if not isinstance(index, Tensor) or index._data.dtype not in (np.int64, np.int32):
        got = type_name(index.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(long_only_msg.format(got) if long_only_msg else
                           f"{name}(): Expected dtype int32/int64 for index but got: {got}")
    d = wrap_dim(dim, input._data.ndim)
    idx = _on_device_of(input._data, index._data.astype(np.int64, copy=False))
    return d, idx


def _broadcast_index(idx, d, shape):
    """A scatter index of ``shape`` that sends slice ``i`` along ``d`` to ``idx[i]``."""
    view = [1] * len(shape)
    view[d] = idx.size
    return np.broadcast_to(idx.reshape(view), shape)


def _check_source_shape(input, source, d, n_index, name):
    xs, ss = input._data.shape, source._data.shape
    if (len(xs) or 1) != (len(ss) or 1) or any(a != b for k, (a, b) in enumerate(zip(xs, ss)) if k != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {shape_str(xs)} source.shape = {shape_str(ss)}")
    if (ss[d] if ss else 1) != n_index:
        raise RuntimeError(f"{name}(): Number of indices ({n_index}) should be equal to source.size(dim): "
                           f"({ss[d] if ss else 1}), for dim: {d}")


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` slices added at ``index`` along ``dim``.

    >>> ember.zeros(3).index_add(0, ember.tensor([0, 0, 2]), ember.tensor([1., 2., 3.]))
    tensor([3., 0., 3.])
    """
    d, idx = _slice_index("index_add_", input, dim, index, source)
    if idx.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
                         f"{type_name(index.dtype)} and size: {shape_str(idx.shape)}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_add_(): self ({type_name(input.dtype)}) and source ({type_name(source.dtype)}) "
                           "must have the same scalar type")
    _check_source_shape(input, source, d, idx.size, "index_add_")
    size = input._data.shape[d] if input._data.ndim else 1
    idx = _check_bounds(idx.reshape(-1), size, d)
    if alpha != 1:
        source = source * alpha
    if not input._data.ndim:
        return IndexAdd.apply(input.reshape(1), source.reshape(-1), 0, idx).reshape(())
    return IndexAdd.apply(input, source, d, idx)


def index_copy(input, dim, index, source):
    """``input`` with its slices at ``index`` along ``dim`` replaced by ``source``'s."""
    d, idx = _slice_index("index_copy_", input, dim, index, source,
                          long_only_msg="index_copy_(): Expected a long tensor for index, but got {}")
    if idx.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {idx.ndim})")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{type_name(input.dtype)} and (source) {type_name(source.dtype)}")
    xs, ss = input._data.shape, source._data.shape
    if len(xs) != len(ss) and len(xs) and len(ss):
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their dimensionality must "
                         f"match. Source dimensionality ({len(ss)}), destination dimensionality ({len(xs)})")
    for k, (a, b) in enumerate(zip(xs, ss)):
        if k != d and a != b:
            k -= k > d  # torch numbers the dims of the slice, which lacks ``d``
            raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                               f"slice shape: {a} at dimension {k} and source slice shape: {b} at dimension {k}.")
    if (ss[d] if ss else 1) != idx.size:
        raise RuntimeError(f"index_copy_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                           f"({ss[d] if ss else 1})")
    size = xs[d] if xs else 1
    idx = _check_bounds(idx.reshape(-1), size, d, IndexError, "index_copy_(): ")
    if not xs:
        return Scatter.apply(input.reshape(1), source.reshape(-1), 0, idx).reshape(())
    return Scatter.apply(input, source, d, _broadcast_index(idx, d, ss))


def index_fill(input, dim, index, value):
    """``input`` with its slices at ``index`` along ``dim`` set to ``value`` (a number or 0-d tensor)."""
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index._data.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    xs = input._data.shape
    d = wrap_dim(dim, len(xs))
    idx = _on_device_of(input._data, index._data.reshape(-1))
    idx = _check_bounds(idx, xs[d] if xs else 1, d, IndexError, allow_negative=True)
    if isinstance(value, Tensor) and value.dtype != input.dtype:
        value = value.to(input.dtype)
    if not xs:
        return Scatter.apply(input.reshape(1), value, 0, idx).reshape(())
    shape = xs[:d] + (idx.size,) + xs[d + 1:]
    return Scatter.apply(input, value, d, _broadcast_index(idx, d, shape))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``source`` slices reduced into ``input`` at ``index`` along ``dim`` ('prod', 'mean', 'amax', 'amin')."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    d, idx = _slice_index("index_reduce_", input, dim, index, source)
    if idx.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
                         f"{type_name(index.dtype)} and size: {shape_str(idx.shape)}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_reduce_(): self ({type_name(input.dtype)}) and source "
                           f"({type_name(source.dtype)}) must have the same scalar type")
    _check_source_shape(input, source, d, idx.size, "index_reduce_")
    idx = idx.reshape(-1)
    size = input._data.shape[d] if input._data.ndim else 1
    if idx.size and (idx.max() >= size or idx.min() < -size):
        raise IndexError("index out of range in self")
    idx = np.where(idx < 0, idx + size, idx)
    if not input._data.ndim:
        return ScatterReduce.apply(input.reshape(1), source.reshape(-1), 0, idx, reduce, include_self).reshape(())
    return ScatterReduce.apply(input, source, d, _broadcast_index(idx, d, source._data.shape), reduce, include_self)


install(gather=gather, scatter=scatter, scatter_=inplace_method(scatter), scatter_add=scatter_add,
        scatter_add_=inplace_method(scatter_add), scatter_reduce=scatter_reduce,
        scatter_reduce_=inplace_method(scatter_reduce),
        index_add=index_add, index_add_=inplace_method(index_add), index_copy=index_copy,
        index_copy_=inplace_method(index_copy), index_fill=index_fill, index_fill_=inplace_method(index_fill),
        index_reduce=index_reduce, index_reduce_=inplace_method(index_reduce))

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
           "index_reduce"]
