"""Pooling: max, average, adaptive, power-average and max-unpooling, 1-d to 3-d.

Window reductions loop over the K kernel offsets (kh*kw strided slices of the padded input), each
step a whole-batch NumPy op: no loops over pixels or samples. Max pooling keeps the flat index of
each maximum, as torch's ``return_indices`` does; its gradient scatters into those indices.
"""
import itertools
import math

import numpy as np

from ... import _jit
from ..._device import array_module
from ...autograd.function import Op
from ..._ops._util import compute_dtype, shape_str
from ..._backend.im2col import out_size, pad_array, crop
from ._axis_map import map_axes

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d",
           "max_unpool2d", "max_unpool3d"]


class _PoolGeometry:
    """Kernel, stride, dilation, (lo, hi) padding (hi grows for ceil_mode), in and out sizes, and the
    slice of the padded input that each kernel offset reads."""
    __slots__ = ("kernel", "stride", "dilation", "pads", "in_size", "out", "keys", "offsets")

    def __init__(self, kernel, stride, dilation, padding, in_size, ceil_mode):
        self.kernel, self.stride, self.dilation, self.in_size = kernel, stride, dilation, in_size
        self.out = tuple(out_size(n, k, s, p, p, d, ceil_mode)
                         for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation))
        # the last ceil_mode window may run past the right padding: pad far enough for it
        self.pads = tuple((p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
                          for n, k, s, p, d, o in zip(in_size, kernel, stride, padding, dilation, self.out))
        self.offsets = list(itertools.product(*(range(k) for k in kernel)))
        self.keys = [(Ellipsis,) + tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                                         for o, d, s, n in zip(off, dilation, stride, self.out))
                     for off in self.offsets]


# ---------------------------------------------------------------- max pooling

def _lowest(dtype):
    if dtype.kind in "iu":
        return np.iinfo(dtype).min
    return False if dtype.kind == "b" else -np.inf  # floats, bfloat16 included (its kind is 'V')


def _compiled_pool(geo, *arrays):
    """Whether the compiled 2-d max-pool kernels (``ember._kernels.conv``) serve these arrays."""
    return (len(geo.kernel) == 2 and arrays[0].dtype in _COMPILED_POOL_DTYPES and _jit.enabled_for(*arrays))


_COMPILED_POOL_DTYPES = tuple(np.dtype(t) for t in (np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                                                     np.uint8))


def _planes(a):
    """(..., H, W) as (1, planes, H, W) for the 2-d kernels (a view of the fresh arrays written into)."""
    return a.reshape((1, -1) + a.shape[-2:])


def _offset_dtype(geo):
    return np.uint8 if len(geo.offsets) < 256 else np.int32


def _window_max(xp, geo, want_index):
    """Max over windows and, if wanted, the kernel offset (0..K-1) where each max sits: the first one
    in scan order, or the last NaN (NaN wins), as torch."""
    if _compiled_pool(geo, xp):
        from ..._kernels import conv as K
        shape = xp.shape[:-2] + geo.out
        best, kidx = np.empty(shape, xp.dtype), np.empty(shape, _offset_dtype(geo))
        K.max_pool2d(*geo.kernel, *geo.stride)(_planes(xp), _planes(best), _planes(kidx), *geo.dilation)
        return best, (kidx if want_index else None)
    keys = geo.keys
    best = xp[keys[0]].copy()
    for key in keys[1:]:
        np.maximum(best, xp[key], out=best)  # NaN propagates, as torch's max does
    if not want_index:
        return best, None
    kidx = _first_match(xp, best, geo)
    if xp.dtype.kind not in "iub" and np.isnan(best).any():
        hit = array_module(best).empty(best.shape, bool)
        for k in range(len(keys)):
            np.isnan(xp[keys[k]], out=hit)
            np.copyto(kidx, k, where=hit)
    return best, kidx


def _first_match(xp, best, geo):
    """Kernel offset of the first window element equal to ``best``. Built with byte arithmetic
    (compare, subtract, multiply-add on uint8/int32), which NumPy runs several times faster than
    masked ``copyto``."""
    keys = geo.keys
    dtype = _offset_dtype(geo)
    am = array_module(best)
    kidx = am.zeros(best.shape, dtype)
    found = np.equal(xp[keys[0]], best)
    hit = am.empty(best.shape, bool)
    step = am.empty(best.shape, dtype)
    for k in range(1, len(keys)):
        np.equal(xp[keys[k]], best, out=hit)
        np.greater(hit, found, out=hit)  # equal here and not at an earlier offset
        np.multiply(hit, dtype(k) if dtype is np.uint8 else k, out=step)
        np.add(kidx, step, out=kidx)
        np.logical_or(found, hit, out=found)
    return kidx


def _flat_indices(kidx, geo):
    """Flat index into each (unpadded) input plane of the max chosen at kernel offset ``kidx``."""
    xp = array_module(kidx)
    nd = len(geo.kernel)
    plane_strides = [int(np.prod(geo.in_size[d + 1:])) for d in range(nd)]
    offset_flat = xp.array([sum(o * dil * st for o, dil, st in zip(off, geo.dilation, plane_strides))
                            for off in geo.offsets], np.int64)
    base = 0
    for d in range(nd):
        shape = [1] * nd
        shape[d] = geo.out[d]
        base = base + ((xp.arange(geo.out[d]) * geo.stride[d] - geo.pads[d][0]) * plane_strides[d]).reshape(shape)
    return base + offset_flat[kidx]


class MaxPool(Op):
    def forward(ctx, x, geo, with_indices):
        xp = pad_array(x, geo.pads, _lowest(x.dtype))
        want_index = with_indices or ctx.needs_input_grad[0]
        best, kidx = _window_max(xp, geo, want_index)
        if not want_index:
            return best
        overlap = any(s < d * (k - 1) + 1 for k, s, d in zip(geo.kernel, geo.stride, geo.dilation))
        ctx.geo, ctx.in_shape, ctx.nd, ctx.overlap = geo, x.shape, len(geo.kernel), overlap
        if not with_indices and not overlap:
            ctx.kidx, ctx.idx = kidx, None  # disjoint windows: the backward needs only the offsets
            return best
        idx = _flat_indices(kidx, geo)
        ctx.idx = idx
        if with_indices:
            ctx.mark_non_differentiable(idx)
            return best, idx
        return best

    def backward(ctx, g, *_):
        if ctx.idx is None:
            return WindowScatter.apply(g, ctx.kidx, ctx.geo, ctx.in_shape), None, None
        return PlaneScatter.apply(g, ctx.idx, ctx.in_shape, ctx.nd, ctx.overlap), None, None


def _padded_shape(in_shape, geo):
    nd = len(geo.kernel)
    return in_shape[:-nd] + tuple(n + lo + hi for n, (lo, hi) in zip(geo.in_size, geo.pads))


class WindowScatter(Op):
    """Max-pool gradient for disjoint windows: each output's gradient goes to the window element at
    kernel offset ``kidx``. One strided write per offset; no flat indices, no fancy indexing."""

    def forward(ctx, g, kidx, geo, in_shape):
        ctx.kidx, ctx.geo = kidx, geo
        padded = _padded_shape(in_shape, geo)
        xp = array_module(g)
        if _compiled_pool(geo, g, kidx):
            from ..._kernels import conv as K
            gx = xp.zeros(padded, g.dtype)
            K.max_pool2d_scatter(_planes(g), _planes(kidx), _planes(gx), *geo.stride, *geo.dilation, geo.kernel[1])
            return xp.ascontiguousarray(crop(gx, geo.pads))
        # windows that tile the padded input exactly write every element once: no zero fill needed
        tiled = all(k == s and d == 1 and o * s == n for k, s, d, o, n in
                    zip(geo.kernel, geo.stride, geo.dilation, geo.out, padded[-len(geo.kernel):]))
        gx = (xp.empty if tiled else xp.zeros)(padded, g.dtype)
        hit = xp.empty(kidx.shape, bool)
        for k, key in enumerate(geo.keys):
            np.equal(kidx, k, out=hit)
            np.multiply(g, hit, out=gx[key])
        return xp.ascontiguousarray(crop(gx, geo.pads))

    def backward(ctx, gg):
        return WindowGather.apply(gg, ctx.kidx, ctx.geo), None, None, None


class WindowGather(Op):
    """``x`` read at each window's offset ``kidx``: the adjoint of ``WindowScatter``."""

    def forward(ctx, x, kidx, geo):
        ctx.kidx, ctx.geo, ctx.in_shape = kidx, geo, x.shape
        xp = pad_array(x, geo.pads)
        am = array_module(x)
        out = am.zeros(kidx.shape, x.dtype)
        hit = am.empty(kidx.shape, bool)
        for k, key in enumerate(geo.keys):
            np.equal(kidx, k, out=hit)
            np.copyto(out, xp[key], where=hit)
        return out

    def backward(ctx, g):
        return WindowScatter.apply(g, ctx.kidx, ctx.geo, ctx.in_shape), None, None


class PlaneScatter(Op):
    """Zeros of ``in_shape`` with ``g`` added at ``idx``, flat indices into the last ``nd`` dims (the
    plane) of each leading (batch, channel) position; ``accumulate`` sums repeated indices."""

    def forward(ctx, g, idx, in_shape, nd, accumulate):
        ctx.idx, ctx.nd = idx, nd
        rows = int(np.prod(in_shape[:-nd], dtype=np.int64))
        plane = int(np.prod(in_shape[-nd:], dtype=np.int64))
        xp = array_module(g)
        flat_idx = idx.reshape(rows, -1) + (xp.arange(rows, dtype=np.int64) * plane)[:, None]
        if accumulate:
            out = np.bincount(flat_idx.ravel(), weights=g.reshape(-1), minlength=rows * plane)
            out = out.astype(g.dtype, copy=False)
        else:
            out = xp.zeros(rows * plane, g.dtype)
            out[flat_idx.ravel()] = g.reshape(-1)
        return out.reshape(in_shape)

    def backward(ctx, gg):
        return PlaneGather.apply(gg, ctx.idx, ctx.nd), None, None, None, None


class PlaneGather(Op):
    """``x`` read at flat indices ``idx`` into its last ``nd`` dims: the adjoint of ``PlaneScatter``."""

    def forward(ctx, x, idx, nd):
        ctx.idx, ctx.in_shape, ctx.nd = idx, x.shape, nd
        rows = int(np.prod(x.shape[:-nd], dtype=np.int64))
        return np.take_along_axis(x.reshape(rows, -1), idx.reshape(rows, -1), 1).reshape(idx.shape)

    def backward(ctx, g):
        return PlaneScatter.apply(g, ctx.idx, ctx.in_shape, ctx.nd, True), None, None


# ---------------------------------------------------------------- average pooling

def _divisor(geo, count_include_pad, divisor_override):
    """Per-output-position window size torch divides by (a scalar with ``divisor_override``)."""
    if divisor_override:
        return float(divisor_override)
    div = 1.0
    for d, (n, k, s, o) in enumerate(zip(geo.in_size, geo.kernel, geo.stride, geo.out)):
        p = geo.pads[d][0]
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        shape = [1] * len(geo.out)
        shape[d] = o
        div = div * (end - start).astype(np.float64).reshape(shape)
    return div


def _on_device_of(array, div):
    """The divisor (a host scalar or array) as an array of ``array``'s module."""
    return array_module(array).asarray(div)


class AvgPool(Op):
    def forward(ctx, x, geo, div):
        ctx.geo, ctx.div, ctx.in_shape = geo, div, x.shape
        integer = x.dtype.kind in "iub"
        xp = pad_array(x.astype(np.int64 if integer else compute_dtype(x.dtype), copy=False), geo.pads)
        acc = xp[geo.keys[0]].copy()
        for key in geo.keys[1:]:
            np.add(acc, xp[key], out=acc)
        div = _on_device_of(acc, div)
        if integer:
            return np.trunc(acc / div).astype(x.dtype)
        acc /= div.astype(acc.dtype, copy=False)
        return acc if acc.dtype == x.dtype else acc.astype(x.dtype)

    def backward(ctx, g):
        return AvgPoolAdjoint.apply(g, ctx.geo, ctx.div, ctx.in_shape), None, None


class AvgPoolAdjoint(Op):
    """Each output's gradient spread evenly over its window: the adjoint of ``AvgPool``."""

    def forward(ctx, g, geo, div, in_shape):
        ctx.geo, ctx.div = geo, div
        cdt = compute_dtype(g.dtype)
        xp = array_module(g)
        gd = g.astype(cdt) / _on_device_of(g, div).astype(cdt, copy=False)
        nd = len(geo.kernel)
        padded = in_shape[:-nd] + tuple(n + lo + hi for n, (lo, hi) in zip(geo.in_size, geo.pads))
        gx = xp.zeros(padded, cdt)
        for key in geo.keys:
            view = gx[key]
            np.add(view, gd, out=view)
        gx = xp.ascontiguousarray(crop(gx, geo.pads))
        return gx if gx.dtype == g.dtype else gx.astype(g.dtype)

    def backward(ctx, gg):
        return AvgPool.apply(gg, ctx.geo, ctx.div), None, None, None


# ---------------------------------------------------------------- argument handling

def _tuple(v, nd):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(int(a) for a in v)
    return v * nd if len(v) == 1 else v


def _check_dims(x, nd, name):
    if x.ndim not in (nd + 1, nd + 2) or 0 in x.shape[-nd - 1:] if x.ndim else True:
        if name == "max_pool1d":
            raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
                               f"for input, but got:{shape_str(x.shape)}")
        if x.ndim in (nd + 1, nd + 2):
            raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size "
                               f"for input, but got:{shape_str(x.shape)}")
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, nd, effective):
    kernel = _tuple(kernel_size, nd)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _tuple(stride, nd)
    padding, dilation = _tuple(padding, nd), _tuple(dilation, nd)
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got {shape_str(kernel)}")
    for k, p, d in zip(kernel, padding, dilation):
        limit = ((k - 1) * d + 1) // 2 if effective else k // 2
        if p > limit:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    in_size = tuple(x.shape[-nd:])
    geo = _PoolGeometry(kernel, stride, dilation, padding, in_size, ceil_mode)
    if any(o <= 0 for o in geo.out):
        c = x.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + in_size))}). Calculated output size: "
                           f"({'x'.join(map(str, (c,) + geo.out))}). Output size is too small")
    return geo


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, name):
    _check_dims(input._data, nd, name)
    geo = _geometry(input._data, kernel_size, stride, padding, dilation, ceil_mode, nd, True)
    return MaxPool.apply(input, geo, bool(return_indices))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling over (N, C, L) or (C, L).

    >>> F.max_pool1d(torch.arange(6.).view(1, 1, 6), 2)
    tensor([[[1., 3., 5.]]])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling; with ``return_indices`` also the flat index of each max in its input plane.

    >>> F.max_pool2d(torch.randn(1, 3, 8, 8), 2).shape
    torch.Size([1, 3, 4, 4])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W).

    >>> F.max_pool3d(torch.randn(1, 2, 4, 4, 4), 2).shape
    torch.Size([1, 2, 2, 2, 2])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, name):
    x = input._data
    if nd == 1 and x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {x.ndim}-dimensional tensor for argument #1 'self' "
                           "(while checking arguments for avg_pool1d)")
    _check_dims(x, nd, name)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geo = _geometry(x, kernel_size, stride, padding, 1, ceil_mode, nd, False)
    return AvgPool.apply(input, geo, _divisor(geo, count_include_pad, divisor_override))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling.

    >>> F.avg_pool1d(torch.tensor([[[1., 2., 3., 4.]]]), 2)
    tensor([[[1.5000, 3.5000]]])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling; ``count_include_pad`` and ``divisor_override`` choose the divisor as in torch.

    >>> F.avg_pool2d(torch.ones(1, 1, 4, 4), 2, padding=1, count_include_pad=False).shape
    torch.Size([1, 1, 3, 3])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling.

    >>> F.avg_pool3d(torch.ones(1, 1, 4, 4, 4), 2).shape
    torch.Size([1, 1, 2, 2, 2])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3,
                     "avg_pool3d")


# ---------------------------------------------------------------- adaptive pooling

def _adaptive_sizes(output_size, in_size, nd):
    if isinstance(output_size, (int, np.integer)):
        return (int(output_size),) * nd
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, in_size))
    if len(output_size) != nd:
        raise ValueError(f"output_size must be {nd}")
    return out


def _bounds(n_in, n_out):
    i = np.arange(n_out)
    return (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)  # floor and ceil


def _check_adaptive(x, nd, name, colon=False):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{':' if colon else ''} "
                           f"{shape_str(x.shape)}")
    for i in range(x.ndim - nd, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {shape_str(x.shape)} with dimension {i} being empty")


def _adaptive_avg(input, output_size, nd, name):
    x = input._data
    _check_adaptive(x, nd, name)
    out = _adaptive_sizes(output_size, x.shape[-nd:], nd)
    xp = array_module(x)
    mats = []
    for n, o in zip(x.shape[-nd:], out):
        if n == o:
            mats.append(None)
            continue
        start, end = _bounds(n, o)
        cols = np.arange(n)
        m = ((cols >= start[:, None]) & (cols < end[:, None])) / (end - start)[:, None].astype(np.float64)
        mats.append(m if xp is np else xp.asarray(m))
    if all(m is None for m in mats):
        return input.clone() if hasattr(input, "clone") else input
    return map_axes(input, mats)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length.

    >>> F.adaptive_avg_pool1d(torch.randn(2, 3, 10), 4).shape
    torch.Size([2, 3, 4])
    """
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H, W) (an int, or a tuple whose None entries keep the input size).

    >>> F.adaptive_avg_pool2d(torch.randn(2, 3, 7, 9), (1, 1)).shape
    torch.Size([2, 3, 1, 1])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W).

    >>> F.adaptive_avg_pool3d(torch.randn(1, 2, 5, 6, 7), 2).shape
    torch.Size([1, 2, 2, 2, 2])
    """
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def _adaptive_max_indices(x, out, nd):
    """Flat per-plane index of each adaptive window's max (first occurrence; NaN wins)."""
    in_size = x.shape[-nd:]
    lead = x.shape[:-nd]
    plane_strides = [int(np.prod(in_size[d + 1:])) for d in range(nd)]
    # each window as kmax positions, the short ones padded by repeating their last index
    flat = 0
    kmaxes = []
    for d, (n, o) in enumerate(zip(in_size, out)):
        start, end = _bounds(n, o)
        kmax = int((end - start).max())
        idx = np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1)
        shape = [1] * (2 * nd)
        shape[d], shape[nd + d] = o, kmax
        flat = flat + (idx * plane_strides[d]).reshape(shape)
        kmaxes.append(kmax)
    flat = array_module(x).asarray(flat.reshape(out + (-1,)))  # (*out, K)
    rows = int(np.prod(lead, dtype=np.int64))
    vals = x.reshape(rows, -1)[:, flat.reshape(-1)].reshape((rows,) + flat.shape)
    if vals.dtype.kind not in "iub":
        vals = np.where(np.isnan(vals), np.inf, vals)
    arg = np.argmax(vals, axis=-1)
    return np.take_along_axis(np.broadcast_to(flat, (rows,) + flat.shape), arg[..., None], -1)[..., 0] \
        .reshape(lead + out).astype(np.int64)


def _adaptive_max(input, output_size, return_indices, nd, name):
    x = input._data
    _check_adaptive(x, nd, name, colon=True)
    out = _adaptive_sizes(output_size, x.shape[-nd:], nd)
    in_size = x.shape[-nd:]
    if all(n % o == 0 for n, o in zip(in_size, out)):  # regular windows: the fast max-pool kernel
        k = tuple(n // o for n, o in zip(in_size, out))
        geo = _PoolGeometry(k, k, (1,) * nd, (0,) * nd, tuple(in_size), False)
        return MaxPool.apply(input, geo, bool(return_indices))
    idx = _adaptive_max_indices(x, out, nd)
    y = PlaneGather.apply(input, idx, nd)
    if return_indices:
        from ..._tensor import Tensor
        return y, Tensor._wrap(idx)
    return y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length.

    >>> F.adaptive_max_pool1d(torch.randn(2, 3, 10), 4).shape
    torch.Size([2, 3, 4])
    """
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H, W).

    >>> F.adaptive_max_pool2d(torch.randn(2, 3, 7, 9), 3).shape
    torch.Size([2, 3, 3, 3])
    """
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed (D, H, W).

    >>> F.adaptive_max_pool3d(torch.randn(1, 2, 5, 6, 7), 2).shape
    torch.Size([1, 2, 2, 2, 2])
    """
    return _adaptive_max(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)


# ---------------------------------------------------------------- power-average pooling

def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd):
    kernel = _tuple(kernel_size, nd)
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    out = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    # sign * |out| instead of out: the gradient is zero where the power-sum is zero, as in torch
    return (out.sign() * out.abs()).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over the window of x**p) ** (1/p).

    >>> F.lp_pool1d(torch.ones(1, 1, 4), 2, 2)
    tensor([[[1.4142, 1.4142]]])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-d power-average pooling.

    >>> F.lp_pool2d(torch.ones(1, 1, 4, 4), 2, 2).shape
    torch.Size([1, 1, 2, 2])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-d power-average pooling."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


# ---------------------------------------------------------------- max unpooling

def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd):
    x, idx = input._data, indices._data
    if x.shape != idx.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({shape_str(x.shape)}) "
                           f"but got indices tensor with shape: {shape_str(idx.shape)}")
    kernel = _tuple(kernel_size, nd)
    stride = kernel if stride is None else _tuple(stride, nd)
    padding = _tuple(padding, nd)
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[-nd:], stride, padding, kernel))
    if output_size is None:
        size = default
    else:
        size = tuple(int(s) for s in output_size)[-nd:]
        for d, (s, dflt) in enumerate(zip(size, default)):
            lo, hi = dflt - stride[d], dflt + stride[d]
            if not lo < s < hi:
                raise ValueError(f"invalid output_size \"{list(size)}\" (dim {d} must be between {lo} and {hi})")
    plane = math.prod(size)
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        bad = int(idx.max() if idx.max() >= plane else idx.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, size))}")
    return PlaneScatter.apply(input, idx, x.shape[:-nd] + size, nd, False)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool1d: each value written back at its index, zeros elsewhere.

    >>> y, i = F.max_pool1d(torch.tensor([[[1., 3., 2., 4.]]]), 2, return_indices=True)
    >>> F.max_unpool1d(y, i, 2)
    tensor([[[0., 3., 0., 4.]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d.

    >>> y, i = F.max_pool2d(torch.randn(1, 1, 4, 4), 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2).shape
    torch.Size([1, 1, 4, 4])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool3d."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)
