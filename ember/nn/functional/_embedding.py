"""Embedding lookups: ``embedding`` (one row per index) and ``embedding_bag`` (reduced bags of rows).

The weight gradient is a scatter-add of output gradients into rows. ``np.add.at`` is slow, so rows
are accumulated by sorting the indices once and summing each run with ``np.add.reduceat``. CuPy has no
``reduceat``; device arrays take ``ufunc.at`` (an atomic scatter there, which CuPy has for add, maximum
and minimum).
"""
import numpy as np

from ... import _jit
from ..._device import array_module
from ..._kernels import embedding as _kernels
from ..._tensor import Tensor
from ...autograd.function import Op, once_differentiable
from ...autograd.grad_mode import no_grad
from ..._ops._util import type_name


def _index_add_rows(num_rows, idx, rows, scale_by_freq=False):
    """``out[idx[i]] += rows[i]`` for a (num_rows, D) result, vectorised through one sort."""
    xp = np if rows.__class__ is np.ndarray else array_module(rows)
    out = xp.zeros((num_rows,) + rows.shape[1:], dtype=rows.dtype)
    if idx.size == 0:
        return out
    if not scale_by_freq and rows.ndim == 2 and rows.dtype in _FLOATS and _jit.enabled_for(idx, rows):
        _kernels.index_add_rows(np.ascontiguousarray(idx), np.ascontiguousarray(rows), out)
        return out
    if xp is not np:
        np.add.at(out, idx, rows)
        if scale_by_freq:
            counts = xp.maximum(xp.bincount(idx, minlength=num_rows), 1)
            out /= counts.reshape((-1,) + (1,) * (rows.ndim - 1)).astype(rows.dtype)
        return out
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_idx[1:] != sorted_idx[:-1])))
    sums = np.add.reduceat(rows[order], starts, axis=0)
    if scale_by_freq:
        counts = np.diff(np.append(starts, idx.size))
        sums /= counts.reshape((-1,) + (1,) * (rows.ndim - 1)).astype(rows.dtype)
    out[sorted_idx[starts]] = sums
    return out


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _check_indices(input, fn="embedding"):
    if input._data.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{type_name(input.dtype)}Tensor instead (while checking "
                           f"arguments for {fn})")


def _check_range(idx, num):
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")


class _Embedding(Op):
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        ctx.idx, ctx.num, ctx.padding_idx, ctx.freq = idx, weight.shape[0], padding_idx, scale_grad_by_freq
        return weight.take(idx, axis=0)

    def backward(ctx, g):
        return _EmbeddingDenseGrad.apply(g, ctx.idx, ctx.num, ctx.padding_idx, ctx.freq), None, None, None


class _EmbeddingDenseGrad(Op):
    """The weight gradient as an op of its own, so that it can be differentiated again (a gather)."""

    def forward(ctx, g, idx, num, padding_idx, scale_grad_by_freq):
        ctx.idx = idx
        flat = idx.reshape(-1)
        rows = g.reshape(flat.size, -1)
        if padding_idx is not None:
            keep = flat != padding_idx
            if not keep.all():
                flat, rows = flat[keep], rows[keep]
        out = _index_add_rows(num, flat, rows, scale_grad_by_freq)
        ctx.padding_idx, ctx.freq, ctx.counts = padding_idx, scale_grad_by_freq, None
        if scale_grad_by_freq:
            ctx.counts = np.bincount(flat, minlength=num)
        return out.reshape((num,) + g.shape[idx.ndim:])

    def backward(ctx, gg):
        w = gg
        if ctx.freq:
            w = gg / Tensor._wrap(np.maximum(ctx.counts, 1).astype(gg._data.dtype).reshape((-1,) + (1,) * (gg.ndim - 1)))
        out = _Embedding.apply(w, ctx.idx, None, False)
        if ctx.padding_idx is not None:
            out = out * Tensor._wrap((ctx.idx != ctx.padding_idx).astype(gg._data.dtype)[..., None])
        return out, None, None, None, None


def _renorm_(weight, idx, max_norm, norm_type):
    """torch.embedding_renorm_: rows used by ``idx`` whose norm exceeds ``max_norm`` are scaled down, in place."""
    w = weight._data
    rows = np.unique(idx)
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1) if norm_type != 2 else np.sqrt((w[rows] ** 2).sum(1))
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]
        weight._bump_version()


def _wrap_padding_idx(padding_idx, num):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        assert padding_idx < num, "Padding_idx must be within num_embeddings"
    elif padding_idx < 0:
        assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
        padding_idx += num
    return padding_idx


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by integer ``input``; output shape ``input.shape + (embedding_dim,)``.

    ``padding_idx`` rows get no gradient; ``max_norm`` renormalises the used rows in place first;
    ``scale_grad_by_freq`` divides each row's gradient by its count in ``input``. (``sparse`` gradients
    are returned dense.)

    >>> w = ember.randn(10, 3)
    >>> F.embedding(ember.tensor([[1, 2], [4, 9]]), w).shape
    torch.Size([2, 2, 3])
    """
    _check_indices(input)
    idx = input._data
    num = weight._data.shape[0]
    _check_range(idx, num)
    padding_idx = _wrap_padding_idx(padding_idx, num)
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    return _Embedding.apply(weight, idx, padding_idx, scale_grad_by_freq)


class _EmbeddingBag(Op):
    """Bags given as contiguous segments ``[starts[b], starts[b+1])`` of the flat index list."""

    def forward(ctx, weight, psw, idx, bag_of, counts, mode, padding_idx, freq):
        B = counts.size
        ctx.keep_mask = None
        if padding_idx is not None:
            keep = idx != padding_idx
            if not keep.all():
                ctx.keep_mask = keep
                idx, bag_of = idx[keep], bag_of[keep]
                psw = psw[keep] if psw is not None else None
                counts = np.bincount(bag_of, minlength=B)
        rows = weight.take(idx, axis=0)
        if psw is not None:
            rows = rows * psw[:, None]
        nonempty = counts > 0
        xp = array_module(weight)
        starts = xp.concatenate((xp.zeros(1, counts.dtype), xp.cumsum(counts)[:-1]))[nonempty]
        out = xp.zeros((B, weight.shape[1]), dtype=weight.dtype)
        ctx.winners = None
        if idx.size and xp is not np:
            ctx.winners = _bag_reduce_scattered(out, rows, idx.size, bag_of, counts, nonempty, mode)
        elif idx.size:
            if mode == "max":
                out[nonempty] = np.maximum.reduceat(rows, starts, axis=0)
                pos = np.where(rows == out[bag_of], xp.arange(idx.size)[:, None], idx.size)
                ctx.winners = np.minimum.reduceat(pos, starts, axis=0)  # first maximum wins, as torch
            else:
                out[nonempty] = np.add.reduceat(rows, starts, axis=0)
                if mode == "mean":
                    out[nonempty] /= counts[nonempty, None].astype(out.dtype)
        ctx.idx, ctx.bag_of, ctx.counts, ctx.nonempty, ctx.mode, ctx.freq = idx, bag_of, counts, nonempty, mode, freq
        ctx.num = weight.shape[0]
        ctx.psw = psw
        ctx.save_for_backward(weight if psw is not None else None)
        return out

    @once_differentiable
    def backward(ctx, g):
        g = g._data
        idx, bag_of = ctx.idx, ctx.bag_of
        gw = gp = None
        xp = array_module(g)
        if ctx.mode == "max":
            if ctx.winners is not None:
                D = g.shape[1]
                rows_g = xp.zeros((idx.size, D), dtype=g.dtype)
                cols = xp.broadcast_to(xp.arange(D), ctx.winners.shape)
                rows_g[ctx.winners, cols] = g[ctx.nonempty]
            else:
                rows_g = xp.zeros((0, g.shape[1]), dtype=g.dtype)
        else:
            rows_g = g[bag_of]
            if ctx.mode == "mean":
                rows_g = rows_g / ctx.counts[bag_of, None].astype(g.dtype)
        if ctx.needs_input_grad[1]:
            weight, = ctx.saved_tensors
            gp_valid = (rows_g * weight._data.take(idx, axis=0)).sum(1)
            gp = gp_valid if ctx.keep_mask is None else _scatter_valid(gp_valid, ctx.keep_mask)
        if ctx.needs_input_grad[0]:
            if ctx.psw is not None:
                rows_g = rows_g * ctx.psw[:, None]
            gw = _index_add_rows(ctx.num, idx, rows_g, ctx.freq)
        wrap = lambda a: None if a is None else Tensor._wrap(a)  # noqa: E731
        return wrap(gw), wrap(gp), None, None, None, None, None, None


def _bag_reduce_scattered(out, rows, n, bag_of, counts, nonempty, mode):
    """The bag reductions into ``out`` by ``ufunc.at`` scatters (for CuPy, which has no ``reduceat``);
    returns the max winners (or None), as the NumPy path computes them."""
    xp = array_module(rows)
    if mode != "max":
        np.add.at(out, bag_of, rows)
        if mode == "mean":
            out[nonempty] /= counts[nonempty, None].astype(out.dtype)
        return None
    best = xp.full(out.shape, -np.inf, out.dtype)
    np.maximum.at(best, bag_of, rows)
    out[nonempty] = best[nonempty]
    pos = np.where(rows == out[bag_of], xp.arange(n)[:, None], n)
    first = xp.full(out.shape, n, pos.dtype)
    np.minimum.at(first, bag_of, pos)  # first maximum wins, as torch
    return first[nonempty]


def _scatter_valid(values, keep):
    out = array_module(values).zeros(keep.shape, dtype=values.dtype)
    out[keep] = values
    return out


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materialising the per-index rows' graph.

    ``input`` is 2-D (each row one bag) or 1-D with ``offsets`` giving where each bag starts.

    >>> w = ember.randn(10, 3)
    >>> F.embedding_bag(ember.tensor([1, 2, 4, 5, 4, 3]), w, ember.tensor([0, 2]), mode="sum").shape
    torch.Size([2, 3])
    """
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    _check_indices(input, "embedding_bag")
    idx = input._data
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        B, N = idx.shape
        counts = array_module(idx).full(B, N, dtype=np.int64)
        idx = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets._data.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = offsets._data.astype(np.int64)
        xp = array_module(off)
        bounds = xp.concatenate((off, xp.full(1, idx.size, np.int64))) if not include_last_offset else off
        counts = xp.diff(bounds)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    num = weight._data.shape[0]
    _check_range(idx, num)
    padding_idx = _wrap_padding_idx(padding_idx, num)
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    if counts.__class__ is np.ndarray:
        bag_of = np.repeat(np.arange(counts.size), counts)
    else:  # CuPy's repeat takes no array of counts: position i is in the bag whose end passes i
        xp = array_module(counts)
        bag_of = xp.searchsorted(xp.cumsum(counts), xp.arange(idx.size), side="right")
    psw_t = None
    if per_sample_weights is not None:
        psw_t = per_sample_weights.reshape(-1)
    return _EmbeddingBag.apply(weight, psw_t, idx, bag_of, counts, mode, padding_idx, scale_grad_by_freq)


__all__ = ["embedding", "embedding_bag"]
