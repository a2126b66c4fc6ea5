"""Scaled dot-product attention as one fused op, and multi-head attention built on it.

The fused op computes ``softmax(q @ k^T * scale + mask) @ v`` with NumPy in place and keeps only the
attention probabilities for backward; its gradient is the closed form

    dV = P^T dO,   dP = dO V^T,   dS = P * (dP - rowsum(dP * P)),   dQ = dS K * scale,   dK = dS^T Q * scale

(dropout scales P and dP by the same kept mask). Higher-order gradients re-run the composite form.
"""
import math

import numpy as np

from ... import _dtype as D
from ... import _jit
from ..._device import array_module
from ..._kernels import activation as _act_kernels
from ..._tensor import Tensor
from ...autograd.function import Op
from ..._ops._util import compute_dtype, type_name
from ..._ops.random import default_generator
from ._recompute import creating_graph, recompute_grads


def _masked_softmax_(s, has_mask):
    """Softmax over the last axis in place. Rows with every entry masked out give zeros (as torch)."""
    if s.dtype == np.float32 and s.size and s.flags.c_contiguous and _jit.enabled_for(s):
        rows = s.reshape(-1, s.shape[-1])
        _act_kernels.softmax_rows(rows, rows, has_mask)  # reads each entry before writing it: in place is safe
        return s
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


def _causal(L, S, xp=np):
    return xp.tril(xp.ones((L, S), dtype=bool))


def _repeat_heads(x, groups):
    """k/v with fewer heads than q (grouped-query attention): each kv head serves ``groups`` q heads."""
    return x if groups == 1 else np.repeat(x, groups, axis=-3)


def _sum_heads(g, groups):
    if groups == 1:
        return g
    shp = g.shape
    return g.reshape(shp[:-3] + (shp[-3] // groups, groups) + shp[-2:]).sum(axis=-3)


def _query_blocks(L, S, causal_blocks):
    """(i0, i1, kl): query rows [i0, i1) attend to keys [0, kl).

    Under a causal mask a block of queries never sees keys past its last row, so splitting the
    queries into blocks skips the masked upper triangle (about 40% of the work at 4 blocks).
    """
    if not causal_blocks:
        return [(0, L, S)]
    size = max(32, -(-L // 8))
    return [(i0, min(i0 + size, L), min(i0 + size, S)) for i0 in range(0, L, size)]


def _mask_block(mask, i0, i1, kl):
    rows = slice(None) if mask.shape[-2] == 1 else slice(i0, i1)
    cols = slice(None) if mask.shape[-1] == 1 else slice(0, kl)
    return mask[..., rows, cols] if mask.ndim >= 2 else mask[..., cols]


class _SDPA(Op):
    """Fused attention, output ``out`` only (the common case: no probabilities to materialise)."""

    with_probs = False

    def forward(ctx, q, k, v, mask, dropout_p, is_causal, scale, groups, keep):
        dt = q.dtype
        cdt = compute_dtype(dt)
        q_in, k_in, v_in = q, k, v
        mask_in = mask if mask is not None and mask.dtype != np.bool_ else None
        if cdt != dt:
            q, k, v = q.astype(cdt), k.astype(cdt), v.astype(cdt)
            if mask is not None and mask.dtype != np.bool_:
                mask = mask.astype(cdt)
        kk, vv = _repeat_heads(k, groups), _repeat_heads(v, groups)
        L, S = q.shape[-2], kk.shape[-2]
        xp = np if q.__class__ is np.ndarray else array_module(q)
        qs = q * cdt.type(scale)
        out = xp.empty(np.broadcast_shapes(q.shape[:-2], vv.shape[:-2]) + (L, vv.shape[-1]), dtype=cdt)
        blocks = _query_blocks(L, S, is_causal and L >= 64 and not ctx.with_probs)
        # need_weights (with_probs) follows torch's plain softmax there: fully masked rows give nan
        has_mask = (mask is not None or is_causal) and not ctx.with_probs
        saved = []
        for i0, i1, kl in blocks:
            s = np.matmul(qs[..., i0:i1, :], np.swapaxes(kk[..., :kl, :], -1, -2))
            if mask is not None:
                m = _mask_block(mask, i0, i1, kl)
                if m.dtype == np.bool_:
                    np.copyto(s, -np.inf, where=~m)
                elif s.shape == np.broadcast_shapes(s.shape, m.shape):
                    s += m
                else:
                    s = s + m
            if is_causal and kl > i0:  # only keys from i0 on can lie above the diagonal
                above = xp.arange(i0, kl)[None, :] > xp.arange(i0, i1)[:, None]
                np.copyto(s[..., i0:kl], -np.inf, where=above)
            if ctx.with_probs:
                with np.errstate(invalid="ignore"):  # -inf - -inf in fully masked rows: nan, silently
                    p = _masked_softmax_(s, has_mask)
            else:
                p = _masked_softmax_(s, has_mask)
            if dropout_p > 0:
                keep = default_generator._rng.random(p.shape, dtype=np.float32) >= dropout_p  # host draw
                if xp is not np:
                    keep = xp.asarray(keep)
                pd = p * keep
                pd *= 1.0 / (1.0 - dropout_p)
            else:
                keep, pd = None, p
            _matmul_into(pd, vv[..., :kl, :], out[..., i0:i1, :])
            saved.append((i0, i1, kl, p, keep))
        ctx.blocks, ctx.dropout_p, ctx.scale, ctx.groups = saved, dropout_p, scale, groups
        ctx.is_causal = is_causal
        ctx.raw = (q, k, v) if cdt != dt else None
        ctx.mask = mask
        ctx.keep = saved[0][4] if len(saved) == 1 else None  # the double-backward path reuses it
        # The output is saved too (version-checked): rowsum(dP * P) = rowsum(dO * O) costs (L, Ev)
        # work instead of (L, S). Half types keep their float32 output on ctx.
        ctx.out = out if cdt != dt else None
        ctx.save_for_backward(q_in, k_in, v_in, mask_in, out if cdt == dt else None)
        if not ctx.with_probs:
            return out.astype(dt) if cdt != dt else out
        return (out.astype(dt), pd.astype(dt)) if cdt != dt else (out, pd)

    def backward(ctx, g_out, g_p=None):
        if creating_graph():
            return _sdpa_double_backward(ctx, g_out, g_p)
        saved = ctx.saved_tensors
        q, k, v = ctx.raw if ctx.raw is not None else (t._data for t in saved[:3])
        out = ctx.out if ctx.out is not None else saved[4]._data
        dt_out = g_out._data.dtype
        go = g_out._data.astype(q.dtype, copy=False)
        groups = ctx.groups
        xp = np if q.__class__ is np.ndarray else array_module(q)
        sc = q.dtype.type(ctx.scale)
        kk, vv = _repeat_heads(k, groups), _repeat_heads(v, groups)
        need_q, need_k, need_v, need_m = ctx.needs_input_grad[:4]
        inv = q.dtype.type(1.0 / (1.0 - ctx.dropout_p))
        batch = np.broadcast_shapes(q.shape[:-2], kk.shape[:-2])
        L, S = q.shape[-2], kk.shape[-2]
        dq = xp.empty(batch + q.shape[-2:], q.dtype) if need_q else None
        dk = dv = None
        dm = xp.zeros(batch + (L, S), q.dtype) if need_m else None
        gp = g_p._data if g_p is not None and np.any(g_p._data) else None
        # scale folded into the (small) operands once: dQ = dS (K s), dK = dS^T (Q s)
        ks = kk * sc if need_q else None
        qs = q * sc if need_k else None
        rows = None if gp is not None else np.einsum("...ij,...ij->...i", go, out)[..., None]
        # last block first: it spans every key, so dK and dV start as its product (no zero fill)
        for i0, i1, kl, p, keep in reversed(ctx.blocks):
            g = go[..., i0:i1, :]
            if need_v:
                pd = p if keep is None else p * keep * inv
                dv = _accumulate(dv, np.swapaxes(pd, -1, -2), g, kl, batch + vv.shape[-2:])
            if not (need_q or need_k or need_m):
                continue
            dp = np.matmul(g, np.swapaxes(vv[..., :kl, :], -1, -2))
            if gp is not None:
                dp += gp[..., i0:i1, :kl]
            if keep is not None:
                dp *= keep
                dp *= inv
            # dS = P * (dP - rowsum(dP * P)), in place in dp
            dp -= rows[..., i0:i1, :] if rows is not None else np.einsum("...ij,...ij->...i", dp, p)[..., None]
            dp *= p
            if need_m:
                dm[..., i0:i1, :kl] = dp
            if need_q:
                _matmul_into(dp, ks[..., :kl, :], dq[..., i0:i1, :])
            if need_k:
                dk = _accumulate(dk, np.swapaxes(dp, -1, -2), qs[..., i0:i1, :], kl, batch + kk.shape[-2:])
        dk = _sum_heads(dk, groups) if need_k else None
        dv = _sum_heads(dv, groups) if need_v else None
        wrap = _wrapper(dt_out)
        return wrap(dq), wrap(dk), wrap(dv), wrap(dm), None, None, None, None, None


def _matmul_into(a, b, out):
    """a @ b written into the (strided) view ``out``: NumPy in place; CuPy through an assignment (its
    matmul's ``out`` wants contiguous arrays)."""
    if out.__class__ is np.ndarray:
        np.matmul(a, b, out=out)
    else:
        out[...] = np.matmul(a, b)


def _accumulate(acc, a, b, kl, full_shape):
    """acc[..., :kl, :] += a @ b, allocating acc on first use (zeros only where no block writes)."""
    if acc is None:
        if kl == full_shape[-2]:
            return np.matmul(a, b)
        acc = array_module(a).zeros(full_shape, a.dtype)
    acc[..., :kl, :] += np.matmul(a, b)
    return acc


class _SDPAWithProbs(_SDPA):
    """Fused attention that also outputs the (post-dropout) probabilities, for ``need_weights``."""

    with_probs = True


def _wrapper(dt):
    def wrap(a):
        return None if a is None else Tensor._wrap(a.astype(dt, copy=False))
    return wrap


def _sdpa_double_backward(ctx, g_out, g_p):
    q, k, v, mask_t, _ = ctx.saved_tensors
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
        c = _causal(s.shape[-2], s.shape[-1], array_module(s._data))
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
    mask (giving both raises, as torch). Rows with nothing to attend to give zeros.

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
    if mask is not None and is_causal:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if mask is not None and not (mask.requires_grad and mask._data.dtype != np.bool_):
        mask = mask._data  # a constant: no gradient to route
    return _SDPA.apply(query, key, value, mask, float(dropout_p), bool(is_causal), scale, groups, None)


def _sdpa_with_weights(q, k, v, mask, dropout_p, scale):
    """Attention that also returns the (post-dropout) probabilities, for need_weights=True."""
    if mask is not None and not (mask.requires_grad and mask._data.dtype != np.bool_):
        mask = mask._data
    return _SDPAWithProbs.apply(q, k, v, mask, float(dropout_p), False, scale, 1, None)


class _SplitHeads(Op):
    """(A, B, n*E) projections -> n tensors (N, H, L, hd) as strided views, no copy.

    ``batch_first`` says whether (A, B) is (N, L) or (L, N). The backward writes the n head-gradients
    straight into one (A, B, n*E) buffer instead of summing n zero-padded slices.
    """

    def forward(ctx, proj, n, heads, batch_first):
        A, B, nE = proj.shape
        hd = nE // n // heads
        ctx.shape, ctx.n, ctx.heads, ctx.batch_first = proj.shape, n, heads, batch_first
        split = proj.reshape(A, B, n, heads, hd)
        order = (2, 0, 3, 1, 4) if batch_first else (2, 1, 3, 0, 4)
        parts = split.transpose(order)
        return tuple(parts[i] for i in range(n))

    def backward(ctx, *grads):
        if creating_graph():
            return _split_heads_backward_graph(ctx, grads), None, None, None
        A, B, nE = ctx.shape
        n, heads = ctx.n, ctx.heads
        hd = nE // n // heads
        g0 = next(g for g in grads if g is not None)
        full = all(g is not None for g in grads)  # the engine fills missing ones with zeros
        xp = array_module(g0._data)
        out = (xp.empty if full else xp.zeros)((A, B, n, heads, hd), dtype=g0._data.dtype)
        order = (2, 0, 3, 1, 4) if ctx.batch_first else (2, 1, 3, 0, 4)
        view = out.transpose(order)
        for i, g in enumerate(grads):
            if g is not None:
                view[i] = g._data
        return Tensor._wrap(out.reshape(A, B, nE)), None, None, None


def _split_heads_backward_graph(ctx, grads):
    """The head gradients stacked back into (A, B, n*E) with ember ops (differentiable again)."""
    from ... import stack, zeros_like
    g0 = next(g for g in grads if g is not None)
    parts = stack([zeros_like(g0) if g is None else g for g in grads])  # the forward's transposed split
    inverse = (1, 3, 0, 2, 4) if ctx.batch_first else (3, 1, 0, 2, 4)
    return parts.permute(inverse).reshape(ctx.shape)


class _MergeHeads(Op):
    """(N, H, L, hd) -> (A*B, E) rows in the input's layout (one copy), ready for the output projection."""

    def forward(ctx, x, batch_first):
        N, H, L, hd = x.shape
        ctx.shape, ctx.batch_first = x.shape, batch_first
        order = (0, 2, 1, 3) if batch_first else (2, 0, 1, 3)
        return x.transpose(order).copy().reshape(-1, H * hd)  # copy(): C order, on either device

    def backward(ctx, g):
        N, H, L, hd = ctx.shape
        if creating_graph():  # ember ops, differentiable again
            if ctx.batch_first:
                return g.reshape(N, L, H, hd).permute(0, 2, 1, 3), None
            return g.reshape(L, N, H, hd).permute(1, 2, 0, 3), None
        if ctx.batch_first:
            out = g._data.reshape(N, L, H, hd).transpose(0, 2, 1, 3)
        else:
            out = g._data.reshape(L, N, H, hd).transpose(1, 2, 0, 3)
        return Tensor._wrap(out.copy()), None  # C order, on either device


def _canonical_mask(mask, name, dtype):
    """Boolean masks (True = masked out) become additive float masks, as torch's MHA does."""
    if mask is None:
        return None
    md = mask._data.dtype
    if md != np.bool_ and md.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if md == np.bool_:
        out = array_module(mask._data).zeros(mask._data.shape, dtype=dtype)
        out[mask._data] = -np.inf
        return Tensor._wrap(out)
    return mask


def _pad_last(mask):
    from ... import cat, zeros
    return cat([mask, zeros(*(mask.shape[:-1] + (1,)), dtype=mask.dtype, device=mask.device)], -1)


def _mha(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
         out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights, attn_mask,
         use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
         average_attn_weights, is_causal, batch_first):
    """Multi-head attention over (L, N, E) inputs, or (N, L, E) with ``batch_first`` (no transposes)."""
    from ._linear import linear
    from ... import cat, zeros
    A, B, E = query.shape
    N, L = (A, B) if batch_first else (B, A)
    S = key.shape[1] if batch_first else key.shape[0]
    H = num_heads
    hd = E // H
    np_dt = query._data.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", np_dt)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", np_dt)
        if key_padding_mask is not None:
            is_causal = False
    if hd * H != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    # ---- input projections, split into heads as strided views
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if query is key and key is value:
            q, k, v = _SplitHeads.apply(linear(query, in_proj_weight, in_proj_bias), 3, H, batch_first)
        else:
            w_q, w_kv = in_proj_weight[:E], in_proj_weight[E:]
            b_q, b_kv = (None, None) if in_proj_bias is None else (in_proj_bias[:E], in_proj_bias[E:])
            q, = _SplitHeads.apply(linear(query, w_q, b_q), 1, H, batch_first)
            if key is value:
                k, v = _SplitHeads.apply(linear(key, w_kv, b_kv), 2, H, batch_first)
            else:
                b_k, b_v = (None, None) if b_kv is None else (b_kv[:E], b_kv[E:])
                k, = _SplitHeads.apply(linear(key, w_kv[:E], b_k), 1, H, batch_first)
                v, = _SplitHeads.apply(linear(value, w_kv[E:], b_v), 1, H, batch_first)
    else:
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
        q, = _SplitHeads.apply(linear(query, q_proj_weight, b_q), 1, H, batch_first)
        k, = _SplitHeads.apply(linear(key, k_proj_weight, b_k), 1, H, batch_first)
        v, = _SplitHeads.apply(linear(value, v_proj_weight, b_v), 1, H, batch_first)
    # ---- masks to (N or 1, H or 1, L, S)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(L, S)}.")
            attn_mask = attn_mask.reshape(1, 1, L, S)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (N * H, L, S):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(N * H, L, S)}.")
            attn_mask = attn_mask.reshape(N, H, L, S)
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.reshape(1, H, 1, hd).expand(N, H, 1, hd)], 2)
        v = cat([v, bias_v.reshape(1, H, 1, hd).expand(N, H, 1, hd)], 2)
        attn_mask = _pad_last(attn_mask) if attn_mask is not None else None
        key_padding_mask = _pad_last(key_padding_mask) if key_padding_mask is not None else None
    if static_k is not None:
        k = static_k.reshape(N, H, static_k.shape[1], hd)
    if static_v is not None:
        v = static_v.reshape(N, H, static_v.shape[1], hd)
    if add_zero_attn:
        k = cat([k, zeros(N, H, 1, hd, dtype=k.dtype, device=k.device)], 2)
        v = cat([v, zeros(N, H, 1, hd, dtype=v.dtype, device=v.device)], 2)
        attn_mask = _pad_last(attn_mask) if attn_mask is not None else None
        key_padding_mask = _pad_last(key_padding_mask) if key_padding_mask is not None else None
    S = k.shape[2]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise AssertionError(f"expected shape of key_padding_mask to be {(N, S)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(N, 1, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    scale = 1.0 / math.sqrt(hd)
    if need_weights:
        out, weights = _sdpa_with_weights(q, k, v, attn_mask, dropout_p, scale)
        if average_attn_weights:
            weights = weights.mean(dim=1)
    else:
        if attn_mask is not None and not attn_mask.requires_grad:
            attn_mask = attn_mask._data
        out = _SDPA.apply(q, k, v, attn_mask, float(dropout_p), bool(is_causal), scale, 1, None)
        weights = None
    out = linear(_MergeHeads.apply(out, batch_first), out_proj_weight, out_proj_bias)
    return out.reshape(A, B, E), weights


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: inputs (L, N, E), or (L, E) unbatched.

    Returns ``(attn_output, attn_weights)``; weights are ``None`` unless ``need_weights``.
    """
    batched = query.dim() == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if query.shape[-1] != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {query.shape[-1]}")
    out, weights = _mha(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                        dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
                        attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k,
                        static_v, average_attn_weights, is_causal, False)
    if not batched:
        out = out.squeeze(1)
        weights = weights.squeeze(0) if weights is not None else None
    return out, weights


__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]
