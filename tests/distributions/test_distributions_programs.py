"""Typical programs written against torch.distributions, run unchanged on ember (``lib`` = ember or torch)
with the same weights: the losses and every parameter gradient match torch's."""
import numpy as np
import pytest

import ember
import ember.distributions  # noqa: F401  (not imported by `import ember`)
from oracle import needs_torch, torch, assert_same
from nn.util import copy_weights

pytestmark = needs_torch
rng = np.random.default_rng(7)


def _run_both(program, build, *arrays):
    """``build(lib)`` makes the model; ``program(lib, model, *tensors)`` returns a scalar loss."""
    t_model = build(torch)
    e_model = copy_weights(t_model, build(ember))
    t_loss = program(torch, t_model, *[torch.from_numpy(a.copy()) for a in arrays])
    e_loss = program(ember, e_model, *[ember.from_numpy(a.copy()) for a in arrays])
    assert_same(e_loss, t_loss, what="loss")
    t_loss.backward()
    e_loss.backward()
    e_params = dict(e_model.named_parameters())
    for name, tp in t_model.named_parameters():
        assert_same(e_params[name].grad, tp.grad, what=f"grad of {name}")


def _mlp(out):
    return lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, out)).double()


def test_reinforce_with_categorical_policy():
    def program(lib, policy, obs, actions, returns):
        dist = lib.distributions.Categorical(logits=policy(obs))
        return -(dist.log_prob(actions) * returns).mean() - 0.01 * dist.entropy().mean()
    _run_both(program, _mlp(3), rng.standard_normal((6, 4)), rng.integers(0, 3, 6), rng.standard_normal(6))


def test_gaussian_policy_with_tanh_squashing():
    """SAC-style: Independent Normal pushed through a cached TanhTransform, scored at given actions."""
    def program(lib, net, obs, pre_tanh):
        D = lib.distributions
        mean, log_std = net(obs).chunk(2, dim=-1)
        base = D.Independent(D.Normal(mean, log_std.clamp(-5, 2).exp()), 1)
        dist = D.TransformedDistribution(base, [D.TanhTransform(cache_size=1)])
        actions = lib.tanh(pre_tanh)
        return -dist.log_prob(actions).mean() + base.entropy().mean()
    _run_both(program, _mlp(4), rng.standard_normal((5, 4)), rng.standard_normal((5, 2)) * 0.5)


def test_vae_loss_with_kl_divergence():
    def program(lib, encoder, x, eps):
        D = lib.distributions
        mu, log_var = encoder(x).chunk(2, dim=-1)
        q = D.Normal(mu, (0.5 * log_var).exp())
        z = mu + eps * q.stddev  # the reparameterised sample, with shared noise
        prior = D.Normal(lib.zeros_like(mu), lib.ones_like(mu))
        recon = D.Bernoulli(logits=z.sum(-1, keepdim=True).expand(-1, 4)).log_prob((x > 0).double()).sum(-1)
        return (D.kl_divergence(q, prior).sum(-1) - recon).mean()
    _run_both(program, _mlp(6), rng.standard_normal((5, 4)), rng.standard_normal((5, 3)))


def test_gaussian_mixture_negative_log_likelihood():
    def program(lib, net, x):
        D = lib.distributions
        out = net(x)
        logits, loc, log_scale = out[..., :2], out[..., 2:4], out[..., 4:6]
        mixture = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(loc, log_scale.exp()))
        return -mixture.log_prob(x[:, 0]).mean()
    _run_both(program, _mlp(6), rng.standard_normal((7, 4)))


def test_multivariate_normal_fit():
    def program(lib, net, x):
        D = lib.distributions
        out = net(x)
        L = lib.diag_embed(out[..., :2].exp()) + lib.tril(out[..., 2:6].reshape(-1, 2, 2), -1)
        mvn = D.MultivariateNormal(out[..., 6:8], scale_tril=L)
        return -mvn.log_prob(x[:, :2]).mean() - mvn.entropy().mean()
    _run_both(program, _mlp(8), rng.standard_normal((6, 4)))


@pytest.mark.parametrize("name", ["Beta", "Gamma", "Dirichlet"])
def test_concentration_parameters_through_softplus(name):
    def program(lib, net, x):
        D = lib.distributions
        c = lib.nn.functional.softplus(net(x)) + 0.1
        dist = {"Beta": lambda: D.Beta(c[:, 0], c[:, 1]), "Gamma": lambda: D.Gamma(c[:, 0], c[:, 1]),
                "Dirichlet": lambda: D.Dirichlet(c)}[name]()
        value = {"Beta": lambda: lib.sigmoid(x[:, 0]), "Gamma": lambda: x[:, 0].exp(),
                 "Dirichlet": lambda: lib.softmax(x[:, :2], -1)}[name]()
        return -dist.log_prob(value).mean() - dist.entropy().mean()
    _run_both(program, _mlp(2), rng.standard_normal((5, 4)))
