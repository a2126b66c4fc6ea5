"""Autograd engine behaviour, compared with torch where torch defines the answer."""
import gc
import weakref

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same


def both(fn):
    """Run fn(lib) for ember and torch; return both results."""
    return fn(ember), fn(torch)


@needs_torch
def test_accumulates_into_leaves_and_broadcasts():
    def run(lib):
        x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        b = lib.tensor([[0.5], [2.0]], requires_grad=True)
        (x * b).sum().backward()
        (x * b).exp().sum().backward()
        return x.grad, b.grad
    assert_same(*both(run))


@needs_torch
def test_second_backward_raises_torch_message():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_inplace_modification_of_saved_tensor_raises():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = b.sin()  # saves b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*SinBackward0.*version 1; expected version 0"):
        c.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    a = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation."):
        a.add_(1)
    with ember.no_grad():
        a.add_(1)  # allowed: this is how optimizers update
    assert a.tolist() == [2.0, 2.0, 2.0]


@needs_torch
def test_inplace_ops_in_graph_match_torch():
    def run(lib):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x * 2
        y.sin_()
        y.mul_(x)
        y[1] = x[0] * 3
        y.add_(1).exp_()
        y.sum().backward()
        return y, x.grad
    assert_same(*both(run))


@needs_torch
def test_inplace_through_view_updates_base_history():
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        base = x * 1
        view = base[0]
        view.mul_(x[1])
        (base * base).sum().backward()
        return base, x.grad
    assert_same(*both(run))


def test_views_share_storage_with_base():
    t = ember.zeros(2, 3)
    t[0].fill_(1)
    t.view(6)[5] = 7
    t.t()[0, 1] = 5
    assert t.tolist() == [[1, 1, 1], [5, 0, 7]]
    assert t[1]._base is t and t.view(3, 2)._version == t._version
    d = t.detach()
    d[0, 0] = 9
    assert t[0, 0].item() == 9


def test_grad_modes_as_context_and_decorator():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad

    @ember.no_grad()
    def f():
        return x * 2
    assert not f().requires_grad and ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    with ember.inference_mode():
        assert not (x * 2).requires_grad and ember.is_inference_mode_enabled()

    @ember.inference_mode()
    def g():
        return x + 1
    assert not g().requires_grad


@needs_torch
def test_hooks_and_retain_grad():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: g * 10)
        y = x * x
        y.retain_grad()
        y.register_hook(lambda g: seen.append(g.clone()))
        z = (y * 3).sum()
        z.backward()
        return x.grad, y.grad, seen[0]
    assert_same(*both(run))


def test_hook_handle_removes():
    x = ember.ones(2, requires_grad=True)
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


@needs_torch
def test_autograd_grad_options():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        unused = lib.tensor([1.0], requires_grad=True)
        y = (x * w).sum()
        gx, gu = lib.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
        assert gu is None and x.grad is None
        gw, = lib.autograd.grad([y], [w], grad_outputs=[lib.tensor(2.0)])
        return gx, gw
    assert_same(*both(run))
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ember.autograd.grad((x * 2).sum(), [x, ember.ones(1, requires_grad=True)])


@needs_torch
def test_backward_inputs_only_accumulates_there():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        (x * w).sum().backward(inputs=[w])
        return x.grad is None, w.grad
    e, t = both(run)
    assert e[0] and t[0]
    assert_same(e[1], t[1])


@needs_torch
def test_create_graph_gradient_penalty_and_hvp():
    def run(lib):
        lib.manual_seed(0)
        w = lib.tensor([[0.3, -0.2], [0.1, 0.4]], requires_grad=True)
        x = lib.tensor([[1.0, 2.0], [-1.0, 0.5]], requires_grad=True)
        out = (x @ w).tanh().sum()
        gx, = lib.autograd.grad(out, x, create_graph=True)
        penalty = ((gx.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        # Hessian-vector product
        y = (x ** 3).sum() + (x * x).prod()
        g, = lib.autograd.grad(y, x, create_graph=True)
        v = lib.ones_like(x)
        hv, = lib.autograd.grad((g * v).sum(), x)
        return w.grad, hv
    assert_same(*both(run))


def test_long_chain_is_iterative():
    x = ember.tensor([1.0], dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert abs(x.grad.item() - 1.0000001 ** 100_000) < 1e-9


def test_saved_tensors_are_freed_after_backward():
    x = ember.randn(100, requires_grad=True)
    y = x.exp()
    big = y * 2
    ref = weakref.ref(y.grad_fn)
    node = big.grad_fn
    big.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        node.saved_tensors
    del y, big, node
    gc.collect()
    assert ref() is None


class _Cube(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x ** 3 * k

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * 3 * x ** 2 * ctx.k, None


def test_custom_function_first_and_second_order():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = _Cube.apply(x, 2.0)
    assert y.grad_fn is not None and type(y.grad_fn).__name__ == "_Cube"
    g, = ember.autograd.grad(y.sum(), x, create_graph=True)
    assert g.tolist() == [6.0, 24.0]
    g2, = ember.autograd.grad(g.sum(), x)
    assert g2.tolist() == [12.0, 24.0]


class _SortWithIndex(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        idx = ember.tensor(np.argsort(x.detach().numpy()))
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return x[idx], idx

    @staticmethod
    @ember.autograd.function.once_differentiable
    def backward(ctx, g, _):
        idx, = ctx.saved_tensors
        out = ember.zeros_like(g)
        out[idx] = g
        return out


def test_custom_function_non_differentiable_and_once_differentiable():
    x = ember.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v, i = _SortWithIndex.apply(x)
    assert v.requires_grad and not i.requires_grad
    (v * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 2.0]
    x.grad = None
    v, _ = _SortWithIndex.apply(x)
    g, = ember.autograd.grad((v * v).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


class _AddOneInPlace(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g


def test_custom_function_mark_dirty():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    c = _AddOneInPlace.apply(b)
    assert c is b and b._version == 1 and b.tolist() == [3.0, 5.0]
    c.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_gradcheck_public_and_catches_wrong_gradient():
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
    assert ember.autograd.gradgradcheck(lambda t: (t.sin() * t), (x,))

    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Wrong.apply, (x,))
    assert not ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


@needs_torch
def test_functional_jacobian_hessian():
    def f(lib):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
        jac = lib.autograd.functional.jacobian(lambda t: t.sin() * t.sum(), x)
        hes = lib.autograd.functional.hessian(lambda t: (t ** 3).sum() * t[0], x)
        return jac, hes
    import torch.autograd.functional  # noqa: F401
    assert_same(*both(f))


def test_backward_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (ember.ones(2, requires_grad=True) * 2).backward()
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        ember.ones(2, dtype=ember.int64).requires_grad_()


def test_detach_and_requires_grad_flags():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    assert y.is_leaf is False and x.is_leaf and y.grad_fn.name() == "MulBackward0"
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    y.detach_()
    assert y.is_leaf and not y.requires_grad
    assert (x * 2).grad_fn.next_functions[0][0].variable is x
