"""Recurrent kernels: the pointwise part of one LSTM time step, forward and backward.

A step of a fused LSTM layer (``ember/nn/functional/_rnn_cells.py``) is one GEMM, ``h @ W_hh^T``, and
then gate math on a (batch, 4 * hidden) row block: about fifteen NumPy calls on small arrays, each
paying call overhead and a pass over memory. Here the gate math is one call per step, row by row, with
the innermost loops over the contiguous hidden axis so they vectorise.

The forward's sigmoid and tanh go through Cephes' float32 ``expf`` written out inline (see
``ember/_kernels/loss.py``: libm's exp does not vectorise), so the forward kernel is float32 only:
sigmoid(x) = 1 / (1 + e^-x), tanh(x) = 2 / (1 + e^-2x) - 1 (absolute error a few 1e-8). Arguments are
clamped to the range where float32 exp is finite and normal, which leaves both functions' values
unchanged; a NaN passes through the comparisons and comes out NaN. The backward needs no exp and
takes float32 or float64.
"""
import numpy as np

from .. import _jit

# Cephes expf constants (as in loss.py).
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_P0, _P1, _P2 = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
_P3, _P4, _P5 = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)
_EXP_LO, _EXP_HI = np.float32(-87.33654), np.float32(88.72283)
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


@_jit.kernel
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
            v = k[j] * (g[j] + rec[r, j])
            v = _EXP_LO if v < _EXP_LO else v
            v = _EXP_HI if v > _EXP_HI else v
            n = np.floor(v * _LOG2E + np.float32(0.5))
            f = v - n * _LN2_HI - n * _LN2_LO
            p = ((((_P0 * f + _P1) * f + _P2) * f + _P3) * f + _P4) * f + _P5
            g[j] = p * f * f + f + _ONE
            pow2_bits[j] = (np.int32(n) + np.int32(127)) << np.int32(23)
        for j in range(h4):
            g[j] = a[j] / (_ONE + g[j] * pow2[j]) + b[j]
        for j in range(hidden):  # c = f c + i g, then exp(-2c) as above, into tc
            cn = g[hidden + j] * cr[j] + g[j] * g[2 * hidden + j]
            cr[j] = cn
            v = -_TWO * cn
            v = _EXP_LO if v < _EXP_LO else v
            v = _EXP_HI if v > _EXP_HI else v
            n = np.floor(v * _LOG2E + np.float32(0.5))
            f = v - n * _LN2_HI - n * _LN2_LO
            p = ((((_P0 * f + _P1) * f + _P2) * f + _P3) * f + _P4) * f + _P5
            tcr[j] = p * f * f + f + _ONE
            pow2_bits[j] = (np.int32(n) + np.int32(127)) << np.int32(23)
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
