"""kl_divergence for every registered pair (values and gradients vs torch), register_kl dispatch,
the transforms (forward, inverse, log|det J|, caching, composition) and the constraints."""
import numpy as np
import pytest

import ember
import ember.distributions  # noqa: F401  (not imported by `import ember`)
from oracle import needs_torch, torch, check_op, to_torch, to_ember, assert_same
from dist_cases import randn, pos, unit, simplex, lower_cholesky, spd

pytestmark = needs_torch

# name -> (factory(D, *params), params); three batch elements each so that pairs broadcast
FAMILIES = {
    "Normal": (lambda D, loc, scale: D.Normal(loc, scale), lambda: [randn(3), pos(3)]),
    "Laplace": (lambda D, loc, scale: D.Laplace(loc, scale), lambda: [randn(3), pos(3)]),
    "Cauchy": (lambda D, loc, scale: D.Cauchy(loc, scale), lambda: [randn(3), pos(3)]),
    "Gumbel": (lambda D, loc, scale: D.Gumbel(loc, scale), lambda: [randn(3), pos(3)]),
    "Exponential": (lambda D, rate: D.Exponential(rate), lambda: [pos(3)]),
    "Gamma": (lambda D, a, r: D.Gamma(a, r), lambda: [pos(3, high=4.0), pos(3)]),
    "Beta": (lambda D, a, b: D.Beta(a, b), lambda: [pos(3), pos(3)]),
    "Uniform": (lambda D, low, width: D.Uniform(low, low + width), lambda: [unit(3) * 0.4, pos(3, low=0.1, high=0.5)]),
    "Poisson": (lambda D, rate: D.Poisson(rate), lambda: [pos(3)]),
    "Bernoulli": (lambda D, p: D.Bernoulli(p), lambda: [unit(3)]),
    "Geometric": (lambda D, p: D.Geometric(p), lambda: [unit(3)]),
    "Binomial": (lambda D, p: D.Binomial(5, p), lambda: [unit(3)]),
    "Categorical": (lambda D, p: D.Categorical(p), lambda: [simplex(3, 4)]),
    "OneHotCategorical": (lambda D, p: D.OneHotCategorical(p), lambda: [simplex(3, 4)]),
    "Dirichlet": (lambda D, c: D.Dirichlet(c), lambda: [pos(3, 4)]),
    "MultivariateNormal": (lambda D, loc, L: D.MultivariateNormal(loc, scale_tril=L),
                           lambda: [randn(3, 2), lower_cholesky(3, 2, 2)]),
    "Independent": (lambda D, loc, scale: D.Independent(D.Normal(loc, scale), 1), lambda: [randn(3), pos(3)]),
    "LogNormal": (lambda D, loc, scale: D.LogNormal(loc, scale), lambda: [randn(3), pos(3)]),
    "HalfNormal": (lambda D, scale: D.HalfNormal(scale), lambda: [pos(3)]),
    "ContinuousBernoulli": (lambda D, p: D.ContinuousBernoulli(p), lambda: [unit(3)]),
    "LowRankMultivariateNormal": (lambda D, loc, W, d: D.LowRankMultivariateNormal(loc, W, d),
                                  lambda: [randn(3, 2), randn(3, 2, 1), pos(3, 2)]),
    "Pareto": (lambda D, scale, alpha: D.Pareto(scale, alpha), lambda: [pos(3), pos(3, low=0.5, high=4.0)]),
}
SAME = [(n, n) for n in FAMILIES]
CROSS = [("Bernoulli", "Poisson"), ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"),
         ("Beta", "Uniform"), ("Exponential", "Beta"), ("Exponential", "Gamma"), ("Exponential", "Gumbel"),
         ("Exponential", "Normal"), ("Exponential", "Uniform"), ("Gamma", "Beta"), ("Gamma", "Exponential"),
         ("Gamma", "Gumbel"), ("Gamma", "Normal"), ("Gamma", "Uniform"), ("Gumbel", "Normal"), ("Gumbel", "Beta"),
         ("Laplace", "Normal"), ("Laplace", "Gamma"), ("Normal", "Gumbel"), ("Normal", "Laplace"),
         ("Normal", "Beta"), ("Poisson", "Bernoulli"), ("Poisson", "Binomial"), ("Uniform", "Beta"),
         ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Gumbel"), ("Uniform", "Normal"),
         ("Uniform", "Pareto"), ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
         ("Pareto", "Beta"), ("Normal", "Pareto"), ("Beta", "Pareto"),
         ("MultivariateNormal", "LowRankMultivariateNormal"), ("LowRankMultivariateNormal", "MultivariateNormal"),
         ("Beta", "ContinuousBernoulli"), ("ContinuousBernoulli", "Exponential"), ("ContinuousBernoulli", "Normal"),
         ("ContinuousBernoulli", "Uniform"), ("ContinuousBernoulli", "Pareto"), ("Uniform", "ContinuousBernoulli"),
         ("Normal", "ContinuousBernoulli")]


@pytest.mark.parametrize("p_name,q_name", SAME + CROSS, ids=[f"{p}-{q}" for p, q in SAME + CROSS])
def test_kl_divergence(p_name, q_name):
    make_p, p_params = FAMILIES[p_name]
    make_q, q_params = FAMILIES[q_name]
    pp, qp = p_params(), q_params()
    n = len(pp)

    def fn(lib, *params):
        return lib.distributions.kl_divergence(make_p(lib.distributions, *params[:n]),
                                               make_q(lib.distributions, *params[n:]))
    check_op(fn, *pp, *qp)


def test_kl_infinite_where_supports_do_not_nest():
    def fn(lib, lo, hi):
        D = lib.distributions
        return D.kl_divergence(D.Uniform(lo, hi), D.Uniform(lib.zeros(2), lib.ones(2)))
    check_op(fn, np.array([-0.5, 0.2]), np.array([0.5, 0.6]))
    check_op(lambda lib, p: lib.distributions.kl_divergence(
        lib.distributions.Categorical(p), lib.distributions.Categorical(lib.tensor([0.5, 0.5, 0.0]))),
        np.array([0.2, 0.3, 0.5]), grad=False)


def test_register_kl_dispatch_prefers_the_most_specific_pair():
    D = ember.distributions

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return ember.tensor(42.0)

    try:
        assert D.kl_divergence(MyNormal(0., 1.), D.Normal(0., 1.)).item() == 42.0
        assert D.kl_divergence(D.Normal(0., 1.), MyNormal(0., 2.)).item() != 42.0  # the Normal-Normal rule
    finally:
        del D.kl._KL_REGISTRY[MyNormal, D.Normal]
        D.kl._KL_MEMOIZE.clear()


def test_bregman_entropy_and_kl_match_closed_forms():
    """The exponential-family fallbacks (autograd of the log-normalizer) agree with the closed forms."""
    for lib in (ember, torch):
        D = lib.distributions
        for p, q in [(D.Normal(lib.tensor([0.3, -1.]), lib.tensor([0.7, 2.])), D.Normal(0.5, 1.5)),
                     (D.Gamma(lib.tensor([2., 3.]), lib.tensor([1., 0.5])), D.Gamma(1.5, 1.))]:
            bregman = D.ExponentialFamily.entropy(p)
            np.testing.assert_allclose(bregman.detach().numpy() if lib is torch else bregman._data,
                                       p.entropy().detach().numpy() if lib is torch else p.entropy()._data,
                                       rtol=1e-5)
            kl = D.kl._kl_expfamily_expfamily(p, q)
            closed = D.kl_divergence(p, q)
            np.testing.assert_allclose(kl.detach().numpy() if lib is torch else kl._data,
                                       closed.detach().numpy() if lib is torch else closed._data, rtol=1e-5)


# ------------------------------------------------------------------ transforms
TRANSFORMS = {
    "exp": (lambda D: D.ExpTransform(), randn(2, 3)),
    "sigmoid": (lambda D: D.SigmoidTransform(), randn(2, 3)),
    "tanh": (lambda D: D.TanhTransform(), randn(2, 3)),
    "softplus": (lambda D: D.SoftplusTransform(), randn(2, 3)),
    "affine": (lambda D: D.AffineTransform(1.5, -2.0), randn(2, 3)),
    "affine_event": (lambda D: D.AffineTransform(0.5, 3.0, event_dim=1), randn(2, 3)),
    "power": (lambda D: D.PowerTransform(2.5), pos(2, 3)),
    "stick_breaking": (lambda D: D.StickBreakingTransform(), randn(2, 3)),
    "compose": (lambda D: D.ComposeTransform([D.AffineTransform(0.3, 2.0), D.SigmoidTransform()]), randn(2, 3)),
    "inverse_exp": (lambda D: D.ExpTransform().inv, pos(2, 3)),
    "independent": (lambda D: D.IndependentTransform(D.ExpTransform(), 1), randn(2, 3)),
    "softmax": (lambda D: D.SoftmaxTransform(), randn(2, 3)),
    "reshape": (lambda D: D.ReshapeTransform((2, 3), (3, 2)), randn(4, 2, 3)),
    "corr_cholesky": (lambda D: D.CorrCholeskyTransform(), randn(2, 3)),
    "lower_cholesky": (lambda D: D.LowerCholeskyTransform(), randn(2, 3, 3)),
    "positive_definite": (lambda D: D.PositiveDefiniteTransform(), randn(2, 3, 3)),
    "cat": (lambda D: D.CatTransform([D.ExpTransform(), D.AffineTransform(1.0, 2.0)], -1, [2, 1]), randn(2, 3)),
    "stack": (lambda D: D.StackTransform([D.ExpTransform(), D.TanhTransform(), D.SigmoidTransform()], -1),
              randn(2, 3)),
    "cdf": (lambda D: D.CumulativeDistributionTransform(D.Normal(0.5, 2.0)), randn(2, 3)),
}
NO_JACOBIAN = ("SoftmaxTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform")


@pytest.mark.parametrize("make,x", list(TRANSFORMS.values()), ids=list(TRANSFORMS))
def test_transform(make, x):
    def fn(lib, x):
        t = make(lib.distributions)
        y = t(x)
        x_back = t.inv(y)
        if type(t).__name__ in NO_JACOBIAN:  # torch defines no log_abs_det_jacobian
            return y, x_back
        return y, x_back, t.log_abs_det_jacobian(x, y)
    check_op(fn, x)
    e, t = make(ember.distributions), make(torch.distributions)
    assert tuple(e.forward_shape(x.shape)) == tuple(t.forward_shape(x.shape))
    y_shape = tuple(t(to_torch(x)).shape)
    assert tuple(e.inverse_shape(y_shape)) == tuple(t.inverse_shape(y_shape))
    assert e.bijective == t.bijective and repr(e.domain) == repr(t.domain) and repr(e.codomain) == repr(t.codomain)
    assert e.inv.inv is e


def test_transform_cache_returns_the_same_input():
    t = ember.distributions.TanhTransform(cache_size=1)
    x = ember.tensor([30.0, -0.3])  # tanh(30) == 1.0 exactly: atanh could not recover x
    y = t(x)
    assert t.inv(y) is x and t(x) is y
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        ember.distributions.ExpTransform(cache_size=2)


def test_transform_equality_and_sign():
    D = ember.distributions
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform() != D.SigmoidTransform()
    assert D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 2.0) != D.AffineTransform(1.0, 3.0)
    assert D.ComposeTransform([D.ExpTransform()]) == D.ComposeTransform([D.ExpTransform()])
    assert D.AffineTransform(0.0, -2.0).sign == -1 and D.ExpTransform().inv.sign == 1
    assert D.ComposeTransform([D.ExpTransform(), D.AffineTransform(0.0, -1.0)]).sign == -1


def test_decreasing_transformed_cdf_and_icdf():
    def fn(lib, loc, scale, v):
        D = lib.distributions
        d = D.TransformedDistribution(D.Normal(loc, scale), [D.AffineTransform(1.0, -2.0), D.ExpTransform()])
        return d.cdf(v), d.icdf(lib.tensor([0.2, 0.7, 0.9])), d.log_prob(v)
    check_op(fn, randn(3), pos(3), pos(3), rtol=1e-6)  # erfinv, then exp, amplify rounding


# ------------------------------------------------------------------ constraints
CONSTRAINT_VALUES = {
    "real": np.array([0.0, np.inf, np.nan]),
    "positive": np.array([1.0, 0.0, -1.0]),
    "nonnegative": np.array([1.0, 0.0, -1.0]),
    "unit_interval": np.array([0.0, 1.0, 1.5]),
    "boolean": np.array([0.0, 1.0, 0.5]),
    "nonnegative_integer": np.array([0.0, 2.0, 1.5, -1.0]),
    "positive_integer": np.array([0.0, 2.0]),
    "simplex": np.array([[0.2, 0.8], [0.5, 0.6], [1.2, -0.2]]),
    "one_hot": np.array([[0.0, 1.0], [1.0, 1.0]]),
    "real_vector": np.array([[0.0, 1.0], [np.nan, 1.0]]),
    "lower_triangular": np.array([[[1.0, 0.0], [2.0, 3.0]], [[1.0, 1.0], [0.0, 1.0]]]),
    "lower_cholesky": np.array([[[1.0, 0.0], [2.0, 3.0]], [[-1.0, 0.0], [0.0, 1.0]]]),
    "positive_definite": np.stack([spd(2, 2), np.array([[1.0, 2.0], [2.0, 1.0]])]),
    "positive_semidefinite": np.stack([np.ones((2, 2)), np.array([[1.0, 2.0], [2.0, 1.0]])]),
    "symmetric": np.array([[[1.0, 2.0], [2.0, 1.0]], [[1.0, 2.0], [3.0, 1.0]]]),
    "square": np.ones((2, 2, 2)),
    "corr_cholesky": np.array([[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.5, 0.5]]]),
}


@pytest.mark.parametrize("name", list(CONSTRAINT_VALUES))
def test_constraint(name):
    e, t = getattr(ember.distributions.constraints, name), getattr(torch.distributions.constraints, name)
    assert repr(e) == repr(t) and e.event_dim == t.event_dim and e.is_discrete == t.is_discrete
    value = CONSTRAINT_VALUES[name]
    assert_same(e.check(to_ember(value)), t.check(to_torch(value)))


@pytest.mark.parametrize("make", [lambda C: C.interval(-1.0, 2.0), lambda C: C.half_open_interval(0.0, 1.0),
                                  lambda C: C.greater_than(0.5), lambda C: C.greater_than_eq(0.5),
                                  lambda C: C.less_than(0.5), lambda C: C.integer_interval(0, 3),
                                  lambda C: C.independent(C.positive, 1), lambda C: C.multinomial(3),
                                  lambda C: C.stack([C.positive, C.real], -1),
                                  lambda C: C.cat([C.positive, C.real], -1, [1, 1])])
def test_parameterised_constraints(make):
    e, t = make(ember.distributions.constraints), make(torch.distributions.constraints)
    assert repr(e) == repr(t) and e.event_dim == t.event_dim and e.is_discrete == t.is_discrete
    value = np.array([[-1.0, 0.0], [0.5, 1.0], [2.0, 3.0], [1.0, 1.0]])
    assert_same(e.check(to_ember(value)), t.check(to_torch(value)))


def test_dependent_constraints():
    C = ember.distributions.constraints
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        C.dependent.check(ember.zeros(1))
    support = ember.distributions.Uniform(0.0, 2.0).support
    assert repr(support) == "Interval(lower_bound=0.0, upper_bound=2.0)"
    assert C.is_dependent(ember.distributions.Uniform.support)


REGISTRY_CONSTRAINTS = {
    "real": (lambda C: C.real, (2, 3)),
    "positive": (lambda C: C.positive, (2, 3)),
    "greater_than": (lambda C: C.greater_than(1.5), (2, 3)),
    "greater_than_eq": (lambda C: C.greater_than_eq(-1.0), (3,)),
    "less_than": (lambda C: C.less_than(2.0), (3,)),
    "unit_interval": (lambda C: C.unit_interval, (2, 3)),
    "interval": (lambda C: C.interval(-2.0, 3.0), (3,)),
    "half_open_interval": (lambda C: C.half_open_interval(0.0, 4.0), (3,)),
    "simplex": (lambda C: C.simplex, (2, 3)),
    "independent": (lambda C: C.independent(C.positive, 1), (2, 3)),
    "lower_cholesky": (lambda C: C.lower_cholesky, (2, 3, 3)),
    "positive_definite": (lambda C: C.positive_definite, (3, 3)),
    "corr_cholesky": (lambda C: C.corr_cholesky, (2, 3)),
    "cat": (lambda C: C.cat([C.positive, C.real], -1, [1, 2]), (2, 3)),
    "stack": (lambda C: C.stack([C.positive, C.real, C.unit_interval], -1), (2, 3)),
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("make,shape", list(REGISTRY_CONSTRAINTS.values()), ids=list(REGISTRY_CONSTRAINTS))
def test_constraint_registry(registry, make, shape):
    try:
        t_transform = getattr(torch.distributions, registry)(make(torch.distributions.constraints))
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            getattr(ember.distributions, registry)(make(ember.distributions.constraints))
        return
    e_transform = getattr(ember.distributions, registry)(make(ember.distributions.constraints))
    assert repr(e_transform) == repr(t_transform)
    x = randn(*shape)
    y = e_transform(to_ember(x))
    assert_same(y, t_transform(to_torch(x)))
    assert bool(make(ember.distributions.constraints).check(y).all())
