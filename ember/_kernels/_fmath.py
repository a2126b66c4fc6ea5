"""Float32 math shared by the kernels, as ``@_jit.inline`` helpers: each caller gets its own inlined copy,
so the loops around them still vectorise (a call into libm's ``expf``/``erff`` would not).

- exp: Cody-Waite range reduction t = k ln2 + r (ln2 split in two so k ln2 is exact), Cephes' degree-6
  polynomial for exp(r) (error below 1e-7 relative), times 2^k;
- erf: the rational function z P(z^2) / Q(z^2) on [-4, 4] (|error| < 5e-7; erf(4) rounds to 1 in
  float32), the same one as the NumPy path's ``_erf_fast``.

Numba has no scalar bit cast, so 2^k is built either as a product of exact powers of two selected by
the bits of -k (``exp_nonpositive``: one pass, k <= 0) or as float32 bit patterns written to an int32
scratch row viewed as float32 (``pow2_bits``: any k, a second pass).
"""
import numpy as np

from .. import _jit

_f = np.float32
ONE, HALF = _f(1.0), _f(0.5)
LOG2E = _f(1.4426950408889634)
LN2_HI, LN2_LO = _f(0.693359375), _f(-2.12194440e-4)
E0, E1, E2, E3, E4, E5 = [_f(c) for c in (
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1)]
EXP_LO = _f(-87.33654)  # log of the smallest normal float32: below it exp is taken as 0
EXP_HI = _f(88.72283)   # above it exp overflows float32
_TWO_M1, _TWO_M2, _TWO_M4, _TWO_M8, _TWO_M16, _TWO_M32, _TWO_M64 = [_f(2.0 ** -(2 ** b)) for b in range(7)]
# erf(z) ~ z P(z^2) / Q(z^2) for |z| <= 4
P0, P1, P2, P3, P4, P5, P6 = [_f(c) for c in (
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)]
Q0, Q1, Q2, Q3, Q4 = [_f(c) for c in (
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
    -1.42647390514189e-02)]
FOUR = _f(4.0)


@_jit.inline
def exp_reduced(t):
    """(p, k) with exp(t) = p * 2^k for t in [EXP_LO, EXP_HI]: k = round(t / ln 2) as a float32."""
    k = np.floor(t * LOG2E + HALF)
    r = t - k * LN2_HI - k * LN2_LO
    return ((((((E0 * r + E1) * r + E2) * r + E3) * r + E4) * r + E5) * r * r + r) + ONE, k


@_jit.inline
def pow2_bits(k):
    """The float32 bit pattern of 2^k, k in [-126, 127] (write to an int32 row viewed as float32)."""
    return (np.int32(k) + np.int32(127)) << np.int32(23)


@_jit.inline
def exp_nonpositive(t):
    """exp(t) for t <= 0: 0 below EXP_LO and for NaN (callers that must propagate NaN test for it)."""
    keep = t > EXP_LO
    p, k = exp_reduced(t if keep else EXP_LO)
    nk = np.int32(-k)  # 2^k as one exact power-of-two factor per set bit of -k
    p *= _TWO_M1 if nk & 1 else ONE
    p *= _TWO_M2 if nk & 2 else ONE
    p *= _TWO_M4 if nk & 4 else ONE
    p *= _TWO_M8 if nk & 8 else ONE
    p *= _TWO_M16 if nk & 16 else ONE
    p *= _TWO_M32 if nk & 32 else ONE
    p *= _TWO_M64 if nk & 64 else ONE
    return p if keep else _f(0)


@_jit.inline
def erf(z):
    """erf(z) in float32; |z| > 4 gives +-1 (selects, not min/max: NaN stays NaN)."""
    z = FOUR if z > FOUR else z
    z = -FOUR if z < -FOUR else z
    z2 = z * z
    p = (((((P0 * z2 + P1) * z2 + P2) * z2 + P3) * z2 + P4) * z2 + P5) * z2 + P6
    q = (((Q0 * z2 + Q1) * z2 + Q2) * z2 + Q3) * z2 + Q4
    return z * p / q
