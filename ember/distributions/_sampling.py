"""Samplers and special functions the distributions need that ember has no op for.

- ``standard_gamma``: Gamma(alpha, 1) samples, differentiable in alpha by implicit reparameterisation
  (dx/dalpha = -(dF/dalpha) / (dF/dx)), with torch's approximation of that derivative.
- ``dirichlet``: Dirichlet(concentration) samples, differentiable with torch's _dirichlet_grad.
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


# ------------------------------------------------------------------ Dirichlet
class _Dirichlet(Op):
    def forward(ctx, concentration):
        gammas = _rng(None).standard_gamma(concentration)
        gammas = np.maximum(gammas, np.finfo(concentration.dtype).tiny)
        x = (gammas / gammas.sum(-1, keepdims=True)).astype(concentration.dtype, copy=False)
        ctx.x, ctx.concentration = x, concentration
        return x

    def backward(ctx, g):
        x, concentration = ctx.x, ctx.concentration
        total = np.broadcast_to(concentration.sum(-1, keepdims=True), concentration.shape)
        grad = Tensor._wrap(dirichlet_grad_np(x, concentration, total).astype(x.dtype, copy=False))
        return grad * (g - (Tensor._wrap(x) * g).sum(-1, keepdim=True))


def dirichlet(concentration):
    """Samples of Dirichlet(concentration) (last dim = the simplex); gradients flow to concentration."""
    return _Dirichlet.apply(concentration)


def _beta_grad_alpha_small(x, alpha, beta):
    """Taylor expansion for x near 0."""
    factor = _digamma_np(alpha) - _digamma_np(alpha + beta) - np.log(x)
    numer = np.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * (i - beta) * x / i
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** (-beta) * series
    return np.where(np.isnan(result), 0.0, result)

def _beta_grad_beta_small(x, alpha, beta):
    """d/d beta for x near 0 (used on 1 - x for x near 1)."""
    factor = _digamma_np(alpha + beta) - _digamma_np(beta)
    numer, betas, dbetas = np.ones_like(x), np.ones_like(x), np.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -(1 - x) ** (1 - beta) * series
    return np.where(np.isnan(result), 0.0, result)

def _beta_grad_alpha_mid(x, alpha, beta):
    """Rice saddle point expansion for alpha and beta both large."""
    total = alpha + beta
    mean = alpha / total
    std = np.sqrt(alpha * beta / (total + 1)) / total
    near = (mean - 0.1 * std <= x) & (x <= mean + 0.1 * std)
    poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
                    8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    near_value = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / np.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha)) * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1_den = np.sqrt(2 * alpha / beta) * total ** 1.5 * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * np.log(alpha / (total * x))
    term3_num = np.sqrt(8 * alpha * beta / total)
    term3_den = beta * x + alpha * (x - 1)
    term3 = term3_num / term3_den
    term4_base = beta * np.log(beta / (total * (1 - x))) + alpha * np.log(alpha / (total * x))
    term4 = term4_base ** -1.5
    term1234 = term1 + term2 * (term3 + np.where(x < mean, term4, -term4))
    return np.where(near, near_value, stirling * prefactor * term1234)

_DIRICHLET_C = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]])

def _dirichlet_grad_rational(x, alpha, total):
    """A rational correction to an analytic approximation (torch's fitted coefficients _C)."""
    u = np.log(x)
    a = np.log(alpha) - u
    b = np.log(total) - a
    pow_u = [np.ones_like(u), u, u * u]
    pow_a = [np.ones_like(a), a, a * a]
    p = np.zeros_like(x); q = np.zeros_like(x)
    for i in range(3):
        for j in range(3):
            ua = pow_u[i] * pow_a[j]
            c0, c1 = _DIRICHLET_C[0, i, j], _DIRICHLET_C[1, i, j]
            p = p + ua * (c0[0] + b * (c0[1] + b * (c0[2] + b * c0[3])))
            q = q + ua * (c1[0] + b * (c1[1] + b * (c1[2] + b * c1[3])))
    approx = x * (_digamma_np(total) - _digamma_np(alpha)) / (total - alpha)
    return p / q * approx

def dirichlet_grad_np(x, alpha, total):
    """torch's _dirichlet_grad: the implicit reparameterisation gradient of a Dirichlet sample's coordinate x
    with respect to its concentration alpha (total = the concentrations' sum), via Beta(alpha, total - alpha)
    approximations: series near 0 and 1, a saddle point for large parameters, a rational fit elsewhere."""
    x, alpha, total = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (x, alpha, total)))
    beta = total - alpha
    boundary = total * x * (1 - x)
    with np.errstate(all="ignore"):
        return np.where((x <= 0.5) & (boundary < 2.5), _beta_grad_alpha_small(x, alpha, beta),
               np.where((x >= 0.5) & (boundary < 0.75), -_beta_grad_beta_small(1 - x, beta, alpha),
               np.where((alpha > 6) & (beta > 6), _beta_grad_alpha_mid(x, alpha, beta),
                        _dirichlet_grad_rational(x, alpha, total))))


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
