"""Small-model training fast paths (index cross-entropy, inference linear/relu, plain SGD,
``loss.backward()``) agree with torch and with ember's general paths."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch

RNG = np.random.default_rng(1)


def _ce_inputs(dtype, ignore, neg_inf):
    x = RNG.standard_normal((6, 5)).astype(dtype)
    t = RNG.integers(0, 5, 6)
    if ignore is not None and ignore >= 0:
        t[2] = ignore  # an ignored row sends the call to the general forward
    if neg_inf:
        x[0, 0] = -np.inf
    return x, t


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("ignore", [-100, 3])
@pytest.mark.parametrize("neg_inf", [False, True])
def test_cross_entropy_fast_path_matches_torch(dtype, reduction, ignore, neg_inf):
    x, t = _ce_inputs(dtype, ignore, neg_inf)
    results = []
    for lib in (ember, torch):
        xl = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(xl, lib.tensor(t), reduction=reduction, ignore_index=ignore)
        g, = lib.autograd.grad(loss, xl, create_graph=True)
        (g * g).sum().backward()  # the create_graph path of the node
        gg = xl.grad.detach().numpy().copy()
        xl.grad = None
        loss2 = lib.nn.functional.cross_entropy(xl, lib.tensor(t), reduction=reduction, ignore_index=ignore)
        loss2.backward()  # the raw-array path
        results.append((loss.detach().numpy(), g.detach().numpy(), gg, xl.grad.numpy(), str(loss.dtype)))
    (le, ge, gge, g1e, de), (lt, gt, ggt, g1t, dt) = results
    assert de == dt
    np.testing.assert_allclose(le, lt, rtol=1e-5)
    np.testing.assert_allclose(ge, gt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gge, ggt, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(g1e, g1t, rtol=1e-5, atol=1e-6)


@needs_torch
def test_cross_entropy_fast_path_errors_match_torch():
    x = np.zeros((3, 4), np.float32)
    for t in ([0, 1, 4], [0, -1, 2]):
        with pytest.raises(Exception) as ee:
            ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor(t))
        with pytest.raises(Exception) as et:
            torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
        assert type(ee.value) is type(et.value)
    with pytest.raises(ValueError):
        ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor([0, 1]))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_inference_linear_relu_match_torch(dtype, bias):
    x = RNG.standard_normal((3, 7)).astype(dtype)
    w = RNG.standard_normal((5, 7)).astype(dtype)
    b = RNG.standard_normal(5).astype(dtype) if bias else None
    outs = []
    for lib in (ember, torch):
        with lib.no_grad():
            y = lib.nn.functional.linear(lib.tensor(x), lib.tensor(w), None if b is None else lib.tensor(b))
            outs.append((lib.nn.functional.relu(y).numpy(), str(y.dtype), y.requires_grad))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-6)
    assert outs[0][1:] == outs[1][1:]


@needs_torch
def test_inference_linear_falls_back_on_mismatch():
    with ember.no_grad(), pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        ember.nn.functional.linear(ember.ones(2, 3), ember.ones(4, 5))
    with ember.no_grad():  # a bias that only broadcasts takes the general op
        y = ember.nn.functional.linear(ember.ones(2, 3), ember.ones(4, 3), ember.ones(1))
    with torch.no_grad():
        yt = torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3), torch.ones(1))
    np.testing.assert_allclose(y.numpy(), yt.numpy())


@needs_torch
@pytest.mark.parametrize("kw", [{}, {"momentum": 0.9}, {"weight_decay": 0.1}, {"maximize": True}])
def test_sgd_training_matches_torch(kw):
    x = RNG.standard_normal((8, 6)).astype(np.float32)
    y = RNG.integers(0, 3, 8)
    weights = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(6, 4), lib.nn.ReLU(), lib.nn.Linear(4, 3))
        with lib.no_grad():
            for p, v in zip(model.parameters(), [np.full(p.shape, 0.1 * (i + 1), np.float32) for i, p in
                                                 enumerate(model.parameters())]):
                p.copy_(lib.tensor(v) * lib.tensor(np.linspace(-1, 1, v.size).reshape(v.shape).astype(np.float32)))
        opt = lib.optim.SGD(model.parameters(), lr=0.1, **kw)
        for _ in range(3):
            opt.zero_grad()
            lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y)).backward()
            opt.step()
        weights.append([p.detach().numpy().copy() for p in model.parameters()])
    for we, wt in zip(*weights):
        np.testing.assert_allclose(we, wt, rtol=1e-5, atol=1e-6)


def test_loss_backward_fast_path_keeps_semantics():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    loss = (w * 3).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [8.0, 10.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.tensor(1.0).backward()


RAW_BACKWARD_OPS = {
    "mul": lambda a, b: a * b, "mul_scalar": lambda a, b: a * 3, "div": lambda a, b: a / b,
    "div_scalar": lambda a, b: a / 64, "rdiv": lambda a, b: a * (2.0 / b), "sub": lambda a, b: a - b, "neg": lambda a, b: -a,
    "sum": lambda a, b: a.sum() * b, "sum_dim": lambda a, b: a.sum(1, keepdim=True) * b,
    "sum_dim0": lambda a, b: a.sum(0) * b, "logsumexp": lambda a, b: a.logsumexp(1) * b[:, 0],
    "logsumexp_keep": lambda a, b: a.logsumexp(1, keepdim=True) * b,
}


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", RAW_BACKWARD_OPS)
def test_raw_array_backwards_match_torch_and_create_graph(op, dtype):
    """backward() takes the raw-array branch; create_graph=True the ember-op branch: both agree with torch."""
    a = RNG.standard_normal((4, 5)).astype(dtype)
    b = (RNG.standard_normal((4, 5)) + 3).astype(dtype)
    fn = RAW_BACKWARD_OPS[op]
    got = []
    for lib in (ember, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        fn(x, y).pow(2).sum().backward()
        first = [None if t.grad is None else t.grad.numpy().copy() for t in (x, y)]
        x.grad = y.grad = None
        gx = lib.autograd.grad(fn(x, y).pow(2).sum(), x, create_graph=True)[0]
        gx.sum().backward()
        got.append(first + [gx.detach().numpy(), None if y.grad is None else y.grad.numpy()])
    for e, t in zip(*got):
        assert (e is None) == (t is None)
        if e is not None:
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("kw", [{"min": 0}, {"max": 0.5}, {"min": -0.5, "max": 0.5}, {"min": 0.5, "max": -0.5}])
def test_clamp_raw_backward_matches_torch(kw):
    a = RNG.standard_normal((4, 5)).astype(np.float32)
    a[0, 0] = np.nan
    a[1, 1] = 0.0
    got = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        (x.clamp(**kw) * lib.tensor(np.arange(20, dtype=np.float32).reshape(4, 5))).sum().backward()
        gx, = lib.autograd.grad((x.clamp(**kw) ** 2).sum(), x, create_graph=True)
        got.append((x.grad.numpy(), gx.detach().numpy()))
    for e, t in zip(*got):
        np.testing.assert_allclose(e, t, rtol=1e-6, equal_nan=True)


def _node_state(t):
    """What the engine reads from t's node: its class, edges and saved entries (tensors by identity)."""
    node = t.grad_fn
    ident = lambda v: id(v) if isinstance(v, ember.Tensor) else v  # noqa: E731
    saved = tuple(None if s is None else (s[0], ident(s[1]) if s[0] != 1 else ident(s[1][0]), s[2], s[3])
                  for s in node._saved)
    edges = tuple(None if e is None else (ident(e[0]), e[1], e[2], e[3]) for e in node._edges)
    return type(node), edges, saved


@pytest.mark.parametrize("grads", [(True, True, True), (False, True, True), (True, False, False), (True, True, None)])
def test_recorded_linear_relu_ce_build_the_general_nodes(grads):
    """F.linear / F.relu / F.cross_entropy record their nodes directly: the same node Op.apply builds."""
    from ember.nn.functional._activation import Relu
    from ember.nn.functional._linear import Linear
    from ember.nn.functional._loss import _IndexCrossEntropy
    F = ember.nn.functional
    x = ember.tensor(RNG.standard_normal((4, 3)).astype(np.float32), requires_grad=grads[0])
    w = ember.tensor(RNG.standard_normal((5, 3)).astype(np.float32), requires_grad=grads[1])
    b = None if grads[2] is None else ember.tensor(np.ones(5, np.float32), requires_grad=grads[2])
    x2 = x * 1.0 if grads[0] else x  # a non-leaf input too
    assert _node_state(F.linear(x2, w, b)) == _node_state(Linear.apply(x2, w, b))
    h = F.linear(x2, w, b)
    r = F.relu(h)
    assert _node_state(r)[:2] == _node_state(Relu.apply(h))[:2]
    assert r.grad_fn._saved[0][1][0] is r._data and r._version == 0  # its own output, version-counted
    t = ember.tensor([0, 4, 1, 2])
    assert _node_state(F.cross_entropy(h, t)) == _node_state(_IndexCrossEntropy.apply(h, t, None, -100, "mean", 0.0))
    aa = ember.tensor(np.ones((3, 3), np.float32), requires_grad=True)
    assert _node_state(F.linear(aa, aa)) == _node_state(Linear.apply(aa, aa, None))


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_recorded_linear_relu_backward_and_double_backward_match_torch(bias, dtype):
    xa = RNG.standard_normal((4, 3)).astype(dtype)
    wa = RNG.standard_normal((5, 3)).astype(dtype)
    ba = RNG.standard_normal(5).astype(dtype)
    xa[0, 0] = -0.0
    got = []
    for lib in (ember, torch):
        F = lib.nn.functional
        x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wa, requires_grad=True)
        b = lib.tensor(ba, requires_grad=True) if bias else None
        y = F.relu(F.linear(x, w, b))
        loss = F.cross_entropy(y, lib.tensor([0, 4, 1, 2]))
        loss.backward(retain_graph=True)
        first = [t.grad.numpy().copy() for t in (x, w, b) if t is not None]
        loss.backward()  # retained: a second pass accumulates
        second = [t.grad.numpy().copy() for t in (x, w, b) if t is not None]
        gx, = lib.autograd.grad((F.relu(F.linear(x, w, b)) ** 2).sum(), x, create_graph=True)
        gx.sum().backward()
        got.append(first + second + [gx.detach().numpy(), w.grad.numpy(), y.detach().numpy()])
    for e, t in zip(*got):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_recorded_linear_relu_ce_keep_autograd_errors():
    F = ember.nn.functional
    x = ember.randn(4, 3, requires_grad=True)
    w = ember.randn(5, 3, requires_grad=True)
    loss = F.cross_entropy(F.relu(F.linear(x, w)), ember.tensor([0, 4, 1, 2]))
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    y = F.linear(x, w)
    with ember.no_grad():
        w.mul_(2)  # a saved input modified in place
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    r = F.relu(x * 1.0)
    with ember.no_grad():
        r.add_(1)  # relu's saved output modified in place
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        r.sum().backward()
    assert F.linear(x.detach(), w.detach()).grad_fn is None  # nothing requires grad: no node
    assert F.relu(x.detach()).grad_fn is None


def test_recording_fast_paths_stay_visible_to_the_profiler():
    from ember.profiler import profile, ProfilerActivity
    F = ember.nn.functional
    x = ember.randn(4, 3, requires_grad=True)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        F.cross_entropy(F.relu(F.linear(x, ember.randn(5, 3))), ember.tensor([0, 4, 1, 2])).backward()
    names = {e.key for e in prof.key_averages()}
    assert {"ember::Linear", "ember::Relu", "ember::_IndexCrossEntropy"} <= names
