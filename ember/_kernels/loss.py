"""Loss kernels: softmax cross-entropy over the rows of a float32 (M, C) logit array.

NumPy spends four passes over a large vocabulary (max, subtract, exp, sum) with two temporaries, and
its float32 ``exp`` is a scalar loop here. The row maxima come from NumPy (its max is vectorised and
propagates NaN; a max loop here only vectorises if NaN is assumed away); the kernel then makes one
pass per row: exp(x - max) written out and summed.

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
            out[j], k = exp_reduced(max(row[j] - m, EXP_LO))
            pow2_bits[j] = _pow2_bits(k)
        s = np.float32(0)
        for j in range(c):
            ej = out[j] * pow2[j] if row[j] - m > EXP_LO else np.float32(0)
            out[j] = ej
            s += ej
        sum_e[r] = s
        total += np.log(np.float64(s)) + np.float64(m) - np.float64(row[target[r]])
    return total
