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
from ._ops._util import compute_dtype, float_dtype_for
from ._ops.inplace import write_out

from ._optional import scipy_module

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
    if n == 0:
        return scipy_module("special").digamma(x) if scipy_module("special") is not None else _digamma_np(x)
    if scipy_module("special") is not None:
        return scipy_module("special").polygamma(n, x)
    # psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x), valid for x > 0
    with np.errstate(all="ignore"):
        val = (-1) ** (n + 1) * math.factorial(n) * _hurwitz_zeta(float(n + 1), np.asarray(x, np.float64))
    return np.where(x > 0, val, np.nan)


class Polygamma(Op):
    def forward(ctx, x, n):
        xc, dt = _float_input(x)
        with np.errstate(all="ignore"):
            out = np.asarray(_polygamma_np(n, xc), dtype=dt)
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
    j = Tensor._wrap(np.arange(p, dtype=input._data.dtype) / 2)
    res = E.lgamma(input.unsqueeze(-1) - j).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    return write_out(res, out)


# ------------------------------------------------------------------ logs and entropy
def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input is 0."""
    return E.xlogy(input, other, out=out)


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input is 0."""
    if not isinstance(input, Tensor):
        input = Tensor._wrap(np.asarray(input, dtype=D.get_default_dtype().np))
    if not isinstance(other, Tensor):
        other = Tensor._wrap(np.asarray(other, dtype=input._data.dtype if input.is_floating_point()
                                        else D.get_default_dtype().np))
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
    if scipy_module("special") is not None:
        return scipy_module("special").log_ndtr(x)
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
        out = np.asarray(_log_ndtr_np(xc), dtype=dt)
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
    if scipy_module("special") is not None:
        return scipy_module("special").erfcx(x)
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
        out = np.asarray(_erfcx_np(xc), dtype=dt)
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
    if scipy_module("special") is not None:
        return scipy_module("special").i1(x)
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
        return np.asarray(scipy_module("special").i0(xc) if scipy_module("special") is not None else np.i0(xc), dtype=dt)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * I1.apply(x)


class I1(Op):
    def forward(ctx, x):
        xc, dt = _float_input(x)
        out = np.asarray(_i1_np(xc), dtype=dt)
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
        sp = scipy_module("special")
        with np.errstate(all="ignore"):
            out = np.asarray(sp.i0e(xc) if sp is not None else np.i0(xc) * np.exp(-np.abs(xc)), dtype=dt)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return g * (I1e.apply(x) - x.sgn() * out)


class I1e(Op):
    def forward(ctx, x):
        xc, dt = _float_input(x)
        sp = scipy_module("special")
        with np.errstate(all="ignore"):
            out = np.asarray(sp.i1e(xc) if sp is not None else _i1_np(xc) * np.exp(-np.abs(xc)), dtype=dt)
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
