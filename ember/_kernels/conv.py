"""2-d convolution kernels: im2col into the GEMM's layout, its adjoint col2im (and their whole-plane
forms for same-size layers), the output gradient moved into the GEMM's (O, N, pixels) order, and
direct convolution and weight-gradient kernels for few channels. The GEMMs stay in BLAS. At the end,
2-d max pooling (forward with offsets, scatter backward).

The column matrix is (C, KH, J, N, OH, Q), read as a (C*KH*J, N*OH*Q) matrix:

    col[c, a, j, n, oh, q] = xp[n, c, oh*sh + a*dh, q*step + j*dw]

``xp`` is the padded input. Plain im2col has J = KW, Q = OW and step = sw. The pixel-block layout
(``_conv._pixel_block``) computes ``s`` neighbouring output pixels per GEMM column: Q = OW/s,
step = s (unit stride and dilation along W) and J = KW + s - 1 input pixels cover the s windows.

Inner loops index views sliced to start at the right offset with the bare loop counter: an index like
``row[q * step + off]`` makes Numba emit a negative-index check that stops LLVM vectorizing the copy
(three times slower here).
"""
import functools

import numpy as np

from .. import _jit


@_jit.kernel
def im2col2d(xp, col, sh, dh, step, dw):
    C, KH, J, N, OH, Q = col.shape
    if J == 3 and step == 2 and dw == 1:
        for c in range(C):
            for a in range(KH):
                for n in range(N):
                    for oh in range(OH):
                        _split_three_taps_stride2(xp[n, c, oh * sh + a * dh], col[c, a, 0, n, oh], col[c, a, 1, n, oh],
                                                  col[c, a, 2, n, oh])
        return
    for c in range(C):
        for a in range(KH):
            for j in range(J):
                off = j * dw
                for n in range(N):
                    for oh in range(OH):
                        src = xp[n, c, oh * sh + a * dh, off::step]
                        dst = col[c, a, j, n, oh]
                        for q in range(Q):
                            dst[q] = src[q]


@_jit.inline
def _split_three_taps_stride2(row, d0, d1, d2):
    """d_j[q] = row[2q + j] for the taps j = 0, 1, 2 of a 3-wide kernel at stride 2: one pass over the
    row instead of three strided ones (``_add_three_taps_stride2`` is its adjoint)."""
    for q in range(d0.shape[0]):
        d0[q] = row[2 * q]
        d1[q] = row[2 * q + 1]
        d2[q] = row[2 * q + 2]


@_jit.kernel
def pad_planes(x, flat, top, left, width):
    """``x`` (N, C, H, W) into ``flat`` (N, C, Hp*width + slack): each plane padded to rows of ``width``
    with ``top`` rows and ``left`` columns of zeros before it, flattened, zeros to the end. One pass
    that writes every element once (a zero fill and then a strided copy write the interior twice)."""
    N, C, H, W = x.shape
    for n in range(N):
        for c in range(C):
            dst = flat[n, c]
            for p in range(top * width + left):
                dst[p] = 0
            for r in range(H):
                row, src = dst[(top + r) * width + left:], x[n, c, r]
                for q in range(W):
                    row[q] = src[q]
                for q in range(W, width):  # this row's right padding, then the next row's left padding
                    row[q] = 0
            for p in range((top + H) * width + left, dst.shape[0]):
                dst[p] = 0


@_jit.kernel
def im2col_same(xf, col, top, left, width):
    """Columns of a unit-stride convolution whose output planes have the input's size (padding
    kernel size less one): ``col[c, a, j, n, p] = x[n, c, oh + a - top, ow + j - left]``, p = oh*OW + ow,
    zero where that is outside the input, with ``xf`` (N, C, H*W) the unpadded input's flat planes.

    Output and input rows then have the same length, so each kernel offset's block is the flat input
    plane shifted by (a - top)*W + (j - left): one contiguous copy of the whole plane, with zeros in
    the columns that wrapped round from the neighbouring row (``_wrap_masks``). No padded copy of the
    input, no per-row loop (the rows are short at deep layers: 8 to 32 pixels)."""
    C, KH, KW, N, L = col.shape
    HW = xf.shape[2]
    keep = _wrap_masks(KW, L, left, width)
    zero = col.dtype.type(0)
    for c in range(C):
        for a in range(KH):
            for j in range(KW):
                shift = (a - top) * width + (j - left)
                lo, hi = max(0, -shift), min(L, HW - shift)
                for n in range(N):
                    dst = col[c, a, j, n]
                    for p in range(lo):
                        dst[p] = 0
                    src, run, k = xf[n, c, lo + shift:], dst[lo:], keep[j, lo:]
                    for p in range(hi - lo):
                        run[p] = src[p] if k[p] else zero
                    for p in range(hi, L):
                        dst[p] = 0


@_jit.kernel
def col2im_same(dcol, gx, top, left, width):
    """Adjoint of ``im2col_same`` for samples in the leading dim: ``dcol`` (N, C, KH, KW, H*W) column
    gradients -> ``gx`` (N, C, H*W), overwritten. Each kernel offset's block is added to the plane
    shifted, in one contiguous run; the columns that wrapped round add zero (``_wrap_masks``), as
    their zero columns in ``im2col_same`` contribute nothing."""
    N, C, KH, KW, L = dcol.shape
    HW = gx.shape[2]
    keep = _wrap_masks(KW, L, left, width)
    zero = dcol.dtype.type(0)
    for n in range(N):
        for c in range(C):
            acc = gx[n, c]
            for p in range(HW):
                acc[p] = 0
            for a in range(KH):
                for j in range(KW):
                    shift = (a - top) * width + (j - left)
                    lo, hi = max(0, -shift), min(L, HW - shift)
                    dst, run, k = acc[lo + shift:], dcol[n, c, a, j, lo:], keep[j, lo:]
                    for p in range(hi - lo):
                        dst[p] += run[p] if k[p] else zero


@_jit.inline
def _wrap_masks(KW, L, left, width):
    """keep[j, p]: whether output column p % width, shifted by tap j less ``left``, stays inside its row
    (a select, not a multiply by 0/1: a non-finite value in a wrapped column must not leak as NaN)."""
    keep = np.empty((KW, L), np.bool_)
    for j in range(KW):
        for p in range(L):
            q = p % width + j - left
            keep[j, p] = 0 <= q < width
    return keep


@_jit.kernel
def im2col_wide(xf, col, width, step):
    """Columns on "wide rows" for a unit-stride convolution: output rows as long as the padded input's
    (``width``, a multiple of ``step`` = s), so the whole (OH, Q) block of a kernel offset is one
    strided run of the flattened plane: ``col[c, a, j, n, t] = xf[n, c, a*width + j + t*step]``, with
    ``xf`` (N, C, Hp*width + J - 1) as ``_conv._wide_planes`` builds it. Columns past the output row
    hold real input values: they must meet zero gradients."""
    C, KH, J, N, T = col.shape
    for c in range(C):
        for a in range(KH):
            for j in range(J):
                for n in range(N):
                    src = xf[n, c, a * width + j::step]
                    dst = col[c, a, j, n]
                    for t in range(T):
                        dst[t] = src[t]


@_jit.kernel
def col2im2d(dcol, gxp, sh, dh, step, dw):
    """Adjoint of ``im2col2d``: ``gxp`` (zeros on entry) accumulates every column entry."""
    C, KH, J, N, OH, Q = dcol.shape
    if J == 3 and step == 2 and dw == 1:
        for n in range(N):
            for c in range(C):
                for a in range(KH):
                    for oh in range(OH):
                        _add_three_taps_stride2(gxp[n, c, oh * sh + a * dh], dcol[c, a, 0, n, oh], dcol[c, a, 1, n, oh],
                                                dcol[c, a, 2, n, oh])
        return
    for n in range(N):
        for c in range(C):
            for a in range(KH):
                for j in range(J):
                    off = j * dw
                    for oh in range(OH):
                        src = dcol[c, a, j, n, oh]
                        dst = gxp[n, c, oh * sh + a * dh, off::step]
                        for q in range(Q):
                            dst[q] += src[q]


@_jit.inline
def _add_three_taps_stride2(row, s0, s1, s2):
    """row[2q + j] += s_j[q] for the taps j = 0, 1, 2 of a 3-wide kernel at stride 2, in one pass over
    pixel pairs: row[2m] gets s0[m] then s2[m-1], row[2m+1] gets s1[m]. Three strided passes (a
    scalar loop each) become one that vectorises; each element gets its terms in the same order."""
    Q = s0.shape[0]
    row[0] += s0[0]
    row[1] += s1[0]
    for m in range(1, Q):
        row[2 * m] = row[2 * m] + s0[m] + s2[m - 1]
        row[2 * m + 1] += s1[m]
    row[2 * Q] += s2[Q - 1]


@_jit.kernel
def block_grad(g, gb):
    """Output gradient ``g`` (N, O, OH, Q*s) -> ``gb`` (O, s, N, OH, Q), the GEMM's layout (O*s, N*OH*Q)."""
    O, S, N, OH, Q = gb.shape
    for o in range(O):
        for i in range(S):
            for n in range(N):
                for oh in range(OH):
                    src = g[n, o, oh, i::S]
                    dst = gb[o, i, n, oh]
                    for q in range(Q):
                        dst[q] = src[q]


def direct_conv2d(kw, out_channels):
    """The direct stride-1 convolution kernel for kernel width ``kw`` and ``out_channels`` output
    channels: four channels per pass for 3-wide kernels and a multiple of four channels
    (``direct_conv2d_3x4``), two otherwise."""
    if kw == 3 and out_channels % 4 == 0:
        return direct_conv2d_3x4
    return _direct_conv2d(kw)


@functools.lru_cache(maxsize=None)
def _direct_conv2d(kw):
    """Direct stride-1 convolution for few channels, compiled for kernel width ``kw``.

    ``kw`` is a constant of the compiled loop, so LLVM unrolls the ``kw`` taps and vectorizes over
    output pixels (a tap count only known at run time leaves the loop scalar, ten times slower).
    Each plane is addressed as "wide rows": output pixel p = oh * width + ow of a row as long as the
    padded input's reads input ``xs[p + j]`` for tap (a, j), one contiguous run per kernel row; the
    columns ow >= OW are garbage and are dropped when the accumulator is copied out.

    ``xf`` (N, C, Hp*width + kw - 1): flattened padded planes (zero slack at the end), ``w`` (O, C, KH,
    kw), ``bias`` (O,), ``out`` (N, O, OH, OW)."""

    @_jit.kernel(fastmath={"contract"})  # fused multiply-adds only: the sum order is fixed
    def conv(xf, w, bias, out, width):
        N, C, _ = xf.shape
        O, _, KH, _ = w.shape
        span = out.shape[2] * width
        acc = np.empty((2, span), out.dtype)
        acc0, acc1 = acc[0], acc[1]
        for n in range(N):
            # two output channels at a time share each input load (an odd last one is done twice)
            for o0 in range(0, O, 2):
                o1 = min(o0 + 1, O - 1)
                _fill(acc0, bias[o0])
                _fill(acc1, bias[o1])
                for c in range(C):
                    for a in range(KH):
                        xs = xf[n, c, a * width:]
                        w0, w1 = w[o0, c, a], w[o1, c, a]
                        for p in range(span):
                            t0, t1 = acc0[p], acc1[p]
                            for j in range(kw):
                                t0 += w0[j] * xs[p + j]
                                t1 += w1[j] * xs[p + j]
                            acc0[p], acc1[p] = t0, t1
                _narrow_rows(acc0, out[n, o0], width)
                _narrow_rows(acc1, out[n, o1], width)

    return conv


@_jit.kernel(fastmath={"contract"})
def direct_conv2d_3x4(xf, w, bias, out, width):
    """``direct_conv2d`` for a 3-wide kernel and a multiple of four output channels: four channels per
    pass over a kernel row of the input, so each input load feeds twelve multiply-adds instead of six.
    The same sums in the same order as the two-channel kernel (bit-equal)."""
    N, C, _ = xf.shape
    O, _, KH, _ = w.shape
    span = out.shape[2] * width
    acc = np.empty((4, span), out.dtype)
    for n in range(N):
        for o0 in range(0, O, 4):
            for k in range(4):
                _fill(acc[k], bias[o0 + k])
            for c in range(C):
                for a in range(KH):
                    _taps3x4(xf[n, c, a * width:], w[o0:o0 + 4, c, a], acc[0], acc[1], acc[2], acc[3])
            for k in range(4):
                _narrow_rows(acc[k], out[n, o0 + k], width)


@_jit.inline
def _taps3x4(xs, w, s0, s1, s2, s3):
    """s_k[p] += sum_j w[k, j] * xs[p + j] over the 3 taps, for the four rows of ``w`` (4, 3). The
    weights are read into locals first: LLVM cannot prove that ``w`` and the sums do not overlap, and
    would reload all twelve at every pixel."""
    w00, w01, w02 = w[0, 0], w[0, 1], w[0, 2]
    w10, w11, w12 = w[1, 0], w[1, 1], w[1, 2]
    w20, w21, w22 = w[2, 0], w[2, 1], w[2, 2]
    w30, w31, w32 = w[3, 0], w[3, 1], w[3, 2]
    for p in range(s0.shape[0]):
        x0, x1, x2 = xs[p], xs[p + 1], xs[p + 2]
        s0[p] = s0[p] + w00 * x0 + w01 * x1 + w02 * x2
        s1[p] = s1[p] + w10 * x0 + w11 * x1 + w12 * x2
        s2[p] = s2[p] + w20 * x0 + w21 * x1 + w22 * x2
        s3[p] = s3[p] + w30 * x0 + w31 * x1 + w32 * x2


@_jit.inline
def _fill(row, value):
    for p in range(row.shape[0]):
        row[p] = value


@_jit.inline
def _narrow_rows(acc, plane, width):
    """The wide rows of ``acc`` (OH*width) into ``plane`` (OH, OW): the garbage columns dropped."""
    OH, OW = plane.shape
    for oh in range(OH):
        row, dst = acc[oh * width:], plane[oh]
        for q in range(OW):
            dst[q] = row[q]


@_jit.kernel(fastmath={"contract", "reassoc"})  # reassociation vectorises the sums over pixels
def direct_weight_grad2d(xs, g, gw, ow):
    """Weight gradient of a stride-1 convolution, for few channels: each weight is one dot product
    of an output-gradient plane with a shifted input plane.

    ``xs`` (N, C, J, Hp*OW): the padded input shifted left by tap j and cut to the output width, so
    that ``xs[n, c, j, (oh + a)*OW + ow] = xp[n, c, oh + a, ow + j]`` and kernel row a's window is the
    contiguous run starting at a*OW, in step with ``g`` (N, O, OH*OW), the output gradient as it is.
    ``gw`` (O, C, KH, J), zeros on entry, J a multiple of 3 (the caller zero-fills and drops the taps
    past the kernel width). Three taps of four (or three) output channels per pass over the planes:
    the sums kept in registers, each input load used four times (``_weight_grad_taps``)."""
    N, C, J, _ = xs.shape
    KH, span = gw.shape[2], g.shape[2]
    for n in range(N):
        for c in range(C):
            for j in range(0, J, 3):
                for a in range(KH):
                    _weight_grad_taps(xs[n, c, j, a * ow:], xs[n, c, j + 1, a * ow:], xs[n, c, j + 2, a * ow:],
                                      g[n], 0, span, gw[:, c, a], j)


@_jit.kernel(fastmath={"contract", "reassoc"})
def direct_weight_grad_wide(xf, g, start, span, gw, width):
    """``direct_weight_grad2d`` on "wide rows": ``xf`` (N, C, Hp*width + slack), the padded planes
    flattened, and ``g[:, :, start:start + span]`` (span = OH*width), the output gradient with rows as
    long as the padded input's, zeros past the output width (``g`` may be the input gradient's padded
    planes of it, ``start`` the offset of its first element). Tap (a, j)'s window is then the run of
    ``xf`` starting at a*width + j: no shifted copies of the input, at the price of a wider gradient
    (and the garbage columns must meet zeros: finite inputs only)."""
    N, C, _ = xf.shape
    KH, J = gw.shape[2], gw.shape[3]
    for n in range(N):
        for c in range(C):
            for j in range(0, J, 3):
                for a in range(KH):
                    base = a * width + j
                    _weight_grad_taps(xf[n, c, base:], xf[n, c, base + 1:], xf[n, c, base + 2:], g[n], start, span,
                                      gw[:, c, a], j)


@_jit.inline
def _weight_grad_taps(x0s, x1s, x2s, g, start, span, gw, j):
    """Adds to ``gw[o, j:j+3]`` (``gw`` (O, J)) the dot products of ``g[o, start:start + span]`` with the
    three input runs: four output channels at a time (twelve sums in registers, each input load used
    four times) where O is a multiple of four, else three at a time (a short last block repeats O-1:
    a four-channel pass with a three-channel tail would do more channel passes for O = 5, 6, 9)."""
    O = g.shape[0]
    o4 = O if O % 4 == 0 else 0
    for o0 in range(0, o4, 4):
        _four_channel_taps(x0s, x1s, x2s, g[o0, start:], g[o0 + 1, start:], g[o0 + 2, start:], g[o0 + 3, start:],
                           span, gw[o0:o0 + 4], j)
    for o0 in range(o4, O, 3):
        o1, o2 = min(o0 + 1, O - 1), min(o0 + 2, O - 1)
        g0, g1, g2 = g[o0, start:], g[o1, start:], g[o2, start:]
        s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = x0s.dtype.type(0)
        for p in range(span):
            x0, x1, x2 = x0s[p], x1s[p], x2s[p]
            a0, a1, a2 = g0[p], g1[p], g2[p]
            s00 += a0 * x0
            s01 += a0 * x1
            s02 += a0 * x2
            s10 += a1 * x0
            s11 += a1 * x1
            s12 += a1 * x2
            s20 += a2 * x0
            s21 += a2 * x1
            s22 += a2 * x2
        _add3(gw[o0], j, s00, s01, s02)
        if o1 != o0:
            _add3(gw[o1], j, s10, s11, s12)
        if o2 != o1:
            _add3(gw[o2], j, s20, s21, s22)


@_jit.inline
def _four_channel_taps(x0s, x1s, x2s, g0, g1, g2, g3, span, gw, j):
    """``_weight_grad_taps`` for the four gradient rows g0..g3 into ``gw`` (4, J)."""
    s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = s30 = s31 = s32 = x0s.dtype.type(0)
    for p in range(span):
        x0, x1, x2 = x0s[p], x1s[p], x2s[p]
        a0, a1, a2, a3 = g0[p], g1[p], g2[p], g3[p]
        s00 += a0 * x0
        s01 += a0 * x1
        s02 += a0 * x2
        s10 += a1 * x0
        s11 += a1 * x1
        s12 += a1 * x2
        s20 += a2 * x0
        s21 += a2 * x1
        s22 += a2 * x2
        s30 += a3 * x0
        s31 += a3 * x1
        s32 += a3 * x2
    _add3(gw[0], j, s00, s01, s02)
    _add3(gw[1], j, s10, s11, s12)
    _add3(gw[2], j, s20, s21, s22)
    _add3(gw[3], j, s30, s31, s32)


@_jit.inline
def _add3(row, j, s0, s1, s2):
    row[j] += s0
    row[j + 1] += s1
    row[j + 2] += s2


# ---------------------------------------------------------------- 2-d max pooling (ember.nn.functional._pooling)
# Compiled per window shape and stride: with the window loops unrolled, the maxima and offsets are
# selects that vectorise; with run-time window sizes they become unpredictable branches (ten times
# slower on random data).

@functools.lru_cache(maxsize=None)
def max_pool2d(kh, kw, sh, sw):
    """Max pool kernel for a kh x kw window at stride (sh, sw).

    ``kernel(xp, out, kidx, dh, dw)``: window maxima of the padded input ``xp`` (N, C, Hp, Wp) into
    ``out`` (N, C, OH, OW), and in ``kidx`` the kernel offset a*kw + j of each: the first maximum in
    scan order, or the last NaN (NaN wins), as torch. The max first, then its offset found by
    equality scanning backwards (the first match is the last one kept)."""

    @_jit.kernel
    def max_pool(xp, out, kidx, dh, dw):
        N, C, OH, OW = out.shape
        for n in range(N):
            for c in range(C):
                plane = xp[n, c]
                for oh in range(OH):
                    dst, idx = out[n, c, oh], kidx[n, c, oh]
                    for ow in range(OW):
                        m = plane[oh * sh, ow * sw]
                        for a in range(kh):
                            row = plane[oh * sh + a * dh, ow * sw:]
                            for j in range(kw):
                                v = row[j * dw]
                                m = v if (v > m) | (v != v) else m
                        at = 0
                        for a in range(kh - 1, -1, -1):
                            row = plane[oh * sh + a * dh, ow * sw:]
                            for j in range(kw - 1, -1, -1):
                                at = a * kw + j if row[j * dw] == m else at
                        if m != m:  # NaN equals nothing: the last NaN of the window
                            for a in range(kh):
                                row = plane[oh * sh + a * dh, ow * sw:]
                                for j in range(kw):
                                    if row[j * dw] != row[j * dw]:
                                        at = a * kw + j
                        dst[ow] = m
                        idx[ow] = at

    return max_pool


@_jit.kernel
def max_pool2d_scatter(g, kidx, gx, sh, sw, dh, dw, kw):
    """Gradient of a max pool with disjoint windows (kw wide, at stride (sh, sw)): each output's
    gradient ``g`` goes to its window's element at offset ``kidx`` in ``gx`` (zeros on entry). One
    store per output; writing whole windows, zeros included, to save the zero fill is slower."""
    N, C, OH, OW = g.shape
    for n in range(N):
        for c in range(C):
            plane = gx[n, c]
            for oh in range(OH):
                src, idx = g[n, c, oh], kidx[n, c, oh]
                for ow in range(OW):
                    at = idx[ow]
                    a = at // kw
                    plane[oh * sh + a * dh, ow * sw + (at - a * kw) * dw] = src[ow]
