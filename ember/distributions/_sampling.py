"""Samplers and special functions the distributions need that ember has no op for.

- ``standard_gamma``: Gamma(alpha, 1) samples, differentiable in alpha by implicit reparameterisation
  (dx/dalpha = -(dF/dalpha) / (dF/dx)), with torch's approximation of that derivative.
- ``binomial``: Binomial(count, prob) samples (no gradient, as in torch).
- ``gammainc``: the regularised lower incomplete gamma function P(a, x), differentiable in x.
"""
import math

import numpy as np

from ember._tensor import Tensor
from ember._ops.random import _rng
from ember._optional import scipy_module
from ember.autograd.function import Op
from ember.special import _digamma_np


class _StandardGamma(Op):
    def forward(ctx, alpha):
        x = _rng(None).standard_gamma(alpha).astype(alpha.dtype, copy=False)
        x = np.maximum(x, np.finfo(alpha.dtype).tiny)  # as torch: a sample is never exactly 0
        ctx.alpha, ctx.x = alpha, x
        return x

    def backward(ctx, g):
        grad = standard_gamma_grad_np(ctx.alpha, ctx.x).astype(ctx.x.dtype, copy=False)
        return g * Tensor._wrap(grad)


def standard_gamma(concentration):
    """Samples of Gamma(concentration, 1) with concentration's shape; gradients flow to concentration."""
    return _StandardGamma.apply(concentration)


def _gamma_grad_small_x(alpha, x):
    """Taylor series of the CDF for x < 0.8."""
    numer, denom = np.ones_like(x), alpha.copy()
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = x ** alpha
    gamma_pdf = x ** (alpha - 1) * np.exp(-x)
    gamma_cdf = pow_x_alpha * series1
    gamma_cdf_alpha = (np.log(x) - _digamma_np(alpha)) * gamma_cdf - pow_x_alpha * series2
    result = -gamma_cdf_alpha / gamma_pdf
    return np.where(np.isnan(result), 0.0, result)


def _gamma_grad_large_alpha(alpha, x):
    """Rice saddle point expansion for alpha > 8."""
    near = (0.9 * alpha <= x) & (x <= 1.1 * alpha)
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = 1440 * alpha ** 2 + 6 * x * (53 - 120 * x) - 65 * x * x / alpha + alpha * (107 + 3600 * x)
    near_value = numer_1 * numer_2 / (1244160 * alpha ** 4)
    denom = np.sqrt(8 * alpha)
    term2 = denom / (alpha - x)
    term3 = (x - alpha - alpha * np.log(x / alpha)) ** -1.5
    term23 = np.where(x < alpha, term2 - term3, term2 + term3)
    term1 = np.log(x / alpha) * term23 - np.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) ** 2)
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    far_value = -stirling * x * term1 / denom
    return np.where(near, near_value, far_value)


_COEF_UV = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
     -1.5247877e-07]])


def _gamma_grad_rational(alpha, x):
    """Bivariate rational approximation in (log(x / alpha), log(alpha))."""
    u, v = np.log(x / alpha), np.log(alpha)
    c = [_COEF_UV[0, i] + u * (_COEF_UV[1, i] + u * _COEF_UV[2, i]) for i in range(8)]
    p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
    q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
    return np.exp(p / q)


def standard_gamma_grad_np(alpha, x):
    """d x / d alpha of a Gamma(alpha, 1) sample x (torch's _standard_gamma_grad), in float64."""
    alpha, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    with np.errstate(all="ignore"):  # each branch is evaluated everywhere, then selected
        return np.where(x < 0.8, _gamma_grad_small_x(alpha, x),
                        np.where(alpha > 8.0, _gamma_grad_large_alpha(alpha, x), _gamma_grad_rational(alpha, x)))


def binomial(count, prob):
    """Binomial(count, prob) samples as floats of prob's dtype (both tensors of one shape)."""
    n = np.asarray(count._data)
    p = np.clip(np.asarray(prob._data, np.float64), 0.0, 1.0)
    out = _rng(None).binomial(n.astype(np.int64), np.nan_to_num(p, nan=0.0))
    return Tensor._wrap(np.asarray(out, dtype=prob._data.dtype))


# ------------------------------------------------------------------ regularised incomplete gamma
def _gammainc_series(a, x):
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    term = 1.0 / a
    total = term.copy()
    ap = a.copy()
    for _ in range(500):
        ap = ap + 1
        term = term * x / ap
        total = total + term
        if np.all(np.abs(term) < np.abs(total) * 1e-16):
            break
    return total * np.exp(-x + a * np.log(x) - _lgamma_np(a))


def _gammaincc_continued_fraction(a, x):
    """Q(a, x) = 1 - P(a, x) by Lentz's continued fraction (for x >= a + 1)."""
    tiny = 1e-300
    b = x + 1 - a
    c = np.full_like(x, 1 / tiny)
    d = 1 / b
    h = d.copy()
    for i in range(1, 500):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1) < 1e-16):
            break
    return np.exp(-x + a * np.log(x) - _lgamma_np(a)) * h


_lgamma_vec = np.vectorize(math.lgamma, otypes=[np.float64])


def _lgamma_np(a):
    return _lgamma_vec(a)


def _gammainc_np(a, x):
    special = scipy_module("special")
    if special is not None:
        return special.gammainc(a, x)
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    xs = np.maximum(x, 1e-300)
    with np.errstate(all="ignore"):
        use_series = x < a + 1
        result = np.where(use_series, _gammainc_series(a, xs), 1 - _gammaincc_continued_fraction(a, xs))
    return np.where(x <= 0, 0.0, result)


class _Gammainc(Op):
    def forward(ctx, a, x):
        dtype = np.result_type(a, x)
        ctx.a, ctx.x = a, x
        return np.asarray(_gammainc_np(a, x), dtype=dtype)

    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        a, x = np.asarray(ctx.a, np.float64), np.asarray(ctx.x, np.float64)
        with np.errstate(all="ignore"):
            pdf = np.exp((a - 1) * np.log(x) - x - _lgamma_np(a))  # d P(a, x) / dx
        return None, g * Tensor._wrap(pdf.astype(g._data.dtype, copy=False))


def gammainc(a, x):
    """The regularised lower incomplete gamma function (torch.special.gammainc)."""
    return _Gammainc.apply(a, x)
