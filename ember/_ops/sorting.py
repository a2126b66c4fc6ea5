"""Sorting and order statistics: sort/argsort/topk, kthvalue/median/mode, cummax/cummin, quantile,
unique, searchsorted/bucketize, bincount/histc.

The ops that pick elements (sort, topk, kthvalue, median, mode, cummax...) compute their indices
with NumPy and then take the values through ``Gather``, whose backward scatter-adds the gradient
back: one differentiable path for all of them, double backward included. NaN sorts as the largest
value, as in torch.
"""
from collections import namedtuple

import numpy as np

from .. import _dtype as D
from .._device import array_module, as_array
from .._tensor import Tensor
from ..autograd.function import Op
from ._util import install, wrap_dim, shape_str, type_name, compute_dtype
from .inplace import write_out
from .scatter import Gather, ScatterAdd



def _return_type(name, fields=("values", "indices")):
    """A ``torch.return_types.<name>`` named tuple, printed the way torch prints it."""
    cls = namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    cls.__repr__ = lambda self: (f"torch.return_types.{name}(\n"
                                 + ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    return cls


_sort_t = _return_type("sort")
_topk_t = _return_type("topk")
_kthvalue_t = _return_type("kthvalue")
_median_t = _return_type("median")
_nanmedian_t = _return_type("nanmedian")
_mode_t = _return_type("mode")
_cummax_t = _return_type("cummax")
_cummin_t = _return_type("cummin")


def _sort_key(x):
    """An array NumPy can sort that orders like ``x`` (reduced floats compare in float32)."""
    if x.dtype.kind == "c":
        raise RuntimeError("Sort does not support complex dtypes on CPU")
    return x.astype(np.float32) if x.dtype in D.REDUCED_NP else x


def _argsort(x, dim, descending):
    """Stable argsort along ``dim`` (always: torch's CPU results for ties are the stable ones);
    descending keeps equal elements in their original order."""
    key = _sort_key(x)
    if not descending:
        return np.argsort(key, axis=dim, kind="stable")
    # sort the reversed array ascending, then reverse back: stable for ties and puts NaN first
    n = key.shape[dim]
    rev = np.flip(key, axis=dim)
    return np.flip(n - 1 - np.argsort(rev, axis=dim, kind="stable"), axis=dim)


def _floating(a):
    return a.dtype.kind == "f" or a.dtype in D.REDUCED_NP


def _as_vector(input):
    """0-d tensors sort/select like 1-element vectors."""
    return input.reshape(1) if not input._data.ndim else input


def _index_tensor(idx, zero_d):
    idx = idx.astype(np.int64, copy=False)
    return Tensor._wrap(idx.reshape(()) if zero_d else idx)


def _write_pair(res, out):
    """``out=(values, indices)`` for the ops that return both."""
    if out is None:
        return res
    write_out(res[0], out[0])
    write_out(res[1], out[1])
    return type(res)(*out)


def _pick(input, d, idx, keepdim, zero_d):
    """(values, indices) for ``idx`` picked along ``d`` of ``input`` (``idx`` keeps ``d`` as size 1)."""
    values = Gather.apply(_as_vector(input), d, idx)
    if zero_d:
        return values.reshape(()), _index_tensor(idx, True)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return values, _index_tensor(idx, False)


# ------------------------------------------------------------------ sort / argsort / topk
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sorted values along ``dim`` and their indices (ties keep their order, ``stable`` or not).

    >>> ember.sort(ember.tensor([3., 1., 2.]))
    torch.return_types.sort(
    values=tensor([1., 2., 3.]),
    indices=tensor([1, 2, 0]))
    """
    zero_d = not input._data.ndim
    d = wrap_dim(dim, input._data.ndim)
    x = _as_vector(input)
    idx = _argsort(x._data, d, descending)
    values = Gather.apply(x, d, idx)
    return _write_pair(_sort_t(values.reshape(()) if zero_d else values, _index_tensor(idx, zero_d)), out)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    x = input._data
    return _index_tensor(_argsort(x.reshape(1) if not x.ndim else x, d, descending), not x.ndim)


def msort(input, *, out=None):
    """``input`` sorted along its first dim."""
    return write_out(sort(input, 0).values, out)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices.

    >>> ember.tensor([1., 5., 3.]).topk(2)
    torch.return_types.topk(
    values=tensor([5., 3.]),
    indices=tensor([1, 2]))
    """
    zero_d = not input._data.ndim
    d = wrap_dim(dim, input._data.ndim)
    x = _as_vector(input)
    n = x._data.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = _top_indices(x._data, k, d, largest)
    values = Gather.apply(x, d, idx)
    return _write_pair(_topk_t(values.reshape(()) if zero_d else values, _index_tensor(idx, zero_d)), out)


def _top_indices(x, k, d, largest):
    """Indices of the ``k`` largest/smallest along ``d``, in sorted order. NumPy's (SIMD) partition
    finds each row's threshold in O(n); rows with ties at the threshold, or NaN (which counts as the
    largest), take the stable sort instead."""
    n = x.shape[d]
    key = _sort_key(x)
    xp = array_module(x)
    if k == n or k == 0 or (_floating(key) and np.isnan(key).any()):
        return _first_sorted(x, k, d, largest, xp)
    thr = _at(np.partition(key, n - k if largest else k - 1, axis=d), n - k if largest else k - 1, d)
    keep = key >= thr if largest else key <= thr
    if (keep.sum(axis=d) != k).any():  # ties at the threshold
        return _first_sorted(x, k, d, largest, xp)
    last = d == key.ndim - 1
    moved = keep if last else xp.ascontiguousarray(np.moveaxis(keep, d, -1))
    # row by row, in original order (flatnonzero is much faster than a multi-dim nonzero)
    picked = (np.flatnonzero(moved) % n).reshape(moved.shape[:-1] + (k,))
    picked = picked if last else np.moveaxis(picked, -1, d)
    order = _argsort(np.take_along_axis(key, picked, d), d, largest)
    return np.take_along_axis(picked, order, d)


def _first_sorted(x, k, d, largest, xp):
    """Indices of the first ``k`` along ``d`` in (stable) sorted order."""
    return xp.ascontiguousarray(_argsort(x, d, largest)[(slice(None),) * d + (slice(0, k),)])


def _at(a, i, d):
    """``a[..., i:i+1, ...]`` along ``d`` (the size-1 dim kept)."""
    return a[(slice(None),) * d + (slice(i, i + 1),)]


# ------------------------------------------------------------------ kthvalue / median / mode
def _kth(input, positions, d, keepdim, cls):
    """(values, indices) at sorted ``positions`` (one per row, keepdim-shaped) along ``d``."""
    zero_d = not input._data.ndim
    x = _as_vector(input)
    idx = _select_partitioned(x._data, positions, d)
    if idx is None:
        order = _argsort(x._data, d, descending=False)
        idx = np.take_along_axis(order, positions, d)
    return cls(*_pick(input, d, idx, keepdim, zero_d))


def _select_partitioned(x, positions, d):
    """The index at one sorted position shared by every row, found by partition (O(n)); None where only
    a stable sort gives torch's answer: rows whose positions differ (NaN), or ties at the pick."""
    if not positions.size:
        return None
    first = positions.reshape(-1)[0]
    if (positions != first).any():
        return None
    kth = int(first)
    key = _sort_key(x)
    picked = _at(np.partition(key, kth, axis=d), kth, d)
    hits = key == picked
    if (hits.sum(axis=d) != 1).any():
        return None
    return np.argmax(hits, axis=d, keepdims=True)


def _check_reduce_dim(input, d, name):
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _row_shape(x, d):
    return x.shape[:d] + (1,) + x.shape[d + 1:]


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest element along ``dim`` (1-based) and its index.

    >>> ember.tensor([3., 1., 2.]).kthvalue(2)
    torch.return_types.kthvalue(
    values=tensor(2.),
    indices=tensor(2))
    """
    d = wrap_dim(dim, input._data.ndim)
    x = input._data.reshape(1) if not input._data.ndim else input._data
    if not 1 <= k <= x.shape[d]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    positions = array_module(x).full(_row_shape(x, d), k - 1)
    return _write_pair(_kth(input, positions, d, keepdim, _kthvalue_t), out)


def _median_positions(x, d, ignore_nan):
    """Sorted position of each row's lower median; rows with NaN point at their first NaN (or, ignoring
    NaN, at the median of the rest)."""
    if _floating(x):
        nan = np.isnan(x).sum(axis=d, keepdims=True)
    else:
        nan = array_module(x).zeros(_row_shape(x, d), np.int64)
    n = x.shape[d]
    valid = n - nan
    if ignore_nan:
        return np.maximum(valid - 1, 0) // 2
    return np.where(nan > 0, valid, (n - 1) // 2)


class MedianAll(Op):
    """Global (lower) median; torch spreads the gradient evenly over the elements equal to it."""

    def forward(ctx, x, ignore_nan):
        xp = array_module(x)
        flat = _sort_key(x.reshape(-1))
        if ignore_nan and _floating(flat):
            flat = flat[~np.isnan(flat)]
        if flat.size == 0:
            out = xp.asarray(np.nan, dtype=x.dtype)
        elif flat.dtype.kind == "f" and np.isnan(flat).any():
            out = xp.asarray(np.nan, dtype=x.dtype)
        else:
            out = as_array(np.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2], x.dtype)
        ctx.mask = (x == out) | (np.isnan(x) & np.isnan(out)) if _floating(x) else x == out
        return out

    def backward(ctx, g):
        mask = Tensor._wrap(ctx.mask.astype(g._data.dtype))
        return g * mask / mask.sum(), None


def _median(input, dim, keepdim, ignore_nan, cls, name):
    if input.dtype is D.bool:
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')
    if dim is None:
        return MedianAll.apply(input, ignore_nan)
    d = wrap_dim(dim, input._data.ndim)
    _check_reduce_dim(input, d, name)
    x = input._data.reshape(1) if not input._data.ndim else input._data
    return _kth(input, _median_positions(x, d, ignore_nan), d, keepdim, cls)


def median(input, dim=None, keepdim=False, *, out=None):
    """Lower median: of all elements (a 0-d tensor), or along ``dim`` as (values, indices).

    >>> ember.tensor([4., 1., 3., 2.]).median()
    tensor(2.)
    """
    res = _median(input, dim, keepdim, False, _median_t, "median")
    return write_out(res, out) if dim is None else _write_pair(res, out)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """``median`` ignoring NaN (NaN only where a row is all NaN)."""
    res = _median(input, dim, keepdim, True, _nanmedian_t, "nanmedian")
    return write_out(res, out) if dim is None else _write_pair(res, out)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """Most frequent value along ``dim`` (the smallest among equally frequent ones) and its last index.

    >>> ember.tensor([2, 2, 1, 1, 3]).mode()
    torch.return_types.mode(
    values=tensor(1),
    indices=tensor(3))
    """
    d = wrap_dim(dim, input._data.ndim)
    _check_reduce_dim(input, d, "mode")
    zero_d = not input._data.ndim
    x = _as_vector(input)
    order = _argsort(x._data, d, descending=False)
    s = np.take_along_axis(_sort_key(x._data), order, d)
    # running length of each run of equal sorted values; a run's end holds its length, and with a
    # stable sort it also holds the run's last original index (torch returns that one)
    n = s.shape[d]
    xp = array_module(s)
    pos = xp.arange(n).reshape((-1,) + (1,) * (s.ndim - d - 1))
    starts = xp.ones(s.shape, bool)
    body = [slice(None)] * s.ndim
    body[d] = slice(1, None)
    prev = [slice(None)] * s.ndim
    prev[d] = slice(0, -1)
    starts[tuple(body)] = s[tuple(body)] != s[tuple(prev)]
    run_start = _accumulate(np.maximum, np.where(starts, pos, 0), d)
    length = pos - run_start
    best = np.argmax(length, axis=d, keepdims=True)  # first maximal run: the smallest value
    idx = np.take_along_axis(order, best, d)
    return _write_pair(_mode_t(*_pick(input, d, idx, keepdim, zero_d)), out)


# ------------------------------------------------------------------ cummax / cummin
def _accumulate(ufunc, a, axis):
    """``ufunc.accumulate(a, axis)``. CuPy's ufuncs accumulate only for add and multiply, so device
    arrays take log2(n) doubling steps instead (a Hillis-Steele scan: exact for maximum/minimum)."""
    if a.__class__ is np.ndarray:
        return ufunc.accumulate(a, axis=axis)
    out = a.copy()
    n = a.shape[axis]
    step = 1
    while step < n:
        later = (slice(None),) * axis + (slice(step, None),)
        earlier = (slice(None),) * axis + (slice(0, n - step),)
        out[later] = ufunc(out[later], out[earlier])  # the right side is a new array: no aliasing
        step *= 2
    return out


def _cumulative(input, dim, ufunc, cls):
    zero_d = not input._data.ndim
    d = wrap_dim(dim, input._data.ndim)
    x = _as_vector(input)
    a = _sort_key(x._data)
    run = _accumulate(ufunc, a, d) if a.size else a
    # the latest position that holds the running extreme (ties go to the later index, NaN sticks)
    hit = a == run
    if a.dtype.kind == "f":
        hit |= np.isnan(a)
    xp = array_module(a)
    pos = xp.arange(a.shape[d]).reshape((-1,) + (1,) * (a.ndim - d - 1))
    idx = _accumulate(np.maximum, np.where(hit, pos, 0), d) if a.size else xp.zeros(a.shape, np.int64)
    values = Picked.apply(x, run.astype(x._data.dtype, copy=False), d, idx)
    return cls(values.reshape(()) if zero_d else values, _index_tensor(idx, zero_d))


class Picked(Op):
    """Values already picked from ``x`` at ``idx`` along ``dim``; the gradient goes back to those places."""

    def forward(ctx, x, values, dim, idx):
        ctx.in_shape, ctx.dim, ctx.idx = x.shape, dim, idx
        return values

    def backward(ctx, g):
        return ScatterAdd.apply(g.new_zeros(ctx.in_shape), g, ctx.dim, ctx.idx), None, None, None


def cummax(input, dim, *, out=None):
    """Running maximum along ``dim`` and the index where it was (last) reached.

    >>> ember.tensor([1., 3., 2., 3.]).cummax(0)
    torch.return_types.cummax(
    values=tensor([1., 3., 3., 3.]),
    indices=tensor([0, 1, 1, 3]))
    """
    return _write_pair(_cumulative(input, dim, np.maximum, _cummax_t), out)


def cummin(input, dim, *, out=None):
    """Running minimum along ``dim`` and the index where it was (last) reached."""
    return _write_pair(_cumulative(input, dim, np.minimum, _cummin_t), out)


# ------------------------------------------------------------------ quantile
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    x = input._data
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        if q.device != input.device:
            raise RuntimeError("quantile() q tensor must be on the same device as the input tensor")
        qs, q_scalar = q._data.reshape(-1), q._data.ndim == 0
    else:
        qs, q_scalar = array_module(x).asarray([q], dtype=x.dtype), True
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        bad = float(qs[(qs < 0) | (qs > 1)][0])
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {bad:g}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    if dim is None:
        src, d = input.reshape(-1), 0
    else:
        d = wrap_dim(dim, x.ndim)
        src = _as_vector(input)
    if src._data.shape[d] == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    # reduced dim last: sorted rows (..., n); ranks per row and per q (..., m)
    moved = src.movedim(d, -1) if src._data.ndim > 1 else src
    srt = sort(moved, -1).values
    n = srt._data.shape[-1]
    nan = np.isnan(srt._data)
    qv = qs.astype(x.dtype)
    if ignore_nan:
        ranks = qv * (n - nan.sum(-1, keepdims=True) - 1).astype(x.dtype)
        ranks = np.where(ranks < 0, 0, ranks)
    else:
        ranks = np.broadcast_to(qv * x.dtype.type(n - 1), srt._data.shape[:-1] + qv.shape)
        ranks = np.where(nan.any(-1, keepdims=True), x.dtype.type(n - 1), ranks)
    if interpolation == "lower":
        ranks = np.floor(ranks)
    elif interpolation == "higher":
        ranks = np.ceil(ranks)
    elif interpolation == "nearest":
        ranks = np.round(ranks)  # half to even, as torch's round
    below = ranks.astype(np.int64)
    result = Gather.apply(srt, srt._data.ndim - 1, below)
    if interpolation in ("linear", "midpoint"):
        above = Gather.apply(srt, srt._data.ndim - 1, np.ceil(ranks).astype(np.int64))
        w = (array_module(x).full(ranks.shape, 0.5, x.dtype) if interpolation == "midpoint"
             else (ranks - below).astype(x.dtype))
        result = result.lerp(above, Tensor._wrap(w))
    # (..., m) -> (m, ...) with the reduced dim kept or dropped
    result = result.movedim(-1, 0)
    if keepdim:
        result = result.reshape((qv.size,) + tuple(1 if dim is None or k == d else s
                                                     for k, s in enumerate(x.shape)))
    if q_scalar:
        result = result.squeeze(0)
    return result


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-th quantiles of ``input`` (over all elements, or along ``dim``).

    >>> ember.tensor([1., 2., 3., 4.]).quantile(ember.tensor([0.25, 0.5]))
    tensor([1.7500, 2.5000])
    """
    return write_out(_quantile(input, q, dim, keepdim, interpolation, False), out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """``quantile`` ignoring NaN values."""
    return write_out(_quantile(input, q, dim, keepdim, interpolation, True), out)


# ------------------------------------------------------------------ unique
def _along_rows(x, dim):
    """``x`` as (size along dim, rest) rows, for row-wise unique."""
    return np.moveaxis(x, dim, 0).reshape(x.shape[dim], -1)


def _from_rows(rows, x_shape, dim):
    moved = (rows.shape[0],) + tuple(s for k, s in enumerate(x_shape) if k != dim)
    return np.moveaxis(rows.reshape(moved), 0, dim)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Unique elements (sorted), with optional inverse indices and counts.

    >>> ember.unique(ember.tensor([3, 1, 3, 2]), return_counts=True)
    (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    x = input._data
    if dim is None:
        vals, inv, counts = np.unique(x.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        inv = inv.reshape(x.shape)
    else:
        d = wrap_dim(dim, x.ndim)
        if x.shape[d] == 0:
            xp = array_module(x)
            vals, inv, counts = x, xp.zeros(0, np.int64), xp.zeros(0, np.int64)
        else:
            rows = _along_rows(x, d)
            _, first, inv, counts = np.unique(rows, axis=0, return_index=True, return_inverse=True,
                                               return_counts=True)
            vals = _from_rows(rows[first], x.shape, d)
            inv = inv.reshape(-1)
    return _unique_result(vals, inv, counts, return_inverse, return_counts)


def _unique_result(vals, inv, counts, return_inverse, return_counts):
    out = Tensor._wrap(array_module(vals).ascontiguousarray(vals))
    if not (return_inverse or return_counts):
        return out
    res = (out,)
    if return_inverse:
        res += (Tensor._wrap(inv.astype(np.int64)),)
    if return_counts:
        res += (Tensor._wrap(counts.astype(np.int64)),)
    return res


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``).

    >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 1]))
    tensor([1, 2, 1])
    """
    x = input._data
    if dim is None:
        rows, shape = x.reshape(-1, 1), x.shape
    else:
        d = wrap_dim(dim, x.ndim)
        rows, shape = _along_rows(x, d), (x.shape[d],)
    n = rows.shape[0]
    starts = array_module(x).ones(n, bool)
    if n > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, n))
    inv = (np.cumsum(starts) - 1).reshape(shape)
    vals = rows[first].reshape(-1) if dim is None else _from_rows(rows[first], x.shape, d)
    return _unique_result(vals, inv, counts, return_inverse, return_counts)


# ------------------------------------------------------------------ searchsorted / bucketize
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Indices where ``input`` values would be inserted into ``sorted_sequence`` to keep it sorted.

    >>> ember.searchsorted(ember.tensor([1, 3, 5, 7]), ember.tensor([3, 6]))
    tensor([1, 3])
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    vals = array_module(seq).asarray(input) if scalar else input._data
    if not seq.ndim:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    if seq.ndim > 1 and (scalar or vals.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {shape_str(seq.shape)} and input value tensor {shape_str(vals.shape)}")
    if sorter is not None:
        if sorter._data.shape != seq.shape:
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                               f"tensor {shape_str(seq.shape)}and got sorter tensor {shape_str(sorter.shape)}")
        seq = np.take_along_axis(seq, sorter._data, -1)
    side_name = "right" if right else "left"
    if seq.ndim == 1:
        res = np.searchsorted(_sort_key(seq), _sort_key(vals), side=side_name)
    else:
        res = _batched_searchsorted(seq, vals, side_name)
    res = Tensor._wrap(as_array(res, np.int32 if out_int32 else np.int64))
    return write_out(res, out)


def _batched_searchsorted(seq, vals, side):
    """Row-wise searchsorted without a Python loop: rank all values together, then offset each row's
    ranks by row so that a single 1-D search stays inside its own row."""
    n, m = seq.shape[-1], vals.shape[-1]
    seq2, vals2 = seq.reshape(-1, n), vals.reshape(-1, m)
    rows = seq2.shape[0]
    _, rank = np.unique(np.concatenate([_sort_key(seq2).ravel(), _sort_key(vals2).ravel().astype(
        np.result_type(seq2.dtype, vals2.dtype) if seq2.dtype != vals2.dtype else vals2.dtype)]), return_inverse=True)
    width = rank.max() + 1 if rank.size else 1
    row = array_module(rank).arange(rows)[:, None]
    offset = row * width
    seq_key = (rank[:seq2.size].reshape(rows, n) + offset).ravel()
    val_key = rank[seq2.size:].reshape(rows, m) + offset
    res = np.searchsorted(seq_key, val_key.ravel(), side=side).reshape(rows, m) - row * n
    return res.reshape(vals.shape)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """Index of the bucket of each ``input`` value, given 1-D increasing ``boundaries``.

    >>> ember.bucketize(ember.tensor([1, 5, 9]), ember.tensor([2, 4, 6, 8]))
    tensor([0, 2, 4])
    """
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# ------------------------------------------------------------------ bincount / histc
def bincount(input, weights=None, minlength=0):
    """Count of each non-negative integer in 1-D ``input`` (or the sum of its ``weights``).

    >>> ember.bincount(ember.tensor([1, 1, 3]))
    tensor([0, 2, 0, 1])
    """
    x = input._data
    if x.dtype.kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{type_name(input.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x.ndim != 1 or (x.size and x.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights._data.ndim != 1 or weights._data.shape[0] != x.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if weights is None:
        return Tensor._wrap(np.bincount(x, minlength=minlength).astype(np.int64, copy=False))
    w = weights._data
    out_dt = w.dtype if w.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return Tensor._wrap(np.bincount(x, weights=w.astype(np.float64), minlength=minlength).astype(out_dt))


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of ``input`` with ``bins`` equal-width bins over [min, max] (data range if both are 0).

    >>> ember.histc(ember.tensor([1., 2., 1.]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    x = input._data
    if x.dtype.kind != "f" and x.dtype not in D.REDUCED_NP:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{type_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    ct = compute_dtype(x.dtype)
    a = x.reshape(-1).astype(ct, copy=False)
    lo, hi = ct.type(min), ct.type(max)
    if lo == hi and a.size:
        lo, hi = a.min(), a.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_c_float(lo)}, {_c_float(hi)}] is not finite")
    keep = a[(a >= lo) & (a <= hi)]
    pos = ((keep - lo) * ct.type(bins) / (hi - lo)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)  # the right edge belongs to the last bin
    hist = np.bincount(pos, minlength=bins).astype(x.dtype)
    return write_out(Tensor._wrap(hist), out)


def _c_float(v):
    return "-nan" if np.isnan(v) else f"{float(v):g}"


install(sort=sort, argsort=argsort, msort=msort, topk=topk, kthvalue=kthvalue, median=median, nanmedian=nanmedian,
        mode=mode, cummax=cummax, cummin=cummin, quantile=quantile, nanquantile=nanquantile, unique=unique,
        unique_consecutive=unique_consecutive, bincount=bincount, histc=histc)

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin",
           "quantile", "nanquantile", "unique", "unique_consecutive", "searchsorted", "bucketize", "bincount",
           "histc"]
