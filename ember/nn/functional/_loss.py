"""Loss functions, with torch.nn.functional's names, defaults and reductions.

cross_entropy, nll_loss and mse_loss are fused ops (one forward, one backward); the rest are short
compositions of ember ops, written in a form that stays finite for large inputs (log-sum-exp,
log1p(exp(-|x|))).
"""
import math
import warnings

import numpy as np

from ... import _dtype as D
from ... import _jit
from ..._device import array_module, as_array
from ..._kernels import loss as _kernels
from ..._tensor import Tensor
from ...autograd.function import Op, OP_ATTRS, PLAIN_APPLY, _edge, edge_of, saved_input
from ...autograd.grad_mode import _enabled
from ..._ops import elementwise as E
from ..._ops._util import compute_dtype

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss",
           "gaussian_nll_loss", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
           "soft_margin_loss", "ctc_loss", "triplet_margin_with_distance_loss"]


# ------------------------------------------------------------------ reductions
def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='{}' instead.".format(
        "none" if reduce is False else ("sum" if size_average is False else "mean")), stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _weighted(loss, weight, input, reduction, mean_over_weight):
    """torch's weighted regression losses: 'mean' divides by sum(weight) (mse, l1) or numel (huber)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum() if mean_over_weight else loss.mean()
    if reduction in ("sum", "none"):
        return _reduce(loss, reduction)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _warn_size(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", stacklevel=3)


# ------------------------------------------------------------------ regression losses
class MSE(Op):
    """Fused (input - target)^2 with a reduction."""

    def forward(ctx, x, t, reduction):
        ctx.reduction = reduction
        dt = D.result_type_raw(x, t).np
        cdt = compute_dtype(dt)
        diff = x.astype(cdt, copy=False) - t.astype(cdt, copy=False)
        ctx.diff = diff  # reused by the raw backward
        ctx.save_for_backward(x, t)
        if reduction == "none":
            return (diff * diff).astype(dt, copy=False)
        flat = diff.reshape(-1)
        total = np.dot(flat, flat) if cdt.kind == "f" else (flat * flat).sum()
        if reduction == "mean":
            total = total / flat.size if flat.size else array_module(flat).full((), np.nan, cdt)
        return as_array(total, dt)

    def backward(ctx, g):
        need_x, need_t = ctx.needs_input_grad[:2]
        scale = 2.0 / ctx.diff.size if ctx.reduction == "mean" else 2.0
        if not _enabled[0]:
            gd = ctx.diff * (g._data * scale).astype(ctx.diff.dtype, copy=False)
            gd = Tensor._wrap(gd.astype(g._data.dtype, copy=False))
        else:  # create_graph: the difference as ember ops, so that it is differentiable again
            x, t = ctx.saved_tensors
            gd = g * (x - t) * scale
        return (gd if need_x else None), (-gd if need_t else None), None


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error.

    >>> F.mse_loss(ember.tensor([1.0, 3.0]), ember.tensor([1.0, 1.0]))
    tensor(2.)
    """
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if weight is not None:
        return _weighted((input - target) ** 2, weight, input, reduction, True)
    return MSE.apply(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error."""
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction, True)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (plain L1 when beta == 0)."""
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    loss = E.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""
    _warn_size(input, target)
    d = (input - target).abs()
    loss = E.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    if weight is not None:
        return _weighted(loss, weight, input, reduction, False)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ classification: fused CE / NLL
def _class_layout(x, target, probs):
    """Checks shapes and returns (rows of (M, C) logits, target rows, output shape)."""
    if x.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if x.ndim == 1:  # one unbatched sample
        x2 = x.reshape(1, -1)
        if probs:
            t2 = target.reshape(1, -1)
        else:
            if target.size != 1:
                raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
            t2 = target.reshape(1)
        return x2, t2, ()
    n, c = x.shape[0], x.shape[1]
    if probs:
        if target.shape != x.shape:
            raise RuntimeError(f"Expected target size {list(x.shape)}, got {list(target.shape)}")
    else:
        if target.ndim == 0 or target.shape[0] != n:
            tn = target.shape[0] if target.ndim else 1
            raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({tn}).")
        if target.shape[1:] != x.shape[2:]:
            raise RuntimeError(f"Expected target size {[n] + list(x.shape[2:])}, got {list(target.shape)}")
    out_shape = (n,) + x.shape[2:]
    xm = x if x.ndim == 2 else np.moveaxis(x, 1, -1)
    x2 = xm.reshape(-1, c)
    if probs:
        tm = target if target.ndim == 2 else np.moveaxis(target, 1, -1)
        t2 = tm.reshape(-1, c)
    else:
        t2 = target.reshape(-1)
    return x2, t2, out_shape


def _rows_to_input(rows, shape):
    """Inverse of the (M, C) layout: rows back to the input's shape (class dim 1)."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    moved = rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],))
    return np.moveaxis(moved, -1, 1)


def _softmax_parts(x):
    """Rows of ``x`` shifted by their max, their exponentials and the log of each row's sum:
    log_softmax = shifted - log_sum and softmax = exp / sum(exp), without overflow. As in torch, a
    row whose max is +-inf gets nan (inf - inf) throughout."""
    m = x.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        shifted = x - m
    e = np.exp(shifted)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_sum = np.log(e.sum(axis=1))
    return shifted, e, log_sum


def _check_target_dtype(target):
    if target.dtype.kind not in "iu" or target.dtype not in (np.int64, np.uint8):
        name = D._BY_NP[target.dtype]
        from ..._ops._util import type_name
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {type_name(name)}") \
            if target.dtype.kind in "iub" else \
            RuntimeError(f"expected scalar type Long but found {type_name(name)}")


class _Coef:
    """Target weights ``a`` (M, C) with loss_row = -sum_c a[row, c] * logp[row, c].

    Class-index targets keep ``a`` implicit: a one-hot part (``idx``, ``w_hot``) plus, with label
    smoothing, a rank-one part ``s_row x w_cls``; so a large vocabulary never gets a dense (M, C)
    weight matrix. Probability targets carry a dense ``a``.
    """

    def __init__(self, dense=None, idx=None, w_hot=None, s_row=None, w_cls=None):
        self.dense_a, self.idx, self.w_hot, self.s_row, self.w_cls = dense, idx, w_hot, s_row, w_cls

    @classmethod
    def from_indices(cls, t2, c, weight, ignore_index, label_smoothing, cdt):
        if weight is None and label_smoothing == 0 and t2.size:
            # the common case (no weights, no smoothing, nothing ignored) in a few NumPy calls
            lo, hi = t2.min(), t2.max()
            if lo >= 0 and hi < c and (lo > ignore_index or hi < ignore_index):
                m = t2.shape[0]
                return cls(idx=t2, w_hot=array_module(t2).ones(m, cdt)), cdt.type(m)
        valid = t2 != ignore_index
        safe = np.where(valid, t2, 0)
        bad = valid & ((t2 < 0) | (t2 >= c))
        if bad.any():
            raise IndexError(f"Target {int(t2[np.argmax(bad)])} is out of bounds.")
        w_cls = array_module(t2).ones(c, cdt) if weight is None else weight.astype(cdt, copy=False)
        w_row = w_cls[safe] * valid
        s_row = valid * cdt.type(label_smoothing / c) if label_smoothing > 0 else None
        coef = cls(idx=safe, w_hot=(w_row * (1 - label_smoothing)).astype(cdt, copy=False), s_row=s_row,
                   w_cls=w_cls)
        return coef, w_row.sum(dtype=cdt)

    def losses(self, shifted, log_sum):
        """-sum_c a_c (shifted_c - log_sum) = -(a . shifted) + sum(a) log_sum: the full log_softmax
        matrix is never formed. ``log_sum`` is None when ``shifted`` already is log-probabilities."""
        if self.dense_a is not None:
            a = self.dense_a
            dot = (a * (shifted if np.isfinite(shifted).all() else np.where(a != 0, shifted, 0))).sum(axis=1)
        else:
            picked = shifted[array_module(shifted).arange(shifted.shape[0]), self.idx]
            dot = np.where(self.w_hot != 0, self.w_hot * picked, 0)
            if self.s_row is not None:
                dot = dot + self.s_row * np.dot(shifted, self.w_cls)
        if log_sum is None:
            return -dot
        sums = self.row_sums()
        with np.errstate(invalid="ignore"):  # 0 * -inf for rows that are ignored anyway
            return np.where(sums != 0, sums * log_sum, 0) - dot

    def row_sums(self):
        if self.dense_a is not None:
            return self.dense_a.sum(axis=1)
        if self.s_row is None:
            return self.w_hot
        return self.w_hot + self.s_row * self.w_cls.sum()

    def subtract_from(self, rows, scale):
        """rows -= a * scale (scale: (M, 1) or (1, 1)), in place."""
        if self.dense_a is not None:
            rows -= self.dense_a * scale
            return rows
        r = array_module(rows).arange(rows.shape[0])
        rows[r, self.idx] -= self.w_hot * (scale[:, 0] if scale.shape[0] == rows.shape[0] else scale[0, 0])
        if self.s_row is not None:
            rows -= (self.s_row[:, None] * self.w_cls[None, :]) * scale
        return rows

    def dense(self, m, c, dtype):
        if self.dense_a is not None:
            return self.dense_a
        xp = array_module(self.idx)
        a = xp.zeros((m, c), dtype)
        a[xp.arange(m), self.idx] = self.w_hot
        if self.s_row is not None:
            a += self.s_row[:, None] * self.w_cls[None, :]
        return a


class CrossEntropy(Op):
    """log_softmax + weighted NLL in one op; gradient = scale * (softmax * sum_c(a) - a)."""

    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        probs = target.dtype.kind == "f"
        if not probs:
            _check_target_dtype(target)
        c = x.shape[1] if x.ndim >= 2 else x.shape[0]
        if weight is not None and weight.shape != (c,):
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                               f"weight tensor of shape: {list(weight.shape)}")
        dt = x.dtype
        cdt = compute_dtype(dt)
        x2, t2, out_shape = _class_layout(x, target, probs)
        shifted, e, log_sum = _softmax_parts(x2.astype(cdt, copy=False))
        if probs:
            q = t2.astype(cdt, copy=False)
            if label_smoothing > 0:
                q = q * (1 - label_smoothing) + label_smoothing / c
            coef = _Coef(dense=q if weight is None else q * weight.astype(cdt, copy=False))
            denom = cdt.type(t2.shape[0])
        else:
            coef, denom = _Coef.from_indices(t2, c, weight, ignore_index, label_smoothing, cdt)
        losses = coef.losses(shifted, log_sum)
        ctx.x_shape, ctx.out_shape, ctx.reduction = x.shape, out_shape, reduction
        # exp(shifted) and its row sums give the softmax in the backward with one multiply
        ctx.e, ctx.sum_e = e, np.exp(log_sum)
        ctx.logp = shifted - log_sum[:, None] if probs else None  # for the target's gradient
        ctx.coef, ctx.denom, ctx.probs, ctx.ls, ctx.c = coef, denom, probs, label_smoothing, c
        ctx.weight = weight
        ctx.save_for_backward(x)
        if reduction == "none":
            return losses.reshape(out_shape).astype(dt, copy=False)
        total = losses.sum(dtype=cdt)
        if reduction == "mean":
            total = total / denom
        return as_array(total, dt)

    def _row_scale(ctx, g):
        """d total / d row loss, as an (M, 1) array or tensor."""
        if ctx.reduction == "none":
            return g.reshape(-1, 1)
        if ctx.reduction == "sum":
            return g.reshape(1, 1)
        # every target ignored: the loss is nan but, as in torch, the gradient is zero
        denom = ctx.denom if ctx.denom != 0 else 1
        if g.__class__ is Tensor and not isinstance(denom, (int, np.generic)):
            denom = Tensor._wrap(denom)  # a (device) array sum of weights: tensors take no raw arrays
        return g.reshape(1, 1) / denom

    def backward(ctx, g):
        need_x, need_t = ctx.needs_input_grad[:2]
        coef = ctx.coef
        gx = gt = None
        if not _enabled[0]:
            cdt = ctx.e.dtype
            scale = CrossEntropy._row_scale(ctx, g._data.astype(cdt, copy=False))
            if need_x:
                with np.errstate(divide="ignore", invalid="ignore"):
                    factor = coef.row_sums()[:, None] * scale / ctx.sum_e[:, None]
                rows = ctx.e * factor  # softmax * sum(a) * scale, one pass
                coef.subtract_from(rows, scale)
                gx = Tensor._wrap(_rows_to_input(rows, ctx.x_shape).astype(g._data.dtype, copy=False))
            if need_t and ctx.probs:
                gt = Tensor._wrap(_rows_to_input(_target_grad_rows(ctx) * scale, ctx.x_shape)
                                  .astype(g._data.dtype, copy=False))
            return gx, gt, None, None, None, None
        # Differentiable form (create_graph): softmax recomputed from x with ember ops.
        from ._activation import softmax
        x, = ctx.saved_tensors
        scale = CrossEntropy._row_scale(ctx, g)
        if need_x:
            m = ctx.e.shape[0]
            x2 = x.movedim(1, -1).reshape(-1, ctx.c) if x.dim() > 2 else x.reshape(-1, ctx.c)
            at = Tensor._wrap(coef.dense(m, ctx.c, ctx.e.dtype))
            rows = (softmax(x2, 1) * Tensor._wrap(coef.row_sums()[:, None]) - at) * scale
            gx = _rows_to_input_t(rows, ctx.x_shape)
        if need_t and ctx.probs:
            gt = _rows_to_input_t(Tensor._wrap(_target_grad_rows(ctx)) * scale, ctx.x_shape)
        return gx, gt, None, None, None, None


def _target_grad_rows(ctx):
    dt = ctx.logp.dtype
    w = array_module(ctx.logp).ones(ctx.c, dt) if ctx.weight is None else ctx.weight.astype(dt)
    return -(1 - ctx.ls) * ctx.logp * w


def _rows_to_input_t(rows, shape):
    if len(shape) <= 2:
        return rows.reshape(shape)
    return rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)).movedim(-1, 1)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` (class dim 1) and class indices or class probabilities.

    >>> F.cross_entropy(ember.tensor([[0.0, 0.0]]), ember.tensor([1]))
    tensor(0.6931)
    """
    if (weight is None and not label_smoothing and size_average is None and reduce is None
            and (reduction == "mean" or reduction == "sum") and input.__class__ is Tensor
            and target.__class__ is Tensor and input._data.ndim == 2 and target._data.ndim == 1
            and target._data.dtype == np.int64 and input._data.dtype in _FAST_CE):
        if _enabled[0] and input.requires_grad and OP_ATTRS["apply"] is PLAIN_APPLY:
            out = _record_index_xent(input, target, ignore_index, reduction)
            if out is not None:
                return out
        return _IndexCrossEntropy.apply(input, target, None, ignore_index, reduction, 0.0)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    return CrossEntropy.apply(input, target, weight, ignore_index, reduction, label_smoothing)


_FAST_CE = (np.dtype(np.float32), np.dtype(np.float64))


class _IndexCrossEntropy(CrossEntropy):
    """The common case of ``CrossEntropy`` in a few NumPy calls: (N, C) float32/64 logits, in-range
    int64 class indices, no weight, no smoothing, mean or sum. Anything else (an out-of-range or
    ignored target, a non-finite row max) runs the general forward on the same node."""

    def name(self):
        return "CrossEntropyBackward0"

    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        fast = _index_xent(x, target, ignore_index)
        if fast is None:
            ctx.fast = False
            return CrossEntropy.forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing)
        total, ctx.e, ctx.sum_e = fast
        ctx.fast = True
        ctx.target, ctx.reduction = target, reduction
        ctx.save_for_backward(x)  # only the create_graph backward reads it
        return _xent_total(total, x, reduction)

    def backward(ctx, g):
        if not ctx.fast:
            return CrossEntropy.backward(ctx, g)
        e = ctx.e
        n, c = e.shape
        if not _enabled[0]:
            if ctx._edges[0] is None:  # (the target's gradient is never needed on the fast path)
                return None, None, None, None, None, None
            gd = g._data
            if e.dtype == np.float32 and _host_kernels(e, gd):
                # the float32 scale g / n through float64: a quotient rounded twice is rounded once
                scale = float(gd if gd.dtype is e.dtype else gd.astype(e.dtype))
                if ctx.reduction == "mean":
                    scale /= n
                rows = np.empty_like(e)
                _kernels.softmax_xent_backward(e, ctx.sum_e, ctx.target, scale, rows)
            else:
                scale = gd.astype(e.dtype, copy=False)
                if ctx.reduction == "mean":
                    scale = scale / n
                rows = e * (scale / ctx.sum_e)[:, None]  # softmax * scale
                rows[array_module(e).arange(n), ctx.target] -= scale
            return (Tensor._wrap(rows if rows.dtype is gd.dtype else rows.astype(gd.dtype)),
                    None, None, None, None, None)
        # create_graph: the general node's differentiable backward, given the state it expects
        ctx.coef = _Coef(idx=ctx.target, w_hot=array_module(e).ones(n, e.dtype))
        ctx.denom = e.dtype.type(n)
        ctx.x_shape, ctx.c, ctx.probs = (n, c), c, False
        return CrossEntropy.backward(ctx, g)


def _index_xent(x, target, ignore_index):
    """The fast path's forward on (N, C) logits and int64 targets: (summed loss, exp(x - row max), row
    sums of it), or None where the general forward must run (an out-of-range or ignored target, a
    non-finite total, no rows)."""
    n, c = x.shape
    if not (n and target.shape[0] == n and not 0 <= ignore_index < c):
        return None
    if x.dtype == np.float32 and _host_kernels(x, target):
        # one kernel call; nan when a target is out of range (checked there)
        total, e, sum_e = _softmax_xent_compiled(x, target)
        return (total, e, sum_e) if math.isfinite(total) else None  # (a NumPy scalar: no ufunc call)
    if not target.view(np.uint64).max() < c:  # unsigned, a negative index is huge: 0 <= target < c
        return None
    m = x.max(axis=1, keepdims=True)
    shifted = x - m
    e = np.exp(shifted)
    sum_e = e.sum(axis=1)
    total = (np.log(sum_e).sum() - shifted[array_module(x).arange(n), target].sum())
    return (total, e, sum_e) if np.isfinite(total) else None  # (a 0-d array on a device)


def _xent_total(total, x, reduction):
    if reduction == "mean":
        total = total / x.shape[0]
    return as_array(total, x.dtype)


def _record_index_xent(input, target, ignore_index, reduction):
    """``_IndexCrossEntropy.apply(input, target, None, ignore_index, reduction, 0.0)`` when recording,
    on host arrays whose forward takes the fast path: the same node, without the op machinery; None
    when the op must run."""
    x, t = input._data, target._data
    if x.__class__ is not np.ndarray or t.__class__ is not np.ndarray:
        return None
    fast = _index_xent(x, t, ignore_index)
    if fast is None:
        return None
    total, e, sum_e = fast
    out = _IndexCrossEntropy._record(_xent_total(total, x, reduction),
                                     (edge_of(input), _edge(target), None, None, None, None), (saved_input(input),))
    ctx = out.grad_fn
    ctx.fast = True
    ctx.e, ctx.sum_e, ctx.target, ctx.reduction = e, sum_e, t, reduction
    return out


def _softmax_xent_compiled(x, target):
    """The fast path's forward in one kernel: (total loss, exp(x - row max), row sums of it); the
    total is nan for a non-finite logit or an out-of-range target."""
    x = np.ascontiguousarray(x)
    e = np.empty_like(x)
    sum_e = np.empty(x.shape[0], dtype=x.dtype)
    total = _kernels.softmax_xent_forward(x, _NO_ROW_MAX, np.ascontiguousarray(target), e, sum_e,
                                          np.empty(x.shape[1], dtype=np.int32))
    return x.dtype.type(total), e, sum_e


_NO_ROW_MAX = np.empty(0, np.float32)  # the kernel finds the row maxima itself


def _host_kernels(a, b):
    """``_jit.enabled_for(a, b)`` for the cross-entropy fast path, without its generator over the arguments."""
    return a.__class__ is np.ndarray and b.__class__ is np.ndarray and _jit.enabled()


class NLL(Op):
    """Weighted negative log likelihood of log-probabilities ``x`` (linear in x)."""

    def forward(ctx, x, target, weight, ignore_index, reduction):
        _check_target_dtype(target)
        c = x.shape[1] if x.ndim >= 2 else x.shape[0]
        if weight is not None and weight.shape != (c,):
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                               f"weight tensor of shape: {list(weight.shape)}")
        dt = x.dtype
        cdt = compute_dtype(dt)
        x2, t2, out_shape = _class_layout(x, target, False)
        coef, denom = _Coef.from_indices(t2, c, weight, ignore_index, 0.0, cdt)
        losses = coef.losses(x2.astype(cdt, copy=False), None)
        ctx.coef, ctx.denom, ctx.x_shape, ctx.reduction, ctx.mc = coef, denom, x.shape, reduction, x2.shape
        if reduction == "none":
            return losses.reshape(out_shape).astype(dt, copy=False)
        total = losses.sum(dtype=cdt)
        if reduction == "mean":
            total = total / denom
        return as_array(total, dt)

    def backward(ctx, g):
        scale = CrossEntropy._row_scale(ctx, g)
        cdt = ctx.coef.w_hot.dtype
        if not _enabled[0]:
            rows = array_module(ctx.coef.w_hot).zeros(ctx.mc, cdt)
            ctx.coef.subtract_from(rows, scale._data.astype(cdt, copy=False))
            return Tensor._wrap(_rows_to_input(rows, ctx.x_shape).astype(g._data.dtype, copy=False)), \
                None, None, None, None
        a = Tensor._wrap(ctx.coef.dense(ctx.mc[0], ctx.mc[1], cdt))
        return _rows_to_input_t(-a * scale, ctx.x_shape), None, None, None, None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of log-probabilities ``input`` (class dim 1) at class indices ``target``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return NLL.apply(input, target, weight, ignore_index, reduction)


# ------------------------------------------------------------------ binary losses
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)), with each log clamped at -100 as torch does."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    if ((input._data < 0) | (input._data > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    log_x = E.log(input).clamp(min=-100)
    log_1mx = E.log(1 - input).clamp(min=-100)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """sigmoid + binary cross entropy in the stable form (1 - t) x + (1 + (pw - 1) t) softplus(-x)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    # log(1 + exp(-x)) = max(-x, 0) + log1p(exp(-|x|)): finite for any x
    log_sig_neg = (-input).clamp(min=0) + E.log1p(E.exp(-input.abs()))
    if pos_weight is not None:
        log_weight = 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + log_weight * log_sig_neg
    else:
        loss = (1 - target) * input + log_sig_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target * (log target - input); 'batchmean' divides by batch size."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        loss = E.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() != 0 else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log likelihood (with the Stirling term when ``full``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:
        stirling = target * E.log(target) - target + 0.5 * E.log(2 * np.pi * target)
        loss = loss + E.where(target > 1, stirling, stirling * 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) when ``full``)."""
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.new_full((), float(var))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1:
            pass
        elif var.dim() != 0:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    with_grad_var = var
    from ...autograd.grad_mode import no_grad
    with no_grad():
        var_c = var.clamp(min=eps)
    # torch clamps without passing gradient through the clamp: d/dvar flows only where var >= eps
    var_c = with_grad_var + (var_c - with_grad_var).detach()
    loss = 0.5 * (E.log(var_c) + (input - target) ** 2 / var_c)
    if full:
        loss = loss + 0.5 * float(np.log(2 * np.pi))
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ margin and embedding losses
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target == 1, max(0, margin - input) where target == -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    margin_part = (margin - input).clamp(min=0)
    loss = E.where(target == 1, input, input * 0) + E.where(target == -1, margin_part, margin_part * 0)
    return _reduce(loss, reduction)


def _cosine(x1, x2, eps=1e-12):
    # torch's cosine_embedding_loss: (x1 . x2) / sqrt((|x1|^2 + eps) (|x2|^2 + eps))
    dot = (x1 * x2).sum(-1)
    n1 = (x1 * x1).sum(-1) + eps
    n2 = (x2 * x2).sum(-1) + eps
    return dot / E.sqrt(n1 * n2)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim():
        raise RuntimeError(f"cosine_embedding_loss : All input tensors should have same dimension but got "
                           f"sizes: input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    cos = _cosine(input1, input2)
    zeros = cos * 0
    loss = E.where(target == 1, 1 - cos, zeros) + E.where(target == -1, (cos - margin).clamp(min=0), zeros)
    return _reduce(loss, reduction)


def _pdist(x1, x2, p, eps):
    d = x1 - x2 + eps
    if p == 2:
        return E.sqrt((d * d).sum(-1))
    if p == 1:
        return d.abs().sum(-1)
    if p == float("inf"):
        return d.abs().amax(-1)
    return (d.abs() ** p).sum(-1) ** (1.0 / p)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.dim()}D, positive {positive.dim()}D, and negative "
                           f"{negative.dim()}D inputs")
    d_pos = _pdist(anchor, positive, p, eps)
    d_neg = _pdist(anchor, negative, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, _pdist(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance function (default: pairwise L2)."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.dim()}D, positive {positive.dim()}D, and negative "
                           f"{negative.dim()}D inputs")
    dist = distance_function if distance_function is not None else (lambda x, y: _pdist(x, y, 2, 1e-6))
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, dist(positive, negative))
    loss = (margin + d_pos - d_neg).clamp(min=0)
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if reduction == "mean" else loss


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum_{j != y} max(0, margin - x[y] + x[j])^p / C, per sample."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.dim() == 2 else input.reshape(1, -1)
    t = target.reshape(-1)
    c = x.shape[1]
    x_y = x.gather(1, t.reshape(-1, 1))
    z = (margin - x_y + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t].reshape(-1, 1)
    not_target = Tensor._wrap(array_module(t._data).arange(c)[None, :] != t._data[:, None])
    loss = (z * not_target).sum(1) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes y (until the first -1) and non-target classes j of max(0, 1 - x[y] + x[j]) / C."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x = input if input.dim() == 2 else input.reshape(1, -1)
    t = target._data.reshape(x.shape)
    c = x.shape[1]
    # targets are the prefix before the first -1
    stop = np.cumsum(t < 0, axis=1) > 0
    valid = ~stop
    is_target = array_module(t).zeros(x.shape, dtype=bool)
    rows = np.nonzero(valid)[0]
    is_target[rows, t[valid]] = True
    # pair (y, j): y a target class, j not a target class
    xs = x.unsqueeze(2)  # x[y] along dim 1
    xj = x.unsqueeze(1)  # x[j] along dim 2
    hinge = (1 - xs + xj).clamp(min=0)
    pair = Tensor._wrap((is_target[:, :, None] & ~is_target[:, None, :]).astype(x._data.dtype))
    loss = (hinge * pair).sum((1, 2)) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Mean over classes of the binary cross entropy of sigmoid(input) with 0/1 ``target``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    from ._activation import logsigmoid
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(dim=-1) / input.shape[-1] if input.dim() else loss
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), stably."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    z = -target * input
    loss = z.clamp(min=0) + E.log1p(E.exp(-z.abs()))
    return _reduce(loss, reduction)


from ._ctc import ctc_loss  # noqa: E402
