"""Normalization: batch, layer, group, instance, RMS and local response norm.

Batch, layer and instance norm share one fused Op: statistics, normalisation and affine in a single
forward, and the closed-form backward
    gx = invstd * (h - mean(h) - xhat * mean(h * xhat)),   h = g * weight,
over the statistics axes. Without ``create_graph`` it runs on raw arrays; with it, the same formula in
ember ops, so higher derivatives work (a test checks that both paths agree).

With the compiled kernel layer on (``ember._jit``), float32/float64 batch, layer, group, instance and RMS
norm run fused kernels (``ember._kernels.norm``): one pass over cached data for the statistics and one
for the output, and the same for the backward; the NumPy code below stays the path without Numba.
"""
import numpy as np

from ... import _jit
from ..._kernels import norm as _kernels
from ...autograd.function import Op
from ...autograd.grad_mode import _enabled
from ..._tensor import Tensor
from ... import _dtype as D
from ..._ops._util import compute_dtype, shape_str

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm"]


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class Normalize(Op):
    """(x - mean) / sqrt(var + eps) over ``axes``, then ``* weight + bias`` broadcast as ``param_shape``.

    Returns (y, mean, var); the (biased) statistics are non-differentiable outputs, for running stats.
    """

    def forward(ctx, x, w, b, eps, axes, param_shape):
        ctx.eps, ctx.axes, ctx.param_shape = eps, axes, param_shape
        ctx.w_shape, ctx.b_shape = None if w is None else w.shape, None if b is None else b.shape
        ctx.layout = _kernel_layout(x, w, b, axes, param_shape) if _jit.enabled_for(x) else None
        if ctx.layout:
            return _kernel_forward(ctx, x, w, b)
        dt = x.dtype
        cdt = compute_dtype(dt)
        xc = x.astype(cdt, copy=False)
        mean = xc.mean(axis=axes, keepdims=True, dtype=cdt)
        xhat = xc - mean
        var = np.mean(np.square(xhat), axis=axes, keepdims=True, dtype=cdt)
        invstd = 1.0 / np.sqrt(var + np.dtype(cdt).type(eps))
        xhat *= invstd
        needs = ctx.needs_input_grad
        if needs[0] or needs[1] or needs[2]:
            ctx.xhat, ctx.invstd = xhat, invstd
            ctx.save_for_backward(x, w)
        y = xhat * w.astype(cdt, copy=False).reshape(param_shape) if w is not None else xhat.copy()
        if b is not None:
            y += b.astype(cdt, copy=False).reshape(param_shape)
        if y.dtype != dt:
            y = y.astype(dt)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    def backward(ctx, g, _gm=None, _gi=None):
        x, w = ctx.saved_tensors
        if _enabled[0]:  # create_graph: the same formula in ember ops, differentiable again
            return _normalize_backward_graph(ctx, g, x, w)
        if ctx.layout:
            return _kernel_backward(ctx, g._data, x._data, None if w is None else w._data)
        return _normalize_backward_raw(ctx, g._data, x._data, None if w is None else w._data)


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _kernel_layout(x, w, b, axes, param_shape):
    """How the compiled kernels (``ember._kernels.norm``) see this normalisation, or None (the NumPy path):
    "channels": batch norm's (N, C, *) with per-channel parameters;
    "groups": (N, G, K, L) with statistics over (K, L) and parameters of (G, K, 1) (group and instance norm);
    "rows": statistics over the trailing axes, parameters of their shape or none (layer norm)."""
    if x.dtype not in _KERNEL_DTYPES or x.size == 0 or any(p is not None and p.dtype != x.dtype for p in (w, b)):
        return None
    nd, k = x.ndim, len(axes)
    if nd >= 2 and axes == (0,) + tuple(range(2, nd)) and tuple(param_shape) == _AffineParams.channel(nd):
        return "channels"
    if nd == 4 and axes == (2, 3) and tuple(param_shape) == (x.shape[1], x.shape[2], 1):
        return "groups"
    if axes == tuple(range(nd - k, nd)) and ((w is None and b is None) or tuple(param_shape) == x.shape[nd - k:]):
        return "rows"
    return None


def _kernel_shapes(shape, layout, axes):
    """(array shape, statistics shape, parameter shape) the kernels of ``layout`` work on."""
    if layout == "channels":
        n, c = shape[0], shape[1]
        return (n, c, _count(shape, axes) // n), (c,), (c,)
    if layout == "groups":
        return shape, shape[:2], shape[1:3]
    d = _count(shape, axes)
    rows = _count(shape, range(len(shape))) // d
    return (rows, d), (rows,), (d,)


def _kernel_forward(ctx, x, w, b):
    shape, stats_shape, params_shape = _kernel_shapes(x.shape, ctx.layout, ctx.axes)
    dt = x.dtype
    xk = np.ascontiguousarray(x).reshape(shape)
    wk = np.ones(params_shape, dt) if w is None else w.reshape(params_shape)
    bk = np.zeros(params_shape, dt) if b is None else b.reshape(params_shape)
    mean, var, invstd = np.empty(stats_shape, dt), np.empty(stats_shape, dt), np.empty(stats_shape, dt)
    y = np.empty(shape, dt)
    _forward_kernel(ctx.layout, shape)(xk, wk, bk, float(ctx.eps), y, mean, var, invstd)
    needs = ctx.needs_input_grad
    if needs[0] or needs[1] or needs[2]:
        ctx.mean, ctx.invstd = mean, invstd
        ctx.save_for_backward(x, w)
    keepdims = tuple(1 if i in ctx.axes else s for i, s in enumerate(x.shape))
    mean, var = mean.reshape(keepdims), var.reshape(keepdims)
    ctx.mark_non_differentiable(mean, var)
    return y.reshape(x.shape), mean, var


def _kernel_backward(ctx, g, x, w):
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    shape, _, params_shape = _kernel_shapes(x.shape, ctx.layout, ctx.axes)
    dt = x.dtype
    xk, gk = np.ascontiguousarray(x).reshape(shape), np.ascontiguousarray(g, dtype=dt).reshape(shape)
    gx = np.empty(shape if need_x else (0,) * len(shape), dt)
    gw, gb = np.empty(params_shape, dt), np.empty(params_shape, dt)
    wk = np.ones(params_shape, dt) if w is None else w.reshape(params_shape)
    if ctx.layout == "channels":
        _channels_backward(shape)(gk, xk, ctx.mean, ctx.invstd, wk, True, need_x, gx, gw, gb)
    else:
        _BACKWARD_KERNELS[ctx.layout](gk, xk, ctx.mean, ctx.invstd, wk, need_x, gx, gw, gb)
    return (Tensor._wrap(gx.reshape(x.shape)) if need_x else None,
            Tensor._wrap(gw.reshape(ctx.w_shape)) if need_w else None,
            Tensor._wrap(gb.reshape(ctx.b_shape)) if need_b else None, None, None, None)


_FORWARD_KERNELS = {"groups": _kernels.group_norm_forward, "rows": _kernels.layer_norm_forward}
_BACKWARD_KERNELS = {"groups": _kernels.group_norm_backward, "rows": _kernels.layer_norm_backward}


def _forward_kernel(layout, shape):
    if layout == "channels":
        return _kernels.batch_norm_forward if shape[2] > 1 else _kernels.batch_norm_features_forward
    return _FORWARD_KERNELS[layout]


def _channels_backward(shape):
    """Batch norm's backward kernel for an (N, C, L) array: per channel, or along C when L is 1."""
    return _kernels.batch_norm_backward if shape[2] > 1 else _kernels.batch_norm_features_backward


def _param_axes(ndim, param_shape):
    """Axes a weight of ``param_shape`` (broadcast against the input) is summed over in its gradient."""
    lead = ndim - len(param_shape)
    return tuple(range(lead)) + tuple(lead + i for i, s in enumerate(param_shape) if s == 1)


def _normalize_backward_raw(ctx, g, x, w):
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    cdt = compute_dtype(g.dtype)
    g = g.astype(cdt, copy=False)
    xhat, invstd, axes = ctx.xhat, ctx.invstd, ctx.axes
    pax = _param_axes(g.ndim, ctx.param_shape)
    # batch norm: the weight's reduction axes are the statistics axes, so one pair of sums serves all
    shared = set(axes) == set(pax)
    if shared and g.ndim > 2 and pax == (0,) + tuple(range(2, g.ndim)):
        gsum, gxsum = _channel_sums(g, xhat, ctx.param_shape)  # batch norm over (N, C, *spatial)
    else:
        gsum = np.sum(g, axis=pax, keepdims=True, dtype=cdt) if need_b or (need_x and shared) else None
        gxsum = np.sum(g * xhat, axis=pax, keepdims=True, dtype=cdt) if need_w or (need_x and shared) else None
    gx = gw = gb = None
    if need_w:
        gw = Tensor._wrap(gxsum.reshape(w.shape).astype(w.dtype, copy=False))
    if need_b:
        gb = Tensor._wrap(gsum.reshape(ctx.b_shape).astype(x.dtype, copy=False))
    if need_x:
        if shared:
            # per-channel coefficients: gx = a * g + b * xhat + c, three passes
            m = _count(g.shape, axes)
            scale = invstd if w is None else invstd * w.astype(cdt, copy=False).reshape(ctx.param_shape)
            out = g * scale
            out += xhat * (-scale * gxsum / m)
            out += -scale * gsum / m
        else:
            h = g * w.astype(cdt, copy=False).reshape(ctx.param_shape) if w is not None else g
            mh = h.mean(axis=axes, keepdims=True, dtype=cdt)
            mhx = np.mean(h * xhat, axis=axes, keepdims=True, dtype=cdt)
            out = h - mh
            out -= xhat * mhx
            out *= invstd
        gx = Tensor._wrap(out.astype(x.dtype, copy=False))
    return gx, gw, gb, None, None, None


def _channel_sums(g, xhat, param_shape):
    """Per-channel sum(g) and sum(g * xhat) over (N, *spatial) of NCHW-like arrays, as (1, C, 1, ...):
    a contiguous (N, C, L) view reduces without the transposing reduction over axes (0, 2, ...), and
    einsum forms sum(g * xhat) without a full-size temporary."""
    n, c = g.shape[:2]
    g3, x3 = g.reshape(n, c, -1), xhat.reshape(n, c, -1)
    gsum = g3.sum(axis=2).sum(axis=0)
    gxsum = np.einsum("ncl,ncl->c", g3, x3)
    return gsum.reshape(param_shape), gxsum.reshape(param_shape)


def _normalize_backward_graph(ctx, g, x, w):
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    axes = ctx.axes
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    invstd = ((xc * xc).mean(axes, keepdim=True) + ctx.eps).rsqrt()
    xhat = xc * invstd
    pax = _param_axes(g.ndim, ctx.param_shape)
    gx = gw = gb = None
    if need_w:
        gw = (g * xhat).sum(pax).reshape(w.shape)
    if need_b:
        gb = g.sum(pax)
        if w is not None:
            gb = gb.reshape(w.shape)
    if need_x:
        h = g * w.reshape(ctx.param_shape) if w is not None else g
        gx = invstd * (h - h.mean(axes, keepdim=True) - xhat * (h * xhat).mean(axes, keepdim=True))
    return gx, gw, gb, None, None, None


class BatchNormEval(Op):
    """Batch norm with fixed (running) statistics: y = x * scale + shift per channel of (N, C, *), with
    scale = weight / sqrt(running_var + eps) and shift = bias - running_mean * scale, as torch computes it.
    The running statistics are constants (torch refuses them with requires_grad)."""

    def forward(ctx, x, w, b, running_mean, running_var, eps):
        cdt = compute_dtype(x.dtype)
        mean = running_mean.astype(cdt)
        invstd = 1.0 / np.sqrt(running_var.astype(cdt) + np.dtype(cdt).type(eps))
        scale = invstd * w.astype(cdt, copy=False).reshape(-1) if w is not None else invstd
        shift = -mean * scale
        if b is not None:
            shift += b.astype(cdt, copy=False).reshape(-1)
        ctx.mean, ctx.invstd, ctx.scale = mean, invstd, scale
        ctx.w_shape, ctx.b_shape = None if w is None else w.shape, None if b is None else b.shape
        ctx.kernel = _jit.enabled_for(x) and x.dtype in _KERNEL_DTYPES and x.size > 0
        needs = ctx.needs_input_grad
        if needs[0] or needs[1] or needs[2]:
            ctx.save_for_backward(x, w)
        if ctx.kernel:
            y = np.empty(x.shape, x.dtype)
            _kernels.channel_affine(_channels_view(x), scale, shift, _channels_view(y))
            return y
        pshape = _AffineParams.channel(x.ndim)
        y = x * scale.reshape(pshape)
        y += shift.reshape(pshape)
        return y.astype(x.dtype, copy=False)

    def backward(ctx, g):
        x, w = ctx.saved_tensors
        if _enabled[0]:  # create_graph: ember ops, differentiable again
            return _batch_norm_eval_backward_graph(ctx, g, x, w)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g, x = g._data, x._data
        if ctx.kernel:
            gx = np.empty(g.shape, g.dtype) if need_x else None
            gw, gb = np.empty_like(ctx.mean), np.empty_like(ctx.mean)
            weight = np.ones_like(ctx.mean) if w is None else w._data.reshape(-1)
            g3 = _channels_view(g)
            _channels_backward(g3.shape)(g3, _channels_view(x), ctx.mean, ctx.invstd, weight, False, need_x,
                                         np.empty((0, 0, 0), g.dtype) if gx is None else _channels_view(gx), gw, gb)
        else:
            pshape = _AffineParams.channel(g.ndim)
            gx = (g * ctx.scale.reshape(pshape)).astype(g.dtype, copy=False) if need_x else None
            xhat = (x - ctx.mean.reshape(pshape)) * ctx.invstd.reshape(pshape)
            gb, gw = _channel_sums(g, xhat, (-1,))
        return (None if gx is None else Tensor._wrap(gx),
                Tensor._wrap(gw.reshape(ctx.w_shape).astype(w._data.dtype, copy=False)) if need_w else None,
                Tensor._wrap(gb.reshape(ctx.b_shape).astype(g.dtype, copy=False)) if need_b else None,
                None, None, None)


def _channels_view(a):
    """An (N, C, *) array as the kernels' contiguous (N, C, L)."""
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1)


def _batch_norm_eval_backward_graph(ctx, g, x, w):
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    pshape = _AffineParams.channel(g.ndim)
    axes = (0,) + tuple(range(2, g.ndim))
    invstd = Tensor._wrap(ctx.invstd.reshape(pshape))
    gx = gw = gb = None
    if need_x:
        scale = invstd * w.reshape(pshape) if w is not None else invstd
        gx = g * scale.to(g.dtype)
    if need_w:
        gw = (g * ((x - Tensor._wrap(ctx.mean.reshape(pshape))) * invstd)).sum(axes).reshape(w.shape)
    if need_b:
        gb = g.sum(axes).reshape(ctx.b_shape)
    return gx, gw, gb, None, None, None


class _AffineParams:
    """Broadcast shape of per-channel parameters for an (N, C, *spatial) input."""

    @staticmethod
    def channel(ndim):
        return (-1,) + (1,) * (ndim - 2)


def _update_running(running, batch_stat, momentum):
    """running <- (1 - momentum) * running + momentum * batch_stat, in place, outside autograd."""
    r = running._data
    r *= 1.0 - momentum
    r += momentum * batch_stat.astype(r.dtype, copy=False)
    running._bump_version()


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    """Batch normalisation over (N, C, *): batch statistics (and a running-stats update) when ``training``,
    the running statistics otherwise.

    >>> x = torch.randn(8, 3, 4, 4)
    >>> F.batch_norm(x, torch.zeros(3), torch.ones(3), training=True).mean().abs() < 1e-6
    tensor(True)
    """
    x = input._data
    if training:
        size = x.shape
        n_per_channel = x.size // size[1] if x.ndim > 1 and size[1] else 0
        if n_per_channel == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"torch.Size({list(size)})")
    if x.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {x.ndim}D input)")
    c = x.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t._data.size != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")
    pshape = _AffineParams.channel(x.ndim)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.requires_grad and _enabled[0]:  # torch's autograd check (skipped under no_grad)
            raise RuntimeError(f"The function 'native_batch_norm' is not differentiable with respect to argument "
                               f"'{name}'. This input cannot have requires_grad True.")
    if not training and running_mean is not None and running_var is not None:
        return BatchNormEval.apply(input, weight, bias, running_mean, running_var, eps)
    axes = (0,) + tuple(range(2, x.ndim))
    y, mean, var = Normalize.apply(input, weight, bias, eps, axes, pshape)
    if training and running_mean is not None:
        _update_running(running_mean, mean._data.reshape(-1), momentum)
    if training and running_var is not None:
        n = _count(x.shape, axes)
        _update_running(running_var, var._data.reshape(-1) * (n / max(n - 1, 1)), momentum)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Per-sample, per-channel normalisation over the spatial dims.

    >>> F.instance_norm(torch.randn(2, 3, 5)).shape
    torch.Size([2, 3, 5])
    """
    x = input._data
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = tuple(range(2, x.ndim))
    if _count(x.shape, spatial) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"torch.Size({list(x.shape)})")
    y, mean, var = _grouped_norm(input, x.shape[1], weight, bias, eps)  # a group per channel
    if running_mean is not None:
        _update_running(running_mean, mean._data.reshape(x.shape[:2]).mean(0), momentum)
    if running_var is not None:
        n = _count(x.shape, spatial)
        _update_running(running_var, (var._data.reshape(x.shape[:2]) * (n / max(n - 1, 1))).mean(0), momentum)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing ``normalized_shape`` dims, with an elementwise affine of that shape.

    >>> F.layer_norm(torch.randn(2, 5, 8), (8,)).shape
    torch.Size([2, 5, 8])
    """
    x = input._data
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or x.shape[x.ndim - k:] != normalized_shape or x.ndim < k:
        raise RuntimeError(f"Given normalized_shape={shape_str(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size"
                           f"{shape_str(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != normalized_shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{shape_str(t._data.shape)} and normalized_shape = {shape_str(normalized_shape)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    return Normalize.apply(input, weight, bias, eps, axes, normalized_shape)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise each group of ``C / num_groups`` channels per sample, then a per-channel affine.

    >>> F.group_norm(torch.randn(2, 6, 4, 4), 3).shape
    torch.Size([2, 6, 4, 4])
    """
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {x.ndim}")
    if x.shape[1] % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {shape_str(x.shape)} and num_groups={num_groups}")
    return _grouped_norm(input, num_groups, weight, bias, eps)[0]


def _grouped_norm(input, groups, weight, bias, eps):
    """Normalize over (N, G, K, L): statistics per sample and group of K channels, a per-channel affine
    (parameters as (G, K, 1)). Returns (y, mean, var), the statistics as (N, G, 1, 1)."""
    shape = input._data.shape
    n, c = shape[:2]
    grouped = input.reshape(n, groups, c // groups, _count(shape, range(2, len(shape))))
    pshape = (groups, c // groups, 1)
    y, mean, var = Normalize.apply(grouped, None if weight is None else weight.reshape(pshape),
                                   None if bias is None else bias.reshape(pshape), eps, (2, 3), pshape)
    return y.reshape(shape), mean, var


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x**2) + eps) over the trailing ``normalized_shape`` dims, times ``weight``.

    >>> F.rms_norm(torch.randn(2, 8), (8,)).pow(2).mean(-1)
    tensor([1.0000, 1.0000])
    """
    x = input._data
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if x.shape[x.ndim - k:] != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={shape_str(normalized_shape)}, expected input with shape "
                           f"[*{', '.join(map(str, normalized_shape))}], but got input of size"
                           f"{shape_str(x.shape)}")
    if eps is None:
        import ml_dtypes  # finfo that knows bfloat16
        eps = float(ml_dtypes.finfo(x.dtype if x.dtype.kind not in "iub" else np.float32).eps)
    dims = tuple(range(x.ndim - k, x.ndim))
    if (_jit.enabled_for(x) and x.dtype in _KERNEL_DTYPES and x.size
            and (weight is None or weight._data.dtype == x.dtype)):
        return RMSNormalize.apply(input, weight, float(eps), dims)
    reduced = x.dtype in D.REDUCED_NP  # half and bfloat16 compute in float32, as torch does
    xc = input.float() if reduced else input
    y = xc * (xc.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    if reduced:
        y = y.to(input.dtype)
    return y * weight if weight is not None else y


class RMSNormalize(Op):
    """x / sqrt(mean(x**2) + eps) over the trailing ``dims``, times ``weight``: one compiled pass each way
    (``rms_norm`` takes the composite of ember ops when the kernel layer is off)."""

    def forward(ctx, x, w, eps, dims):
        ctx.eps, ctx.dims = eps, dims
        rows_shape = (-1, _count(x.shape, dims))
        xk = np.ascontiguousarray(x).reshape(rows_shape)
        wk = np.ones(xk.shape[1], x.dtype) if w is None else w.reshape(-1)
        y, rstd = np.empty(xk.shape, x.dtype), np.empty(xk.shape[0], x.dtype)
        _kernels.rms_norm_forward(xk, wk, eps, y, rstd)
        ctx.rstd = rstd
        ctx.save_for_backward(x, w)
        return y.reshape(x.shape)

    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        if _enabled[0]:  # create_graph: the composite in ember ops, differentiable again
            r = (x.pow(2).mean(ctx.dims, keepdim=True) + ctx.eps).rsqrt()
            h = g * w if w is not None else g
            gx = r * h - x * (r * r * r) * (h * x).mean(ctx.dims, keepdim=True) if need_x else None
            lead = tuple(range(x.ndim - len(ctx.dims)))
            gw = ((g * x * r).sum(lead) if lead else g * x * r) if need_w else None
            return gx, gw, None, None
        x = x._data
        dt = x.dtype
        xk = np.ascontiguousarray(x).reshape(-1, _count(x.shape, ctx.dims))
        gk = np.ascontiguousarray(g._data, dtype=dt).reshape(xk.shape)
        wk = np.ones(xk.shape[1], dt) if w is None else w._data.reshape(-1)
        gx, gw = np.empty(xk.shape if need_x else (0, 0), dt), np.empty(xk.shape[1], dt)
        _kernels.rms_norm_backward(gk, xk, ctx.rstd, wk, need_x, gx, gw)
        return (Tensor._wrap(gx.reshape(x.shape)) if need_x else None,
                Tensor._wrap(gw.reshape(w.shape)) if need_w else None, None, None)


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """Normalise each value by the (squared) activity of ``size`` neighbouring channels.

    >>> F.local_response_norm(torch.randn(2, 6, 4, 4), 3).shape
    torch.Size([2, 6, 4, 4])
    """
    from ._pooling import avg_pool2d
    from ._padding import pad
    x = input._data
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    if x.size == 0:
        return input
    n, c = x.shape[:2]
    sq = (input * input).reshape(n, 1, c, -1)
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(sq, (size, 1), stride=1).reshape(x.shape)
    div = (div * alpha + k).pow(beta)
    return input / div

