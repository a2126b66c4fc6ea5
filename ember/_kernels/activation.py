"""Activation kernels (float32): GELU (exact and tanh forms) forward and backward, and a one-pass softmax
over rows with its backward.

NumPy's float32 ``exp`` and SciPy's ``erf`` run element by element here (SciPy in float64), which made
GELU and softmax several times slower than torch's vectorised ones. These loops evaluate both as
polynomials in float32 that LLVM vectorises: erf and exp(t <= 0) from ``_fmath`` (all that softmax and
the GELU density need), and tanh (GELU's tanh form) as an odd polynomial near 0 and (1 - e) / (1 + e),
e = exp(-2|y|), elsewhere.

Only ``contract`` (FMA) and ``reassoc`` (vectorised sums) are allowed of fastmath: NaN and inf keep
their IEEE behaviour. NaN inputs propagate as in the NumPy path and torch (see each kernel).
"""
import numpy as np

from .. import _jit
from ._fmath import ONE as _ONE, HALF as _HALF, EXP_LO as _EXP_LO, erf, exp_nonpositive, exp_reduced, pow2_bits

_f = np.float32
_FAST = {"contract"}
_SUMS = {"contract", "reassoc"}

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
_SIGN = np.int32(31)
_ABS = np.int32(0x7FFFFFFF)
_INF_BITS = np.int32(0x7F800000)
_KEY_MIN = np.int32(-0x80000000)


@_jit.kernel(fastmath=_FAST)
def gelu_forward(x, out):
    """out = x * Phi(x) = x * (1 + erf(x / sqrt 2)) / 2 over flat float32 arrays."""
    for i in range(x.size):
        v = x[i]
        out[i] = v * (_HALF + _HALF * erf(v * _INV_SQRT_2))


@_jit.inline
def _exp_parts(t):
    """exp(t) for t <= 0 as (p, bits): exp(t) = p * (bits viewed as float32), bits 0 below EXP_LO and for
    NaN. Stored to a float32 and an int32 scratch row and multiplied in a second short pass, it is the
    same number as ``exp_nonpositive`` (whose power-of-two factors are exact until the last) in fewer
    instructions: softmax's rows run 10-20% faster."""
    keep = t > _EXP_LO
    p, k = exp_reduced(t if keep else _EXP_LO)
    return p, pow2_bits(k) if keep else np.int32(0)


@_jit.inline
def _exp_nonpositive_cast(t):
    """exp(t) for t <= 0, the same number as ``exp_nonpositive`` (0 below EXP_LO and for NaN), with 2^k
    as one float32 bit pattern read through Numba's scalar ``view``: four vector instructions where the
    seven power-of-two selects take twenty, and one pass where the scratch-row form takes two."""
    keep = t > _EXP_LO
    p, k = exp_reduced(t if keep else _EXP_LO)
    return p * np.int32(pow2_bits(k)).view(np.float32) if keep else _f(0)


@_jit.kernel(fastmath=_FAST)
def gelu_backward(x, g, out):
    """out = g * (Phi(x) + x * phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi), over flat float32 arrays: one
    vectorised pass. The density is 0 where the exp underflows and for NaN (which comes back through
    Phi); x = +-inf gives NaN (inf * 0), as torch's kernel does."""
    for i in range(x.size):
        v = x[i]
        cdf = _HALF + _HALF * erf(v * _INV_SQRT_2)
        pdf = _exp_nonpositive_cast(-_HALF * v * v) * _INV_SQRT_2PI
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
        e = exp_nonpositive(_f(-2) * a)  # a >= 0.625 on the branch that uses it
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
    bits = np.empty(length, np.int32)
    pow2 = bits.view(np.float32)
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
        for j in range(length):
            yr[j], bits[j] = _exp_parts(yr[j] - m)
        total = _f(0)
        for j in range(length):
            e = yr[j] * pow2[j]
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


@_jit.kernel
def relu_forward(x, out):
    """out = max(x, 0) over flat arrays in one pass, torch's clamp_min: NaN and -0.0 pass through."""
    zero = out.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = zero if v < zero else v


@_jit.kernel
def relu_backward(y, g, out):
    """out = 0 where y <= 0 else g over flat arrays (y: relu's output), torch's threshold_backward: a
    select, so a NaN output passes the gradient and a NaN gradient where y <= 0 gives 0."""
    zero = out.dtype.type(0)
    for i in range(y.size):
        out[i] = zero if y[i] <= zero else g[i]
