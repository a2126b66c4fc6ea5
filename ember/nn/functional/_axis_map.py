"""A linear map along one axis, ``y = M @ x`` over ``axis``: the shared kernel of separable resampling.

Adaptive average pooling, linear/bilinear/bicubic/nearest/area interpolation and the reflect,
replicate and circular paddings are each a fixed (out, in) matrix applied along every spatial axis
in turn. One GEMM per axis is fast, and the backward is the same op with ``M.T``, so every order of
derivative comes for free.
"""
import numpy as np

from ..._device import array_module, to_host
from ...autograd.function import Op
from ..._ops._util import compute_dtype


def apply_matrix(x, axis, m):
    """Raw ``M`` along ``axis`` of array ``x``; the result is contiguous. ``M`` is built on the host (it
    is small) and moved to ``x``'s device here."""
    if x.__class__ is not np.ndarray:
        m = array_module(x).asarray(m)
    shape = x.shape
    n_in = shape[axis]
    before = int(np.prod(shape[:axis], dtype=np.int64))
    after = int(np.prod(shape[axis + 1:], dtype=np.int64))
    if after == 1:
        y = x.reshape(before, n_in) @ m.T
    else:
        y = np.matmul(m, x.reshape(before, n_in, after))
    return y.reshape(shape[:axis] + (m.shape[0],) + shape[axis + 1:])


class AxisMap(Op):
    def forward(ctx, x, axis, m):
        ctx.axis, ctx.m = axis, m
        cdt = compute_dtype(x.dtype)
        if x.dtype.kind in "iub":  # bfloat16's kind is 'V': it takes the float path below
            # integer images: round half up and saturate after each pass, as torch's (and PIL's) uint8 paths
            info = np.iinfo(x.dtype) if x.dtype.kind != "b" else np.iinfo(np.uint8)
            y = np.floor(apply_matrix(x.astype(np.float64), axis, m) + 0.5)
            return np.clip(y, info.min, info.max).astype(x.dtype)
        y = apply_matrix(x.astype(cdt, copy=False), axis, m.astype(cdt, copy=False))
        return y if y.dtype == x.dtype else y.astype(x.dtype)

    def backward(ctx, g):
        return AxisMap.apply(g, ctx.axis, ctx.m.T.copy()), None, None  # C-ordered on either device


def map_axes(x, matrices):
    """Apply ``matrices[i]`` (or nothing, for None) along the i-th of the trailing spatial axes of tensor ``x``."""
    nd = len(matrices)
    # last axis first: for integer images the intermediate rounding then matches torch's width-first passes
    for i in reversed(range(nd)):
        if matrices[i] is not None:
            x = AxisMap.apply(x, x.ndim - nd + i, matrices[i])
    return x


def selection_matrix(index, n_in):
    """0/1 matrix picking ``x[index]`` along an axis (index may repeat: padding, nearest resampling)."""
    index = to_host(index)  # the matrix is built on the host, and moved with the data it maps
    m = np.zeros((len(index), n_in))
    m[np.arange(len(index)), index] = 1.0
    return m


class AxisSelect(Op):
    """``x.take(index, axis)``: a pure selection (exact for any dtype); its backward sums repeats."""

    def forward(ctx, x, axis, index):
        ctx.axis, ctx.index, ctx.n_in = axis, index, x.shape[axis]
        if x.__class__ is not np.ndarray:  # the index is built on the host
            index = array_module(x).asarray(index)
        return np.take(x, index, axis=axis)

    def backward(ctx, g):
        m = selection_matrix(ctx.index, ctx.n_in)
        return AxisMap.apply(g, ctx.axis, np.ascontiguousarray(m.T)), None, None


def select_axes(x, indices):
    """Take ``indices[i]`` (or all, for None) along the i-th of the trailing spatial axes of tensor ``x``."""
    nd = len(indices)
    for i, idx in enumerate(indices):
        if idx is not None:
            x = AxisSelect.apply(x, x.ndim - nd + i, idx)
    return x
