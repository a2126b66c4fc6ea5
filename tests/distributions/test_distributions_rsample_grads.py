"""Reparameterised sampling: ember's rsample gradients equal torch's formula applied to the same noise
(recovered from ember's sample), and the implicit Gamma/Dirichlet/Beta gradients are torch's / unbiased."""
import numpy as np
import pytest

import ember
import ember.distributions  # noqa: F401  (not imported by `import ember`)
from oracle import needs_torch, torch, to_torch, to_ember, assert_same
from dist_cases import randn, pos, lower_cholesky

pytestmark = needs_torch


def _grads(lib, sample, params, weights):
    loss = (lib.tensor(weights) * sample ** 2).sum()
    return lib.autograd.grad(loss, params)


def _check_same_noise(make_ember, torch_from_noise, noise_of, params, sample_shape=(5,)):
    """rsample in ember; rebuild torch's sample from the same noise; compare the samples and gradients."""
    ember.manual_seed(3)
    e_params = [to_ember(p, True) for p in params]
    e_sample = make_ember(*e_params).rsample(sample_shape)
    noise = noise_of(e_sample._data, *params)
    t_params = [to_torch(p, True) for p in params]
    t_sample = torch_from_noise(torch.from_numpy(noise), *t_params)
    assert_same(e_sample, t_sample, what="sample rebuilt from the noise")
    weights = np.random.default_rng(0).uniform(0.5, 1.5, tuple(t_sample.shape))
    for eg, tg in zip(_grads(ember, e_sample, e_params, weights), _grads(torch, t_sample, t_params, weights)):
        assert_same(eg, tg, what="rsample gradient")


def test_normal_rsample_is_loc_plus_eps_scale():
    _check_same_noise(lambda loc, scale: ember.distributions.Normal(loc, scale),
                      lambda eps, loc, scale: loc + eps * scale,
                      lambda x, loc, scale: (x - loc) / scale, [randn(2, 3), pos(2, 3)])


def test_laplace_and_cauchy_rsample_are_location_scale():
    for name in ("Laplace", "Cauchy"):
        _check_same_noise(lambda loc, scale: getattr(ember.distributions, name)(loc, scale),
                          lambda eps, loc, scale: loc + eps * scale,
                          lambda x, loc, scale: (x - loc) / scale, [randn(3), pos(3)])


def test_exponential_and_uniform_rsample():
    _check_same_noise(lambda rate: ember.distributions.Exponential(rate), lambda e, rate: e / rate,
                      lambda x, rate: x * rate, [pos(3)])
    low = randn(3)
    _check_same_noise(lambda lo, hi: ember.distributions.Uniform(lo, hi), lambda u, lo, hi: lo + u * (hi - lo),
                      lambda x, lo, hi: (x - lo) / (hi - lo), [low, low + pos(3)])


def test_lognormal_rsample_is_exp_of_normal():
    _check_same_noise(lambda loc, scale: ember.distributions.LogNormal(loc, scale),
                      lambda eps, loc, scale: (loc + eps * scale).exp(),
                      lambda x, loc, scale: (np.log(x) - loc) / scale, [randn(3) * 0.3, pos(3, high=0.8)])


def test_multivariate_normal_rsample_is_loc_plus_L_eps():
    _check_same_noise(lambda loc, L: ember.distributions.MultivariateNormal(loc, scale_tril=L),
                      lambda eps, loc, L: loc + (L @ eps.unsqueeze(-1)).squeeze(-1),
                      lambda x, loc, L: np.linalg.solve(L, (x - loc)[..., None])[..., 0],
                      [randn(2, 3), lower_cholesky(2, 3, 3)])


def test_multivariate_normal_rsample_through_covariance_cholesky():
    cov = lower_cholesky(3, 3)
    cov = cov @ cov.T
    _check_same_noise(lambda loc, C: ember.distributions.MultivariateNormal(loc, covariance_matrix=C),
                      lambda eps, loc, C: loc + (torch.linalg.cholesky(C) @ eps.unsqueeze(-1)).squeeze(-1),
                      lambda x, loc, C: np.linalg.solve(np.linalg.cholesky(C), (x - loc)[..., None])[..., 0],
                      [randn(3), cov])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gamma_rsample_gradient_is_torchs_standard_gamma_grad(dtype):
    alpha = np.array([0.3, 0.9, 2.5, 7.0, 12.0, 40.0], dtype)  # all three branches of the approximation
    rate = np.array([0.5, 1.0, 2.0, 1.5, 1.0, 3.0], dtype)
    ember.manual_seed(0)
    a, r = to_ember(alpha, True), to_ember(rate, True)
    x = ember.distributions.Gamma(a, r).rsample((50,))
    ga, gr = ember.autograd.grad(x.sum(), [a, r])
    standard = torch.from_numpy(x._data * rate)  # the Gamma(alpha, 1) draws
    expected = (torch._standard_gamma_grad(torch.from_numpy(alpha).expand_as(standard), standard)
                / torch.from_numpy(rate))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ga._data, expected.sum(0).numpy(), **tol)
    np.testing.assert_allclose(gr._data, (-x._data / rate).sum(0), **tol)  # d(g / rate) / d rate


def _torch_dirichlet_backward(x, concentration, grad_output):
    """torch.distributions.dirichlet._Dirichlet_backward on ember's sample."""
    total = concentration.sum(-1, True).expand_as(concentration)
    grad = torch._dirichlet_grad(x, concentration, total)
    return grad * (grad_output - (x * grad_output).sum(-1, True))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dirichlet_rsample_gradient_is_torchs_dirichlet_grad(dtype):
    # concentrations reaching every branch: near-0 and near-1 coordinates, both parameters large, the rest
    concentration = np.array([[0.3, 0.5, 2.0], [8.0, 9.0, 12.0], [1.5, 0.2, 30.0]], dtype)
    ember.manual_seed(4)
    c = to_ember(concentration, True)
    x = ember.distributions.Dirichlet(c).rsample((40,))
    weights = np.random.default_rng(2).uniform(-1, 1, tuple(x.shape)).astype(dtype)
    grad, = ember.autograd.grad((x * ember.tensor(weights)).sum(), [c])
    expected = _torch_dirichlet_backward(torch.from_numpy(x._data), torch.from_numpy(concentration).expand(x.shape),
                                         torch.from_numpy(weights)).sum(0)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(grad._data, expected.numpy(), **tol)
    np.testing.assert_allclose(x._data.sum(-1), 1.0, rtol=1e-5)


def test_beta_rsample_gradient_is_torchs_dirichlet_grad():
    a, b = np.array([0.4, 3.0, 10.0]), np.array([2.0, 0.6, 9.0])
    ember.manual_seed(6)
    ea, eb = to_ember(a, True), to_ember(b, True)
    x = ember.distributions.Beta(ea, eb).rsample((30,))
    ga, gb = ember.autograd.grad(x.sum(), [ea, eb])
    heads_tails = torch.from_numpy(np.stack([x._data, 1 - x._data], -1))
    concentration = torch.from_numpy(np.stack([a, b], -1)).expand(heads_tails.shape)
    grad_output = torch.zeros(heads_tails.shape, dtype=torch.float64)
    grad_output[..., 0] = 1.0  # Beta's sample is the Dirichlet's first coordinate
    expected = _torch_dirichlet_backward(heads_tails, concentration, grad_output).sum(0)
    np.testing.assert_allclose(ga._data, expected[:, 0].numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(gb._data, expected[:, 1].numpy(), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", ["Gamma", "Beta", "Dirichlet", "StudentT"])
def test_implicit_rsample_gradients_are_unbiased(name):
    """The gradient of a sample average matches the gradient of the exact mean (20k samples)."""
    D = ember.distributions
    params = {"Gamma": [np.array([0.7, 3.0]), np.array([1.0, 2.0])],
              "Beta": [np.array([0.8, 2.0]), np.array([1.5, 3.0])],
              "Dirichlet": [np.array([[0.7, 2.0, 4.0]])],
              "StudentT": [np.array([6.0]), np.array([0.5]), np.array([2.0])]}[name]
    make = {"Gamma": D.Gamma, "Beta": D.Beta, "Dirichlet": D.Dirichlet, "StudentT": D.StudentT}[name]
    ember.manual_seed(5)
    e_params = [to_ember(p, True) for p in params]
    weights = np.random.default_rng(1).uniform(0.5, 1.5, make(*e_params).batch_shape + make(*e_params).event_shape)
    sample_mean = make(*e_params).rsample((20000,)).mean(0)
    e_grads = ember.autograd.grad((sample_mean * ember.tensor(weights)).sum(), e_params)
    t_params = [to_torch(p, True) for p in params]
    t_dist = getattr(torch.distributions, name)(*t_params)
    t_grads = torch.autograd.grad((t_dist.mean * torch.tensor(weights)).sum(), t_params, allow_unused=True)
    for eg, tg in zip(e_grads, t_grads):
        expected = np.zeros(eg.shape) if tg is None else tg.numpy()
        np.testing.assert_allclose(eg._data, expected, rtol=0.05, atol=0.02)


def test_sample_is_detached_and_rsample_is_not():
    loc = ember.zeros(3, requires_grad=True)
    d = ember.distributions.Normal(loc, 1.0)
    assert not d.sample().requires_grad and d.rsample().requires_grad
    probs = ember.full((3,), 0.3, requires_grad=True)
    assert not ember.distributions.Bernoulli(probs).sample().requires_grad


def test_von_mises_samples_concentrate_around_loc():
    ember.manual_seed(2)
    loc, kappa = np.array([0.5, -2.0, 3.0]), np.array([4.0, 1.0, 8.0])
    x = ember.distributions.VonMises(ember.tensor(loc), ember.tensor(kappa)).sample((20000,))._data
    assert x.min() >= -np.pi and x.max() < np.pi
    circular_mean = np.angle(np.exp(1j * x).mean(0))
    np.testing.assert_allclose(circular_mean, loc, atol=0.05)
    t = torch.distributions.VonMises(torch.tensor(loc), torch.tensor(kappa))
    np.testing.assert_allclose(1 - np.abs(np.exp(1j * x).mean(0)), t.variance.numpy(), atol=0.02)


def test_straight_through_one_hot_rsample():
    """Forward: a one-hot sample; backward: the gradient of probs (torch's straight-through estimator)."""
    logits = np.array([[0.2, -1.0, 0.5], [1.5, 0.3, -0.2]])
    weights = np.random.default_rng(3).standard_normal((4, 2, 3))
    grads = {}
    for lib in (ember, torch):
        lib.manual_seed(0)
        x = to_ember(logits, True) if lib is ember else to_torch(logits, True)
        sample = lib.distributions.OneHotCategoricalStraightThrough(logits=x).rsample((4,))
        assert tuple(sample.shape) == (4, 2, 3) and bool((sample.detach().sum(-1) == 1).all())
        (sample * lib.tensor(weights)).sum().backward()
        grads[lib.__name__] = x.grad
    assert_same(grads["ember"], grads["torch"])  # independent of which categories were drawn


def test_perplexity_and_sample_n():
    for lib in (ember, torch):
        d = lib.distributions.Categorical(probs=lib.tensor([0.25, 0.25, 0.5]))
        np.testing.assert_allclose(float(d.perplexity()), float(np.exp(d.entropy().item())), rtol=1e-6)
        with pytest.warns(FutureWarning):
            assert tuple(d.sample_n(5).shape) == (5,)
