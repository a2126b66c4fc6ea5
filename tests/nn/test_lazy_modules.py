"""Lazy conv and norm modules: repr before and after, shapes inferred from the first input, the class
they become, default initialisation statistics, load_state_dict into an uninitialised module, and
outputs equal to torch's once the weights are shared."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same

CONV_CASES = [("LazyConv1d", (4, 3), {}, (2, 5, 9)), ("LazyConv2d", (8, 3), {"padding": 1, "groups": 1}, (2, 6, 5, 5)),
              ("LazyConv2d", (4, 3), {"groups": 2, "bias": False}, (1, 6, 5, 5)), ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
              ("LazyConvTranspose1d", (4, 3, 2), {}, (3, 7)), ("LazyConvTranspose2d", (3, 3), {"stride": 2}, (2, 4, 3, 3)),
              ("LazyConv2d", (4, 3), {}, (6, 5, 5))]
NORM_CASES = [("LazyBatchNorm1d", (4, 6)), ("LazyBatchNorm2d", (2, 5, 3, 3)), ("LazyBatchNorm3d", (2, 3, 2, 2, 2)),
              ("LazyInstanceNorm1d", (2, 5, 7)), ("LazyInstanceNorm2d", (2, 3, 4, 4)), ("LazyInstanceNorm3d", (1, 3, 2, 2, 2))]


@needs_torch
@pytest.mark.parametrize("name,args,kwargs,shape", CONV_CASES)
def test_lazy_conv_matches_torch(name, args, kwargs, shape):
    e, t = getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(e) == repr(t)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    e(ember.tensor(x))
    t(torch.tensor(x))
    assert type(e).__name__ == type(t).__name__ and repr(e) == repr(t)
    assert e.weight.shape == tuple(t.weight.shape)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))


@needs_torch
@pytest.mark.parametrize("name,shape", NORM_CASES)
def test_lazy_norm_matches_torch(name, shape):
    e, t = getattr(ember.nn, name)(), getattr(torch.nn, name)()
    assert repr(e) == repr(t)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))
    assert repr(e) == repr(t)
    for k, v in t.state_dict().items():
        assert_same(e.state_dict()[k], v)


@needs_torch
def test_load_state_dict_materialises_an_uninitialised_module():
    src = torch.nn.Conv2d(3, 4, 3)
    e = ember.nn.LazyConv2d(4, 3)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((1, 3, 5, 5)).astype(np.float32)
    assert_same(e(ember.tensor(x)), src(torch.tensor(x)))
    assert type(e) is ember.nn.Conv2d and e.in_channels == 3


def test_lazy_conv_uses_default_initialisation_bounds():
    ember.manual_seed(0)
    m = ember.nn.LazyConv2d(16, 3)
    m(ember.zeros(1, 8, 5, 5))
    bound = 1 / np.sqrt(8 * 9)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert m.weight.requires_grad and isinstance(m.weight, ember.nn.Parameter)


def test_uninitialised_parameters_refuse_use_and_groups_are_checked():
    m = ember.nn.LazyConv2d(4, 3, groups=2)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        m.weight.shape
    with pytest.raises(ValueError, match="divisible by groups"):
        m(ember.zeros(1, 3, 5, 5))


def test_lazy_instance_norm_takes_channels_of_unbatched_input_from_dim_0():
    # torch reads dim 1 here and then rejects its own inference; ember reads the channel dim
    m = ember.nn.LazyInstanceNorm1d()
    out = m(ember.randn(5, 7))
    assert m.num_features == 5 and out.shape == (5, 7)
    np.testing.assert_allclose(out.detach().numpy().mean(-1), 0, atol=1e-5)
