"""ember.utils.checkpoint: recomputed segments give exactly the gradients of the plain forward."""
import warnings

import numpy as np
import pytest

import ember
from ember.utils.checkpoint import checkpoint, checkpoint_sequential
from oracle import needs_torch, torch, assert_same, to_ember, to_torch
from nn.util import copy_weights

MODES = [True, False]


def _mlp(nn, dropout=0.0):
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Dropout(dropout), nn.Linear(6, 5), nn.ReLU(),
                         nn.Linear(5, 3))


def _pair(dropout=0.0):
    torch.manual_seed(0)
    t_mod = _mlp(torch.nn, dropout)
    return copy_weights(t_mod, _mlp(ember.nn, dropout)), t_mod


def _grads(lib, module, x, run):
    """Output and the gradients of x and every parameter of ``(run(x) ** 2).sum()``."""
    module.zero_grad(set_to_none=True)
    x.grad = None
    out = run(x)
    (out ** 2).sum().backward()
    return [out, x.grad] + [p.grad for p in module.parameters()]


@pytest.mark.parametrize("reentrant", MODES)
def test_dropout_segment_recomputes_the_same_masks(reentrant):
    model = _mlp(ember.nn, dropout=0.5)
    x = ember.randn(7, 4, requires_grad=True)

    def with_seed(run):
        ember.manual_seed(3)
        result = _grads(ember, model, x, run)
        return result, ember.rand(1)  # the generator must end where the plain forward leaves it

    plain, after_plain = with_seed(model)
    ckpt, after_ckpt = with_seed(lambda t: checkpoint(model, t, use_reentrant=reentrant))
    for a, b in zip(plain, ckpt):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_array_equal(after_plain.numpy(), after_ckpt.numpy())
    with ember.no_grad():
        without_dropout = model.eval()(x)
    assert not np.allclose(plain[0].detach().numpy(), without_dropout.numpy())  # dropout did drop something


@pytest.mark.parametrize("reentrant", MODES)
def test_dropout_masks_differ_without_preserved_rng_state(reentrant):
    model = _mlp(ember.nn, dropout=0.5)
    x = ember.randn(16, 4, requires_grad=True)
    ember.manual_seed(3)
    plain = _grads(ember, model, x, model)
    ember.manual_seed(3)
    ckpt = _grads(ember, model, x, lambda t: checkpoint(model, t, use_reentrant=reentrant, preserve_rng_state=False))
    np.testing.assert_array_equal(plain[0].detach().numpy(), ckpt[0].detach().numpy())
    assert not np.array_equal(plain[1].numpy(), ckpt[1].numpy())  # the recompute drew new masks


@needs_torch
@pytest.mark.parametrize("reentrant", MODES)
def test_matches_torch_checkpoint(reentrant):
    e_mod, t_mod = _pair()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    e = _grads(ember, e_mod, to_ember(x, True), lambda t: checkpoint(e_mod, t, use_reentrant=reentrant))
    t = _grads(torch, t_mod, to_torch(x, True),
               lambda t: torch.utils.checkpoint.checkpoint(t_mod, t, use_reentrant=reentrant))
    assert_same(e, t)


def test_non_reentrant_replaces_the_graph_by_one_node():
    model = _mlp(ember.nn)
    y = checkpoint(model, ember.randn(2, 4, requires_grad=True), use_reentrant=False)
    assert type(y.grad_fn).__name__ == "_NonReentrantCheckpoint"
    edges = [fn for fn, _ in y.grad_fn.next_functions if fn is not None]
    assert len(edges) == 1 + len(list(model.parameters()))  # the input and each parameter, nothing else


@needs_torch
def test_non_reentrant_autograd_grad_kwargs_and_several_outputs():
    rng = np.random.default_rng(1)
    a, b, w = (rng.standard_normal((3, 4)) for _ in range(3))

    def run(lib, ckpt):
        ta, tb, tw = (to_torch(v, True) if lib is torch else to_ember(v, True) for v in (a, b, w))

        def fn(x, y, scale=1.0, bias=None):
            return {"prod": (x * y * tw).sin() * scale, "pair": [x + bias, 7], "n": 2}

        out = ckpt(fn, ta, tb, scale=3.0, bias=tw, use_reentrant=False)
        assert out["pair"][1] == 7 and out["n"] == 2
        loss = (out["prod"] ** 2).sum() + out["pair"][0].exp().sum()
        return [out["prod"], out["pair"][0]] + list(lib.autograd.grad(loss, [ta, tb, tw]))

    assert_same(run(ember, checkpoint), run(torch, torch.utils.checkpoint.checkpoint))


@needs_torch
@pytest.mark.parametrize("reentrant", MODES)
def test_inputs_without_grad(reentrant):
    """Reentrant: parameters get no gradient (with torch's warning); non-reentrant: they do."""
    e_mod, t_mod = _pair()
    x = np.ones((2, 4), np.float32)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True") if reentrant else \
            warnings.catch_warnings():
        e_out = checkpoint(e_mod, to_ember(x), use_reentrant=reentrant)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = torch.utils.checkpoint.checkpoint(t_mod, to_torch(x), use_reentrant=reentrant)
    assert e_out.requires_grad == t_out.requires_grad
    if t_out.requires_grad:
        e_out.sum().backward()
        t_out.sum().backward()
        assert_same([p.grad for p in e_mod.parameters()], [p.grad for p in t_mod.parameters()])


@needs_torch
def test_captured_intermediate_falls_back_to_the_plain_graph():
    def run(lib, ckpt_fn):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        h = x.exp()  # a non-leaf from outside the segment
        y = ckpt_fn(lambda t: (t * h).sin(), x * 2, use_reentrant=False)
        y.sum().backward()
        return [y, x.grad]

    assert_same(run(ember, checkpoint), run(torch, torch.utils.checkpoint.checkpoint))


@needs_torch
@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_sequential_matches_torch(reentrant):
    e_mod, t_mod = _pair()
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    e = _grads(ember, e_mod, to_ember(x, True), lambda t: checkpoint_sequential(e_mod, 3, t, use_reentrant=reentrant))
    t = _grads(torch, t_mod, to_torch(x, True),
               lambda t: torch.utils.checkpoint.checkpoint_sequential(t_mod, 3, t, use_reentrant=reentrant))
    assert_same(e, t)


def test_under_no_grad_runs_plainly():
    model = _mlp(ember.nn)
    x = ember.randn(2, 4, requires_grad=True)
    with ember.no_grad():
        for reentrant in MODES:
            assert not checkpoint(model, x, use_reentrant=reentrant).requires_grad


@needs_torch
def test_warnings_and_errors_as_torch():
    x = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda t: t * 2, x)
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter should be passed"):
        checkpoint_sequential([lambda t: t * 2, lambda t: t + 1], 2, x)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint(lambda t: t, x, use_reentrant=True, foo=1)
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\], but got x"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="x")
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported when use_reentrant"):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([lambda t: t], 1, x, use_reentrant=False, foo=1)

    def detached_output(lib, ckpt):
        t = lib.ones(2, requires_grad=True)
        ckpt(lambda v: v.detach() * 2, t, use_reentrant=True).sum().backward()

    with pytest.raises(RuntimeError, match="none of output has requires_grad=True"):
        detached_output(torch, torch.utils.checkpoint.checkpoint)
    with pytest.raises(RuntimeError, match="none of output has requires_grad=True"):
        detached_output(ember, checkpoint)


def test_context_fn_wraps_forward_and_recompute():
    import contextlib
    calls = []

    def context_fn():
        return contextlib.nullcontext(calls.append("forward")), contextlib.nullcontext(calls.append("recompute"))

    x = ember.ones(2, requires_grad=True)
    checkpoint(lambda t: t.sin(), x, use_reentrant=False, context_fn=context_fn).sum().backward()
    assert calls == ["forward", "recompute"]
    np.testing.assert_allclose(x.grad.numpy(), np.cos(np.ones(2, np.float32)))
