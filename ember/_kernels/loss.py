"""Loss kernels: softmax cross-entropy over the rows of a float32 (M, C) logit array.

NumPy spends four passes over a large vocabulary (max, subtract, exp, sum) with two temporaries, and
its float32 ``exp`` is a scalar loop here. The row maxima come from NumPy (its max is vectorised and
propagates NaN; a max loop here only vectorises if NaN is assumed away); the kernel then makes one
pass per row: exp(x - max) written out and summed.

The exponential is Cephes' float32 ``expf`` (range reduction by ln 2, a degree-6 polynomial, 2^n built
from its bits; within about one ulp of the true value), written out inline so LLVM vectorises it,
which it cannot do with a call to libm. Its 2^n factor goes through an int32 scratch row viewed as
float32, because Numba has no scalar bit cast.

NaN is not assumed away (``fastmath`` is only reassociation, for the vectorised sums): a NaN or
+inf logit makes the returned total non-finite, and the call site then runs the general NumPy path,
which gives torch's result for those cases.
"""
import numpy as np

from .. import _jit

_SUMS = {"reassoc", "contract"}

# Cephes expf: exp(v) = 2^n * exp(r), n = round(v / ln 2), r = v - n ln 2 split in two parts.
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_P0, _P1, _P2 = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
_P3, _P4, _P5 = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)
_EXP_LO = np.float32(-87.33654)  # below this exp(v) is a float32 denormal: flushed to 0
_EXP_HI = np.float32(88.72283)   # above this exp(v) overflows float32


@_jit.kernel(fastmath=_SUMS)
def softmax_xent_forward(x, row_max, target, e, sum_e, pow2_bits):
    """For each row of x (M, C) float32 and its max: e = exp(x - max), sum_e = sum(e). Returns the
    summed cross-entropy sum_rows(log(sum_e) + max - x[row, target]) as a float64: nan when a row
    has a NaN (NumPy's row max is then NaN) or a +inf logit (inf - inf); -inf logits get probability
    0. ``pow2_bits``: int32 scratch of length C."""
    m_rows, c = x.shape
    pow2 = pow2_bits.view(np.float32)
    total = 0.0
    for r in range(m_rows):
        row, out, m = x[r], e[r], row_max[r]
        for j in range(c):
            v = max(row[j] - m, _EXP_LO)
            n = np.floor(v * _LOG2E + np.float32(0.5))
            f = v - n * _LN2_HI - n * _LN2_LO
            p = ((((_P0 * f + _P1) * f + _P2) * f + _P3) * f + _P4) * f + _P5
            out[j] = p * f * f + f + np.float32(1)
            pow2_bits[j] = (np.int32(n) + np.int32(127)) << np.int32(23)
        s = np.float32(0)
        for j in range(c):
            ej = out[j] * pow2[j]
            ej = ej if row[j] - m > _EXP_LO else np.float32(0)
            out[j] = ej
            s += ej
        sum_e[r] = s
        total += np.log(np.float64(s)) + np.float64(m) - np.float64(row[target[r]])
    return total
