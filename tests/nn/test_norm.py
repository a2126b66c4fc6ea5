"""Normalization vs torch: batch (training, eval, running statistics, momentum=None), layer, group,
instance, RMS and local response norm; functional and module forms; the fused Op's raw and
create_graph backward paths agree; gradcheck and gradgradcheck."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, check_op, check_error, gradcheck_op, assert_same
from nn.util import check_module, make_pair

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def F(lib):
    return lib.nn.functional


CASES = [
    ("batch_norm_train", lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True), (4, 3, 5, 6),
     (3,)),
    ("batch_norm_1d", lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, True, eps=1e-3), (6, 3), (3,)),
    ("layer_norm_2dims", lambda lib, x, w, b: F(lib).layer_norm(x, (5, 6), w, b), (4, 3, 5, 6), (5, 6)),
    ("layer_norm_last", lambda lib, x, w, b: F(lib).layer_norm(x, (6,), w, b, eps=1e-3), (4, 3, 6), (6,)),
    ("group_norm", lambda lib, x, w, b: F(lib).group_norm(x, 3, w, b), (2, 6, 3, 4), (6,)),
    ("instance_norm", lambda lib, x, w, b: F(lib).instance_norm(x, weight=w, bias=b), (4, 3, 5, 6), (3,)),
    ("rms_norm", lambda lib, x, w, b: F(lib).rms_norm(x, (6,), w) + b.sum(), (4, 3, 6), (6,)),
    ("rms_norm_eps", lambda lib, x, w, b: F(lib).rms_norm(x, (3, 6), None, eps=1e-3) * w.sum() + b.sum(), (4, 3, 6),
     (2,)),
]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn,xs,ps", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_norm_matches_torch(fn, xs, ps, dtype):
    check_op(fn, randn(*xs, dtype=dtype), randn(*ps, dtype=dtype), randn(*ps, dtype=dtype))


@needs_torch
@pytest.mark.parametrize("fn,shape", [
    (lambda lib, x: F(lib).layer_norm(x, (6,)), (4, 3, 6)),
    (lambda lib, x: F(lib).batch_norm(x, None, None, training=True), (4, 3, 6)),
    (lambda lib, x: F(lib).group_norm(x, 2), (2, 4, 5)),
    (lambda lib, x: F(lib).local_response_norm(x, 3, alpha=0.1), (2, 5, 4, 3)),
    (lambda lib, x: F(lib).local_response_norm(x, 2), (2, 5, 4)),
    (lambda lib, x: F(lib).local_response_norm(x, 4, k=2.0), (2, 5, 2, 3, 2)),
])
def test_norm_without_affine(fn, shape):
    check_op(fn, randn(*shape, dtype=np.float64))


@needs_torch
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_running_stats_functional(momentum):
    x = randn(4, 3, 5, dtype=np.float64)
    rm, rv = randn(3, dtype=np.float64), np.abs(randn(3, dtype=np.float64)) + 0.5
    e_rm, e_rv = ember.from_numpy(rm.copy()), ember.from_numpy(rv.copy())
    t_rm, t_rv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    e = F(ember).batch_norm(ember.from_numpy(x), e_rm, e_rv, training=True, momentum=momentum)
    t = F(torch).batch_norm(torch.from_numpy(x), t_rm, t_rv, training=True, momentum=momentum)
    assert_same(e, t)
    assert_same(e_rm, t_rm)
    assert_same(e_rv, t_rv)
    # eval mode uses the running statistics
    check_op(lambda lib, x, w, b: F(lib).batch_norm(x, lib.tensor(rm), lib.tensor(rv), w, b, False), x,
             randn(3, dtype=np.float64), randn(3, dtype=np.float64))


@needs_torch
def test_instance_norm_running_stats():
    x = randn(4, 3, 5, dtype=np.float64)
    e_rm, e_rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    t_rm, t_rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    e = F(ember).instance_norm(ember.from_numpy(x), e_rm, e_rv, momentum=0.3)
    t = F(torch).instance_norm(torch.from_numpy(x), t_rm, t_rv, momentum=0.3)
    assert_same(e, t)
    assert_same(e_rm, t_rm)
    assert_same(e_rv, t_rv)


@pytest.mark.parametrize("fn", [
    lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w[:2], b[:2], training=True),
    lambda lib, x, w, b: F(lib).layer_norm(x, (4,), w, b),
    lambda lib, x, w, b: F(lib).instance_norm(x, weight=w[:2], bias=b[:2]),
    lambda lib, x, w, b: F(lib).group_norm(x, 1, w[:2], b[:2]),
])
def test_norm_gradcheck(fn):
    gradcheck_op(fn, randn(3, 2, 4, dtype=np.float64), randn(4, dtype=np.float64), randn(4, dtype=np.float64))


@pytest.mark.parametrize("fn", [
    lambda x, w, b: F(ember).batch_norm(x, None, None, w, b, training=True),
    lambda x, w, b: F(ember).layer_norm(x, (4,), w.repeat(2)[:4], b.repeat(2)[:4]),
])
def test_fused_backward_raw_and_graph_paths_agree(fn):
    """Without create_graph the fused norm runs a raw NumPy backward; with it, ember ops. Same numbers."""
    arrays = [randn(3, 2, 4, dtype=np.float64), randn(2, dtype=np.float64), randn(2, dtype=np.float64)]
    g = ember.from_numpy(randn(3, 2, 4, dtype=np.float64))
    grads = []
    for create_graph in (False, True):
        ins = [ember.from_numpy(a.copy()).requires_grad_() for a in arrays]
        out = fn(*ins)
        grads.append(ember.autograd.grad(out, ins, g, create_graph=create_graph))
    assert grads[1][0].requires_grad  # the input gradient is differentiable again
    for raw, graph in zip(*grads):
        np.testing.assert_allclose(raw.detach().numpy(), graph.detach().numpy(), rtol=1e-12, atol=1e-12)


MODULES = [
    ("BatchNorm1d", lambda nn: nn.BatchNorm1d(3), (6, 3)),
    ("BatchNorm1d_3d", lambda nn: nn.BatchNorm1d(3, affine=False), (4, 3, 5)),
    ("BatchNorm2d", lambda nn: nn.BatchNorm2d(3, momentum=None), (4, 3, 5, 5)),
    ("BatchNorm2d_nobias", lambda nn: nn.BatchNorm2d(3, bias=False), (4, 3, 5, 5)),
    ("BatchNorm3d", lambda nn: nn.BatchNorm3d(2, track_running_stats=False), (2, 2, 3, 3, 3)),
    ("LayerNorm", lambda nn: nn.LayerNorm((4, 5)), (2, 3, 4, 5)),
    ("LayerNorm_nobias", lambda nn: nn.LayerNorm(5, bias=False), (2, 3, 5)),
    ("GroupNorm", lambda nn: nn.GroupNorm(2, 6), (2, 6, 4)),
    ("InstanceNorm1d", lambda nn: nn.InstanceNorm1d(3), (2, 3, 6)),
    ("InstanceNorm2d_affine_track", lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
     (2, 3, 4, 4)),
    ("InstanceNorm2d_unbatched", lambda nn: nn.InstanceNorm2d(3), (3, 4, 4)),
    ("RMSNorm", lambda nn: nn.RMSNorm(5), (2, 3, 5)),
    ("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(3), (2, 5, 3, 3)),
]


@needs_torch
@pytest.mark.parametrize("build,shape", [m[1:] for m in MODULES], ids=[m[0] for m in MODULES])
def test_norm_modules(build, shape):
    e_mod, t_mod = check_module(build, randn(*shape))
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    for k, v in t_mod.state_dict().items():
        assert_same(e_mod.state_dict()[k], v, what=k)


@needs_torch
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("track", [True, False])
def test_batch_norm_module_train_eval_cycle(momentum, track):
    e_mod, t_mod = make_pair(lambda nn: nn.BatchNorm2d(3, momentum=momentum, track_running_stats=track))
    for step in range(4):
        x = randn(4, 3, 2, 2)
        assert_same(e_mod(ember.from_numpy(x)), t_mod(torch.from_numpy(x)))
    for k, v in t_mod.state_dict().items():
        assert_same(e_mod.state_dict()[k], v, what=k)
    e_mod.eval()
    t_mod.eval()
    x = randn(4, 3, 2, 2)
    assert_same(e_mod(ember.from_numpy(x)), t_mod(torch.from_numpy(x)))
    if track:
        assert int(e_mod.num_batches_tracked) == 4


@needs_torch
def test_batch_norm_loads_old_state_dict_without_num_batches_tracked():
    t_mod = torch.nn.BatchNorm1d(3)
    state = {k: ember.from_numpy(v.numpy().copy()) for k, v in t_mod.state_dict().items()
             if k != "num_batches_tracked"}
    e_mod = ember.nn.BatchNorm1d(3)
    e_mod.num_batches_tracked.fill_(7)
    e_mod._load_from_state_dict(state, "", {"version": 1}, True, [], [], [])
    assert int(e_mod.num_batches_tracked) == 0


@needs_torch
@pytest.mark.parametrize("fn,shape", [
    (lambda lib, x: F(lib).layer_norm(x, (5,)), (2, 4)),
    (lambda lib, x: F(lib).group_norm(x, 4), (2, 6, 3)),
    (lambda lib, x: F(lib).batch_norm(x, None, None, training=True), (1, 3)),
    (lambda lib, x: F(lib).rms_norm(x, (3,)), (2, 4)),
])
def test_norm_errors(fn, shape):
    e, t = check_error(fn, randn(*shape))
    assert str(e) == str(t)


@needs_torch
@pytest.mark.parametrize("build,shape", [
    (lambda nn: nn.BatchNorm2d(3), (2, 3, 4)),
    (lambda nn: nn.BatchNorm1d(3), (2, 3, 4, 4)),
    (lambda nn: nn.InstanceNorm2d(3, affine=True), (2, 4, 5, 5)),
])
def test_norm_module_errors(build, shape):
    x = randn(*shape)
    with pytest.raises(ValueError) as t_err:
        build(torch.nn)(torch.from_numpy(x))
    with pytest.raises(ValueError) as e_err:
        build(ember.nn)(ember.from_numpy(x))
    assert str(e_err.value) == str(t_err.value)


@needs_torch
def test_norm_with_only_bias_trainable():
    """Frozen input and weight, trainable bias (fine-tuning): the fused backward still runs."""
    x, w, b = randn(4, 3, 5), randn(3), randn(3)
    grads = []
    for lib in (ember, torch):
        bias = lib.from_numpy(b.copy()).requires_grad_()
        out = F(lib).batch_norm(lib.from_numpy(x.copy()), None, None, lib.from_numpy(w.copy()), bias, True)
        (out * out).sum().backward()
        grads.append(bias.grad)
    assert_same(*grads)
