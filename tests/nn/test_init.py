"""nn.init: calculate_gain equal to torch's, fills drawn from the right distributions, torch's errors."""
import math

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, check_error

init = ember.nn.init


@needs_torch
@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("conv_transpose3d",), ("sigmoid",), ("tanh",),
                                  ("relu",), ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu",)])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


@needs_torch
def test_calculate_gain_errors():
    check_error(lambda L: L.nn.init.calculate_gain("foo"), match="Unsupported nonlinearity foo")
    check_error(lambda L: L.nn.init.calculate_gain("leaky_relu", "x"), match="not a valid number")


def _sample(fn, shape=(400, 500), dtype=ember.float32, **kw):
    ember.manual_seed(0)
    t = ember.empty(*shape, dtype=dtype)
    out = fn(t, **kw)
    assert out is t
    return t.numpy().astype(np.float64)


def test_uniform_and_normal_moments():
    u = _sample(init.uniform_, a=-2.0, b=3.0)
    assert u.min() >= -2 and u.max() <= 3 and abs(u.mean() - 0.5) < 0.02 and abs(u.var() - 25 / 12) < 0.03
    n = _sample(init.normal_, mean=1.0, std=2.0)
    assert abs(n.mean() - 1) < 0.02 and abs(n.std() - 2) < 0.02
    d = _sample(init.normal_, dtype=ember.float64)
    assert abs(d.std() - 1) < 0.01


def test_trunc_normal_bounds_and_moments():
    t = _sample(init.trunc_normal_, mean=0.0, std=1.0, a=-1.0, b=2.0)
    assert t.min() >= -1 and t.max() <= 2
    # moments of N(0,1) truncated to [a, b] = [-1, 2]
    def pdf(x):
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    def cdf(x):
        return (1 + math.erf(x / math.sqrt(2))) / 2
    z = cdf(2) - cdf(-1)
    mean = (pdf(-1) - pdf(2)) / z
    var = 1 + (-1 * pdf(-1) - 2 * pdf(2)) / z - mean ** 2
    assert abs(t.mean() - mean) < 0.01 and abs(t.std() - math.sqrt(var)) < 0.01


@needs_torch
@pytest.mark.parametrize("shape", [(300, 400), (64, 32, 3, 3)])
def test_xavier_and_kaiming_spread_matches_torch(shape):
    cases = [("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 2.0}), ("xavier_normal_", {}),
             ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
             ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
             ("kaiming_normal_", {}), ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"})]
    for name, kw in cases:
        e = _sample(getattr(init, name), shape, **kw)
        t = getattr(torch.nn.init, name)(torch.empty(*shape), **kw).numpy()
        assert abs(e.std() - t.std()) < 0.03 * t.std(), (name, kw)
        assert abs(e.mean()) < 0.05 * t.std()
        if "uniform" in name:  # same support
            assert e.max() <= np.abs(t).max() * 1.01 and e.max() > 0.98 * np.abs(t).max(), (name, kw)


def test_constant_ones_zeros_eye_dirac():
    t = ember.empty(3, 4)
    assert init.constant_(t, 0.5).tolist() == [[0.5] * 4] * 3
    assert init.ones_(t).numpy().sum() == 12 and init.zeros_(t).numpy().sum() == 0
    np.testing.assert_array_equal(init.eye_(ember.empty(3, 4)).numpy(), np.eye(3, 4))


@needs_torch
@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((2, 3, 3, 3, 3), 1)])
def test_dirac_matches_torch(shape, groups):
    e = init.dirac_(ember.empty(*shape), groups)
    t = torch.nn.init.dirac_(torch.empty(*shape), groups)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@needs_torch
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3)])
def test_orthogonal(shape):
    w = _sample(init.orthogonal_, shape, gain=2.0).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4 * np.eye(min(rows, cols)), atol=1e-5)


def test_sparse():
    w = _sample(init.sparse_, (10, 300), sparsity=0.3, std=0.5)
    assert np.all((w == 0).sum(axis=0) >= 3)
    nz = w[w != 0]
    assert abs(nz.std() - 0.5) < 0.03


def test_init_does_not_record_graph():
    p = ember.nn.Parameter(ember.zeros(3, 4))
    v = p._version
    init.kaiming_uniform_(p)
    assert p.grad_fn is None and p.requires_grad and p._version > v


@needs_torch
def test_init_errors_match_torch():
    check_error(lambda L: L.nn.init.xavier_uniform_(L.empty(3)), match="Fan in and fan out")
    check_error(lambda L: L.nn.init.eye_(L.empty(2, 2, 2)), match="Only tensors with 2 dimensions")
    check_error(lambda L: L.nn.init.dirac_(L.empty(2, 2)), match="Only tensors with 3, 4, or 5")
    check_error(lambda L: L.nn.init.orthogonal_(L.empty(3)), match="Only tensors with 2 or more")
    check_error(lambda L: L.nn.init.kaiming_uniform_(L.empty(3, 3), mode="fan"), match="not supported")


def test_generator_argument_is_reproducible():
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    a = init.normal_(ember.empty(5), generator=g1)
    b = init.normal_(ember.empty(5), generator=g2)
    assert a.tolist() == b.tolist()
