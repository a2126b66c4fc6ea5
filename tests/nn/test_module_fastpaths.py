"""The hook-free Module.__call__ and Linear.forward's direct _parameters read, against torch: hooks of
every kind still fire (also when the first hook arrives after hook-free calls, after deepcopy and
pickling, and through a hook dict written directly), and reparametrized Linears read the new weight."""
import copy
import pickle

import numpy as np
import pytest

import ember
import ember.nn.modules.module as module_mod
from oracle import needs_torch, torch, assert_same
from nn.util import copy_weights


@pytest.fixture
def hooks_unseen():
    """Start as a process that has never seen a module hook (the hook-free call path)."""
    before = module_mod._module_hooks_seen[0]
    module_mod._module_hooks_seen[0] = False
    yield
    module_mod._module_hooks_seen[0] = before or module_mod._module_hooks_seen[0]


def _pair(build, seed=0):
    torch.manual_seed(seed)
    t_mod = build(torch.nn)
    e_mod = copy_weights(t_mod, build(ember.nn))
    return e_mod, t_mod


def _mlp(nn):
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))


def _x(lib, shape=(2, 6), dtype=np.float32, grad=False):
    a = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    t = lib.from_numpy(a)
    return t.requires_grad_(True) if grad else t


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape,dtype", [((2, 6), np.float32), ((6,), np.float32), ((3, 2, 6), np.float32),
                                         ((2, 6), np.float64), ((1, 6), np.float64)])
def test_linear_forward_no_grad_and_grad(bias, shape, dtype):
    def build(nn):
        lib = torch if nn is torch.nn else ember
        return nn.Linear(6, 3, bias=bias, dtype=lib.float64 if dtype == np.float64 else lib.float32)
    e_mod, t_mod = _pair(build)
    with torch.no_grad():
        t_out = t_mod(_x(torch, shape, dtype))
    with ember.no_grad():
        e_out = e_mod(_x(ember, shape, dtype))
    assert_same(e_out, t_out)
    te, tt = _x(ember, shape, dtype, grad=True), _x(torch, shape, dtype, grad=True)
    e_mod(te).sum().backward()
    t_mod(tt).sum().backward()
    assert_same(te.grad, tt.grad)
    assert_same(e_mod.weight.grad, t_mod.weight.grad)
    if bias:
        assert_same(e_mod.bias.grad, t_mod.bias.grad)


@needs_torch
def test_linear_dtype_mismatch_error_unchanged():
    e_mod = ember.nn.Linear(6, 3)
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        with ember.no_grad():
            e_mod(_x(ember, dtype=np.float64))


@needs_torch
def test_state_dict_and_parameters_unaffected_by_calls():
    e_mod, t_mod = _pair(_mlp)
    with ember.no_grad():
        e_mod(_x(ember))
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert [n for n, _ in e_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]
    assert "weight" not in e_mod[0].__dict__ and "bias" not in e_mod[0].__dict__


@needs_torch
def test_parametrized_linear_reads_the_parametrization():
    def build(nn):
        class Twice(nn.Module):
            def forward(self, w):
                return w * 2
        m = nn.Linear(6, 3)
        (torch if nn is torch.nn else ember).nn.utils.parametrize.register_parametrization(m, "weight", Twice())
        return m

    torch.manual_seed(0)
    t_mod = build(torch.nn)
    e_mod = build(ember.nn)
    with ember.no_grad():
        e_mod.parametrizations.weight.original.copy_(
            ember.from_numpy(t_mod.parametrizations.weight.original.detach().numpy().copy()))
        e_mod.bias.copy_(ember.from_numpy(t_mod.bias.detach().numpy().copy()))
    assert "weight" not in e_mod._parameters
    assert_same(e_mod(_x(ember)), t_mod(_x(torch)))
    with ember.no_grad():
        assert_same(e_mod(_x(ember)), t_mod(_x(torch)))


@needs_torch
@pytest.mark.parametrize("norm", ["weight_norm", "spectral_norm"])
def test_weight_and_spectral_norm_linear(norm):
    def build(nn):
        lib = torch if nn is torch.nn else ember
        return getattr(lib.nn.utils, norm)(nn.Linear(6, 3))
    e_mod, t_mod = _pair(build)
    e_mod.eval(), t_mod.eval()
    assert "weight" not in e_mod._parameters
    xe, xt = _x(ember, grad=True), _x(torch, grad=True)
    assert_same(e_mod(xe), t_mod(xt), atol=1e-5, rtol=1e-5)
    with ember.no_grad():
        assert_same(e_mod(_x(ember)), t_mod(_x(torch)), atol=1e-5, rtol=1e-5)


def _prune_style(mod, name, lib):
    """What torch.nn.utils.prune does: the parameter moves to ``<name>_orig`` and ``<name>`` becomes a
    plain attribute (here: the odd entries zeroed)."""
    orig = mod._parameters.pop(name)
    mod.register_parameter(name + "_orig", orig)
    mask = lib.from_numpy((np.arange(orig.numel()) % 2 == 0).astype(np.float32).reshape(tuple(orig.shape)))
    setattr(mod, name, orig * mask)


@needs_torch
@pytest.mark.parametrize("name", ["weight", "bias"])
def test_prune_style_plain_attribute(name):
    e_mod, t_mod = _pair(lambda nn: nn.Linear(6, 3))
    _prune_style(e_mod, name, ember)
    _prune_style(t_mod, name, torch)
    assert name in e_mod.__dict__ and name not in e_mod._parameters
    assert_same(e_mod(_x(ember)), t_mod(_x(torch)))
    with ember.no_grad(), torch.no_grad():
        assert_same(e_mod(_x(ember)), t_mod(_x(torch)))
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())


@needs_torch
def test_first_hook_after_hook_free_calls(hooks_unseen):
    e_mod, t_mod = _pair(_mlp)
    xe, xt = _x(ember), _x(torch)
    e_mod(xe), t_mod(xt)
    assert module_mod._module_hooks_seen[0] is False
    for mod in (e_mod, t_mod):
        mod[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        mod[2].register_forward_hook(lambda m, args, out: out + 1)
    assert module_mod._module_hooks_seen[0] is True
    assert_same(e_mod(xe), t_mod(xt))


@needs_torch
@pytest.mark.parametrize("how", ["register", "setitem", "update", "assign"])
def test_hook_added_any_way_fires(hooks_unseen, how):
    calls = []

    def hook(m, args, out):
        calls.append(m)
        return out * 3

    lin = ember.nn.Linear(6, 3)
    ref = lin(_x(ember))
    if how == "register":
        lin.register_forward_hook(hook)
    elif how == "setitem":
        lin._forward_hooks[7] = hook
    elif how == "update":
        lin._forward_hooks.update({7: hook})
    else:
        from collections import OrderedDict
        lin._forward_hooks = OrderedDict([(7, hook)])
    _assert_equal(lin(_x(ember)), ref * 3)
    assert calls == [lin]


@needs_torch
def test_hooks_with_kwargs_always_call_and_backward(hooks_unseen):
    seen = {}

    def build(nn):
        return nn.Linear(6, 3)
    e_mod, t_mod = _pair(build)
    for name, mod in (("e", e_mod), ("t", t_mod)):
        mod.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
        mod.register_forward_hook(lambda m, args, kwargs, out: out * 2, with_kwargs=True)
        mod.register_full_backward_hook(lambda m, gi, go, name=name: seen.__setitem__(name, go[0]))
    xe, xt = _x(ember, grad=True), _x(torch, grad=True)
    ye, yt = e_mod(xe), t_mod(xt)
    assert_same(ye, yt)
    ye.sum().backward(), yt.sum().backward()
    assert_same(seen["e"], seen["t"])
    assert_same(xe.grad, xt.grad)

    always = []
    bad = ember.nn.Linear(6, 3)
    bad.register_forward_hook(lambda m, args, out: always.append(out), always_call=True)
    with pytest.raises(RuntimeError):
        bad(_x(ember, shape=(2, 5)))
    assert always == [None]


@needs_torch
def test_global_hooks_fire_without_module_hooks(hooks_unseen):
    calls = []
    handle = ember.nn.modules.module.register_module_forward_hook(lambda m, args, out: calls.append(type(m)))
    try:
        _mlp(ember.nn)(_x(ember))
    finally:
        handle.remove()
    assert calls == [ember.nn.Linear, ember.nn.ReLU, ember.nn.Linear, ember.nn.Sequential]
    assert module_mod._module_hooks_seen[0] is False


@needs_torch
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_hooks_survive_copies(hooks_unseen, how):
    lin = ember.nn.Linear(6, 3)
    lin.register_forward_hook(_triple)
    ref = lin(_x(ember))
    module_mod._module_hooks_seen[0] = False  # as in a fresh process that loads the module
    clone = copy.deepcopy(lin) if how == "deepcopy" else pickle.loads(pickle.dumps(lin))
    _assert_equal(clone(_x(ember)), ref)
    assert isinstance(clone._forward_hooks, module_mod._HookDict) or module_mod._module_hooks_seen[0]
    plain = pickle.loads(pickle.dumps(ember.nn.Linear(6, 3)))
    assert isinstance(plain._forward_hooks, module_mod._HookDict)


def _assert_equal(a, b):
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _triple(m, args, out):
    return out * 3
