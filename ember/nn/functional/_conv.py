"""Convolution and transposed convolution, 1-d to 3-d, as one batched GEMM over an im2col view.

Three raw kernels share one geometry: the forward convolution, its gradient with respect to the
input (which is also the transposed convolution) and its gradient with respect to the weight. Each
is an Op whose backward calls the other two, so gradients of any order stay convolutions.

Layout: im2col gives (N, G, C/G*K, L) with L the output pixels, and the weight is (G, O/G, C/G*K), so
``weight @ col`` lands directly in (N, O, L), torch's memory layout, with no output transpose.

2-d host convolutions take compiled kernels (``ember._kernels.conv``), chosen per call by
``_use_compiled`` from the channel counts: direct kernels for few channels (forward, input gradient,
weight gradient), im2col + GEMM above; same-size unit-stride layers (padding k-1) build their columns
and add back their column gradients as whole shifted planes (``im2col_same``, ``col2im_same``).
"""
import itertools

import numpy as np

from ... import _jit
from ..._device import array_module
from ...autograd.function import Op
from ..._backend.im2col import windows, strided_view, col2im, pad_array, crop, out_size
from ..._ops._util import compute_dtype, type_name, shape_str
from ... import _dtype as D

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


class _Geometry:
    """Everything about a convolution except the data: kernel, stride, padding, dilation, groups, and
    the input (unpadded) and output spatial sizes."""
    __slots__ = ("kernel", "stride", "pads", "dilation", "groups", "in_size", "out", "K", "L", "channel_major",
                 "depthwise", "block", "compiled", "direct",
                 "direct_weight_grad", "grad_planes")

    def __init__(self, kernel, stride, pads, dilation, groups, in_size, out, out_channels=None, in_channels=None):
        self.kernel, self.stride, self.pads, self.dilation = kernel, stride, pads, dilation
        self.groups, self.in_size, self.out = groups, in_size, out
        self.K = int(np.prod(kernel))
        self.L = int(np.prod(out))
        # im2col layout: (C*K, N*L) makes forward and weight gradient one GEMM each, at the price of
        # transposing the output; worth it when the output has fewer channels than a column has rows
        self.channel_major = groups == 1 and out_channels is not None and out_channels <= in_channels * self.K
        # one input channel per group: per-group GEMMs would be 1-row; shifted multiply-adds instead
        self.depthwise = groups > 1 and in_channels == 1
        self.block = _pixel_block(self, out_channels)
        self.compiled = self.direct = self.direct_weight_grad = False  # set by ``_use_compiled``
        # set by ``Conv.backward`` while it computes both gradients: the input gradient leaves its padded
        # output-gradient planes there for the direct weight gradient (``_shared_grad_planes``)
        self.grad_planes = None


def _use_compiled(geo, x, in_channels, out_channels):
    """Whether the compiled 2-d kernels (``ember._kernels.conv``) serve this convolution of the input
    data ``x`` (never device arrays), and whether the direct one computes its forward and input
    gradient. Decided once per call, so that forward and backward agree."""
    geo.compiled = (len(geo.out) == 2 and geo.groups == 1 and not geo.depthwise
                    and compute_dtype(x.dtype) in (np.float32, np.float64) and _jit.enabled_for(x))
    # the direct kernel beats im2col + GEMM up to about 32x64 channels (at 64x64 on 8x8 planes the
    # GEMM wins), and needs the taps of a row contiguous (unit stride and dilation) and few enough
    # to unroll
    geo.direct = (geo.compiled and geo.stride == (1, 1) and geo.dilation == (1, 1) and geo.kernel[1] <= 7
                  and in_channels * out_channels <= _DIRECT_MAX_CHANNEL_PRODUCT)
    # direct forward + direct weight gradient (reading the forward's and the input gradient's padded
    # planes) beat the GEMM forward (whose im2col matrix the weight gradient's GEMM reuses) up to
    # 32x32 channels: 8.3-8.8 against 10.0-10.2 ms forward and backward at 16x16, batch 32
    geo.direct_weight_grad = geo.direct and in_channels * out_channels <= _DIRECT_WEIGHT_GRAD_MAX_CHANNEL_PRODUCT


_DIRECT_MAX_CHANNEL_PRODUCT = 2048
# the direct input gradient beats the GEMM + ``col2im_same`` one up to about 32x32 channels
_DIRECT_INPUT_GRAD_MAX_CHANNEL_PRODUCT = 1024
_DIRECT_WEIGHT_GRAD_MAX_CHANNEL_PRODUCT = 1024


def _pixel_block(geo, out_channels):
    """How many neighbouring output pixels along the last dim one GEMM row block computes (1: none).

    With few output channels the GEMM has few rows and BLAS runs far below peak, mostly packing the
    huge im2col matrix. Computing ``s`` adjacent pixels at once widens the rows to O*s (the weight
    is laid out s times, shifted by one pixel each) and shrinks the im2col matrix to
    C*K/kw*(kw+s-1) rows per s pixels: a smaller copy and a better-shaped product."""
    if geo.groups != 1 or out_channels is None or out_channels > 8 or geo.stride[-1] != 1 or geo.dilation[-1] != 1:
        return 1
    for s in (4, 2):
        if geo.out[-1] % s == 0:
            return s
    return 1


def _blocked_col(x, geo):
    """im2col for pixel blocks: (N * L/s, C * K/kw * (kw+s-1)), rows (n, *out[:-1], out[-1]/s), a
    contiguous run of kw+s-1 input pixels innermost."""
    xp = pad_array(x, geo.pads)
    s, nd = geo.block, len(geo.out)
    st = xp.strides
    sp = st[2:]
    j = geo.kernel[-1] + s - 1
    shape = (xp.shape[0],) + geo.out[:-1] + (geo.out[-1] // s, xp.shape[1]) + geo.kernel[:-1] + (j,)
    strides = ((st[0],) + tuple(a * b for a, b in zip(sp[:-1], geo.stride[:-1])) + (s * sp[-1], st[1])
               + tuple(a * d for a, d in zip(sp[:-1], geo.dilation[:-1])) + (sp[-1],))
    view = strided_view(xp, shape, strides)
    return view.reshape(xp.shape[0] * geo.L // s, xp.shape[1] * geo.K // geo.kernel[-1] * j)


def _blocked_weight(w, geo):
    """(O, C, *k) -> (O*s, C * K/kw * (kw+s-1)): row (o, i) holds w shifted i pixels along the last dim."""
    s, kw = geo.block, geo.kernel[-1]
    wb = array_module(w).zeros(w.shape[:2] + (s,) + w.shape[2:-1] + (kw + s - 1,), w.dtype)
    for i in range(s):
        wb[:, :, i, ..., i:i + kw] = w
    return np.moveaxis(wb, 2, 1).reshape(w.shape[0] * s, -1)


def _blocked_forward(x, w, geo, col, b=None):
    n, o, s = x.shape[0], w.shape[0], geo.block
    yb = (col @ _blocked_weight(w, geo).T).reshape((n,) + geo.out[:-1] + (geo.out[-1] // s, o, s))
    nd = len(geo.out)
    # (n, *out[:-1], ob, o, s) -> (n, o, *out[:-1], ob, s)
    order = (0, nd + 1) + tuple(range(1, nd + 1)) + (nd + 2,)
    return _relayout(yb.transpose(order), b).reshape((n, o) + geo.out)


def _blocked_weight_grad(g, geo, w_shape, col):
    n, o, s = g.shape[0], w_shape[0], geo.block
    nd = len(geo.out)
    gb = g.reshape((n, o) + geo.out[:-1] + (geo.out[-1] // s, s))
    order = (0,) + tuple(range(2, nd + 2)) + (1, nd + 2)  # -> (n, *out[:-1], ob, o, s)
    gb = array_module(g).ascontiguousarray(gb.transpose(order)).reshape(-1, o * s)
    gwb = (gb.T @ col).reshape((o, s) + w_shape[1:-1] + (w_shape[-1] + s - 1,))
    kw = w_shape[-1]
    gw = gwb[:, 0, ..., :kw].copy()
    for i in range(1, s):
        gw += gwb[:, i, ..., i:i + kw]
    return gw


def _im2col(x, geo):
    """(N, C, *S) -> (C*K, N*L) when ``geo.channel_major``, else (N, G, C/G*K, L) (a view for a 1x1
    kernel with unit stride); pixel-block layout (see ``_blocked_col``) when ``geo.block`` > 1."""
    if geo.block > 1:
        return _blocked_col(x, geo)
    n, c = x.shape[:2]
    if geo.compiled and geo.channel_major:
        from ..._kernels import conv as K
        col = np.empty((c,) + geo.kernel + (n,) + geo.out, x.dtype)
        if _same_size(geo):
            K.im2col_same(np.ascontiguousarray(x).reshape(n, c, -1), col.reshape(col.shape[:4] + (-1,)),
                          geo.pads[0][0], geo.pads[1][0], geo.in_size[1])
        else:  # the (C, KH, KW, N, OH, OW) columns are im2col2d's layout with the whole batch as one chunk
            K.im2col2d(_padded_input(x, geo), col, geo.stride[0], geo.dilation[0], geo.stride[1], geo.dilation[1])
        return col.reshape(c * geo.K, n * geo.L)
    win = windows(pad_array(x, geo.pads), geo.kernel, geo.stride, geo.dilation, geo.out)
    if geo.channel_major:
        nd = len(geo.out)
        order = (1,) + tuple(range(2, 2 + nd)) + (0,) + tuple(range(2 + nd, 2 + 2 * nd))
        return win.transpose(order).reshape(c * geo.K, n * geo.L)
    return win.reshape(n, geo.groups, c // geo.groups * geo.K, geo.L)


def _same_size(geo):
    """Unit stride and dilation, output planes the size of the input's (``im2col_same``'s case)."""
    return geo.stride == (1, 1) and geo.dilation == (1, 1) and geo.out == geo.in_size


def _weight_matrix(w, geo):
    return w.reshape(geo.groups, w.shape[0] // geo.groups, -1)


def _conv_raw(x, w, geo, col=None, b=None, weight_grad=False):
    """Forward convolution (plus ``b`` if given) and what the weight gradient can reuse: the im2col
    matrix, or for the direct kernels the input's padded planes (None if neither).

    With ``weight_grad`` the direct kernel is used only where the weight gradient has a direct
    kernel too, or for the pixel-block layout: otherwise the GEMM forward's im2col matrix, reused by
    the weight gradient, costs less than rebuilding it."""
    if geo.direct and (geo.block > 1 or not weight_grad or geo.direct_weight_grad):
        y, planes = _direct_forward(x, w, geo, b)
        return y, planes if weight_grad and geo.direct_weight_grad and _wide_weight_grad(w.shape) else None
    if geo.depthwise:
        return _add_bias(_depthwise_forward(x, w, geo), b), None
    if geo.block > 1 and not np.isfinite(x).all():
        geo.block = 1  # the pixel-block weights hold zeros, and zero * inf would put NaN where torch has none
    if col is None:
        col = _im2col(x, geo)
    n, o = x.shape[0], w.shape[0]
    if geo.block > 1:
        return _blocked_forward(x, w, geo, col, b), col
    if geo.channel_major:
        y = (w.reshape(o, -1) @ col).reshape(o, n, geo.L).transpose(1, 0, 2)
        return _relayout(y, b).reshape((n, o) + geo.out), col
    if geo.groups == 1:
        y = np.matmul(w.reshape(o, -1), col[:, 0])
    else:
        y = np.matmul(_weight_matrix(w, geo), col)
    return _add_bias(y.reshape((n, o) + geo.out), b), col


def _add_bias(y, b):
    if b is not None:
        y += b.reshape((1, -1) + (1,) * (y.ndim - 2))
    return y


def _relayout(view, b):
    """Contiguous copy of the (N, O, ...) ``view``, with the bias added in the same pass."""
    xp = array_module(view)
    if b is None:
        return xp.ascontiguousarray(view)
    out = xp.empty(view.shape, view.dtype)
    return np.add(view, b.reshape((1, -1) + (1,) * (view.ndim - 2)), out=out)


def _offset_blocks(g, w, geo, n, c, span):
    """Column gradient W^T g, returned as ``block(k)``: the (N, C, span) part of kernel offset k.

    Without groups the weight rows are reordered kernel-offset-major, so each block is contiguous per
    sample and col2im streams through it."""
    o = w.shape[0]
    if geo.groups == 1:
        wk = w.reshape(o, c, geo.K).transpose(2, 1, 0).reshape(geo.K * c, o)
        dcol = np.matmul(wk, g.reshape(n, o, span)).reshape(n, geo.K, c, span)
        return lambda k: dcol[:, k]
    gm = g.reshape(n, geo.groups, o // geo.groups, span)
    dcol = np.matmul(_weight_matrix(w, geo).transpose(0, 2, 1), gm).reshape(n, c, geo.K, span)
    return lambda k: dcol[:, :, k]


def _input_grad_raw(g, w, geo, x_shape):
    n, c = x_shape[:2]
    direct = geo.direct and (w.shape[0] * w.shape[1] <= _DIRECT_INPUT_GRAD_MAX_CHANNEL_PRODUCT
                             or not _same_size(geo))
    if direct and np.isfinite(w).all():  # a non-finite weight times the zero border would give NaN
        return _direct_input_grad(g, w, geo, x_shape)
    if geo.compiled and _same_size(geo):
        return _same_size_input_grad(g, w, geo, x_shape)
    if geo.compiled:
        return _compiled_input_grad(g, w, geo, x_shape)
    if geo.depthwise:
        return _depthwise_input_grad(g, w, geo, x_shape)
    # the plane and wide-row layouts multiply the weight by zero padding: only for a finite weight
    if all(st == 1 for st in geo.stride) and len(geo.out) > 1 and np.isfinite(w).all():
        if geo.groups == 1 and w.shape[0] <= 32:
            return _input_grad_planes(g, w, geo, x_shape)
        return _input_grad_wide(g, w, geo, x_shape)
    blocks = _offset_blocks(g, w, geo, n, c, geo.L)
    padded = (n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(geo.in_size, geo.pads))
    gx = col2im(lambda k: blocks(k).reshape((n, c) + geo.out), padded, geo.kernel, geo.stride, geo.dilation,
                geo.out)
    return array_module(gx).ascontiguousarray(crop(gx, geo.pads))


def _input_grad_planes(g, w, geo, x_shape):
    """Unit-stride input gradient on whole padded planes, channel-major: the output gradient is
    spread over (O, N, *padded) with zeros outside the output, so the column gradient of kernel
    offset k is one contiguous (C*N*plane) block that lands on the flat (C, N, *padded) input
    gradient shifted by that offset's flat distance. col2im becomes K contiguous 1-d adds (the
    zero columns add nothing, also where they spill into the next plane). Pays off when the
    accumulation outweighs the larger GEMM, i.e. with few output channels."""
    n, c = x_shape[:2]
    o = w.shape[0]
    nd = len(geo.out)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(geo.in_size, geo.pads))
    plane = int(np.prod(padded))
    plane_strides = [int(np.prod(padded[d + 1:])) for d in range(nd)]
    starts = [sum(i * d * st for i, d, st in zip(off, geo.dilation, plane_strides)) for off in _offsets(geo)]
    xp = array_module(g)
    spread = xp.zeros((o, n) + padded, g.dtype)
    spread[(slice(None), slice(None)) + tuple(slice(0, m) for m in geo.out)] = g.swapaxes(0, 1)
    wk = w.reshape(o, c, geo.K).transpose(2, 1, 0).reshape(geo.K * c, o)
    total = c * n * plane
    dcol = (wk @ spread.reshape(o, n * plane)).reshape(geo.K, total)
    buf = xp.zeros(total + starts[-1], g.dtype)
    for k, start in enumerate(starts):
        view = buf[start:start + total]
        np.add(view, dcol[k], out=view)
    gx = crop(buf[:total].reshape((c, n) + padded), geo.pads)
    return xp.ascontiguousarray(gx.swapaxes(0, 1))


def _input_grad_wide(g, w, geo, x_shape):
    """Unit-stride input gradient on "wide rows": the output gradient is laid out with the padded
    input's row length (zeros in the extra columns), so every kernel offset's contribution is one
    contiguous span of each flattened input plane. col2im then adds long contiguous runs instead of
    short rows, at the price of a slightly wider GEMM."""
    n, c = x_shape[:2]
    o = w.shape[0]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(geo.in_size, geo.pads))
    plane_strides = [int(np.prod(padded[d + 1:])) for d in range(len(padded))]
    span = geo.out[0] * plane_strides[0]
    slack = sum((k - 1) * d * st for k, d, st in zip(geo.kernel[1:], geo.dilation[1:], plane_strides[1:]))
    xp = array_module(g)
    wide = xp.zeros((n, o, geo.out[0]) + padded[1:], g.dtype)
    wide[(Ellipsis,) + tuple(slice(0, m) for m in geo.out[1:])] = g
    blocks = _offset_blocks(wide, w, geo, n, c, span)
    buf = xp.zeros((n, c, int(np.prod(padded)) + slack), g.dtype)
    for k, offset in enumerate(itertools.product(*(range(m) for m in geo.kernel))):
        start = sum(i * d * st for i, d, st in zip(offset, geo.dilation, plane_strides))
        view = buf[:, :, start:start + span]
        np.add(view, blocks(k), out=view)
    gx = buf[:, :, :int(np.prod(padded))].reshape((n, c) + padded)
    return xp.ascontiguousarray(crop(gx, geo.pads))


def _weight_grad_raw(x, g, geo, w_shape, col=None):
    if geo.direct_weight_grad:
        return _direct_weight_grad(x, g, geo, w_shape, col)
    if geo.compiled and col is None:
        return _compiled_weight_grad(x, g, geo, w_shape)
    if geo.depthwise:
        return _depthwise_weight_grad(x, g, geo, w_shape)
    if col is None:
        col = _im2col(x, geo)
    n = g.shape[0]
    if geo.block > 1:
        return _blocked_weight_grad(g, geo, w_shape, col)
    if geo.channel_major:
        g2 = array_module(g).ascontiguousarray(g.reshape(n, w_shape[0], geo.L).transpose(1, 0, 2))
        g2 = g2.reshape(w_shape[0], -1)
        return (g2 @ col.T).reshape(w_shape)
    gm = g.reshape(n, geo.groups, w_shape[0] // geo.groups, geo.L)
    # one GEMM per sample over its L pixels, then a sum over the batch
    gw = np.matmul(gm, col.transpose(0, 1, 3, 2)).sum(0)
    return gw.reshape(w_shape)


# ---------------------------------------------------------------- depthwise (one input channel per group)
# Channel c feeds outputs c*m .. c*m+m-1 (m, the depth multiplier, is usually 1). Each kernel offset is
# one whole-batch multiply-add of a shifted input view: K passes, no per-group GEMMs.

def _offsets(geo):
    return itertools.product(*(range(k) for k in geo.kernel))


class _Wide:
    """Flat "wide row" addressing of a unit-stride window op: plane p of the padded input, flattened,
    and output rows as long as the padded rows, so that kernel offset k reads the contiguous span
    ``flat[start_k : start_k + span]``. The extra columns of each output row are garbage (forward) or
    must be zero (gradients)."""

    def __init__(self, geo):
        self.padded = tuple(s + lo + hi for s, (lo, hi) in zip(geo.in_size, geo.pads))
        strides = [int(np.prod(self.padded[d + 1:])) for d in range(len(self.padded))]
        self.span = geo.out[0] * strides[0]
        self.size = int(np.prod(self.padded))
        slack = sum((k - 1) * d * st for k, d, st in zip(geo.kernel[1:], geo.dilation[1:], strides[1:]))
        self.flat_size = self.size + slack
        self.starts = [sum(i * d * st for i, d, st in zip(off, geo.dilation, strides)) for off in _offsets(geo)]
        self.wide_out = (geo.out[0],) + self.padded[1:]
        self.narrow = (Ellipsis,) + tuple(slice(0, m) for m in geo.out[1:])

    def flat_input(self, x, geo):
        n, c = x.shape[:2]
        buf = array_module(x).zeros((n, c, self.flat_size), x.dtype)
        inner = buf[:, :, :self.size].reshape((n, c) + self.padded)
        inner[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(geo.in_size, geo.pads))] = x
        return buf

    def widen(self, g):
        """(N, O, *out) -> (N, O, span) with zeros in the extra columns."""
        wide = array_module(g).zeros(g.shape[:2] + self.wide_out, g.dtype)
        wide[self.narrow] = g
        return wide.reshape(g.shape[:2] + (self.span,))


def _use_wide(geo):
    return all(s == 1 for s in geo.stride) and len(geo.out) > 1


def _depthwise_forward(x, w, geo):
    n, c = x.shape[:2]
    m = w.shape[0] // c
    wk = w.reshape(c, m, geo.K)
    xp = array_module(x)
    if _use_wide(geo):
        wd = _Wide(geo)
        flat = wd.flat_input(x, geo)
        y = xp.zeros((n, c, m, wd.span), x.dtype)
        tmp = np.empty_like(y)
        for k, start in enumerate(wd.starts):
            np.multiply(flat[:, :, None, start:start + wd.span], wk[:, :, k, None], out=tmp)
            y += tmp
        y = y.reshape((n, c * m) + wd.wide_out)[wd.narrow]
        return xp.ascontiguousarray(y)
    win = windows(pad_array(x, geo.pads), geo.kernel, geo.stride, geo.dilation, geo.out)
    ones = (1,) * len(geo.out)
    wk = wk.reshape((c, m, geo.K) + ones)
    y = xp.zeros((n, c, m) + geo.out, x.dtype)
    tmp = np.empty_like(y)
    for k, off in enumerate(_offsets(geo)):
        np.multiply(win[(slice(None), slice(None)) + off][:, :, None], wk[:, :, k], out=tmp)
        y += tmp
    return y.reshape((n, c * m) + geo.out)


def _depthwise_input_grad(g, w, geo, x_shape):
    n, c = x_shape[:2]
    m = w.shape[0] // c
    wk = w.reshape(c, m, geo.K)
    xp = array_module(g)
    if _use_wide(geo):
        wd = _Wide(geo)
        gm = wd.widen(g).reshape(n, c, m, wd.span)
        buf = xp.zeros((n, c, wd.flat_size), g.dtype)
        for k, start in enumerate(wd.starts):
            part = gm[:, :, 0] * wk[:, 0, k, None] if m == 1 else (gm * wk[:, :, k, None]).sum(2)
            view = buf[:, :, start:start + wd.span]
            np.add(view, part, out=view)
        gx = buf[:, :, :wd.size].reshape((n, c) + wd.padded)
        return xp.ascontiguousarray(crop(gx, geo.pads))
    ones = (1,) * len(geo.out)
    gm = g.reshape((n, c, m) + geo.out)
    wk = wk.reshape((c, m, geo.K) + ones)
    padded = (n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(geo.in_size, geo.pads))
    gx = xp.zeros(padded, g.dtype)
    for k, off in enumerate(_offsets(geo)):
        key = (slice(None), slice(None)) + tuple(slice(o * d, o * d + s * (size - 1) + 1, s) for o, d, s, size in
                                                 zip(off, geo.dilation, geo.stride, geo.out))
        part = gm[:, :, 0] * wk[:, 0, k] if m == 1 else (gm * wk[:, :, k]).sum(2)
        view = gx[key]
        np.add(view, part, out=view)
    return xp.ascontiguousarray(crop(gx, geo.pads))


def _depthwise_weight_grad(x, g, geo, w_shape):
    n, c = x.shape[:2]
    m = w_shape[0] // c
    gw = array_module(g).empty((c, m, geo.K), g.dtype)
    if _use_wide(geo):
        wd = _Wide(geo)
        flat = wd.flat_input(x, geo)
        gm = wd.widen(g).reshape(n, c, m, wd.span)  # zero extra columns: the garbage reads drop out
        for k, start in enumerate(wd.starts):
            gw[:, :, k] = np.einsum("ncml,ncl->cm", gm, flat[:, :, start:start + wd.span])
        return gw.reshape(w_shape)
    win = windows(pad_array(x, geo.pads), geo.kernel, geo.stride, geo.dilation, geo.out)
    gm = g.reshape(n, c, m, geo.L)
    for k, off in enumerate(_offsets(geo)):
        xs = win[(slice(None), slice(None)) + off].reshape(n, c, geo.L)
        gw[:, :, k] = np.einsum("ncml,ncl->cm", gm, xs)
    return gw.reshape(w_shape)


# ---------------------------------------------------------------- compiled 2-d path (``ember._kernels.conv``)
# Input gradient: the GEMM W^T g over chunks of the batch, the output gradient moved into the GEMM's
# layout and the columns accumulated back (col2im) by compiled passes; each chunk's buffers are about
# 1 MB, so they stay in cache and no page of a fresh multi-MB array is faulted in. Weight gradient
# when the forward kept no im2col matrix (the direct kernel): the chunk's columns are rebuilt by a
# compiled pass in exactly the layout the GEMM wants. Forward and, at unit stride with few channels,
# the input gradient: the direct kernel. Same-size layers with many channels: the input gradient by
# ``_same_size_input_grad`` (GEMMs from the gradient's own layout, ``col2im_same``).

_CHUNK_BYTES = 1 << 20


class _Chunks:
    """Column geometry of a compiled convolution over a batch of ``n`` samples of ``c`` channels: the
    column array is (C, KH, J, nb, OH, Q) for a chunk of nb samples (see ``ember._kernels.conv``).
    ``width`` is the output row length the columns cover: OW, or the padded input's for "wide rows"
    (``ember._kernels.conv.im2col_wide``)."""

    def __init__(self, geo, n, c, dtype, width=None):
        s, (kh, kw), (oh, ow) = geo.block, geo.kernel, geo.out
        self.geo, self.n, self.s = geo, n, s
        self.wide = width is not None
        self.width = width if self.wide else ow
        self.q = self.width // s
        self.rows = (c, kh, kw + s - 1 if s > 1 else kw)
        self.step, self.dw = geo.stride[1] * s, geo.dilation[1]
        per_sample = c * kh * self.rows[2] * oh * self.q * np.dtype(dtype).itemsize
        self.nb = max(1, min(n, _CHUNK_BYTES // per_sample))
        self.dtype = dtype

    def __iter__(self):
        """(start, stop) of each chunk."""
        return ((n0, min(self.n, n0 + self.nb)) for n0 in range(0, self.n, self.nb))

    def col_buffer(self):
        return np.empty(self.rows + (self.nb, self.geo.out[0], self.q), self.dtype)

    def cols(self, xp, n0, n1, buf):
        """Columns of samples n0:n1 of the padded input (flattened planes for wide rows), as a
        (C*KH*J, (n1-n0)*OH*Q) matrix."""
        from ..._kernels import conv as K
        col = buf[:, :, :, :n1 - n0]
        if self.wide:
            K.im2col_wide(xp[n0:n1], col.reshape(col.shape[:4] + (-1,)), self.width, self.s)
        else:
            K.im2col2d(xp[n0:n1], col, self.geo.stride[0], self.geo.dilation[0], self.step, self.dw)
        return col.reshape(int(np.prod(self.rows)), -1)

    def grad_block(self, g, n0, n1, buf):
        """Output gradient of samples n0:n1 in the GEMM's layout (O*s, (n1-n0)*OH*Q)."""
        from ..._kernels import conv as K
        gb = buf[:, :, :n1 - n0]
        K.block_grad(g[n0:n1], gb)
        return gb.reshape(gb.shape[0] * self.s, -1)

    def grad_buffer(self, o):
        return np.empty((o, self.s, self.nb, self.geo.out[0], self.q), self.dtype)


def _compiled_weight(w, geo):
    """(O*s, C*KH*J): the weight rows the column matrix is multiplied by (shifted copies for s > 1)."""
    return _blocked_weight(w, geo) if geo.block > 1 else w.reshape(w.shape[0], -1)


def _padded_input(x, geo):
    """The padded input (N, C, Hp, Wp), contiguous, by the compiled pass of ``_wide_planes``."""
    flat, width = _wide_planes(x, geo.pads, 1)
    return flat.reshape(x.shape[:2] + (-1, width))


def _compiled_weight_grad(x, g, geo, w_shape):
    n, c = x.shape[:2]
    width = geo.in_size[1] + sum(geo.pads[1])
    # pixel blocks on wide rows: each kernel offset's columns are one long strided copy instead of OH
    # rows of OW/s; the extra columns read real inputs against zero gradients, so only finite inputs
    if (geo.block > 1 and geo.stride == (1, 1) and geo.dilation == (1, 1) and width % geo.block == 0
            and np.isfinite(x).all()):
        ch = _Chunks(geo, n, c, x.dtype, width)
        xp = _wide_planes(x, geo.pads, ch.rows[2])[0]
        wide = np.zeros(g.shape[:3] + (width,), g.dtype)
        wide[..., :g.shape[3]] = g
        g = wide
    else:
        ch = _Chunks(geo, n, c, x.dtype)
        xp, g = _padded_input(x, geo), np.ascontiguousarray(g)
    buf, gbuf = ch.col_buffer(), ch.grad_buffer(w_shape[0])
    gwb = np.zeros((w_shape[0] * ch.s, int(np.prod(ch.rows))), x.dtype)
    for n0, n1 in ch:
        gwb += ch.grad_block(g, n0, n1, gbuf) @ ch.cols(xp, n0, n1, buf).T
    if geo.block == 1:
        return gwb.reshape(w_shape)
    s, kw = geo.block, w_shape[-1]
    gwb = gwb.reshape((w_shape[0], s) + w_shape[1:-1] + (kw + s - 1,))
    gw = gwb[:, 0, ..., :kw].copy()
    for i in range(1, s):
        gw += gwb[:, i, ..., i:i + kw]
    return gw


def _compiled_input_grad(g, w, geo, x_shape):
    from ..._kernels import conv as K
    n, c = x_shape[:2]
    ch = _Chunks(geo, n, c, g.dtype)
    g, wt = np.ascontiguousarray(g), _compiled_weight(w, geo).T
    gbuf = ch.grad_buffer(w.shape[0])
    gxp = np.zeros((n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(geo.in_size, geo.pads)), g.dtype)
    for n0, n1 in ch:
        dcol = wt @ ch.grad_block(g, n0, n1, gbuf)
        K.col2im2d(dcol.reshape(ch.rows + (n1 - n0, geo.out[0], ch.q)), gxp[n0:n1], geo.stride[0],
                   geo.dilation[0], ch.step, ch.dw)
    return np.ascontiguousarray(crop(gxp, geo.pads))


_SAME_SIZE_CHUNK_BYTES = 1 << 18


def _same_size_input_grad(g, w, geo, x_shape):
    """Input gradient when output planes have the input's size (``_same_size``): per chunk of
    samples, one GEMM W^T g straight from the output gradient's (N, O, pixels) layout into
    (samples, C*KH*KW, pixels) columns, which ``col2im_same`` adds back in contiguous runs. Chunks of
    about 256 KB of columns stay in cache between the GEMM and col2im."""
    from ..._kernels import conv as K
    n, c = x_shape[:2]
    o, L = w.shape[0], geo.L
    wt = np.ascontiguousarray(w.reshape(o, -1).T)
    g = np.ascontiguousarray(g).reshape(n, o, L)
    nb = max(1, min(n, _SAME_SIZE_CHUNK_BYTES // (c * geo.K * L * g.itemsize)))
    dcol = np.empty((nb, c * geo.K, L), g.dtype)
    gx = np.empty((n, c) + geo.in_size, g.dtype)
    flat = gx.reshape(n, c, L)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        part = np.matmul(wt, g[n0:n1], out=dcol[:n1 - n0])
        K.col2im_same(part.reshape((n1 - n0, c) + geo.kernel + (L,)), flat[n0:n1], geo.pads[0][0], geo.pads[1][0],
                      geo.in_size[1])
    return gx


def _wide_planes(x, pads, kw):
    """(N, C, H, W) -> (N, C, Hp*Wp + kw - 1): padded planes, flattened, with zero slack for the
    direct kernel's garbage columns of the last row."""
    from ..._kernels import conv as K
    n, c, h, w = x.shape
    (top, bottom), (left, right) = pads
    hp, wp = h + top + bottom, w + left + right
    flat = np.empty((n, c, hp * wp + kw - 1), x.dtype)
    K.pad_planes(x, flat, top, left, wp)
    return flat, wp


def _direct_forward(x, w, geo, b):
    """The output and the input's padded planes (with the weight gradient kernel's slack, so that it
    can reuse them)."""
    from ..._kernels import conv as K
    n, o = x.shape[0], w.shape[0]
    kw = geo.kernel[1]
    xf, width = _wide_planes(x, geo.pads, _weight_grad_taps(kw))
    out = np.empty((n, o) + geo.out, x.dtype)
    bias = np.zeros(o, x.dtype) if b is None else np.ascontiguousarray(b, x.dtype)
    K.direct_conv2d(kw, o)(xf, np.ascontiguousarray(w), bias, out, width)
    return out, xf


def _weight_grad_taps(kw):
    return -(-kw // 3) * 3  # the weight gradient kernel computes taps three at a time


def _direct_input_grad(g, w, geo, x_shape):
    """The input gradient is a direct convolution too: of the output gradient, padded by the kernel
    size less one on every side, with the weight flipped and its two channel dims swapped. Less the
    convolution's own padding, where the kernel is at least that wide: the gradient of the unpadded
    input comes out directly, with no border rows and columns computed only to be cropped."""
    from ..._kernels import conv as K
    (kh, kw), c = geo.kernel, x_shape[1]
    g_pads = tuple((k - 1 - lo, k - 1 - hi) for k, (lo, hi) in zip(geo.kernel, geo.pads))
    if min(min(p) for p in g_pads) >= 0:
        out, cropped = geo.in_size, None
    else:
        g_pads = ((kh - 1, kh - 1), (kw - 1, kw - 1))
        out, cropped = tuple(s + lo + hi for s, (lo, hi) in zip(geo.in_size, geo.pads)), geo.pads
    gf, width = _wide_planes(g, g_pads, kw)
    if geo.grad_planes is not None and cropped is None:
        geo.grad_planes["g"] = (g, gf, g_pads)
    wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    gx = np.empty((x_shape[0], c) + out, g.dtype)
    K.direct_conv2d(kw, c)(gf, wt, np.zeros(c, g.dtype), gx, width)
    return gx if cropped is None else np.ascontiguousarray(crop(gx, cropped))


def _direct_weight_grad(x, g, geo, w_shape, planes=None):
    """``planes``: the input's padded planes from the direct forward, or None."""
    from ..._kernels import conv as K
    (kh, kw), (oh, ow) = geo.kernel, geo.out
    taps = _weight_grad_taps(kw)
    n, o, c = x.shape[0], w_shape[0], w_shape[1]
    if _wide_weight_grad(w_shape):
        width = geo.in_size[1] + sum(geo.pads[1])
        xf = _wide_planes(x, geo.pads, taps)[0] if planes is None else planes
        g_rows, start = _shared_grad_planes(g, geo, width)
        if g_rows is None:
            g_rows = np.zeros((n, o, oh, width), g.dtype)
            g_rows[..., :ow] = g
            g_rows = g_rows.reshape(n, o, oh * width)
        gw = np.zeros(w_shape[:3] + (taps,), g.dtype)
        K.direct_weight_grad_wide(xf, g_rows, start, oh * width, gw, width)
        # the garbage columns meet zero gradients: a NaN from inf * 0 only if the input is not finite,
        # where the shifted copies below give torch's result
        if np.isfinite(gw).all():
            return np.ascontiguousarray(gw[..., :kw])
    xp = pad_array(x, geo.pads)
    n, c, hp = xp.shape[:3]
    # one copy of the input per tap, shifted and cut to the output width: every window is then a
    # contiguous run in step with the output gradient (wide rows would compute columns to drop)
    shifted = np.empty((n, c, taps, hp, ow), x.dtype)
    for j in range(kw):
        shifted[:, :, j] = xp[..., j:j + ow]
    shifted[:, :, kw:] = 0
    gw = np.zeros(w_shape[:3] + (taps,), g.dtype)
    g = np.ascontiguousarray(g).reshape(n, g.shape[1], oh * ow)
    K.direct_weight_grad2d(shifted.reshape(n, c, taps, hp * ow), g, gw, ow)
    return np.ascontiguousarray(gw[..., :kw])


def _wide_weight_grad(w_shape):
    """Whether the direct weight gradient runs on wide rows: they copy the output gradient once
    (widened) instead of the input once per tap, cheaper unless the output has far more channels
    than the input (a first layer)."""
    return w_shape[0] <= 2 * w_shape[1]


def _shared_grad_planes(g, geo, width):
    """The output gradient ``g`` as wide rows of ``width`` with zeros past the output width, read from
    the padded planes the direct input gradient built of this same ``g`` (``geo.grad_planes``): (array,
    offset of its first element), or (None, 0). Where the input and output planes have the same size
    (padding kernel size less one in all), those padded rows are as long as the input's, and the
    right and left padding between two rows are the zeros wanted."""
    shared = geo.grad_planes.get("g") if geo.grad_planes is not None else None
    if shared is None or shared[0] is not g:
        return None, 0
    _, gf, ((top, _), (left, right)) = shared
    if g.shape[3] + left + right != width:
        return None, 0
    return gf, top * width + left


def _in_compute_dtype(fn, *arrays):
    """Run a kernel in float32 for half/bfloat16 inputs and cast the result back."""
    dt = arrays[0].dtype
    cdt = compute_dtype(dt)
    if cdt == dt:
        return fn(*arrays)
    out = fn(*(a.astype(cdt) for a in arrays))
    return out.astype(dt)


class Conv(Op):
    def forward(ctx, x, w, b, geo):
        ctx.geo = geo
        ctx.save_for_backward(x, w)
        cdt = compute_dtype(x.dtype)
        if cdt != x.dtype:
            y = _conv_raw(x.astype(cdt), w.astype(cdt), geo)[0]
            if b is not None:
                y += b.astype(cdt).reshape((1, -1) + (1,) * len(geo.out))
            return y.astype(x.dtype)
        y, col = _conv_raw(x, w, geo, None, b, ctx.needs_input_grad[1])
        if ctx.needs_input_grad[1]:
            ctx.col = col  # reused by the weight gradient: saves a second im2col
        return y

    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geo = ctx.geo
        geo.grad_planes = {} if need_x and need_w and geo.direct_weight_grad else None
        try:
            gx = ConvInputGrad.apply(g, w, geo, x.shape) if need_x else None
            gw = ConvWeightGrad.apply(x, g, geo, w.shape, getattr(ctx, "col", None)) if need_w else None
        finally:  # the shared planes are this call's: never left on the node (a retained graph reruns it)
            geo.grad_planes = None
        gb = g.sum((0,) + tuple(range(2, g.ndim))) if need_b else None
        return gx, gw, gb, None


class ConvInputGrad(Op):
    """Gradient of a convolution with respect to its input; also the transposed convolution."""

    def forward(ctx, g, w, geo, x_shape):
        ctx.geo, ctx.x_shape = geo, x_shape
        ctx.save_for_backward(g, w)
        g = array_module(g).ascontiguousarray(g)  # an expanded (stride-0) gradient would push matmul off BLAS
        return _in_compute_dtype(lambda g_, w_: _input_grad_raw(g_, w_, geo, x_shape), g, w)

    def backward(ctx, ggx):
        g, w = ctx.saved_tensors
        d_g = Conv.apply(ggx, w, None, ctx.geo) if ctx.needs_input_grad[0] else None
        d_w = ConvWeightGrad.apply(ggx, g, ctx.geo, w.shape, None) if ctx.needs_input_grad[1] else None
        return d_g, d_w, None, None


class ConvWeightGrad(Op):
    """Gradient of a convolution with respect to its weight."""

    def forward(ctx, x, g, geo, w_shape, col):
        ctx.geo, ctx.w_shape = geo, w_shape
        ctx.save_for_backward(x, g)
        g = array_module(g).ascontiguousarray(g)
        if col is not None and col.dtype == x.dtype:
            return _weight_grad_raw(x, g, geo, w_shape, col)
        return _in_compute_dtype(lambda x_, g_: _weight_grad_raw(x_, g_, geo, w_shape), x, g)

    def backward(ctx, ggw):
        x, g = ctx.saved_tensors
        d_x = ConvInputGrad.apply(g, ggw, ctx.geo, x.shape) if ctx.needs_input_grad[0] else None
        d_g = Conv.apply(x, ggw, None, ctx.geo) if ctx.needs_input_grad[1] else None
        return d_x, d_g, None, None, None


# ---------------------------------------------------------------- argument handling

def _tuple(value, nd, name):
    if isinstance(value, (int, np.integer)):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    if len(value) == 1 and nd > 1:
        return value * nd
    if len(value) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} values to match the "
                           f"convolution dimensions, but got {name}={list(value)}")
    return value


def _dtype_name(dt):
    return type_name(D._BY_NP[dt]).lower()


def _check_inputs(input, weight, bias, nd, groups, name, transposed):
    x, w = input._data, weight._data
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
                           f"of size: {shape_str(x.shape)}")
    if w.ndim != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions" if w.ndim < 3 else
                           f"Expected {nd + 2}-dimensional input for {nd + 2}-dimensional weight {shape_str(w.shape)}, "
                           f"but got {w.ndim}-dimensional input of size {shape_str(w.shape)} instead")
    if x.dtype != w.dtype:
        raise RuntimeError(f"expected scalar type {type_name(D._BY_NP[x.dtype])} but found "
                           f"{type_name(D._BY_NP[w.dtype])}")
    if bias is not None and bias._data.dtype != x.dtype:
        raise RuntimeError(f"Input type ({_dtype_name(x.dtype)}) and bias type ({_dtype_name(bias._data.dtype)}) "
                           "should be the same")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    c = x.shape[-nd - 1]
    if transposed:
        if c != w.shape[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {shape_str(w.shape)}, expected input"
                               f"{shape_str(x.shape)} to have {w.shape[0]} channels, but got {c} channels instead")
        out_ch = w.shape[1] * groups
    else:
        if w.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                               f"but got weight of size [{shape_str(w.shape)}] instead")
        if c != w.shape[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {shape_str(w.shape)}, expected input"
                               f"{shape_str(x.shape)} to have {w.shape[1] * groups} channels, but got {c} channels "
                               "instead")
        out_ch = w.shape[0]
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != out_ch):
        raise RuntimeError(f"Given weight of size {shape_str(w.shape)}, expected bias to be 1-dimensional with "
                           f"{out_ch} elements, but got bias of size {shape_str(bias._data.shape)} instead")


def _conv_pads(padding, kernel, dilation, stride, nd):
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    p = _tuple(padding, nd, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd, name):
    _check_inputs(input, weight, bias, nd, groups, name, False)
    unbatched = input._data.ndim == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    kernel = weight._data.shape[2:]
    pads = _conv_pads(padding, kernel, dilation, stride, nd)
    in_size = input._data.shape[2:]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(in_size, pads))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input size")
    out = tuple(out_size(s, k, st, lo, hi, d) for s, k, st, (lo, hi), d in zip(in_size, kernel, stride, pads, dilation))
    geo = _Geometry(tuple(kernel), stride, pads, dilation, groups, tuple(in_size), out, weight._data.shape[0],
                    weight._data.shape[1])
    _use_compiled(geo, input._data, weight._data.shape[1], weight._data.shape[0])
    y = Conv.apply(input, weight, bias, geo)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution over (N, C, L) or (C, L).

    >>> F.conv1d(torch.randn(2, 3, 10), torch.randn(4, 3, 3), padding=1).shape
    torch.Size([2, 4, 10])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution over (N, C, H, W) or (C, H, W); ``padding`` may be an int, a tuple, 'same' or 'valid'.

    >>> F.conv2d(torch.randn(1, 3, 8, 8), torch.randn(6, 3, 3, 3), stride=2).shape
    torch.Size([1, 6, 3, 3])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution over (N, C, D, H, W) or (C, D, H, W).

    >>> F.conv3d(torch.randn(1, 2, 4, 4, 4), torch.randn(3, 2, 3, 3, 3)).shape
    torch.Size([1, 3, 2, 2, 2])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    _check_inputs(input, weight, bias, nd, groups, name, True)
    unbatched = input._data.ndim == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    pad = _tuple(padding, nd, "padding")
    out_pad = _tuple(output_padding, nd, "output_padding")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(v < 0 for v in pad):
        raise RuntimeError("negative padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(out_pad, stride, dilation)):
        names = ["height", "width"] if nd == 2 else ["depth", "height", "width"] if nd == 3 else ["width"]
        if nd == 2:
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                               + " ".join(f"output_padding_{n}: {v}" for n, v in zip(names, out_pad)) + " "
                               + " ".join(f"stride_{n}: {v}" for n, v in zip(names, stride)) + " "
                               + " ".join(f"dilation_{n}: {v}" for n, v in zip(names, dilation)))
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got output_padding="
                           f"{list(out_pad)}, stride={list(stride)}, dilation={list(dilation)}")
    kernel = tuple(weight._data.shape[2:])
    in_size = tuple(input._data.shape[2:])
    big = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1
                for s, st, p, d, k, op in zip(in_size, stride, pad, dilation, kernel, out_pad))
    if any(b <= 0 for b in big):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, in_size))}). Calculated output size "
                           f"per channel: ({' x '.join(map(str, big))}). Output size is too small")
    # the transposed convolution is the input gradient of the convolution mapping the big output back
    geo = _Geometry(kernel, stride, tuple((p, p) for p in pad), dilation, groups, big, in_size)
    _use_compiled(geo, input._data, weight._data.shape[1] * groups, weight._data.shape[0])
    n = input._data.shape[0]
    y = ConvInputGrad.apply(input, weight, geo, (n, weight._data.shape[1] * groups) + big)
    if bias is not None:
        y = y + bias.reshape((1, -1) + (1,) * nd)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-d convolution (the gradient of conv1d with respect to its input).

    >>> F.conv_transpose1d(torch.randn(1, 4, 5), torch.randn(4, 2, 3), stride=2).shape
    torch.Size([1, 2, 11])
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                             "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-d convolution; weight is (C_in, C_out / groups, kH, kW).

    >>> F.conv_transpose2d(torch.randn(1, 4, 5, 5), torch.randn(4, 2, 3, 3), stride=2, output_padding=1).shape
    torch.Size([1, 2, 12, 12])
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                             "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-d convolution.

    >>> F.conv_transpose3d(torch.randn(1, 2, 3, 3, 3), torch.randn(2, 1, 2, 2, 2)).shape
    torch.Size([1, 1, 4, 4, 4])
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                             "conv_transpose3d")
