"""Scaled dot-product attention as one fused op, and multi-head attention built on it.

The fused op computes ``softmax(q @ k^T * scale + mask) @ v`` with NumPy in place and keeps only the
attention probabilities for backward; its gradient is the closed form

    dV = P^T dO,   dP = dO V^T,   dS = P * (dP - rowsum(dP * P)),   dQ = dS K * scale,   dK = dS^T Q * scale

(dropout scales P and dP by the same kept mask). Higher-order gradients re-run the composite form.
"""
import math

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd import grad_mode
from ...autograd.function import Op
from ..._ops._util import compute_dtype, type_name
from ..._ops.random import default_generator
from ._recompute import creating_graph, recompute_grads


def _masked_softmax_(s, has_mask):
    """Softmax over the last axis in place. Rows with every entry masked out give zeros (as torch)."""
    m = s.max(axis=-1, keepdims=True)
    if has_mask:
        m[~np.isfinite(m)] = 0
    s -= m
    np.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    if has_mask:
        total[total == 0] = 1
    s /= total
    return s


def _causal(L, S):
    return np.tril(np.ones((L, S), dtype=bool))


def _repeat_heads(x, groups):
    """k/v with fewer heads than q (grouped-query attention): each kv head serves ``groups`` q heads."""
    return x if groups == 1 else np.repeat(x, groups, axis=-3)


def _sum_heads(g, groups):
    if groups == 1:
        return g
    shp = g.shape
    return g.reshape(shp[:-3] + (shp[-3] // groups, groups) + shp[-2:]).sum(axis=-3)


class _SDPA(Op):
    """Fused attention, output ``out`` only (the common case: no probabilities to materialise)."""

    with_probs = False

    def forward(ctx, q, k, v, mask, dropout_p, is_causal, scale, groups, keep):
        dt = q.dtype
        cdt = compute_dtype(dt)
        ctx.save_for_backward(q, k, v, mask if mask is not None and mask.dtype != np.bool_ else None)
        if cdt != dt:
            q, k, v = q.astype(cdt), k.astype(cdt), v.astype(cdt)
            if mask is not None and mask.dtype != np.bool_:
                mask = mask.astype(cdt)
        kk, vv = _repeat_heads(k, groups), _repeat_heads(v, groups)
        s = np.matmul(q * np.asarray(scale, cdt), np.swapaxes(kk, -1, -2))
        has_mask = mask is not None or is_causal
        if mask is not None:
            if mask.dtype == np.bool_:
                np.copyto(s, -np.inf, where=~mask)
            else:
                s = s + mask if s.shape != np.broadcast_shapes(s.shape, mask.shape) else np.add(s, mask, out=s)
        if is_causal:
            np.copyto(s, -np.inf, where=~_causal(s.shape[-2], s.shape[-1]))
        p = _masked_softmax_(s, has_mask)
        if dropout_p > 0:
            keep = default_generator._rng.random(p.shape, dtype=np.float32) >= dropout_p
            pd = p * keep
            pd *= 1.0 / (1.0 - dropout_p)
        else:
            keep, pd = None, p
        out = np.matmul(pd, vv)
        ctx.keep, ctx.p, ctx.dropout_p, ctx.scale, ctx.groups = keep, p, dropout_p, scale, groups
        ctx.is_causal = is_causal
        ctx.raw = (q, k, v) if cdt != dt else None
        ctx.mask = mask
        if cdt != dt:
            out, pd = out.astype(dt), pd.astype(dt)
        return (out, pd) if ctx.with_probs else out

    def backward(ctx, g_out, g_p=None):
        if creating_graph():
            return _sdpa_double_backward(ctx, g_out, g_p)
        q, k, v = ctx.raw if ctx.raw is not None else (t._data for t in ctx.saved_tensors[:3])
        dt_out = g_out._data.dtype
        go = g_out._data.astype(q.dtype, copy=False)
        p, keep, groups, scale = ctx.p, ctx.keep, ctx.groups, ctx.scale
        kk, vv = _repeat_heads(k, groups), _repeat_heads(v, groups)
        need_q, need_k, need_v, need_m = ctx.needs_input_grad[:4]
        inv = 1.0 / (1.0 - ctx.dropout_p) if keep is not None else 1.0
        dq = dk = dv = dm = None
        if need_v:
            pd = p if keep is None else p * keep * np.asarray(inv, p.dtype)
            dv = _sum_heads(np.matmul(np.swapaxes(pd, -1, -2), go), groups)
        if need_q or need_k or need_m:
            dp = np.matmul(go, np.swapaxes(vv, -1, -2))
            if g_p is not None and np.any(g_p._data):
                dp += g_p._data
            if keep is not None:
                dp *= keep
                dp *= np.asarray(inv, dp.dtype)
            # dS = P * (dP - rowsum(dP * P)), in place in dp
            row = np.einsum("...ij,...ij->...i", dp, p)[..., None]
            dp -= row
            dp *= p
            if need_q:
                dq = np.matmul(dp, kk) * np.asarray(scale, dp.dtype)
            if need_k:
                dk = _sum_heads(np.matmul(np.swapaxes(dp, -1, -2), q) * np.asarray(scale, dp.dtype), groups)
            if need_m:
                dm = dp
        wrap = _wrapper(dt_out)
        return wrap(dq), wrap(dk), wrap(dv), wrap(dm), None, None, None, None, None


class _SDPAWithProbs(_SDPA):
    """Fused attention that also outputs the (post-dropout) probabilities, for ``need_weights``."""

    with_probs = True


def _wrapper(dt):
    def wrap(a):
        return None if a is None else Tensor._wrap(a.astype(dt, copy=False))
    return wrap


def _sdpa_double_backward(ctx, g_out, g_p):
    q, k, v, mask_t = ctx.saved_tensors
    keep = ctx.keep
    mask = ctx.mask if ctx.mask is None or ctx.mask.dtype == np.bool_ else mask_t

    def composite(q, k, v, mask):
        return _sdpa_composite(q, k, v, mask, ctx.is_causal, ctx.scale, ctx.groups, keep, ctx.dropout_p)

    if not ctx.with_probs:
        composite_out = composite

        def composite(q, k, v, mask):  # noqa: F811 - only the output is differentiated
            return composite_out(q, k, v, mask)[0]
    grads = recompute_grads(composite, (q, k, v, mask), (g_out, g_p), ctx.needs_input_grad[:4])
    return grads + (None,) * 5


def _sdpa_composite(q, k, v, mask, is_causal, scale, groups, keep=None, dropout_p=0.0):
    """The same attention in plain ember ops (differentiable to any order)."""
    if groups > 1:
        k = k.repeat_interleave(groups, dim=-3)
        v = v.repeat_interleave(groups, dim=-3)
    s = (q * scale) @ k.transpose(-2, -1)
    allowed = None
    if mask is not None:
        m = mask._data if isinstance(mask, Tensor) else mask
        if m.dtype == np.bool_:
            allowed = m
        else:
            s = s + mask
    if is_causal:
        c = _causal(s.shape[-2], s.shape[-1])
        allowed = c if allowed is None else (allowed & c)
    if allowed is not None:
        s = s.masked_fill(Tensor._wrap(~np.broadcast_to(allowed, s.shape)), float("-inf"))
    m = s.detach().amax(dim=-1, keepdim=True)
    m = m.masked_fill(~m.isfinite(), 0.0)
    e = (s - m).exp()
    total = e.sum(dim=-1, keepdim=True)
    total = total.masked_fill(total == 0, 1.0)
    p = e / total
    if keep is not None:
        p = p * Tensor._wrap(keep.astype(p._data.dtype)) * (1.0 / (1.0 - dropout_p))
    return p @ v, p


def _check_sdpa(query, key, value, attn_mask):
    qd, kd, vd = query._data.dtype, key._data.dtype, value._data.dtype
    if not (qd == kd == vd):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{type_name(query.dtype).lower()} key.dtype: {type_name(key.dtype).lower()} and "
                           f"value.dtype: {type_name(value.dtype).lower()} instead.")
    if attn_mask is not None:
        md = attn_mask._data.dtype
        if md != np.bool_ and md != qd and md.kind != "f":
            raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {_long_name(md)} and  query.dtype: {_long_name(qd)} instead.")


def _long_name(np_dtype):
    return {"int64": "long int", "int32": "int", "float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "uint8": "unsigned char", "int16": "short int", "int8": "signed char",
            "bool": "bool"}.get(np_dtype.name, np_dtype.name)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T * scale + mask) V, fused into one op with a closed-form backward.

    ``attn_mask`` is boolean (True = may attend) or additive; ``is_causal`` applies a lower-triangular
    mask (combined with ``attn_mask`` when both are given). Rows with nothing to attend to give zeros.

    >>> q = k = v = ember.randn(2, 4, 16, 8)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    torch.Size([2, 4, 16, 8])
    """
    _check_sdpa(query, key, value, attn_mask)
    E = query._data.shape[-1]
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    groups = 1
    if enable_gqa and query._data.ndim >= 3 and key._data.shape[-3] != query._data.shape[-3]:
        groups = query._data.shape[-3] // key._data.shape[-3]
    if key._data.shape[-1] != E:
        a, b = query._data.shape, key._data.shape
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{int(np.prod(b[:-2]))}, {b[-1]}] but got: [{int(np.prod(b[:-2]))}, {a[-1]}].")
    mask = attn_mask
    if mask is not None and is_causal and _recording(query, key, value):
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if mask is not None and not (mask.requires_grad and mask._data.dtype != np.bool_):
        mask = mask._data  # a constant: no gradient to route
    return _SDPA.apply(query, key, value, mask, float(dropout_p), bool(is_causal), scale, groups, None)


def _recording(*tensors):
    return grad_mode._enabled[0] and any(t.requires_grad for t in tensors)


def _sdpa_with_weights(q, k, v, mask, dropout_p, scale):
    """Attention that also returns the (post-dropout) probabilities, for need_weights=True."""
    if mask is not None and not (mask.requires_grad and mask._data.dtype != np.bool_):
        mask = mask._data
    return _SDPAWithProbs.apply(q, k, v, mask, float(dropout_p), False, scale, 1, None)


__all__ = ["scaled_dot_product_attention"]
