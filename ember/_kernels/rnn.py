"""Recurrent kernels: the pointwise part of one LSTM time step, forward and backward.

A step of a fused LSTM layer (``ember/nn/functional/_rnn_cells.py``) is one GEMM, ``h @ W_hh^T``, and
then gate math on a (batch, 4 * hidden) row block: about fifteen NumPy calls on small arrays, each
paying call overhead and a pass over memory. Here the gate math is one call per step, row by row, with
the innermost loops over the contiguous hidden axis so they vectorise.

The forward's sigmoid and tanh go through ``_fmath``'s float32 exp, inline (libm's exp does not
vectorise), so the forward kernel is float32 only:
sigmoid(x) = 1 / (1 + e^-x), tanh(x) = 2 / (1 + e^-2x) - 1 (absolute error a few 1e-8). Arguments are
clamped to the range where float32 exp is finite and normal, which leaves both functions' values
unchanged; a NaN passes through the comparisons and comes out NaN. The forward lets LLVM contract
multiply-adds into FMAs (``fastmath={"contract"}``: no reassociation, NaN/inf unchanged): 29 -> 23 us
a step at (20, 1024). The backward needs no exp and takes float32 or float64.
"""
import numpy as np

from .. import _jit
from ._fmath import EXP_LO as _EXP_LO, EXP_HI as _EXP_HI, exp_reduced, pow2_bits as _pow2_bits

_ONE, _TWO = np.float32(1), np.float32(2)


def gate_constants(hidden):
    """Per-column (k, a, b) with activation = a / (1 + exp(k * x)) + b: sigmoid for the i, f and o
    gates, tanh for the cell gate g (torch's order i, f, g, o)."""
    k = np.full(4 * hidden, -1, np.float32)
    a = np.ones(4 * hidden, np.float32)
    b = np.zeros(4 * hidden, np.float32)
    cell = slice(2 * hidden, 3 * hidden)
    k[cell], a[cell], b[cell] = -2, 2, -1
    return k, a, b


@_jit.inline
def _clamped_exp_parts(v):
    """exp(v) as (p, bits of 2^k), v clamped to where float32 exp is finite and normal (selects, so a
    NaN passes through)."""
    v = _EXP_LO if v < _EXP_LO else v
    v = _EXP_HI if v > _EXP_HI else v
    p, k = exp_reduced(v)
    return p, _pow2_bits(k)


@_jit.kernel(fastmath={"contract"})
def lstm_cell_forward(gates, rec, k, a, b, c, tc, h, pow2_bits):
    """One LSTM step in place, float32, rows of (batch, 4H) ``gates`` (the input projection plus
    biases) and ``rec`` (h_prev @ W_hh^T): ``gates`` becomes the activations (i, f, g, o), ``c`` the
    new cell state, ``tc`` tanh(c) and ``h`` o * tanh(c). ``pow2_bits``: int32 scratch of length 4H."""
    rows, h4 = gates.shape
    hidden = h4 // 4
    pow2 = pow2_bits.view(np.float32)
    for r in range(rows):
        g, cr, tcr, hr = gates[r], c[r], tc[r], h[r]
        for j in range(h4):  # exp(k x) = 2^n * p: p into g, 2^n's bits into the scratch row
            g[j], pow2_bits[j] = _clamped_exp_parts(k[j] * (g[j] + rec[r, j]))
        for j in range(h4):
            g[j] = a[j] / (_ONE + g[j] * pow2[j]) + b[j]
        for j in range(hidden):  # c = f c + i g, then exp(-2c) as above, into tc
            cn = g[hidden + j] * cr[j] + g[j] * g[2 * hidden + j]
            cr[j] = cn
            tcr[j], pow2_bits[j] = _clamped_exp_parts(-_TWO * cn)
        for j in range(hidden):
            t = _TWO / (_ONE + tcr[j] * pow2[j]) - _ONE
            tcr[j] = t
            hr[j] = g[3 * hidden + j] * t


@_jit.kernel
def lstm_cell_backward(dy, dh, act, tc, c_prev, dc, dgates):
    """One LSTM step back (float32 or float64). In: the hidden-state gradient ``dy + dh`` (batch, H),
    the step's activations ``act`` (batch, 4H), ``tc`` = tanh(c) and ``c_prev``; ``dc`` holds the
    cell-state gradient from the step after and becomes the one for the step before. Out: ``dgates``
    (batch, 4H), the gradient of the gates' pre-activations."""
    rows, hidden = dc.shape
    one = dc.dtype.type(1)
    for r in range(rows):
        i, f, g, o = act[r, :hidden], act[r, hidden:2 * hidden], act[r, 2 * hidden:3 * hidden], act[r, 3 * hidden:]
        di, df, dg, do = (dgates[r, :hidden], dgates[r, hidden:2 * hidden], dgates[r, 2 * hidden:3 * hidden],
                          dgates[r, 3 * hidden:])
        dyr, dhr, tcr, cpr, dcr = dy[r], dh[r], tc[r], c_prev[r], dc[r]
        for j in range(hidden):
            dht = dyr[j] + dhr[j]
            t = tcr[j]
            dct = dcr[j] + dht * o[j] * (one - t * t)
            di[j] = dct * g[j] * i[j] * (one - i[j])
            df[j] = dct * cpr[j] * f[j] * (one - f[j])
            dg[j] = dct * i[j] * (one - g[j] * g[j])
            do[j] = dht * t * o[j] * (one - o[j])
            dcr[j] = dct * f[j]
