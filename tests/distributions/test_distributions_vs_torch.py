"""Every distribution in tests/distributions/dist_cases.py against torch.distributions with the same
parameters: log_prob, entropy, moments, cdf/icdf with their gradients; shapes of sample/rsample/expand;
statistics of 20k seeded samples."""
import numpy as np
import pytest

import ember
import ember.distributions  # noqa: F401  (not imported by `import ember`)
from oracle import needs_torch, torch, check_op, to_torch, to_ember, assert_same
from dist_cases import CASES, Case

pytestmark = needs_torch
IDS = [c.name for c in CASES]


def _both_or_neither_raise(fn, case):
    """Run ``fn`` on torch; if torch raises, ember must raise the same type. Returns whether torch raised."""
    try:
        fn(torch, *[to_torch(p) for p in case.params])
    except Exception as err:  # noqa: BLE001  (torch's exception type is the oracle)
        with pytest.raises(type(err)):
            fn(ember, *[to_ember(p) for p in case.params])
        return True
    return False


def _compare(case, method, *args, grad=True):
    """Compare ``dist.<method>`` (a property, or a method called with ``args`` made into tensors)."""
    def fn(lib, *params):
        dist = case.make(lib.distributions, *params)
        attr = getattr(dist, method)
        return attr(*[lib.tensor(a) for a in args]) if callable(attr) else attr
    if _both_or_neither_raise(fn, case):
        return
    check_op(fn, *case.params, grad=grad, **case.tols)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob(case):
    _compare(case, "log_prob", case.value)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("prop", ["mean", "variance", "stddev", "mode", "entropy"])
def test_moments_and_entropy(case, prop):
    _compare(case, prop)


@pytest.mark.parametrize("case", [c for c in CASES if c.cdf], ids=[c.name for c in CASES if c.cdf])
def test_cdf(case):
    _compare(case, "cdf", case.value)


@pytest.mark.parametrize("case", [c for c in CASES if c.icdf is not None],
                         ids=[c.name for c in CASES if c.icdf is not None])
def test_icdf(case):
    _compare(case, "icdf", case.icdf)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes_and_flags(case):
    e = case.make(ember.distributions, *[to_ember(p) for p in case.params])
    t = case.make(torch.distributions, *[to_torch(p) for p in case.params])
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    assert repr(e) == repr(t) and repr(e.support) == repr(t.support)
    assert e.has_rsample == t.has_rsample and e.has_enumerate_support == t.has_enumerate_support
    for sample_shape in [(), (4,), (2, 1)]:
        es, ts = e.sample(sample_shape), t.sample(sample_shape)
        assert tuple(es.shape) == tuple(ts.shape) and es.dtype.name == str(ts.dtype).replace("torch.", "")
        assert not es.requires_grad
        if t.has_rsample:
            assert tuple(e.rsample(sample_shape).shape) == tuple(t.rsample(sample_shape).shape)
    if t.has_enumerate_support:
        assert_same(e.enumerate_support(), t.enumerate_support())
        assert_same(e.enumerate_support(expand=False), t.enumerate_support(expand=False))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_expand(case):
    def fn(lib, *params):
        dist = case.make(lib.distributions, *params)
        big = dist.expand((2,) + tuple(dist.batch_shape))
        assert type(big) is type(dist)
        return big.log_prob(lib.tensor(case.value)), tuple(big.batch_shape), tuple(big.sample().shape)
    check_op(fn, *case.params, **case.tols)


@pytest.mark.parametrize("case", [c for c in CASES if c.stats], ids=[c.name for c in CASES if c.stats])
def test_sample_statistics(case):
    ember.manual_seed(0)
    n = 20000
    dist = case.make(ember.distributions, *[to_ember(p) for p in case.params])
    samples = dist.sample((n,))._data.astype(np.float64)
    t = case.make(torch.distributions, *[to_torch(p) for p in case.params])
    mean, var = t.mean.detach().numpy(), t.variance.detach().numpy()
    if case.name.startswith("Categorical"):  # mean/variance are nan: compare the frequencies instead
        k = t.probs.shape[-1]
        freq = np.stack([(samples == i).mean(0) for i in range(k)], -1)
        np.testing.assert_allclose(freq, t.probs.numpy(), atol=0.02)
        return
    np.testing.assert_allclose(samples.mean(0), mean, atol=1e-3 + 6 * np.sqrt(var.max() / n), rtol=0)
    np.testing.assert_allclose(samples.var(0), var, rtol=case.var_rtol, atol=1e-3)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_samples_lie_in_the_support(case):
    ember.manual_seed(1)
    dist = case.make(ember.distributions, *[to_ember(p) for p in case.params])
    assert bool(dist.support.check(dist.sample((50,))).all())
    assert bool(dist.support.check(ember.tensor(case.value)).all())


def _as_float32(case):
    def cast(a):
        return a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
    return Case(case.name, case.make, [cast(p) for p in case.params], cast(case.value),
                tols=dict(atol=1e-4, rtol=1e-3))


@pytest.mark.parametrize("case", [_as_float32(c) for c in CASES], ids=IDS)
def test_float32_log_prob_entropy_and_samples(case):
    """float32 parameters give float32 results (no silent promotion to float64), close to torch's."""
    _compare(case, "log_prob", case.value, grad=False)  # gradients are compared in float64 above
    _compare(case, "entropy", grad=False)
    e = case.make(ember.distributions, *[to_ember(p) for p in case.params])
    t = case.make(torch.distributions, *[to_torch(p) for p in case.params])
    assert e.sample().dtype.name == str(t.sample().dtype).replace("torch.", "")
    if t.has_rsample:
        assert e.rsample().dtype.name == str(t.rsample().dtype).replace("torch.", "")
