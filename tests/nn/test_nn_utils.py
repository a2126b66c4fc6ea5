"""nn.utils vs torch: gradient clipping, parameter vectors, weight/spectral norm, parametrize."""
import math
import warnings

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same, check_error
from nn.util import check_module, make_pair

rng = np.random.default_rng(0)


def _params_with_grads(L, arrays, grads):
    ps = []
    for a, g in zip(arrays, grads):
        p = L.nn.Parameter(L.tensor(a))
        p.grad = L.tensor(g)
        ps.append(p)
    return ps


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,), (2, 2, 2)]]
    grads = [rng.standard_normal(a.shape).astype(np.float32) for a in arrays]
    ep, tp = _params_with_grads(ember, arrays, grads), _params_with_grads(torch, arrays, grads)
    en = ember.nn.utils.clip_grad_norm_(ep, max_norm, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert_same(en, tn)
    for e, t in zip(ep, tp):
        assert_same(e.grad, t.grad)


@needs_torch
def test_clip_grad_edge_cases():
    p = ember.nn.Parameter(ember.ones(2))
    assert float(ember.nn.utils.clip_grad_norm_([p], 1.0)) == 0.0  # no grads
    assert float(ember.nn.utils.clip_grad_norm_(p, 1.0)) == 0.0  # a single tensor
    check_error(lambda L: (lambda q: (setattr(q, "grad", L.tensor([float("nan"), 1.0])),
                                      L.nn.utils.clip_grad_norm_([q], 1.0, error_if_nonfinite=True)))(
        L.nn.Parameter(L.ones(2))), match="non-finite")
    arrays = [rng.standard_normal((3, 3)).astype(np.float32)]
    grads = [rng.standard_normal((3, 3)).astype(np.float32) * 5]
    ep, tp = _params_with_grads(ember, arrays, grads), _params_with_grads(torch, arrays, grads)
    ember.nn.utils.clip_grad_value_(ep, 1.5)
    torch.nn.utils.clip_grad_value_(tp, 1.5)
    assert_same(ep[0].grad, tp[0].grad)
    assert_same(ember.nn.utils.get_total_norm([g.grad for g in ep], 3.0),
                torch.nn.utils.get_total_norm([g.grad for g in tp], 3.0))


@needs_torch
def test_parameters_to_vector_and_back():
    e, t = make_pair(lambda nn: nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)))
    ev, tv = ember.nn.utils.parameters_to_vector(e.parameters()), torch.nn.utils.parameters_to_vector(t.parameters())
    assert_same(ev, tv)
    new = np.arange(ev.numel(), dtype=np.float32)
    ember.nn.utils.vector_to_parameters(ember.from_numpy(new), e.parameters())
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new), t.parameters())
    for (n, a), (_, b) in zip(e.named_parameters(), t.named_parameters()):
        assert_same(a, b, what=n)
        assert isinstance(a, ember.nn.Parameter)
    check_error(lambda L: L.nn.utils.vector_to_parameters([1.0], []), match="expected torch.Tensor")


def _wn(nn, dim=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nn.utils.weight_norm(nn.Linear(4, 3), dim=dim)


@needs_torch
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    e, t = check_module(lambda nn: _wn(nn, dim), x)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [k for k, _ in e.named_parameters()] == [k for k, _ in t.named_parameters()]
    ember.nn.utils.remove_weight_norm(e)
    torch.nn.utils.remove_weight_norm(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_same(e.weight, t.weight)


@needs_torch
@pytest.mark.parametrize("train", [True, False])
def test_spectral_norm_matches_torch(train):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    torch.manual_seed(0)  # a fixed weight, so the power iteration's convergence below is deterministic
    e, t = check_module(lambda nn: nn.utils.spectral_norm(nn.Linear(4, 6), n_power_iterations=2), x, train=train)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_same(e.weight_u, t.weight_u, atol=1e-5)
    assert_same(e.weight_v, t.weight_v, atol=1e-5)
    # the largest singular value of the normalised weight approaches 1 after some iterations
    e.train()
    for _ in range(30):
        e(ember.from_numpy(x))
    assert abs(np.linalg.svd(e.weight.detach().numpy(), compute_uv=False)[0] - 1) < 1e-2
    ember.nn.utils.remove_spectral_norm(e)
    assert list(e.state_dict()) == ["bias", "weight"]


class _Symmetric:
    """forward(X) = triu(X) + triu(X, 1)^T in library L."""

    @staticmethod
    def make(nn):
        class Symmetric(nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(0, 1)

            def right_inverse(self, A):
                return A.triu()
        return Symmetric()


def _sym_linear(nn):
    m = nn.Linear(3, 3)
    nn.utils.parametrize.register_parametrization(m, "weight", _Symmetric.make(nn))
    return m


@needs_torch
def test_parametrize_matches_torch():
    x = rng.standard_normal((4, 3)).astype(np.float32)
    e, t = check_module(_sym_linear, x)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    assert type(e).__name__ == "ParametrizedLinear"
    assert ember.nn.utils.parametrize.is_parametrized(e) and ember.nn.utils.parametrize.is_parametrized(e, "weight")
    assert ember.nn.utils.parametrize.type_before_parametrizations(e) is ember.nn.Linear
    np.testing.assert_allclose(e.weight.detach().numpy(), e.weight.detach().numpy().T)
    # assigning goes through right_inverse
    a = rng.standard_normal((3, 3)).astype(np.float32)
    e.weight = ember.from_numpy(a)
    t.weight = torch.from_numpy(a)
    assert_same(e.weight, t.weight)
    with ember.nn.utils.parametrize.cached():
        assert e.weight is e.weight
    assert e.weight is not e.weight
    ember.nn.utils.parametrize.remove_parametrizations(e, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    assert type(e) is ember.nn.Linear and list(e.state_dict()) == list(t.state_dict())
    assert_same(e.weight, t.weight)
    check_error(lambda L: L.nn.utils.parametrize.remove_parametrizations(L.nn.Linear(2, 2), "weight"))
    check_error(lambda L: L.nn.utils.parametrize.register_parametrization(L.nn.Linear(2, 2), "nope",
                                                                          _Symmetric.make(L.nn)))


@needs_torch
def test_parametrizations_weight_and_spectral_norm():
    x = rng.standard_normal((5, 4)).astype(np.float32)
    e, t = check_module(lambda nn: nn.utils.parametrizations.weight_norm(nn.Linear(4, 3)), x)
    assert list(e.state_dict()) == list(t.state_dict())
    e, t = check_module(lambda nn: nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3)), x)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_same(e.parametrizations.weight[0]._u, t.parametrizations.weight[0]._u, atol=1e-5)


@needs_torch
def test_functional_call_matches_torch():
    e, t = make_pair(lambda nn: nn.Sequential(nn.Linear(3, 2), nn.ReLU()))
    w = rng.standard_normal((2, 3)).astype(np.float32)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    ew = ember.from_numpy(w).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    eo = ember.nn.utils.stateless.functional_call(e, {"0.weight": ew}, (ember.from_numpy(x),))
    to = torch.func.functional_call(t, {"0.weight": tw}, (torch.from_numpy(x),))
    assert_same(eo, to)
    eo.sum().backward(), to.sum().backward()
    assert_same(ew.grad, tw.grad)
    assert isinstance(e[0].weight, ember.nn.Parameter) and e[0].weight.grad is None  # restored, untouched
