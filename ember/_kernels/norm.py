"""Normalization kernels: batch norm over the channels of an (N, C, L) array, layer norm over the rows of
an (R, D) array; forward and backward, float32 or float64, contiguous inputs, preallocated outputs.

Each kernel works one channel (or row) at a time, so the two statistics passes and the output pass reread
data that is still in cache: one trip through memory where NumPy makes five or six. The statistics are
two-pass (the mean, then the mean squared deviation), as in the NumPy path, so a large mean does not
cancel the variance away. Sums run in the data's dtype along each contiguous run (full vector width) and
are combined across runs in float64; per-channel coefficients are cast to the data's dtype
(``x.dtype.type``) before the elementwise passes for the same reason.

``fastmath`` is limited to reassociation and contraction: that lets LLVM vectorise the sums without
assuming finite values, so NaN and inf propagate as in the NumPy path.
"""
import math

import numpy as np

from .. import _jit

_SUMS = {"reassoc", "contract"}


@_jit.kernel(fastmath=_SUMS)
def batch_norm_forward(x, weight, bias, eps, y, mean, var, invstd):
    """y = (x - mean) * invstd * weight + bias per channel of x: (N, C, L); writes the biased var."""
    n, c, l = x.shape
    count = n * l
    cast = x.dtype.type
    for ch in range(c):
        pivot = x[0, ch, 0]
        s = 0.0
        for i in range(n):
            run = cast(0)
            for j in range(l):
                run += x[i, ch, j] - pivot
            s += run
        m = pivot + s / count
        m_x = cast(m)
        ss = 0.0
        for i in range(n):
            run = cast(0)
            for j in range(l):
                d = x[i, ch, j] - m_x
                run += d * d
            ss += run
        v = ss / count
        inv = 1.0 / math.sqrt(v + eps)
        mean[ch], var[ch], invstd[ch] = m, v, inv
        scale, shift = cast(inv * weight[ch]), bias[ch]
        for i in range(n):
            for j in range(l):
                y[i, ch, j] = (x[i, ch, j] - m_x) * scale + shift


@_jit.kernel(fastmath=_SUMS)
def batch_norm_backward(g, x, mean, invstd, weight, need_x, gx, gweight, gbias):
    """Gradients of ``batch_norm_forward``: per channel sum(g) and sum(g * xhat) in one pass, then
    gx = scale * (g - sum(g) / count - xhat * sum(g * xhat) / count), scale = invstd * weight."""
    n, c, l = x.shape
    count = n * l
    cast = x.dtype.type
    for ch in range(c):
        m_x = mean[ch]
        sg = 0.0
        sgd = 0.0
        for i in range(n):
            run_g, run_gd = cast(0), cast(0)
            for j in range(l):
                gv = g[i, ch, j]
                run_g += gv
                run_gd += gv * (x[i, ch, j] - m_x)
            sg += run_g
            sgd += run_gd
        inv = invstd[ch]
        sgx = sgd * inv  # sum(g * xhat)
        gbias[ch], gweight[ch] = sg, sgx
        if need_x:
            scale = inv * weight[ch]
            # gx = scale * g + k_dev * (x - mean) + k_const; (x - mean) first, as xhat is formed
            k_dev, k_const, scale_x = cast(-scale * inv * sgx / count), cast(-scale * sg / count), cast(scale)
            for i in range(n):
                for j in range(l):
                    gx[i, ch, j] = scale_x * g[i, ch, j] + k_dev * (x[i, ch, j] - m_x) + k_const


@_jit.kernel(fastmath=_SUMS)
def layer_norm_forward(x, weight, bias, eps, y, mean, var, invstd):
    """y = (x - mean) * invstd * weight + bias per row of x: (R, D); weight, bias: (D,)."""
    rows, d = x.shape
    cast = x.dtype.type
    for r in range(rows):
        pivot = x[r, 0]
        s = cast(0)
        for j in range(d):
            s += x[r, j] - pivot
        m = pivot + s / d
        m_x = cast(m)
        ss = cast(0)
        for j in range(d):
            dv = x[r, j] - m_x
            ss += dv * dv
        v = ss / d
        inv = 1.0 / math.sqrt(v + eps)
        mean[r], var[r], invstd[r] = m, v, inv
        inv_x = cast(inv)
        for j in range(d):
            y[r, j] = (x[r, j] - m_x) * inv_x * weight[j] + bias[j]


@_jit.kernel(fastmath=_SUMS)
def layer_norm_backward(g, x, mean, invstd, weight, need_x, gx, gweight, gbias):
    """Gradients of ``layer_norm_forward``: per row, with h = g * weight,
    gx = invstd * (h - mean(h) - xhat * mean(h * xhat)); gweight = sum over rows of g * xhat, gbias of g."""
    rows, d = x.shape
    cast = x.dtype.type
    gw_sum = np.zeros(d, np.float64)  # across rows: float64 (a row's sums are one contiguous run)
    gb_sum = np.zeros(d, np.float64)
    for r in range(rows):
        m_x, inv_x = mean[r], invstd[r]
        sh = cast(0)
        shx = cast(0)
        for j in range(d):
            xhat = (x[r, j] - m_x) * inv_x
            gv = g[r, j]
            h = gv * weight[j]
            sh += h
            shx += h * xhat
            gw_sum[j] += gv * xhat
            gb_sum[j] += gv
        if need_x:
            mh, mhx = cast(sh / d), cast(shx / d)
            for j in range(d):
                xhat = (x[r, j] - m_x) * inv_x
                gx[r, j] = (g[r, j] * weight[j] - mh - xhat * mhx) * inv_x
    for j in range(d):
        gweight[j], gbias[j] = gw_sum[j], gb_sum[j]
