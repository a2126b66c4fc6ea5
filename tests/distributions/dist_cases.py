"""The distribution table shared by the distribution tests: one entry per (distribution, parameterisation).

Each case builds the distribution from a library (ember or torch) and float64 NumPy parameters, and names a
value in the support to score; the tests run every case on both libraries and compare.
"""
from dataclasses import dataclass, field

import numpy as np

rng = np.random.default_rng(12345)


def randn(*shape):
    return rng.standard_normal(shape)


def pos(*shape, low=0.5, high=2.0):
    return np.asarray(rng.uniform(low, high, shape))


def unit(*shape):
    return rng.uniform(0.05, 0.95, shape)


def simplex(*shape):
    x = pos(*shape)
    return x / x.sum(-1, keepdims=True)


def spd(*shape):
    """Symmetric positive definite matrices of shape (..., n, n)."""
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def lower_cholesky(*shape):
    return np.linalg.cholesky(spd(*shape))


@dataclass
class Case:
    """``make(D, *params)`` builds the distribution from module ``D`` (ember/torch.distributions)."""
    name: str
    make: object
    params: list
    value: np.ndarray
    cdf: bool = False
    icdf: np.ndarray = None  # probabilities for icdf, where the distribution has it
    stats: bool = True  # sample mean/variance tests
    var_rtol: float = 0.1
    tols: dict = field(default_factory=dict)


def _relaxed_value():
    return simplex(2, 3)


def _gumbel_value():
    return randn(2, 3)


def _uniform_params():
    low = randn(2, 3)
    return [low, low + pos(2, 3)]


_uniform = _uniform_params()

CASES = [
    Case("Normal", lambda D, loc, scale: D.Normal(loc, scale), [randn(2, 3), pos(2, 3)], randn(2, 3),
         cdf=True, icdf=unit(2, 3)),
    Case("Normal_scalar_scale", lambda D, loc: D.Normal(loc, 1.5), [randn(4)], randn(4), cdf=True),
    Case("Bernoulli_probs", lambda D, p: D.Bernoulli(probs=p), [unit(4)], np.array([0., 1., 1., 0.])),
    Case("Bernoulli_logits", lambda D, logits: D.Bernoulli(logits=logits), [randn(2, 2)],
         np.array([[0., 1.], [1., 1.]])),
    Case("Categorical_probs", lambda D, p: D.Categorical(probs=p), [simplex(2, 4)], np.array([0, 3])),
    Case("Categorical_logits", lambda D, logits: D.Categorical(logits=logits), [randn(3, 5)],
         np.array([[4, 0, 2], [1, 1, 3]])),
    Case("OneHotCategorical", lambda D, p: D.OneHotCategorical(probs=p), [simplex(2, 3)],
         np.array([[0., 1., 0.], [1., 0., 0.]])),
    Case("Beta", lambda D, a, b: D.Beta(a, b), [pos(2, 3, low=1.1), pos(2, 3, low=1.1)], unit(2, 3)),
    Case("Gamma", lambda D, a, r: D.Gamma(a, r), [pos(2, 3, high=5.0), pos(2, 3)], pos(2, 3)),
    Case("Chi2", lambda D, df: D.Chi2(df), [pos(3, high=4.0)], pos(3)),
    Case("Dirichlet", lambda D, c: D.Dirichlet(c), [pos(2, 3, low=1.1, high=3.0)], simplex(2, 3)),
    Case("Exponential", lambda D, r: D.Exponential(r), [pos(3)], pos(3), cdf=True, icdf=unit(3)),
    Case("Laplace", lambda D, loc, scale: D.Laplace(loc, scale), [randn(3), pos(3)], randn(3),
         cdf=True, icdf=unit(3)),
    Case("Uniform", lambda D, low, high: D.Uniform(low, high), _uniform,
         _uniform[0] + unit(2, 3) * (_uniform[1] - _uniform[0]), cdf=True, icdf=unit(2, 3)),
    Case("Poisson", lambda D, rate: D.Poisson(rate), [pos(4, high=6.0)], np.array([0., 1., 3., 7.])),
    Case("Binomial_probs", lambda D, p: D.Binomial(6, probs=p), [unit(3)], np.array([0., 2., 6.])),
    Case("Binomial_logits", lambda D, logits: D.Binomial(4, logits=logits), [randn(2, 2)],
         np.array([[0., 1.], [4., 3.]])),
    Case("Multinomial", lambda D, p: D.Multinomial(6, probs=p), [simplex(2, 3)],
         np.array([[1., 2., 3.], [0., 6., 0.]]), var_rtol=0.15),
    Case("MultivariateNormal_scale_tril", lambda D, loc, L: D.MultivariateNormal(loc, scale_tril=L),
         [randn(2, 3), lower_cholesky(2, 3, 3)], randn(2, 3)),
    Case("MultivariateNormal_covariance", lambda D, loc, C: D.MultivariateNormal(loc, covariance_matrix=C),
         [randn(3), spd(2, 3, 3)], randn(2, 2, 3)),
    Case("MultivariateNormal_precision", lambda D, loc, P: D.MultivariateNormal(loc, precision_matrix=P),
         [randn(2, 3), spd(3, 3)], randn(2, 3)),
    Case("Independent_Normal", lambda D, loc, scale: D.Independent(D.Normal(loc, scale), 1),
         [randn(2, 3), pos(2, 3)], randn(2, 3)),
    Case("LogNormal", lambda D, loc, scale: D.LogNormal(loc, scale), [randn(3) * 0.3, pos(3, low=0.2, high=0.5)],
         pos(3), cdf=True, icdf=unit(3)),
    Case("Gumbel", lambda D, loc, scale: D.Gumbel(loc, scale), [randn(2, 3), pos(2, 3)], _gumbel_value(),
         cdf=True, icdf=unit(2, 3)),
    Case("Cauchy", lambda D, loc, scale: D.Cauchy(loc, scale), [randn(3), pos(3)], randn(3),
         cdf=True, icdf=unit(3), stats=False),
    Case("StudentT", lambda D, df, loc, scale: D.StudentT(df, loc, scale), [pos(3, low=6.0, high=9.0), randn(3),
                                                                            pos(3)], randn(3), var_rtol=0.3),
    Case("Geometric_probs", lambda D, p: D.Geometric(probs=p), [unit(3) * 0.5 + 0.2], np.array([0., 2., 5.])),
    Case("Geometric_logits", lambda D, logits: D.Geometric(logits=logits), [randn(3)], np.array([0., 1., 3.]),
         var_rtol=0.2),
    Case("RelaxedBernoulli", lambda D, t, p: D.RelaxedBernoulli(t, probs=p), [pos(3, low=0.5, high=1.0), unit(3)],
         unit(3), stats=False),
    Case("RelaxedOneHotCategorical", lambda D, t, p: D.RelaxedOneHotCategorical(t, probs=p),
         [pos(low=0.5, high=1.0), simplex(2, 3)], _relaxed_value(), stats=False),
    Case("Transformed_affine_tanh", lambda D, loc, scale: D.TransformedDistribution(
        D.Normal(loc, scale), [D.AffineTransform(0.5, 2.0), D.TanhTransform()]),
        [randn(3), pos(3)], unit(3) * 2 - 1, stats=False),
    Case("Transformed_sigmoid_exp", lambda D, loc, scale: D.TransformedDistribution(
        D.Normal(loc, scale), D.ComposeTransform([D.SigmoidTransform(), D.ExpTransform()])),
        [randn(3), pos(3)], 1 + unit(3) * 1.5, cdf=True, stats=False),
    Case("HalfNormal", lambda D, scale: D.HalfNormal(scale), [pos(3)], pos(3), cdf=True, icdf=unit(3)),
    Case("HalfCauchy", lambda D, scale: D.HalfCauchy(scale), [pos(3)], pos(3), cdf=True, icdf=unit(3),
         stats=False),
    Case("Pareto", lambda D, scale, alpha: D.Pareto(scale, alpha), [pos(3), pos(3, low=4.5, high=6.0)],
         pos(3, low=2.0, high=3.0), cdf=True, icdf=unit(3), var_rtol=0.3),
    Case("Weibull", lambda D, scale, k: D.Weibull(scale, k), [pos(3), pos(3, low=1.0, high=3.0)], pos(3),
         cdf=True, icdf=unit(3)),
    Case("NegativeBinomial_probs", lambda D, n, p: D.NegativeBinomial(n, probs=p), [pos(3, high=5.0), unit(3)],
         np.array([0., 3., 8.]), var_rtol=0.15),
    Case("NegativeBinomial_logits", lambda D, n, logits: D.NegativeBinomial(n, logits=logits),
         [pos(2, high=5.0), randn(2)], np.array([1., 0.]), var_rtol=0.15),
    Case("MixtureSameFamily_normal", lambda D, w, loc, scale: D.MixtureSameFamily(
        D.Categorical(w), D.Normal(loc, scale)), [simplex(2, 3), randn(2, 3), pos(2, 3)], randn(2), cdf=True),
    Case("MixtureSameFamily_mvn", lambda D, logits, loc, scale: D.MixtureSameFamily(
        D.Categorical(logits=logits), D.Independent(D.Normal(loc, scale), 1)),
        [randn(4), randn(4, 2), pos(4, 2)], randn(1, 2)),
    Case("LowRankMultivariateNormal", lambda D, loc, W, d: D.LowRankMultivariateNormal(loc, W, d),
         [randn(2, 3), randn(2, 3, 2), pos(3)], randn(2, 3)),
    Case("Kumaraswamy", lambda D, a, b: D.Kumaraswamy(a, b), [pos(3, low=1.2, high=3.0), pos(3, low=1.2, high=3.0)],
         unit(3)),
    Case("InverseGamma", lambda D, a, r: D.InverseGamma(a, r), [pos(3, low=5.0, high=8.0), pos(3)], pos(3),
         var_rtol=0.3),
    Case("FisherSnedecor", lambda D, d1, d2: D.FisherSnedecor(d1, d2), [pos(3, low=3.0, high=8.0),
                                                                         pos(3, low=9.0, high=12.0)], pos(3),
         var_rtol=0.3),
    Case("LogisticNormal", lambda D, loc, scale: D.LogisticNormal(loc, scale), [randn(2, 2), pos(2, 2)],
         simplex(2, 3), stats=False),
    Case("GeneralizedPareto", lambda D, loc, scale, c: D.GeneralizedPareto(loc, scale, c),
         [a.astype(np.float32) for a in (randn(3), pos(3), np.array([-0.2, 0.0, 0.1]))],  # torch fails in float64
         pos(3, low=0.1, high=0.5).astype(np.float32), cdf=True, icdf=unit(3).astype(np.float32), var_rtol=0.2),
    Case("ContinuousBernoulli_probs", lambda D, p: D.ContinuousBernoulli(probs=p),
         [np.array([0.1, 0.4995, 0.7, 0.95])], unit(4)),
    Case("ContinuousBernoulli_logits", lambda D, logits: D.ContinuousBernoulli(logits=logits), [randn(2, 2)],
         unit(2, 2), cdf=True, icdf=unit(2, 2)),
    Case("VonMises", lambda D, loc, k: D.VonMises(loc, k), [randn(3), np.array([0.5, 2.0, 5.0])], randn(3),
         stats=False),
    Case("LKJCholesky", lambda D, c: D.LKJCholesky(3, c), [np.array([0.5, 1.0, 3.0])],
         np.linalg.cholesky(np.corrcoef(randn(3, 6))), stats=False),
    Case("Wishart_covariance", lambda D, df, C: D.Wishart(df, covariance_matrix=C), [pos(2, low=4.0, high=6.0),
                                                                                    spd(2, 2)], spd(2, 2) / 3,
         var_rtol=0.2),
    Case("Wishart_scale_tril", lambda D, L: D.Wishart(5.0, scale_tril=L), [lower_cholesky(3, 3)], spd(3, 3),
         var_rtol=0.2),
    Case("Wishart_precision", lambda D, df, P: D.Wishart(df, precision_matrix=P), [pos(low=3.0, high=4.0),
                                                                                  spd(2, 2, 2)], spd(2, 2),
         var_rtol=0.2),
]
