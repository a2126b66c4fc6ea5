"""Loss kernels: softmax cross-entropy over the rows of a float32 (M, C) logit array.

NumPy spends four passes over a large vocabulary (max, subtract, exp, sum) with two temporaries, and
its float32 ``exp`` is a scalar loop here. The kernel finds each row's max as an integer max over the
float bits (vectorised, NaN flagged apart: a float max loop only vectorises if NaN is assumed away),
then makes one pass per row: exp(x - max) written out and summed. One call does the whole forward:
NumPy's max along rows alone costs more than the kernel for a small batch. The backward is one
more pass: softmax times the loss scale, minus the scale at each target.

The exponential is ``_fmath``'s, inline so the loop vectorises, with 2^k through an int32 scratch
row (two short passes per row measured faster here than the one-pass product of powers of two).

NaN is not assumed away (``fastmath`` is only reassociation, for the vectorised sums): a NaN or
+inf logit makes the returned total non-finite, and the call site then runs the general NumPy path,
which gives torch's result for those cases.
"""
import numpy as np

from .. import _jit
from ._fmath import EXP_LO, exp_reduced, pow2_bits as _pow2_bits

_SUMS = {"reassoc", "contract"}


_SIGN = np.int32(31)
_ABS = np.int32(0x7FFFFFFF)
_KEY_MIN = np.int32(-0x80000000)
_INF_BITS = np.int32(0x7F800000)


@_jit.inline
def _row_max(row_bits, scratch):
    """The max of a float32 row given as its int32 bits, NaN if the row holds one: an integer max over
    keys that order the bit patterns as their floats (vectorises, unlike a NaN-respecting float
    max), NaN flagged apart. ``scratch``: a length-1 int32 array, viewed as float32 for the cast back."""
    key_max = _KEY_MIN
    nan = False
    for j in range(row_bits.size):
        b = row_bits[j]
        key = b ^ ((b >> _SIGN) & _ABS)
        key_max = key if key > key_max else key_max
        nan |= (b & _ABS) > _INF_BITS
    if nan:
        return np.float32(np.nan)
    scratch[0] = key_max ^ ((key_max >> _SIGN) & _ABS)  # back to the float's bits
    return scratch.view(np.float32)[0]


@_jit.kernel(fastmath=_SUMS)
def softmax_xent_forward(x, row_max, target, e, sum_e, pow2_bits):
    """For each row of x (M, C) float32 and its max: e = exp(x - max), sum_e = sum(e). Returns the
    summed cross-entropy sum_rows(log(sum_e) + max - x[row, target]) as a float64: nan when a row
    has a NaN (its max is then NaN) or a +inf logit (inf - inf), or when a target is outside
    [0, C) (the call site then runs the general path, which raises torch's error); -inf logits get
    probability 0. ``row_max``: the rows' maxima, or an empty array to find them here (one kernel
    call for a small batch, where NumPy's max along rows costs more than the whole kernel).
    ``pow2_bits``: int32 scratch of length C."""
    m_rows, c = x.shape
    pow2 = pow2_bits.view(np.float32)
    x_bits = x.view(np.int32)
    cast = np.empty(1, np.int32)
    own_max = row_max.size == 0
    total = 0.0
    for r in range(m_rows):
        t = target[r]
        if t < 0 or t >= c:
            return np.nan
        row, out = x[r], e[r]
        m = _row_max(x_bits[r], cast) if own_max else row_max[r]
        for j in range(c):
            out[j], k = exp_reduced(max(row[j] - m, EXP_LO))
            pow2_bits[j] = _pow2_bits(k)
        s = np.float32(0)
        for j in range(c):
            ej = out[j] * pow2[j] if row[j] - m > EXP_LO else np.float32(0)
            out[j] = ej
            s += ej
        sum_e[r] = s
        total += np.log(np.float64(s)) + np.float64(m) - np.float64(row[t])
    return total


@_jit.kernel
def softmax_xent_backward(e, sum_e, target, scale, out):
    """The gradient of the fast path's loss: out = e * (scale / sum_e) per row, minus scale at each
    row's target, in float32 as the NumPy path computes it (no FMA: the subtraction rounds the
    product first)."""
    rows, c = e.shape
    s = np.float32(scale)
    for r in range(rows):
        q = s / sum_e[r]
        er, orow = e[r], out[r]
        for j in range(c):
            orow[j] = er[j] * q
        orow[target[r]] -= s
