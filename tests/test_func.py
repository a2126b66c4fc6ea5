"""ember.func (torch.func) transforms compared with torch.func on the same inputs."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same, to_ember, to_torch
from nn.util import copy_weights

pytestmark = needs_torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal((4, 3))


def both(fn, *arrays):
    """fn(lib, *tensors) for ember and torch; asserts the results agree and returns ember's."""
    e = fn(ember, *[to_ember(a) for a in arrays])
    t = fn(torch, *[to_torch(a) for a in arrays])
    assert_same(e, t)
    return e, t


def f(lib, x, y):
    return (x.sin() * y + x ** 2).sum()


def test_grad_argnums_and_value():
    both(lambda lib, x, y: lib.func.grad(lambda a, b: f(lib, a, b))(x, y), X, Y)
    both(lambda lib, x, y: lib.func.grad(lambda a, b: f(lib, a, b), argnums=(0, 1))(x, y), X, Y)
    both(lambda lib, x, y: lib.func.grad(lambda a, b: f(lib, a, b), argnums=-1)(x, y), X, Y)
    e, _ = both(lambda lib, x, y: lib.func.grad_and_value(lambda a, b: f(lib, a, b))(x, y), X, Y)
    assert not e[0].requires_grad and not e[1].requires_grad


def test_grad_has_aux_and_pytree_inputs():
    def run(lib, x, y):
        def loss(params, scale):
            out = params["w"] * params["b"][0] * scale
            return out.sum(), {"out": out}
        return lib.func.grad_and_value(loss, has_aux=True)({"w": x, "b": [y]}, 2.0)

    e, t = run(ember, to_ember(X), to_ember(Y)), run(torch, to_torch(X), to_torch(Y))
    assert set(e[0]) == {"w", "b"}
    assert_same([e[0]["w"], e[0]["b"][0], e[1][0], e[1][1]["out"]], [t[0]["w"], t[0]["b"][0], t[1][0], t[1][1]["out"]])


def test_grad_of_grad_and_outside_requires_grad():
    both(lambda lib, x: lib.func.grad(lambda a: lib.func.grad(lambda b: (b.sin() * b).sum())(a).sum())(x), X)

    def outer(lib, x):
        x = x.requires_grad_()
        g = lib.func.grad(lambda a: (a ** 3).sum())(x)  # 3 x^2, differentiable w.r.t. x
        assert g.requires_grad
        return lib.autograd.grad(g.sum(), x)[0]

    both(outer, X)


def test_grad_errors_as_torch():
    for fn, match in [(lambda lib, x: lib.func.grad(lambda a: a * 2)(x), "Expected f\\(\\*args\\) to return a scalar"),
                      (lambda lib, x: lib.func.grad(lambda a: 3)(x), "Expected f\\(\\*args\\) to return a Tensor"),
                      (lambda lib, x: lib.func.grad(lambda a: a.sum(), argnums=1)(x),
                       "Got argnum=1, but only 1 positional inputs")]:
        with pytest.raises(RuntimeError):
            fn(torch, to_torch(X))
        with pytest.raises(RuntimeError, match=match):
            fn(ember, to_ember(X))


def test_vjp_and_jvp():
    def vjp(lib, x, y):
        out, fn = lib.func.vjp(lambda a, b: (a * b.exp(), a.sum()), x, y)
        return list(out) + list(fn((lib.ones_like(out[0]) * 2, lib.tensor(3.0, dtype=x.dtype))))

    both(vjp, X, Y)

    def jvp(lib, x, y):
        out, tangent = lib.func.jvp(lambda a: (a.sin() * a).cumsum(0), (x,), (y,))
        return [out, tangent]

    both(jvp, X, Y)


def test_jacrev_jacfwd_hessian():
    both(lambda lib, x: lib.func.jacrev(lambda a: a.tanh() * a.sum())(x[0]), X)
    both(lambda lib, x, y: lib.func.jacrev(lambda a, b: (a * b).sin(), argnums=(0, 1))(x[0], y[0]), X, Y)
    both(lambda lib, x: lib.func.jacfwd(lambda a: (a.exp().cumsum(0), a ** 2))(x[1]), X)
    both(lambda lib, x: lib.func.hessian(lambda a: (a.sin() * a.cos().sum()).sum())(x[2]), X)


def test_vmap_in_dims_out_dims():
    both(lambda lib, x, y: lib.func.vmap(lambda a, b: a * b.sum())(x, y), X, Y)
    both(lambda lib, x, y: lib.func.vmap(lambda a, b: a @ b, in_dims=(1, None))(x, y[:, 0]), X, Y)
    both(lambda lib, x, y: lib.func.vmap(lambda a, b: (a + b, a.sum()), out_dims=(1, 0))(x, y), X, Y)
    both(lambda lib, x, y: lib.func.vmap(lambda d: d["a"] * d["b"][0], in_dims=({"a": 0, "b": [1]},))(
        {"a": x, "b": [y.T]}), X, Y)
    both(lambda lib, x: lib.func.vmap(lib.func.vmap(lambda a: a * 2), in_dims=1, out_dims=1)(x), X)


def test_vmap_errors_as_torch():
    cases = [(lambda lib, x, y: lib.func.vmap(lambda a, b: a + b)(x, y[:3]), "same size in the mapped dimension"),
             (lambda lib, x, y: lib.func.vmap(lambda a: a, in_dims=(0, 0))(x), "in_dims is not compatible"),
             (lambda lib, x, y: lib.func.vmap(lambda a: a, in_dims=2)(x), "Got in_dim=2 for some input"),
             (lambda lib, x, y: lib.func.vmap(lambda a: 1.0)(x), "must only return Tensors")]
    for fn, match in cases:
        with pytest.raises(ValueError):
            fn(torch, to_torch(X), to_torch(Y))
        with pytest.raises(ValueError, match=match):
            fn(ember, to_ember(X), to_ember(Y))


def _model(nn):
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))


def test_per_sample_gradients_with_functional_call():
    torch.manual_seed(0)
    t_model = _model(torch.nn)
    e_model = copy_weights(t_model, _model(ember.nn))

    def per_sample(lib, model, x, y):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, xi, yi):
            out = lib.func.functional_call(model, p, (xi.unsqueeze(0),))
            return lib.nn.functional.mse_loss(out, yi.unsqueeze(0))

        return lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)

    x, y = X.astype(np.float32), Y[:, :2].astype(np.float32)
    e = per_sample(ember, e_model, to_ember(x), to_ember(y))
    t = per_sample(torch, t_model, to_torch(x), to_torch(y))
    assert list(e) == list(t)
    assert_same([e[k] for k in t], [t[k] for k in t])
    assert e["0.weight"].shape == (4, 5, 3)


def test_functional_call_dicts():
    torch.manual_seed(0)
    t_model = torch.nn.Linear(3, 2)
    e_model = copy_weights(t_model, ember.nn.Linear(3, 2))
    w = RNG.standard_normal((2, 3)).astype(np.float32)
    b = RNG.standard_normal(2).astype(np.float32)
    x = X.astype(np.float32)
    e = ember.func.functional_call(e_model, ({"weight": to_ember(w)}, {"bias": to_ember(b)}), to_ember(x))
    t = torch.func.functional_call(t_model, ({"weight": to_torch(w)}, {"bias": to_torch(b)}), to_torch(x))
    assert_same(e, t)
    assert_same(e_model.weight, t_model.weight)  # the module's own parameters are back
    with pytest.raises(ValueError, match=r"\['weight'\] appeared in multiple dictionaries"):
        ember.func.functional_call(e_model, ({"weight": to_ember(w)}, {"weight": to_ember(w)}), to_ember(x))


def test_vmap_randomness():
    x = ember.ones(3)
    with pytest.raises(RuntimeError, match="vmap: called random operation while in randomness error mode"):
        ember.func.vmap(lambda a: a * ember.rand(()))(x)
    ember.manual_seed(0)
    same = ember.func.vmap(lambda a: a * ember.rand(()), randomness="same")(x)
    after = ember.rand(())
    ember.manual_seed(0)
    first = ember.rand(())  # ember's generator is not torch's stream: compare with its own first draw
    np.testing.assert_array_equal(same.numpy(), np.full(3, first.item(), np.float32))
    assert after.item() == ember.rand(()).item()  # one draw's worth consumed, as torch's single draw
    different = ember.func.vmap(lambda a: a * ember.rand(()), randomness="different")(x)
    assert len(set(different.tolist())) == 3
    assert_same(ember.func.vmap(lambda a: a * 2)(x), torch.ones(3) * 2)  # no draws: no error
