"""Optimizers against torch.optim: same initial parameters and gradient rule, same trajectory."""
import copy

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch

SHAPES = [(4, 3), (3,)]

CONFIGS = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, nesterov=True),
            dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.1),
            dict(lr=0.1, maximize=True, weight_decay=0.1)],
    "Adam": [dict(lr=0.1), dict(lr=0.1, amsgrad=True), dict(lr=0.1, weight_decay=0.1), dict(lr=0.1, maximize=True),
             dict(lr=0.1, betas=(0.3, 0.5)), dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)],
    "AdamW": [dict(lr=0.1), dict(lr=0.1, amsgrad=True, weight_decay=0.5)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, centered=True), dict(lr=0.01, momentum=0.9),
                dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, alpha=0.3), dict(lr=0.01, maximize=True)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5),
                dict(lr=0.1, maximize=True)],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.5, weight_decay=0.1), dict(maximize=True)],
    "Adamax": [dict(lr=0.1), dict(lr=0.1, weight_decay=0.1, betas=(0.6, 0.9)), dict(lr=0.1, maximize=True)],
    "NAdam": [dict(lr=0.1), dict(lr=0.1, weight_decay=0.1), dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.1, momentum_decay=0.05, maximize=True)],
    "RAdam": [dict(lr=0.1), dict(lr=0.1, weight_decay=0.1), dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.1, betas=(0.9, 0.5))],
    "ASGD": [dict(lr=0.1), dict(lr=0.1, t0=3, lambd=1e-2, alpha=0.5, weight_decay=0.1), dict(lr=0.1, maximize=True)],
    "Rprop": [dict(), dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)), dict(maximize=True)],
    "Adafactor": [dict(), dict(lr=0.05, beta2_decay=-0.5, eps=(1e-4, 1e-2), d=1.5, weight_decay=0.1),
                  dict(maximize=True)],
}
CASES = [(name, cfg) for name, cfgs in CONFIGS.items() for cfg in cfgs]
TOL = {"float64": dict(rtol=1e-9, atol=1e-11), "float32": dict(rtol=2e-4, atol=2e-5)}


def _initial(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _grad_rule(arrays, k):
    # A gradient that depends on the current parameters (so diverging trajectories show) plus noise.
    rng = np.random.default_rng(100 + k)
    return [np.sin(3 * a) + 0.5 * a + rng.standard_normal(a.shape).astype(a.dtype) for a in arrays]


def _pair(name, cfg, dtype, seed=0):
    init = _initial(dtype, seed)
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in init]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    return ep, getattr(ember.optim, name)(ep, **cfg), tp, getattr(torch.optim, name)(tp, **cfg)


def _set_grads(ep, tp, k):
    grads = _grad_rule([t.detach().numpy() for t in tp], k)
    for e, t, g in zip(ep, tp, grads):
        e.grad = ember.tensor(g.copy())
        t.grad = torch.tensor(g.copy())


def _run(ep, eo, tp, to, steps, dtype, start=0, tol=None):
    for k in range(start, start + steps):
        _set_grads(ep, tp, k)
        eo.step()
        to.step()
        for e, t in zip(ep, tp):
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), err_msg=f"step {k}",
                                       **(tol or TOL[dtype]))


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,cfg", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, cfg, dtype):
    ep, eo, tp, to = _pair(name, cfg, dtype)
    _run(ep, eo, tp, to, 8, dtype)
    # same state layout and contents as torch
    es, ts = eo.state_dict(), to.state_dict()
    assert es["param_groups"] == ts["param_groups"]
    assert set(es["state"]) == set(ts["state"])
    for i in ts["state"]:
        assert list(es["state"][i]) == list(ts["state"][i])
        for key, tv in ts["state"][i].items():
            ev = es["state"][i][key]
            assert ev.dtype.name == str(tv.dtype).replace("torch.", ""), key
            np.testing.assert_allclose(ev.numpy(), tv.numpy(), err_msg=key, **TOL[dtype])


@needs_torch
@pytest.mark.parametrize("name", list(CONFIGS))
def test_long_trajectory(name):
    # 100 steps with each optimizer's richest option set (its second config)
    cfg = dict(CONFIGS[name][1])
    if "lr" in cfg:
        cfg["lr"] = cfg["lr"] / 5
    ep, eo, tp, to = _pair(name, cfg, "float64")
    _run(ep, eo, tp, to, 100, "float64", tol=dict(rtol=1e-8, atol=1e-10))


@needs_torch
@pytest.mark.parametrize("name", ["Adam", "SGD", "RMSprop", "Adagrad"])
def test_complex_params(name):
    rng = np.random.default_rng(1)
    init = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    ep, tp = ember.tensor(init.copy(), requires_grad=True), torch.tensor(init.copy(), requires_grad=True)
    cfg = dict(lr=0.1, momentum=0.5) if name in ("SGD", "RMSprop") else dict(lr=0.1)
    eo, to = getattr(ember.optim, name)([ep], **cfg), getattr(torch.optim, name)([tp], **cfg)
    for k in range(5):
        g = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
        ep.grad, tp.grad = ember.tensor(g), torch.tensor(g)
        eo.step()
        to.step()
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-9, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("cfg", [dict(lr=0.02), dict(lr=0.02, nesterov=False, weight_decay=0.0, momentum=0.5,
                                                     adjust_lr_fn="match_rms_adamw")])
def test_muon(cfg):
    # Muon orthogonalises in bfloat16: compare to bfloat16 accuracy
    rng = np.random.default_rng(3)
    init = [rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((3, 5)).astype(np.float32)]
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in init]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    eo, to = ember.optim.Muon(ep, **cfg), torch.optim.Muon(tp, **cfg)
    for k in range(5):
        _set_grads(ep, tp, k)
        eo.step()
        to.step()
        for e, t in zip(ep, tp):
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=2e-2, atol=2e-3)
    assert eo.state_dict()["param_groups"] == to.state_dict()["param_groups"]
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        ember.optim.Muon([ember.zeros(3, requires_grad=True)])


@needs_torch
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_rosenbrock(line_search_fn):
    start = np.array([-1.5, 2.0])
    results = []
    for lib in (ember, torch):
        x = lib.tensor(start.copy(), requires_grad=True)
        opt = lib.optim.LBFGS([x], lr=1, max_iter=10, history_size=5, line_search_fn=line_search_fn)

        def closure():
            opt.zero_grad()
            loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            loss.backward()
            return loss
        trace = []
        for _ in range(4):
            loss = opt.step(closure)
            state = opt.state[x]
            trace.append((float(loss.detach()), x.detach().numpy().copy(), state["func_evals"], state["n_iter"]))
        results.append(trace)
    for (el, ex, ef, en), (tl, tx, tf, tn) in zip(*results):
        np.testing.assert_allclose(el, tl, rtol=1e-6)
        np.testing.assert_allclose(ex, tx, rtol=1e-6, atol=1e-9)
        assert (ef, en) == (tf, tn)


def _to_ember_state(obj):
    """A torch state_dict with its tensors turned into ember tensors (what ember.load produces)."""
    if isinstance(obj, torch.Tensor):
        return ember.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_ember_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_ember_state(v) for v in obj)
    return obj


@needs_torch
@pytest.mark.parametrize("name,cfg", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1, amsgrad=True)),
                                      ("NAdam", dict(lr=0.1)), ("ASGD", dict(lr=0.1, t0=2)), ("Rprop", dict()),
                                      ("Adagrad", dict(lr=0.1)), ("RMSprop", dict(centered=True, momentum=0.9))])
def test_resume_from_state_dict(name, cfg):
    # ember -> ember: a fresh optimizer loaded from a state_dict continues the uninterrupted run exactly
    ep, eo, tp, to = _pair(name, cfg, "float64")
    _run(ep, eo, tp, to, 3, "float64")
    saved = copy.deepcopy(eo.state_dict())
    ep2 = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ep]
    eo2 = getattr(ember.optim, name)(ep2, **cfg)
    eo2.load_state_dict(saved)
    # Like torch, loading casts float32 scalar state other than 'step' (NAdam's mu_product, ASGD's eta)
    # to the parameters' float64, so those two resume to float32 rounding only.
    tol = dict(rtol=1e-6, atol=1e-9) if name in ("NAdam", "ASGD") else None
    _run(ep2, eo2, tp, to, 3, "float64", start=3, tol=tol)
    # torch -> ember: a torch optimizer's state_dict resumes in ember
    ep3 = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tp]
    eo3 = getattr(ember.optim, name)(ep3, **cfg)
    eo3.load_state_dict(_to_ember_state(to.state_dict()))
    _run(ep3, eo3, tp, to, 3, "float64", start=6, tol=tol)


@needs_torch
def test_load_state_dict_casts_state_to_param_dtype():
    ep, eo, tp, to = _pair("Adam", dict(lr=0.1), "float32")
    _run(ep, eo, tp, to, 2, "float32")
    sd = _to_ember_state(to.state_dict())
    sd["state"][0]["exp_avg"] = sd["state"][0]["exp_avg"].double()
    sd["state"][0]["step"] = 2  # old checkpoints kept the step as a number
    eo.load_state_dict(sd)
    assert eo.state[ep[0]]["exp_avg"].dtype is ember.float32
    assert eo.state[ep[0]]["step"].dtype is ember.float32
    _run(ep, eo, tp, to, 2, "float32", start=2)


@needs_torch
def test_param_groups_and_errors():
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)
    ta, tb = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    eo = ember.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    to = torch.optim.SGD([{"params": [ta]}, {"params": tb, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert eo.state_dict()["param_groups"] == to.state_dict()["param_groups"]
    assert repr(eo) == repr(to)
    for p, tp in ((a, ta), (b, tb)):
        p.grad, tp.grad = ember.ones(p.shape), torch.ones(tp.shape)
    eo.step()
    to.step()
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy())
    c, tc = ember.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    eo.add_param_group({"params": [c], "momentum": 0.1})
    to.add_param_group({"params": [tc], "momentum": 0.1})
    assert eo.state_dict()["param_groups"] == to.state_dict()["param_groups"]

    def both_raise(fn):
        with pytest.raises(Exception) as te:
            fn(torch, ta)
        with pytest.raises(type(te.value), match=None) as ee:
            fn(ember, a)
        assert str(ee.value) == str(te.value)
    both_raise(lambda lib, p: lib.optim.SGD([], lr=0.1))
    both_raise(lambda lib, p: lib.optim.SGD(p, lr=0.1))
    both_raise(lambda lib, p: lib.optim.SGD([p], lr=-1))
    both_raise(lambda lib, p: lib.optim.SGD([p], lr=0.1, nesterov=True))
    both_raise(lambda lib, p: lib.optim.Adam([p], betas=(1.0, 0.9)))
    both_raise(lambda lib, p: lib.optim.Adam([p], eps=-1))
    both_raise(lambda lib, p: lib.optim.Rprop([p], etas=(1.5, 1.2)))
    both_raise(lambda lib, p: lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
               .add_param_group({"params": {p}}))
    both_raise(lambda lib, p: lib.optim.SGD([p * 2], lr=0.1))
    both_raise(lambda lib, p: lib.optim.SGD([p], lr=0.1).add_param_group({"params": [p]}))
    both_raise(lambda lib, p: lib.optim.LBFGS([{"params": [p]}, {"params": [p * 1]}]))


def test_zero_grad_and_hooks():
    w = ember.ones(3, requires_grad=True)
    opt = ember.optim.SGD([w], lr=0.5)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    glob = ember.optim.register_optimizer_step_pre_hook(lambda o, args, kwargs: calls.append("global"))
    (w * w).sum().backward()
    opt.step()
    assert calls == ["global", "pre", "post"]
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0, 0.0])
    pre.remove()
    glob.remove()
    opt.step()
    assert calls == ["global", "pre", "post", "post"]
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0, 0, 0])
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # parameters without gradients are skipped
    np.testing.assert_allclose(w.detach().numpy(), [-1.0, -1.0, -1.0])


def test_closure_runs_with_grad_enabled():
    w = ember.tensor([1.0, -2.0], requires_grad=True)
    opt = ember.optim.Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss
    with ember.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    assert w.grad is not None


def _signature(fn):
    import inspect
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@needs_torch
def test_signatures_match_torch():
    names = list(CONFIGS) + ["LBFGS", "Muon"]
    for name in names:
        assert _signature(getattr(ember.optim, name).__init__) == _signature(getattr(torch.optim, name).__init__), name
    for name in torch.optim.lr_scheduler.__all__:
        assert _signature(getattr(ember.optim.lr_scheduler, name).__init__) == \
            _signature(getattr(torch.optim.lr_scheduler, name).__init__), name


@needs_torch
@pytest.mark.parametrize("name,cfg", [("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1)), ("AdamW", dict(lr=0.1)),
                                      ("Adam", dict(lr=0.1, maximize=True)),
                                      ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.1)),
                                      ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
                                      ("SGD", dict(lr=0.1)), ("RMSprop", dict(centered=True, momentum=0.5)),
                                      ("RMSprop", dict(weight_decay=0.1, maximize=True)),
                                      ("Adagrad", dict(lr=0.1, weight_decay=0.1, lr_decay=0.01))])
def test_blocked_updates_match_torch(name, cfg, monkeypatch):
    # large parameters are updated in cache-sized blocks: shrink the block so the 12-element test parameter
    # uses it (at odd steps its gradient is non-contiguous, which takes the whole-array path)
    monkeypatch.setattr(ember.optim.optimizer, "_BLOCK", 5)
    ep, eo, tp, to = _pair(name, cfg, "float64")
    for k in range(4):
        _set_grads(ep, tp, k)
        if k % 2:  # same values, transposed layout
            ep[0].grad = ember.tensor(ep[0].grad.numpy().T.copy()).t()
            assert not ep[0].grad._data.flags.c_contiguous
        eo.step()
        to.step()
        for e, t in zip(ep, tp):
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **TOL["float64"])
