"""Argument validation with torch's exception types and messages, and the validate_args switches."""
import numpy as np
import pytest

import ember
import ember.distributions  # noqa: F401  (not imported by `import ember`)
from oracle import needs_torch, torch, check_op

pytestmark = needs_torch

BAD = {
    "negative scale": lambda lib, D: D.Normal(lib.tensor([0., 1.]), lib.tensor([1., -1.])),
    "probs above 1": lambda lib, D: D.Bernoulli(probs=lib.tensor(1.5)),
    "value outside the support": lambda lib, D: D.Bernoulli(lib.tensor(0.3)).log_prob(lib.tensor(0.5)),
    "value not broadcastable": lambda lib, D: D.Normal(lib.zeros(3), 1.).log_prob(lib.zeros(2)),
    "wrong event shape": lambda lib, D: D.Dirichlet(lib.ones(3)).log_prob(lib.ones(2) / 2),
    "negative probs": lambda lib, D: D.Categorical(probs=lib.tensor([0.5, -0.1])),
    "indefinite covariance": lambda lib, D: D.MultivariateNormal(lib.zeros(2), lib.tensor([[1., 2.], [2., 1.]])),
    "non-triangular scale_tril": lambda lib, D: D.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2, 2)),
    "low above high": lambda lib, D: D.Uniform(1., 0.),
    "value not a tensor": lambda lib, D: D.Normal(0., 1.).log_prob(1.0),
    "zero concentration": lambda lib, D: D.Dirichlet(lib.tensor([[1., 0.]])),
    "nan loc": lambda lib, D: D.Normal(lib.tensor([float("nan")]), 1.),
    "non-integer count": lambda lib, D: D.Poisson(lib.tensor([2.])).log_prob(lib.tensor([1.5])),
    "zero geometric probs": lambda lib, D: D.Geometric(probs=lib.tensor([0.0, 0.5])),
    "both probs and logits": lambda lib, D: D.Bernoulli(probs=lib.tensor(0.5), logits=lib.tensor(0.)),
    "neither probs nor logits": lambda lib, D: D.Categorical(),
    "0-d probs": lambda lib, D: D.Categorical(probs=lib.tensor(1.)),
    "two covariances": lambda lib, D: D.MultivariateNormal(lib.zeros(2), lib.eye(2), scale_tril=lib.eye(2)),
    "too many reinterpreted dims": lambda lib, D: D.Independent(D.Normal(lib.zeros(3), 1.), 2),
    "bad transforms": lambda lib, D: D.TransformedDistribution(D.Normal(0., 1.), "exp"),
    "multinomial total_count": lambda lib, D: D.Multinomial(lib.tensor(3), probs=lib.ones(2) / 2),
    "no KL": lambda lib, D: D.kl_divergence(D.Cauchy(0., 1.), D.Normal(0., 1.)),
}


@pytest.mark.parametrize("make", list(BAD.values()), ids=list(BAD))
def test_errors_match_torch(make):
    with pytest.raises(Exception) as t_err:
        make(torch, torch.distributions)
    with pytest.raises(type(t_err.value)) as e_err:
        make(ember, ember.distributions)
    assert str(e_err.value) == str(t_err.value)


def test_validate_args_false_skips_checks():
    for lib in (ember, torch):
        D = lib.distributions
        d = D.Normal(lib.tensor([0.]), lib.tensor([-1.]), validate_args=False)
        assert d.scale.item() == -1.0
        assert D.Bernoulli(lib.tensor(0.3), validate_args=False).log_prob(lib.tensor(0.5)).shape == ()


@pytest.mark.parametrize("lib_name", ["ember", "torch"])
def test_set_default_validate_args(lib_name):
    lib = ember if lib_name == "ember" else torch
    D = lib.distributions
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(0., -1.)  # not checked
        with pytest.raises(ValueError):
            D.Normal(0., -1., validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0., -1.)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_expand_keeps_the_validation_flag():
    d = ember.distributions.Normal(ember.zeros(2), 1.0, validate_args=False).expand((3, 2))
    assert d._validate_args is False
    assert tuple(d.log_prob(ember.zeros(3, 2)).shape) == (3, 2)


def test_gamma_cdf_value_rate_gradients_and_concentration_gradient_error():
    concentration = np.array([0.5, 2.0, 7.5])

    def fn(lib, rate, value):
        return lib.distributions.Gamma(lib.tensor(concentration), rate).cdf(value)
    check_op(fn, np.array([1.0, 0.5, 2.0]), np.array([0.3, 4.0, 3.0]))
    for lib in (torch, ember):
        c = lib.tensor(concentration, requires_grad=True)
        cdf = lib.distributions.Gamma(c, lib.ones(3, dtype=lib.float64)).cdf(lib.tensor([0.3, 4.0, 3.0]))
        with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input' is not implemented."):
            cdf.sum().backward()


def test_torch_module_paths_exist():
    """``from torch.distributions.<module> import <Name>`` works for every torch module."""
    import importlib
    import os
    for file in os.listdir(os.path.dirname(torch.distributions.__file__)):
        if file.endswith(".py") and file != "__init__.py":
            t_mod = importlib.import_module(f"torch.distributions.{file[:-3]}")
            e_mod = importlib.import_module(f"ember.distributions.{file[:-3]}")
            missing = [n for n in getattr(t_mod, "__all__", []) if not hasattr(e_mod, n)]
            assert not missing, f"ember.distributions.{file[:-3]} lacks {missing}"
