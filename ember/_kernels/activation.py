"""Activation kernels (float32): GELU (exact and tanh forms) forward and backward, and a one-pass softmax
over rows with its backward.

NumPy's float32 ``exp`` and SciPy's ``erf`` run element by element here (SciPy in float64), which made
GELU and softmax several times slower than torch's vectorised ones. These loops evaluate both as
polynomials in float32 that LLVM vectorises:

- erf: the rational function x P(x^2) / Q(x^2) on [-4, 4] (|error| < 5e-7; erf(4) rounds to 1 in
  float32), the same one as the NumPy path's ``_erf_fast``;
- exp for arguments t <= 0 (all that softmax and the GELU density need): Cody-Waite range reduction
  t = k ln2 + r, |r| <= ln2 / 2, Cephes' degree-7 polynomial for exp(r) (error < 1e-7 relative), times
  2^k. Below -87.3 (where 2^k stops being a normal float) the result is taken as 0: it is below
  1.2e-38 there;
- tanh (GELU's tanh form): an odd polynomial near 0, (1 - e) / (1 + e), e = exp(-2|y|), elsewhere.

The scale 2^k (k in [-126, 0]) is a product of exact powers of two selected by the bits of -k: Numba has
no scalar bit cast, and an integer view of a scratch buffer would cost a second pass.

Only ``contract`` (FMA) and ``reassoc`` (vectorised sums) are allowed of fastmath: NaN and inf keep
their IEEE behaviour. NaN inputs propagate as in the NumPy path and torch (see each kernel).
"""
import numpy as np

from .. import _jit

_f = np.float32
_FAST = {"contract"}
_SUMS = {"contract", "reassoc"}

# erf(z) ~ z P(z^2) / Q(z^2) for |z| <= 4
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = [_f(c) for c in (
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)]
_Q0, _Q1, _Q2, _Q3, _Q4 = [_f(c) for c in (
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
    -1.42647390514189e-02)]
# exp(t) = 2^k exp(r): k = round(t log2(e)), r = t - k ln2 with ln2 split in two for an exact k ln2
_LOG2E = _f(1.4426950408889634)
_LN2_HI = _f(0.693359375)
_LN2_LO = _f(-2.12194440e-4)
_E0, _E1, _E2, _E3, _E4, _E5 = [_f(c) for c in (
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1)]
_EXP_LO = _f(-87.33654)  # log of the smallest normal float32
_HALF = _f(0.5)
_ONE = _f(1.0)
_FOUR = _f(4.0)
_INV_SQRT_2 = _f(0.7071067811865476)
_INV_SQRT_2PI = _f(0.3989422804014327)
# tanh(y) ~ y + y^3 P(y^2) for |y| < 0.625 (Cephes tanhf)
_T0, _T1, _T2, _T3, _T4 = [_f(c) for c in (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
                                            1.33314422036e-1, -3.33332819422e-1)]
_TANH_SMALL = _f(0.625)
_SQRT_2_OVER_PI = _f(0.7978845608028654)
_KAPPA = _f(0.044715)
_THREE_KAPPA = _f(3 * 0.044715)
_NEG_INF = _f(-np.inf)
_NAN = _f(np.nan)
_TWO_M1, _TWO_M2, _TWO_M4, _TWO_M8, _TWO_M16, _TWO_M32, _TWO_M64 = [_f(2.0 ** -(2 ** b)) for b in range(7)]
_SIGN = np.int32(31)
_ABS = np.int32(0x7FFFFFFF)
_INF_BITS = np.int32(0x7F800000)
_KEY_MIN = np.int32(-0x80000000)


@_jit.kernel(fastmath=_FAST)
def gelu_forward(x, out):
    """out = x * Phi(x) = x * (1 + erf(x / sqrt 2)) / 2 over flat float32 arrays."""
    for i in range(x.size):
        v = x[i]
        z = v * _INV_SQRT_2
        z = _FOUR if z > _FOUR else z  # selects, not min/max: NaN stays NaN
        z = -_FOUR if z < -_FOUR else z
        z2 = z * z
        p = (((((_P0 * z2 + _P1) * z2 + _P2) * z2 + _P3) * z2 + _P4) * z2 + _P5) * z2 + _P6
        q = (((_Q0 * z2 + _Q1) * z2 + _Q2) * z2 + _Q3) * z2 + _Q4
        out[i] = v * (_HALF + _HALF * (z * p / q))


@_jit.kernel(fastmath=_FAST)
def gelu_backward(x, g, out):
    """out = g * (Phi(x) + x * phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi), over flat float32 arrays."""
    for i in range(x.size):
        v = x[i]
        z = v * _INV_SQRT_2
        z = _FOUR if z > _FOUR else z
        z = -_FOUR if z < -_FOUR else z
        z2 = z * z
        p = (((((_P0 * z2 + _P1) * z2 + _P2) * z2 + _P3) * z2 + _P4) * z2 + _P5) * z2 + _P6
        q = (((_Q0 * z2 + _Q1) * z2 + _Q2) * z2 + _Q3) * z2 + _Q4
        cdf = _HALF + _HALF * (z * p / q)
        # exp(t), t = -v^2 / 2 <= 0; below _EXP_LO (and for NaN, which comes back through cdf) it is 0
        t = -_HALF * v * v
        keep = t > _EXP_LO
        tc = t if keep else _EXP_LO
        k = np.floor(tc * _LOG2E + _HALF)
        r = tc - k * _LN2_HI - k * _LN2_LO
        e = ((((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * r * r + r) + _ONE
        # times 2^k, k in [-126, 0]: one exact power-of-two factor per set bit of -k (no bit casts in a
        # loop that must vectorise)
        nk = np.int32(-k)
        e *= _TWO_M1 if nk & 1 else _ONE
        e *= _TWO_M2 if nk & 2 else _ONE
        e *= _TWO_M4 if nk & 4 else _ONE
        e *= _TWO_M8 if nk & 8 else _ONE
        e *= _TWO_M16 if nk & 16 else _ONE
        e *= _TWO_M32 if nk & 32 else _ONE
        e *= _TWO_M64 if nk & 64 else _ONE
        pdf = e * _INV_SQRT_2PI if keep else _f(0)
        out[i] = g[i] * (cdf + v * pdf)


@_jit.kernel(fastmath=_FAST)
def gelu_tanh(x, g, out, grad):
    """GELU's tanh approximation over flat float32 arrays, torch's formulas with
    t = tanh(sqrt(2 / pi) * (x + 0.044715 x^3)):
    out = x (1 + t) / 2, or with ``grad`` its gradient g * ((1 + t) / 2 + x / 2 (1 - t^2) d(inner)/dx).

    tanh(y): Cephes' odd polynomial y + y^3 P(y^2) for |y| < 0.625, else (1 - e) / (1 + e) with
    e = exp(-2|y|) <= 0.29 (no cancellation), sign restored; NaN passes through."""
    for i in range(x.size):
        v = x[i]
        y = _SQRT_2_OVER_PI * (v + _KAPPA * v * v * v)
        a = -y if y < _f(0) else y
        # exp(-2a), a >= 0.625 on the branch that uses it (as in gelu_backward)
        tt = _f(-2) * a
        keep = tt > _EXP_LO
        tc = tt if keep else _EXP_LO
        k = np.floor(tc * _LOG2E + _HALF)
        r = tc - k * _LN2_HI - k * _LN2_LO
        e = ((((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * r * r + r) + _ONE
        nk = np.int32(-k)
        e *= _TWO_M1 if nk & 1 else _ONE
        e *= _TWO_M2 if nk & 2 else _ONE
        e *= _TWO_M4 if nk & 4 else _ONE
        e *= _TWO_M8 if nk & 8 else _ONE
        e *= _TWO_M16 if nk & 16 else _ONE
        e *= _TWO_M32 if nk & 32 else _ONE
        e *= _TWO_M64 if nk & 64 else _ONE
        e = e if keep else _f(0)
        large = (_ONE - e) / (_ONE + e)
        z = y * y
        small = y + y * z * ((((_T0 * z + _T1) * z + _T2) * z + _T3) * z + _T4)
        t = small if a < _TANH_SMALL else (large if y > _f(0) else -large)
        t = y if y != y else t
        if grad:
            d_inner = _SQRT_2_OVER_PI * (_ONE + _THREE_KAPPA * v * v)
            out[i] = g[i] * (_HALF * (_ONE + t) + _HALF * v * (_ONE - t * t) * d_inner)
        else:
            out[i] = _HALF * v * (_ONE + t)


@_jit.kernel(fastmath=_SUMS)
def softmax_rows(x, out, masked_rows_zero):
    """Softmax of each row of a C-contiguous float32 (R, L) array into ``out``, in one pass per row.

    A row holding NaN or +inf gives NaN, as torch's softmax. A row with every entry -inf gives NaN, or
    zeros when ``masked_rows_zero`` (scaled_dot_product_attention's rule)."""
    rows, length = x.shape
    if length == 0:
        return
    out_bits = out.view(np.int32)
    cast_bits = np.empty(1, np.int32)
    cast = cast_bits.view(np.float32)
    for row in range(rows):
        # Copy the row first and work on ``out`` alone: x may be out (in place), and loops that read one
        # array and write another that LLVM cannot prove distinct fall back to scalar code.
        xr = x[row]
        yr = out[row]
        for j in range(length):
            yr[j] = xr[j]
        # the row max as an integer max (vectorises, unlike a float max that must respect NaN): the
        # key below orders int32 bit patterns as their floats; NaN is flagged separately
        yb = out_bits[row]
        key_max = _KEY_MIN
        nan = 0
        for j in range(length):
            b = yb[j]
            key = b ^ ((b >> _SIGN) & _ABS)
            key_max = key if key > key_max else key_max
            nan |= (b & _ABS) > _INF_BITS
        if nan:
            yr[:] = _NAN
            continue
        cast_bits[0] = key_max ^ ((key_max >> _SIGN) & _ABS)  # back to the float's bits
        m = cast[0]
        if m == _NEG_INF:  # every entry masked out
            yr[:] = _f(0) if masked_rows_zero else _NAN
            continue
        if m == -_NEG_INF:  # inf - inf
            yr[:] = _NAN
            continue
        total = _f(0)
        for j in range(length):
            t = yr[j] - m
            keep = t > _EXP_LO
            tc = t if keep else _EXP_LO
            k = np.floor(tc * _LOG2E + _HALF)
            r = tc - k * _LN2_HI - k * _LN2_LO
            e = ((((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * r * r + r) + _ONE
            nk = np.int32(-k)  # times 2^k, as in gelu_backward
            e *= _TWO_M1 if nk & 1 else _ONE
            e *= _TWO_M2 if nk & 2 else _ONE
            e *= _TWO_M4 if nk & 4 else _ONE
            e *= _TWO_M8 if nk & 8 else _ONE
            e *= _TWO_M16 if nk & 16 else _ONE
            e *= _TWO_M32 if nk & 32 else _ONE
            e *= _TWO_M64 if nk & 64 else _ONE
            e = e if keep else _f(0)
            yr[j] = e
            total += e
        inv = _ONE / total
        for j in range(length):
            yr[j] *= inv


@_jit.kernel(fastmath=_SUMS)
def softmax_rows_backward(y, g, out):
    """out = y * (g - sum(g * y)) per row of C-contiguous (R, L) arrays (y: the softmax output)."""
    rows, length = y.shape
    for row in range(rows):
        yr = y[row]
        gr = g[row]
        s = yr.dtype.type(0)
        for j in range(length):
            s += gr[j] * yr[j]
        orow = out[row]
        for j in range(length):
            orow[j] = yr[j] * (gr[j] - s)
