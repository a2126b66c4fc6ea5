"""CTC loss: the forward-backward (alpha/beta) recursions in log space, vectorised over the batch and
the extended label positions; only time is a Python loop.

The lengths and the blank-interleaved labels are built on the host (they drive Python loops and are
small, as in torch, which takes the lengths as host integers) and moved once to the device of the
log-probabilities, where the recursions run."""
import numpy as np

from ..._device import array_module, as_array, is_device_array, to_host
from ..._tensor import Tensor
from ...autograd.function import Op, once_differentiable
from ..._ops._util import compute_dtype

__all__ = ["ctc_loss"]

_NEG = -np.inf


def _lse(*arrays):
    stacked = np.stack(arrays)
    m = stacked.max(axis=0)
    safe = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(stacked - safe).sum(axis=0)) + safe


def _extended(targets, target_lengths, n, blank):
    """Blank-interleaved labels (N, 2*Smax+1) and whether position s may skip from s-2."""
    smax = int(max(target_lengths)) if n else 0
    labels = np.full((n, smax), blank, dtype=np.int64)
    if targets.ndim == 1:  # concatenated targets
        offsets = np.concatenate([[0], np.cumsum(target_lengths)[:-1]]).astype(np.int64)
        for i in range(n):
            labels[i, :target_lengths[i]] = targets[offsets[i]:offsets[i] + target_lengths[i]]
    else:
        for i in range(n):
            labels[i, :target_lengths[i]] = targets[i, :target_lengths[i]]
    ext = np.full((n, 2 * smax + 1), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    skip = np.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def _host_ints(v):
    """Lengths (a list, a host or device array) as a flat host int64 array."""
    return np.asarray(to_host(v) if is_device_array(v) else v, dtype=np.int64).reshape(-1)


class CTC(Op):
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
        dt = log_probs.dtype
        lp = log_probs.astype(compute_dtype(dt), copy=False)
        unbatched = lp.ndim == 2
        if unbatched:
            lp = lp[:, None, :]
            targets = targets.reshape(1, -1)
        t_max, n, _ = lp.shape
        xp = array_module(lp)
        in_len_h, tg_len_h = _host_ints(input_lengths), _host_ints(target_lengths)
        if (in_len_h > t_max).any():
            raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value "
                               f"{int(in_len_h.max())} (while checking arguments for ctc_loss_allocate_outputs)")
        ext, skip = _extended(to_host(targets), tg_len_h, n, blank)
        if xp is np:
            in_len, tg_len = in_len_h, tg_len_h
        else:
            in_len, tg_len, ext, skip = (xp.asarray(a) for a in (in_len_h, tg_len_h, ext, skip))
        s_len = ext.shape[1]
        pos = xp.arange(s_len)[None, :]
        live = pos < (2 * tg_len[:, None] + 1)
        emit = np.take_along_axis(lp, np.broadcast_to(ext[None], (t_max, n, s_len)), axis=2)  # (T, N, S)
        emit = np.where(live[None], emit, _NEG)
        alpha = xp.full((t_max, n, s_len), _NEG, lp.dtype)
        alpha[0, :, 0] = emit[0, :, 0]
        if s_len > 1:
            alpha[0, :, 1] = np.where(tg_len > 0, emit[0, :, 1], _NEG)
        for t in range(1, t_max):
            prev = alpha[t - 1]
            shift1 = xp.concatenate([xp.full((n, 1), _NEG), prev[:, :-1]], axis=1)
            shift2 = xp.concatenate([xp.full((n, 2), _NEG), prev[:, :-2]], axis=1)
            shift2 = np.where(skip, shift2, _NEG)
            alpha[t] = _lse(prev, shift1, shift2) + emit[t]
        rows = xp.arange(n)
        last_t = np.maximum(in_len - 1, 0)
        end = 2 * tg_len
        a_end = alpha[last_t, rows, end]
        a_end1 = np.where(tg_len > 0, alpha[last_t, rows, np.maximum(end - 1, 0)], _NEG)
        nll = -_lse(a_end, a_end1)
        ctx.saved = (lp, emit, alpha, ext, skip, in_len, tg_len, nll, live, in_len_h)
        ctx.blank, ctx.reduction, ctx.zero_inf, ctx.unbatched, ctx.dt = blank, reduction, zero_infinity, unbatched, dt
        losses = nll.copy()
        if zero_infinity:
            losses = np.where(np.isinf(losses), 0, losses)
        if reduction == "none":
            return (losses[0] if unbatched else losses).astype(dt)
        if reduction == "sum":
            return as_array(losses.sum(), dt)
        return as_array((losses / np.maximum(tg_len, 1)).mean(), dt)

    @once_differentiable
    def backward(ctx, g):
        lp, emit, alpha, ext, skip, in_len, tg_len, nll, live, in_len_h = ctx.saved
        t_max, n, c = lp.shape
        s_len = ext.shape[1]
        xp = array_module(lp)
        beta = xp.full((t_max, n, s_len), _NEG, lp.dtype)
        rows = xp.arange(n)
        end = 2 * tg_len
        skip_next = np.zeros_like(skip)
        skip_next[:, :-2] = skip[:, 2:]  # may s jump to s+2
        for t in range(t_max - 1, -1, -1):
            start = in_len - 1 == t
            cur = xp.full((n, s_len), _NEG, lp.dtype)
            if t + 1 < t_max:
                nxt = beta[t + 1]
                shift1 = xp.concatenate([nxt[:, 1:], xp.full((n, 1), _NEG)], axis=1)
                shift2 = xp.concatenate([nxt[:, 2:], xp.full((n, 2), _NEG)], axis=1)
                shift2 = np.where(skip_next, shift2, _NEG)
                cur = _lse(nxt, shift1, shift2) + emit[t]
            cur = np.where((in_len - 1 > t)[:, None], cur, _NEG)
            if (in_len_h - 1 == t).any():  # on the host: no device sync per step
                init = xp.full((n, s_len), _NEG, lp.dtype)
                init[rows, end] = emit[t, rows, end]
                has = tg_len > 0
                init[rows[has], end[has] - 1] = emit[t, rows[has], end[has] - 1]
                cur = np.where(start[:, None], init, cur)
            beta[t] = cur
        ab = alpha + beta  # (T, N, S)
        m = ab.max(axis=2, keepdims=True)
        m_safe = np.where(np.isfinite(m), m, 0)
        acc = xp.zeros((t_max, n, c), lp.dtype)
        t_idx, n_idx, s_idx = xp.indices(ab.shape)
        np.add.at(acc, (t_idx, n_idx, np.broadcast_to(ext[None], ab.shape)), np.exp(ab - m_safe))
        with np.errstate(divide="ignore", invalid="ignore"):
            lcab = np.log(acc) + m_safe
            grad = np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)
        valid_t = xp.arange(t_max)[:, None] < in_len[None, :]
        grad = np.where(valid_t[:, :, None], grad, 0)
        if ctx.zero_inf:
            grad = np.where(np.isinf(nll)[None, :, None], 0, grad)
        gd = g._data.astype(lp.dtype)
        if ctx.reduction == "none":
            scale = gd.reshape(1, -1, 1)
        elif ctx.reduction == "sum":
            scale = gd
        else:
            scale = gd / (np.maximum(tg_len, 1) * n)[None, :, None]
        grad = grad * scale
        if ctx.unbatched:
            grad = grad[:, 0, :]
        return Tensor._wrap(grad.astype(ctx.dt)), None, None, None, None, None, None


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist Temporal Classification loss of (T, N, C) log-probabilities.

    >>> F.ctc_loss(lp, targets, input_lengths=[5, 4], target_lengths=[2, 2])
    """
    def raw(v):
        return v._data if isinstance(v, Tensor) else np.asarray(v)  # lists and tuples stay on the host
    return CTC.apply(log_probs, raw(targets), raw(input_lengths), raw(target_lengths), blank, reduction,
                     zero_infinity)
