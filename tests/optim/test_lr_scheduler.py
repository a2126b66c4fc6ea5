"""Learning-rate schedulers against torch.optim.lr_scheduler: lr sequences, momentum, state_dict."""
import math
import warnings

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch

STEPS = 30


def _optimizer(lib, name="SGD", groups=2):
    params = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
    group_list = [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)]
    if name == "SGD":
        return lib.optim.SGD(group_list, lr=0.1, momentum=0.9)
    return lib.optim.Adam(group_list, lr=0.1)


# (name, factory(lib, optimizer) -> scheduler, optimizer kind)
SCHEDULERS = [
    ("LambdaLR", lambda L, o: L.optim.lr_scheduler.LambdaLR(o, lambda e: 0.95 ** e), "SGD"),
    ("LambdaLR-list", lambda L, o: L.optim.lr_scheduler.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
     "SGD"),
    ("MultiplicativeLR", lambda L, o: L.optim.lr_scheduler.MultiplicativeLR(o, lambda e: 0.9), "SGD"),
    ("StepLR", lambda L, o: L.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), "SGD"),
    ("MultiStepLR", lambda L, o: L.optim.lr_scheduler.MultiStepLR(o, milestones=[3, 10, 10, 20], gamma=0.3), "SGD"),
    ("ConstantLR", lambda L, o: L.optim.lr_scheduler.ConstantLR(o, factor=0.25, total_iters=6), "SGD"),
    ("LinearLR", lambda L, o: L.optim.lr_scheduler.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=12),
     "SGD"),
    ("ExponentialLR", lambda L, o: L.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), "SGD"),
    ("PolynomialLR", lambda L, o: L.optim.lr_scheduler.PolynomialLR(o, total_iters=20, power=2.0), "SGD"),
    ("CosineAnnealingLR", lambda L, o: L.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.01), "SGD"),
    ("WarmRestarts", lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=1e-3),
     "SGD"),
    ("CyclicLR", lambda L, o: L.optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                            step_size_down=3), "SGD"),
    ("CyclicLR-tri2", lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=3,
                                                                 mode="triangular2"), "Adam"),
    ("CyclicLR-exp", lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range",
                                                                gamma=0.95, cycle_momentum=False), "SGD"),
    ("OneCycleLR", lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=STEPS + 1), "SGD"),
    ("OneCycleLR-3phase", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, max_lr=[0.5, 1.0], epochs=4, steps_per_epoch=8, anneal_strategy="linear", three_phase=True), "Adam"),
    ("SequentialLR", lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
            L.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
            L.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6)], milestones=[5, 15]), "SGD"),
    ("ChainedScheduler", lambda L, o: L.optim.lr_scheduler.ChainedScheduler(
        [L.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4),
         L.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
         L.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.5)]), "SGD"),
]


def _momentum(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def _trace(lib, factory, kind, steps=STEPS):
    opt = _optimizer(lib, kind)
    sched = factory(lib, opt)
    lrs, moms, last = [], [], []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append([_momentum(g) for g in opt.param_groups])
        last.append(list(sched.get_last_lr()))
    return lrs, moms, last, sched


@needs_torch
@pytest.mark.parametrize("name,factory,kind", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_lr_sequence_matches_torch(name, factory, kind):
    e_lrs, e_moms, e_last, e_sched = _trace(ember, factory, kind)
    t_lrs, t_moms, t_last, t_sched = _trace(torch, factory, kind)
    np.testing.assert_allclose(e_lrs, t_lrs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(e_moms, t_moms, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(e_last, t_last, rtol=1e-12, atol=1e-15)
    # the state_dict has the same keys (it is the instance __dict__ in both libraries)
    assert sorted(e_sched.state_dict()) == sorted(t_sched.state_dict())


@needs_torch
@pytest.mark.parametrize("mode,threshold_mode,cooldown,min_lr", [("min", "rel", 0, 0), ("max", "abs", 2, 0.02),
                                                                 ("min", "abs", 1, [0.0, 0.05])])
def test_reduce_lr_on_plateau(mode, threshold_mode, cooldown, min_lr):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 5), 0.5 + 0.01 * rng.standard_normal(25)])
    if mode == "max":
        metrics = -metrics
    traces, keys = [], []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=2, threshold=0.01,
                                                         threshold_mode=threshold_mode, cooldown=cooldown,
                                                         min_lr=min_lr)
        trace = []
        for m in metrics:
            sched.step(float(m))
            trace.append([g["lr"] for g in opt.param_groups] + sched.get_last_lr() + [sched.num_bad_epochs])
        traces.append(trace)
        keys.append(sorted(sched.state_dict()))
    np.testing.assert_allclose(traces[0], traces[1], rtol=1e-12)
    assert keys[0] == keys[1]


@needs_torch
@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR",
                                  "CosineAnnealingLR", "WarmRestarts"])
def test_explicit_epoch_uses_closed_form(name):
    factory, kind = next((f, k) for n, f, k in SCHEDULERS if n == name)
    epochs = [1, 2, 5, 3, 11, 17, 4]
    results = []
    for lib in (ember, torch):
        opt = _optimizer(lib, kind)
        sched = factory(lib, opt)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in epochs:
                opt.step()
                sched.step(e)
                seq.append([g["lr"] for g in opt.param_groups])
        results.append(seq)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-15)


@needs_torch
@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "CyclicLR", "OneCycleLR", "SequentialLR",
                                  "ChainedScheduler", "LambdaLR"])
def test_resume_from_state_dict(name):
    factory, kind = next((f, k) for n, f, k in SCHEDULERS if n == name)
    full, _, _, _ = _trace(ember, factory, kind, steps=20)
    opt = _optimizer(ember, kind)
    sched = factory(ember, opt)
    for _ in range(8):
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    opt2 = _optimizer(ember, kind)
    sched2 = factory(ember, opt2)
    sched2.load_state_dict(sched_state)
    opt2.load_state_dict(opt_state)
    resumed = []
    for _ in range(12):
        opt2.step()
        sched2.step()
        resumed.append([g["lr"] for g in opt2.param_groups])
    np.testing.assert_allclose(resumed, full[8:], rtol=1e-12)


@needs_torch
def test_warnings_and_errors_match_torch():
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2)
        with pytest.warns(UserWarning, match="before `optimizer.step"):
            sched.step()
        with pytest.warns(UserWarning, match="get_last_lr"):
            sched.get_lr()
        with pytest.raises(TypeError, match="is not an Optimizer"):
            lib.optim.lr_scheduler.StepLR(object(), step_size=2)
        with pytest.raises(KeyError, match="initial_lr"):
            lib.optim.lr_scheduler.StepLR(_optimizer(lib), step_size=2, last_epoch=3)
        with pytest.raises(ValueError, match="Factor should be < 1.0."):
            lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=2.0)
        with pytest.raises(ValueError, match="one more than the number of milestone"):
            lib.optim.lr_scheduler.SequentialLR(opt, [sched], milestones=[3])
        with pytest.raises(ValueError, match="Tried to step 3 times"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # stepping without optimizer.step() warns; not the point here
            one = lib.optim.lr_scheduler.OneCycleLR(_optimizer(lib), max_lr=1.0, total_steps=2)
            one.step()
            one.step()
            one.step()


def test_scheduler_on_tensor_lr_updates_in_place():
    w = ember.zeros(2, requires_grad=True)
    lr = ember.tensor(0.5)
    opt = ember.optim.SGD([w], lr=lr)
    sched = ember.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr
    assert math.isclose(float(lr), 0.25)
