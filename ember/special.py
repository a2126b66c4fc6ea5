"""``torch.special``: special functions, differentiable, with torch's names.

SciPy's kernels are used when SciPy is installed; NumPy fallbacks cover the rest.

>>> import ember as torch
>>> torch.special.ndtr(torch.tensor([0.]))
tensor([0.5000])
"""
import math

import numpy as np

from . import _dtype as D
from ._tensor import Tensor
from .autograd.function import Op
from ._ops import elementwise as E
from ._ops import reduction as R
from ._ops._util import compute_dtype, float_dtype_for, type_name
from ._ops.inplace import write_out

from ._optional import scipy_module
from ._device import array_module, module_of, as_array, is_array, special_module, to_host

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "gammaln", "digamma", "psi", "polygamma", "multigammaln",
           "xlogy", "xlog1py", "log_softmax", "softmax", "logsumexp", "i0", "i1", "sinc", "entr", "ndtr", "ndtri",
           "log_ndtr", "log1p", "expm1", "exp2", "round", "i0e", "i1e", "erfcx"]

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

expit = E.sigmoid
erf, erfc, erfinv = E.erf, E.erfc, E.erfinv
gammaln = E.lgamma
log1p, expm1, exp2, round = E.log1p, E.expm1, E.exp2, E.round
logsumexp = R.logsumexp


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), with ``p`` clamped to [eps, 1 - eps] when ``eps`` is given."""
    return E.logit(input, eps, out=out)


def _special(x):
    """The special-function module for ``x``'s data: scipy.special (None without SciPy) or cupyx's."""
    return special_module(array_module(x))


def _float_input(x):
    """(array in its compute dtype, result dtype) for a floating unary special function."""
    dt = float_dtype_for(x.dtype)
    cdt = compute_dtype(dt)
    return x.astype(cdt, copy=False), dt


# ------------------------------------------------------------------ gamma family
_BERNOULLI_2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _hurwitz_zeta(s, q):
    """zeta(s, q) = sum_k (q + k)^-s for s > 1, q > 0 (Euler-Maclaurin after shifting q by 9)."""
    n = 9
    total = sum((q + k) ** -s for k in range(n))
    a = q + n
    total = total + a ** (1 - s) / (s - 1) + 0.5 * a ** -s
    fact, rising = 1.0, s
    term_pow = a ** (-s - 1)
    for j, b in enumerate(_BERNOULLI_2K, start=1):
        fact *= (2 * j - 1) * (2 * j) if j > 1 else 2
        total = total + b / fact * rising * term_pow
        rising = rising * (s + 2 * j - 1) * (s + 2 * j)
        term_pow = term_pow / (a * a)
    return total


def _digamma_np(x):
    """psi(x) by recurrence up to x >= 6, the asymptotic series, and reflection for x < 0."""
    x = np.asarray(x, np.float64)
    neg = x < 0
    xr = np.where(neg, 1 - x, x)
    shift = np.zeros_like(xr)
    for _ in range(6):
        small = xr < 6
        shift = shift - np.where(small, 1 / np.where(small, xr, 1), 0)
        xr = np.where(small, xr + 1, xr)
    inv2 = 1 / (xr * xr)
    series = np.log(xr) - 0.5 / xr - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (
        1 / 240 - inv2 / 132))))
    out = series + shift
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(neg, out - math.pi / np.tan(math.pi * x), out)
        out = np.where((x <= 0) & (x == np.floor(x)), np.where(x == 0, -np.inf, np.nan), out)
    return out


def _polygamma_np(n, x):
    sp = _special(x)
    if n == 0:
        return sp.digamma(x) if sp is not None else _digamma_np(x)
    if sp is not None:
        if x.__class__ is not np.ndarray:  # scipy's own formula, with n a Python number on the device
            return (-1.0) ** (n + 1) * math.factorial(n) * sp.zeta(float(n + 1), x)
        return sp.polygamma(n, x)
    # psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x), valid for x > 0
    with np.errstate(all="ignore"):
        val = (-1) ** (n + 1) * math.factorial(n) * _hurwitz_zeta(float(n + 1), np.asarray(x, np.float64))
    return np.where(x > 0, val, np.nan)


class Polygamma(Op):
    def forward(ctx, x, n):
        xc, dt = _float_input(x)
        with np.errstate(all="ignore"):
            out = as_array(_polygamma_np(n, xc), dt)
        ctx.n = n
        ctx.save_for_backward(x)
        return out

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * Polygamma.apply(x, ctx.n + 1), None


def polygamma(n, input, *, out=None):
    """n-th derivative of the digamma function."""
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n.")
    return write_out(Polygamma.apply(input, int(n)), out)


def digamma(input, *, out=None):
    """psi(x) = d/dx log Gamma(x); differentiable (its derivative is polygamma(1, x))."""
    return write_out(Polygamma.apply(input, 0), out)


psi = digamma


def multigammaln(input, p, *, out=None):
    """Multivariate log-gamma: p(p-1)/4 log(pi) + sum_j lgamma(x - j/2)."""
    if p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1")
    j = Tensor._wrap(array_module(input._data).arange(p, dtype=input._data.dtype) / 2)
    res = E.lgamma(input.unsqueeze(-1) - j).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    return write_out(res, out)


# ------------------------------------------------------------------ logs and entropy
def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input is 0."""
    return E.xlogy(input, other, out=out)


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input is 0."""
    if not isinstance(input, Tensor):
        xp = array_module(other._data) if isinstance(other, Tensor) else np
        input = Tensor._wrap(xp.asarray(input, dtype=D.get_default_dtype().np))
    if not isinstance(other, Tensor):
        other = Tensor._wrap(array_module(input._data).asarray(
            other, dtype=input._data.dtype if input.is_floating_point() else D.get_default_dtype().np))
    zero = input == 0
    safe = other.masked_fill(zero, 0.0) if other.is_floating_point() else other
    return write_out(E.where(zero, 0.0, input * E.log1p(safe)), out)


def entr(input, *, out=None):
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0."""
    pos = input > 0
    safe = input.masked_fill(~pos, 1.0) if input.is_floating_point() else input.masked_fill(~pos, 1).float()
    val = -safe * E.log(safe)
    res = E.where(pos, val, E.where(input == 0, 0.0, -math.inf))
    return write_out(res, out)


def sinc(input, *, out=None):
    """sin(pi x) / (pi x), 1 at 0 (normalized sinc)."""
    zero = input == 0
    x = input if input.is_floating_point() else input.to(D.get_default_dtype())
    safe = x.masked_fill(zero, 1.0) * math.pi
    return write_out(E.where(zero, 1.0, E.sin(safe) / safe), out)


# ------------------------------------------------------------------ softmax
def log_softmax(input, dim, *, dtype=None):
    """log(softmax(input)) along ``dim``, computed stably."""
    x = input.to(dtype) if dtype is not None else input
    if not x.is_floating_point():
        x = x.to(D.get_default_dtype())
    return x - R.logsumexp(x, dim, keepdim=True)


def softmax(input, dim, *, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    return E.exp(log_softmax(input, dim, dtype=dtype))


# ------------------------------------------------------------------ normal distribution
def ndtr(input, *, out=None):
    """Standard normal CDF."""
    x = input if input.is_floating_point() else input.to(D.get_default_dtype())
    return write_out(0.5 * E.erfc(x * (-1 / _SQRT2)), out)


def ndtri(input, *, out=None):
    """Inverse of the standard normal CDF."""
    x = input if input.is_floating_point() else input.to(D.get_default_dtype())
    return write_out(E.erfinv(2 * x - 1) * _SQRT2, out)


def _erfc_continued_fraction(y):
    """t(y) with erfc(y) = exp(-y^2) / (sqrt(pi) t(y)) for y > 2: Laplace's continued fraction, 60 terms."""
    t = y.copy()
    for k in range(60, 0, -1):
        t = y + (k / 2) / t
    return t


def _log_ndtr_np(x):
    sp = _special(x)
    if sp is not None:
        return sp.log_ndtr(x)
    # left of -2, 1 + erf(x/sqrt2) cancels: use log Phi(x) = log(erfcx(y) / 2) - y^2, y = -x/sqrt2,
    # with erfcx from its continued fraction (converges fast for y > 1)
    with np.errstate(all="ignore"):
        direct = np.log(0.5 * (1 + E._erf(x / _SQRT2)))
        y = np.where(x < -2, -x / _SQRT2, 2.0)
        tail = -np.log(2 * math.sqrt(math.pi) * _erfc_continued_fraction(y)) - y * y
    return np.where(x < -2, tail, direct)


class LogNdtr(Op):
    def forward(ctx, x):
        xc, dt = _float_input(x)
        out = as_array(_log_ndtr_np(xc), dt)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        # d/dx log Phi(x) = phi(x) / Phi(x) = exp(-x^2/2 - log Phi(x)) / sqrt(2 pi)
        return g * E.exp(-0.5 * x * x - out - _LOG_SQRT_2PI)


def log_ndtr(input, *, out=None):
    """log of the standard normal CDF, accurate far into the left tail."""
    return write_out(LogNdtr.apply(input), out)


def _erfcx_np(x):
    sp = _special(x)
    if sp is not None:
        return sp.erfcx(x)
    # exp(x^2) erfc(x): directly below 2, from the continued fraction above (no overflow), and by
    # erfcx(x) = 2 exp(x^2) - erfcx(-x) for negative x
    x = np.asarray(x, np.float64)
    a = np.abs(x)
    with np.errstate(all="ignore"):
        direct = np.exp(a * a) * (1 - E._erf(a))
        y = np.where(a > 2, a, 3.0)
        pos = np.where(a > 2, 1 / (math.sqrt(math.pi) * _erfc_continued_fraction(y)), direct)
        return np.where(x < 0, 2 * np.exp(x * x) - pos, pos)


class Erfcx(Op):
    def forward(ctx, x):
        xc, dt = _float_input(x)
        out = as_array(_erfcx_np(xc), dt)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return g * (2 * x * out - 2 / math.sqrt(math.pi))


def erfcx(input, *, out=None):
    """Scaled complementary error function exp(x^2) erfc(x), finite where erfc underflows."""
    return write_out(Erfcx.apply(input), out)


# ------------------------------------------------------------------ Bessel functions
def _i1_np(x):
    sp = _special(x)
    if sp is not None:
        return sp.i1(x)
    # the power series has only positive terms: accurate to rounding for every finite x it can hold
    half = np.asarray(x, np.float64) / 2
    term = half.copy()
    total = term.copy()
    sq = half * half
    for k in range(1, 200):
        term = term * sq / (k * (k + 1))
        total = total + term
    return total


class I0(Op):
    def forward(ctx, x):
        xc, dt = _float_input(x)
        ctx.save_for_backward(x)
        sp = _special(xc)
        return as_array(sp.i0(xc) if sp is not None else np.i0(xc), dt)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * I1.apply(x)


class I1(Op):
    def forward(ctx, x):
        xc, dt = _float_input(x)
        out = as_array(_i1_np(xc), dt)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        # I1'(x) = I0(x) - I1(x) / x, with the limit 1/2 at x = 0
        zero = x == 0
        ratio = out / x.masked_fill(zero, 1.0)
        return g * (I0.apply(x) - ratio).masked_fill(zero, 0.5)


def i0(input, *, out=None):
    """Modified Bessel function of the first kind, order 0."""
    return write_out(I0.apply(input), out)


def i1(input, *, out=None):
    """Modified Bessel function of the first kind, order 1."""
    return write_out(I1.apply(input), out)


mvlgamma = multigammaln


def _install():
    """Tensor methods torch has for these functions (top-level aliases live in ember/__init__)."""
    Tensor.i0 = i0
    Tensor.sinc = sinc
    Tensor.polygamma = lambda self, n: polygamma(n, self)
    Tensor.mvlgamma = lambda self, p: multigammaln(self, p)
    Tensor.xlog1py = xlog1py
    from ._ops.inplace import inplace_method
    Tensor.i0_ = inplace_method(i0)
    Tensor.sinc_ = inplace_method(sinc)
    Tensor.polygamma_ = lambda self, n: self.copy_(polygamma(n, self))
    Tensor.mvlgamma_ = lambda self, p: self.copy_(multigammaln(self, p))


_install()


class I0e(Op):
    def forward(ctx, x):
        xc, dt = _float_input(x)
        sp = _special(xc)
        with np.errstate(all="ignore"):
            out = as_array(sp.i0e(xc) if sp is not None else np.i0(xc) * np.exp(-np.abs(xc)), dt)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return g * (I1e.apply(x) - x.sgn() * out)


class I1e(Op):
    def forward(ctx, x):
        xc, dt = _float_input(x)
        sp = _special(xc)
        with np.errstate(all="ignore"):
            out = as_array(sp.i1e(xc) if sp is not None else _i1_np(xc) * np.exp(-np.abs(xc)), dt)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        # d/dx [exp(-|x|) I1(x)] = I0e(x) - I1e(x) (sign(x) + 1/x), with the limit 1/2 at x = 0
        zero = x == 0
        ratio = out / x.masked_fill(zero, 1.0)
        return g * (I0e.apply(x) - x.sgn() * out - ratio).masked_fill(zero, 0.5)


def i0e(input, *, out=None):
    """Exponentially scaled I0: exp(-|x|) I0(x)."""
    return write_out(I0e.apply(input), out)


def i1e(input, *, out=None):
    """Exponentially scaled I1: exp(-|x|) I1(x)."""
    return write_out(I1e.apply(input), out)


# ------------------------------------------------------------------ Bessel and Airy functions (SciPy)
# torch computes these without a derivative: their results never require grad.
def _need_scipy_special(fname, x=None):
    """The special-function module for ``x``'s data (scipy.special when ``x`` is None), or torch's error."""
    sp = scipy_module("special") if x is None or x.__class__ is np.ndarray else _special(x)
    if sp is None:
        raise RuntimeError(f"torch.special.{fname} needs SciPy in ember (pip install scipy)")
    return sp


def _spherical_j0(x):
    with np.errstate(all="ignore"):
        out = np.sin(x) / x
    return np.where(x == 0, 1.0, np.where(np.isinf(x), 0.0, out))


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _check_kernel_dtype(kernel, dt):
    """torch has these kernels for float32 and float64 only (integer inputs are promoted before)."""
    if dt not in _KERNEL_DTYPES:
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{type_name(D._BY_NP[dt])}\'')


def _unary(fname, values):
    """A non-differentiable unary special function computing ``values(x)`` on float32/float64 arrays."""
    def fn(input, *, out=None):
        x, dt = _float_input(input._data)
        _check_kernel_dtype(fname, dt)
        with np.errstate(all="ignore"):
            res = as_array(values(x), dt)
        return write_out(Tensor._wrap(res), out)
    fn.__name__ = fn.__qualname__ = fname
    return fn


def _from_scipy(fname, scipy_name, output=None):
    def values(x):
        sp = _need_scipy_special(fname, x)
        if not hasattr(sp, scipy_name):  # cupyx.scipy.special lacks it (airy): computed on the host
            return array_module(x).asarray(values(to_host(x)))
        res = getattr(sp, scipy_name)(x)
        return res if output is None else res[output]
    return _unary(fname, values)


airy_ai = _from_scipy("airy_ai", "airy", output=0)      # scipy's airy gives (Ai, Ai', Bi, Bi')
bessel_j0 = _from_scipy("bessel_j0", "j0")
bessel_j1 = _from_scipy("bessel_j1", "j1")
bessel_y0 = _from_scipy("bessel_y0", "y0")
bessel_y1 = _from_scipy("bessel_y1", "y1")
modified_bessel_i0 = _from_scipy("modified_bessel_i0", "i0")
modified_bessel_i1 = _from_scipy("modified_bessel_i1", "i1")
modified_bessel_k0 = _from_scipy("modified_bessel_k0", "k0")
modified_bessel_k1 = _from_scipy("modified_bessel_k1", "k1")
scaled_modified_bessel_k0 = _from_scipy("scaled_modified_bessel_k0", "k0e")
scaled_modified_bessel_k1 = _from_scipy("scaled_modified_bessel_k1", "k1e")
spherical_bessel_j0 = _unary("spherical_bessel_j0", _spherical_j0)


# ------------------------------------------------------------------ orthogonal polynomials
# torch evaluates p_n(x) per element: n is cast to the result dtype and truncated to an integer (NaN and
# out-of-range n act as negative n, giving 0), a few closed forms and endpoint values come first, then the
# three-term recurrence.  Results never require grad.
_INT64_MIN = np.iinfo(np.int64).min


def _degree(n):
    """torch's static_cast<int64_t>(n) on x86: truncation, NaN/inf/out-of-range to INT64_MIN."""
    if n.dtype.kind != "f":
        return n.astype(np.int64)
    ok = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
    return np.where(ok, np.trunc(np.where(ok, n, 0)), _INT64_MIN).astype(np.int64)


def _polynomial_operands(fname, x, n):
    """(x, n) as broadcast arrays in the compute dtype / int64, and the result dtype."""
    if not isinstance(x, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"special_{fname}() received an invalid combination of arguments - got "
                        f"({type(x).__name__}, {type(n).__name__}), but expected one of:\n"
                        " * (Tensor x, Tensor n, *, Tensor out = None)\n"
                        " * (Number x, Tensor n, *, Tensor out = None)\n"
                        " * (Tensor x, Number n, *, Tensor out = None)\n")
    xr = x._data if isinstance(x, Tensor) else x
    nr = n._data if isinstance(n, Tensor) else n
    dt = float_dtype_for(D.result_type_raw(xr, nr).np)
    _check_kernel_dtype(fname, dt)
    xp = module_of(xr, nr)
    xa, na = xp.asarray(xr).astype(dt), xp.asarray(nr)
    if na.dtype.kind in "fb":
        na = na.astype(dt)                              # torch casts n to the result dtype, then truncates
    xa, na = np.broadcast_arrays(xa, _degree(na))
    return xa, na, dt


def _evaluate_polynomial(x, n, cases, first, step):
    """Apply ``cases`` [(mask, value)] in order, then the recurrence for the remaining n >= 2.

    ``first(x)`` is p_1; ``step(i, x, p, q)`` gives p_{i+1} from p_{i-1} = p and p_i = q.
    """
    xp = array_module(x)
    out = xp.zeros(x.shape, x.dtype)
    todo = n >= 0                                        # n < 0 gives 0
    with np.errstate(all="ignore"):
        for mask, value in cases + [(n == 0, 1.0), (n == 1, first(x))]:
            hit = todo & mask
            out[hit] = xp.broadcast_to(value, x.shape)[hit] if is_array(value) else value
            todo &= ~hit
        xs, ns = x[todo], n[todo]
        p, q = np.ones_like(xs), first(xs)
        res = np.empty_like(xs)
        live = xp.arange(xs.size)
        for i in range(1, max(int(ns.max()), 1) if ns.size else 1):
            q, p = step(i, xs, p, q), q
            done = ns == i + 1
            stuck = np.isnan(q) & ~done                  # NaN stays NaN: stop iterating these
            res[live[done | stuck]] = q[done | stuck]
            keep = ~(done | stuck)
            if not keep.all():
                xs, ns, p, q, live = xs[keep], ns[keep], p[keep], q[keep], live[keep]
            if not xs.size:
                break
        out[todo] = res
    return out


def _polynomial(fname, cases, first, step, doc):
    def fn(input, n, *, out=None):
        x, deg, dt = _polynomial_operands(fname, input, n)
        with np.errstate(all="ignore"):
            res = _evaluate_polynomial(x, deg, cases(x, deg), first, step)
        return write_out(Tensor._wrap(as_array(res, dt)), out)
    fn.__name__ = fn.__qualname__ = fname
    fn.__doc__ = doc
    return fn


def _odd(n):
    return n % 2 == 1


def _cheb_t_cases(x, n):
    ax = np.abs(x)
    return [(ax == 1, np.where((x > 0) | ~_odd(n), 1.0, -1.0)),
            ((n > 6) & (ax < 1), np.cos(n * np.arccos(x)))]


def _cheb_u_cases(x, n):
    ax, t = np.abs(x), np.arccos(x)
    s = np.sin(t)
    closed = np.where(s != 0, np.sin((n + 1) * t) / s, (n + 1) * np.cos((n + 1) * t) / x)
    return [(ax == 1, np.where((x > 0) | ~_odd(n), n + 1.0, -(n + 1.0))),
            ((n > 8) & (ax < 1), closed)]


def _cheb_v_cases(x, n):
    ax, t = np.abs(x), np.arccos(x)
    odd_end = np.where(_odd(n), -(2.0 * n + 1), 2.0 * n + 1)
    closed = np.where(np.sin(t / 2) != 1, np.cos((n + 0.5) * t) / np.cos(t / 2), odd_end)
    return [(ax == 1, np.where(x > 0, 1.0, odd_end)), ((n > 8) & (ax < 1), closed)]


def _cheb_w_cases(x, n):
    ax, t = np.abs(x), np.arccos(x)
    end = np.where(x > 0, 2.0 * n + 1, np.where(_odd(n), -1.0, 1.0))
    closed = np.where(np.cos(t / 2) != 1, np.sin((n + 0.5) * t) / np.sin(t / 2), end)
    return [(ax == 1, end), ((n > 8) & (ax < 1), closed)]


def _chebyshev_step(i, x, p, q):
    return (x + x) * q - p


def _shifted_step(i, x, p, q):
    y = x + x - 1
    return (y + y) * q - p


# shifted polynomials p*(x) = p(2x - 1): torch tests the endpoints on x itself (x == 1 and x == 0)
def _cheb_t_shifted_cases(x, n):
    y = x + x - 1
    return [(x == 1, 1.0), (x == 0, np.where(_odd(n), -1.0, 1.0)),
            ((n > 6) & (np.abs(y) < 1), np.cos(n * np.arccos(y)))]


def _cheb_u_shifted_cases(x, n):
    y = x + x - 1
    t = np.arccos(y)
    s = np.sin(t)
    closed = np.where(s != 0, np.sin((n + 1) * t) / s, (n + 1) * np.cos((n + 1) * t) / y)
    return [(x == 1, n + 1.0), (x == 0, np.where(_odd(n), -(n + 1.0), n + 1.0)),
            ((n > 6) & (np.abs(y) < 1), closed)]


def _cheb_v_shifted_cases(x, n):
    y = x + x - 1
    t = np.arccos(y)
    odd_end = np.where(_odd(n), -(2.0 * n + 1), 2.0 * n + 1)
    closed = np.where(np.sin(t / 2) != 1, np.cos((n + 0.5) * t) / np.cos(t / 2), odd_end)
    return [(x == 1, 1.0), (x == 0, odd_end), ((n > 6) & (np.abs(y) < 1), closed)]


def _cheb_w_shifted_cases(x, n):
    y = x + x - 1
    t = np.arccos(y)
    end0 = np.where(_odd(n), -1.0, 1.0)
    closed = np.where(np.cos(t / 2) != 1, np.sin((n + 0.5) * t) / np.sin(t / 2), end0)
    return [(x == 1, 2.0 * n + 1), (x == 0, end0), ((n > 4) & (np.abs(y) < 1), closed)]


def _legendre_cases(x, n):
    return [(np.abs(x) == 1, np.where((x > 0) | ~_odd(n), 1.0, -1.0))]


def _no_cases(x, n):
    return []


chebyshev_polynomial_t = _polynomial(
    "chebyshev_polynomial_t", _cheb_t_cases, lambda x: x, _chebyshev_step,
    "Chebyshev polynomial of the first kind T_n(x).")
chebyshev_polynomial_u = _polynomial(
    "chebyshev_polynomial_u", _cheb_u_cases, lambda x: x + x, _chebyshev_step,
    "Chebyshev polynomial of the second kind U_n(x).")
chebyshev_polynomial_v = _polynomial(
    "chebyshev_polynomial_v", _cheb_v_cases, lambda x: x + x - 1, _chebyshev_step,
    "Chebyshev polynomial of the third kind V_n(x).")
chebyshev_polynomial_w = _polynomial(
    "chebyshev_polynomial_w", _cheb_w_cases, lambda x: x + x + 1, _chebyshev_step,
    "Chebyshev polynomial of the fourth kind W_n(x).")
shifted_chebyshev_polynomial_t = _polynomial(
    "shifted_chebyshev_polynomial_t", _cheb_t_shifted_cases, lambda x: x + x - 1, _shifted_step,
    "Shifted Chebyshev polynomial of the first kind T*_n(x) = T_n(2x - 1).")
shifted_chebyshev_polynomial_u = _polynomial(
    "shifted_chebyshev_polynomial_u", _cheb_u_shifted_cases, lambda x: (x + x - 1) + (x + x - 1), _shifted_step,
    "Shifted Chebyshev polynomial of the second kind U*_n(x) = U_n(2x - 1).")
shifted_chebyshev_polynomial_v = _polynomial(
    "shifted_chebyshev_polynomial_v", _cheb_v_shifted_cases, lambda x: (x + x - 1) + (x + x - 1) - 1,
    _shifted_step, "Shifted Chebyshev polynomial of the third kind V*_n(x) = V_n(2x - 1).")
shifted_chebyshev_polynomial_w = _polynomial(
    "shifted_chebyshev_polynomial_w", _cheb_w_shifted_cases, lambda x: (x + x - 1) + (x + x - 1) + 1,
    _shifted_step, "Shifted Chebyshev polynomial of the fourth kind W*_n(x) = W_n(2x - 1).")
hermite_polynomial_h = _polynomial(
    "hermite_polynomial_h", _no_cases, lambda x: x + x, lambda i, x, p, q: (x + x) * q - (2 * i) * p,
    "Physicists' Hermite polynomial H_n(x).")
hermite_polynomial_he = _polynomial(
    "hermite_polynomial_he", _no_cases, lambda x: x, lambda i, x, p, q: x * q - i * p,
    "Probabilists' Hermite polynomial He_n(x).")
laguerre_polynomial_l = _polynomial(
    "laguerre_polynomial_l", lambda x, n: [(x == 0, 1.0)], lambda x: 1 - x,
    lambda i, x, p, q: (((i + i) + (1 - x)) * q - i * p) / (i + 1), "Laguerre polynomial L_n(x).")
legendre_polynomial_p = _polynomial(
    "legendre_polynomial_p", _legendre_cases, lambda x: x,
    lambda i, x, p, q: ((i + i + 1) * x * q - i * p) / (i + 1), "Legendre polynomial P_n(x).")


# ------------------------------------------------------------------ incomplete gamma and Hurwitz zeta
class _IncompleteGamma(Op):
    """Regularized lower (upper=False) or upper incomplete gamma; differentiable in ``other`` only."""

    def forward(ctx, a, x, upper):
        dt = D.result_type_raw(a, x).np
        if dt not in D.REDUCED_NP:                       # half types compute in float32; integers raise
            _check_kernel_dtype("igammac" if upper else "igamma", dt)
        cdt = compute_dtype(dt)
        sp = _need_scipy_special("gammaincc" if upper else "gammainc", a)
        with np.errstate(all="ignore"):
            fn = sp.gammaincc if upper else sp.gammainc
            out = as_array(fn(a.astype(cdt), x.astype(cdt)), dt)
        ctx.upper = upper
        ctx.save_for_backward(a, x)
        return out

    def backward(ctx, g):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            name = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a), and Q = 1 - P
        dx = E.exp((a - 1) * E.log(x) - x - E.lgamma(a))
        return None, g * (-dx if ctx.upper else dx), None


def _check_tensors(fname, input, other):
    for pos, (argname, v) in enumerate((("input", input), ("other", other)), start=1):
        if not isinstance(v, Tensor):
            raise TypeError(f"special_{fname}(): argument '{argname}' (position {pos}) must be Tensor, "
                            f"not {type(v).__name__}")


def gammainc(input, other, *, out=None):
    """Regularized lower incomplete gamma P(input, other); differentiable in ``other``."""
    _check_tensors("gammainc", input, other)
    return write_out(_IncompleteGamma.apply(input, other, False), out)


def gammaincc(input, other, *, out=None):
    """Regularized upper incomplete gamma Q(input, other); differentiable in ``other``."""
    _check_tensors("gammaincc", input, other)
    return write_out(_IncompleteGamma.apply(input, other, True), out)


class _Zeta(Op):
    def forward(ctx, x, q):
        dt = float_dtype_for(D.result_type_raw(x, q).np)
        _check_kernel_dtype("zeta", dt)
        xp = module_of(x, q)
        xa, qa = xp.asarray(x, dt), xp.asarray(q, dt)
        with np.errstate(all="ignore"):
            val = _need_scipy_special("zeta", xa).zeta(xa, qa)
            val = np.where(np.isinf(qa), np.nan, val)    # torch's series gives NaN at q = inf
        ctx.x = None if is_array(x) else x      # a Python number stays a constant
        ctx.save_for_backward(*(a for a in (x, q) if is_array(a)))
        return as_array(val, dt)

    def backward(ctx, g):
        saved = list(ctx.saved_tensors)
        x = ctx.x if ctx.x is not None else saved.pop(0)
        q = saved[0]
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, g * -x * _Zeta.apply(x + 1.0, q)


def zeta(input, other, *, out=None):
    """Hurwitz zeta function sum_k (other + k)^-input; differentiable in ``other``."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"special_zeta() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    return write_out(_Zeta.apply(input, other), out)


__all__ += ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
            "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
            "scaled_modified_bessel_k1", "spherical_bessel_j0", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
            "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
            "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
            "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
            "gammainc", "gammaincc", "zeta"]
