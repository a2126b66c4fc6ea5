"""Fused optimizer updates (ember._kernels.optim): the compiled path and the NumPy path, each against torch.

Each case runs three copies of the same problem: ember with the compiled layer on, ember inside
``_jit.disabled()``, and torch; parameters and state must agree after every step."""
import numpy as np
import pytest

import ember
from ember import _jit
from ember._kernels import optim as kernels
from oracle import needs_torch, torch

needs_numba = pytest.mark.skipif(not _jit.enabled(), reason="compiled layer off (no numba, or EMBER_JIT=0)")

# Each kernel's options, including both lerp branches (weight 1 - beta1 / 1 - alpha below and above 0.5).
CASES = [
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, maximize=True, betas=(0.3, 0.5), eps=1e-3)),
    ("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.1, amsgrad=True, weight_decay=0.5)),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, alpha=0.3)),
    ("RMSprop", dict(lr=0.01, centered=True, maximize=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5, maximize=True)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]
KERNEL = {"Adam": "adam", "AdamW": "adam", "SGD": "sgd", "RMSprop": "rmsprop", "Adagrad": "adagrad"}
# odd sizes, a 0-d and an empty parameter; the last one gets a non-contiguous gradient (NumPy path)
SHAPES = [(5, 7), (3,), (), (0, 4), (4, 3)]
# torch fuses multiply-adds (lerp, addcmul, add with alpha) and its sqrt is not always correctly rounded:
# float32 results differ in the last bits, more where centered RMSprop subtracts nearly equal numbers
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-4, atol=2e-5)}


def _grads(params, k, nonfinite=False):
    """A gradient rule that depends on the parameters (a wrong update changes later gradients)."""
    rng = np.random.default_rng(100 + k)
    grads = [np.sin(3 * p) + 0.5 * p + rng.standard_normal(p.shape).astype(p.dtype) for p in params]
    if nonfinite and k == 1:
        grads[0][0, 0], grads[0][1, 1] = np.nan, np.inf
    return grads


def _copies(name, cfg, dtype, shapes):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    runs = []
    for lib in (ember, ember, torch):
        params = [lib.tensor(a.copy(), requires_grad=True) for a in init]
        runs.append((lib, params, getattr(lib.optim, name)(params, **cfg)))
    return runs


def _set_grads(lib, params, grads, transposed_last):
    for i, (p, g) in enumerate(zip(params, grads)):
        if transposed_last and i == len(params) - 1:
            p.grad = lib.tensor(np.ascontiguousarray(g.T)).T  # a non-contiguous gradient
        else:
            p.grad = lib.tensor(g.copy())


def _state_arrays(opt, params):
    return [{k: np.asarray(v.detach().numpy() if hasattr(v, "detach") else v) for k, v in opt.state[p].items()}
            for p in params]


def _run_and_compare(name, cfg, dtype, shapes=SHAPES, steps=8, nonfinite=False, transposed_last=True):
    (_, on_params, on_opt), (_, off_params, off_opt), (_, t_params, t_opt) = _copies(name, cfg, dtype, shapes)
    for k in range(steps):
        grads = _grads([p.detach().numpy() for p in t_params], k, nonfinite)
        for lib, params in ((ember, on_params), (ember, off_params), (torch, t_params)):
            _set_grads(lib, params, grads, transposed_last)
        on_opt.step()
        with _jit.disabled():
            off_opt.step()
        t_opt.step()
        for path, params, opt in (("compiled", on_params, on_opt), ("numpy", off_params, off_opt)):
            for i, (e, t) in enumerate(zip(params, t_params)):
                np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), equal_nan=True,
                                           err_msg=f"{path} path, param {i}, step {k}", **TOL[dtype])
            for i, (es, ts) in enumerate(zip(_state_arrays(opt, params), _state_arrays(t_opt, t_params))):
                assert list(es) == list(ts)
                for key in ts:
                    np.testing.assert_allclose(es[key], ts[key], equal_nan=True,
                                               err_msg=f"{path} path, state {key} of param {i}, step {k}",
                                               **TOL[dtype])
    return on_params


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_compiled_and_numpy_paths_match_torch(name, cfg, dtype):
    _run_and_compare(name, cfg, dtype)


@needs_torch
@pytest.mark.parametrize("name,cfg", [CASES[1], CASES[3], CASES[7], CASES[11], CASES[15]],
                         ids=["Adam-amsgrad", "Adam-decoupled", "SGD-nesterov", "RMSprop-centered", "Adagrad"])
def test_nan_and_inf_gradients_propagate_like_torch(name, cfg):
    params = _run_and_compare(name, cfg, "float32", steps=4, nonfinite=True)
    assert np.isnan(params[0].detach().numpy()[0, 0])  # the NaN reached the parameter, as in torch


@needs_torch
@pytest.mark.parametrize("name,cfg", [CASES[1], CASES[8], CASES[11], CASES[15]],
                         ids=["Adam", "SGD", "RMSprop", "Adagrad"])
def test_large_parameters(name, cfg):
    # larger than the NumPy path's cache blocks (optimizer._BLOCK), which the kernels do not use
    _run_and_compare(name, cfg, "float32", shapes=[(300, 451), (7,)], steps=3, transposed_last=False)


@needs_numba
@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_kernel_runs_only_when_enabled(name, cfg, monkeypatch):
    calls = []
    kernel = "sgd_plain" if name == "SGD" and set(cfg) == {"lr"} else KERNEL[name]  # plain SGD: its own kernel
    compiled = getattr(kernels, kernel)
    monkeypatch.setattr(kernels, kernel, lambda *args: calls.append(args[0].dtype) or compiled(*args))
    rng = np.random.default_rng(1)
    p = ember.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    q = ember.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    opt = getattr(ember.optim, name)([p, q], **cfg)
    p.grad = ember.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    q.grad = ember.tensor(rng.standard_normal((3, 4))).T  # non-contiguous: the NumPy path
    with _jit.disabled():
        opt.step()
    assert calls == []
    opt.step()
    assert calls == [np.float32]


@needs_torch
def test_float16_parameters_take_the_numpy_path():
    p = ember.tensor(np.linspace(-1, 1, 6, dtype=np.float16), requires_grad=True)
    t = torch.tensor(np.linspace(-1, 1, 6, dtype=np.float16), requires_grad=True)
    eo, to = ember.optim.Adam([p], lr=0.1), torch.optim.Adam([t], lr=0.1)
    for _ in range(3):
        p.grad, t.grad = ember.ones(6, dtype=ember.float16), torch.ones(6, dtype=torch.float16)
        eo.step()
        to.step()
    np.testing.assert_allclose(p.detach().numpy().astype(np.float32), t.detach().numpy().astype(np.float32),
                               rtol=1e-3, atol=1e-3)


def _fixed_grad_run(name, cfg, steps, n=4096):
    """ember (compiled) and torch on one float32 parameter, gradients that do not depend on it."""
    rng = np.random.default_rng(5)
    init = rng.standard_normal(n).astype(np.float32)
    e, t = ember.tensor(init.copy(), requires_grad=True), torch.tensor(init.copy(), requires_grad=True)
    eo, to = getattr(ember.optim, name)([e], **cfg), getattr(torch.optim, name)([t], **cfg)
    for _ in range(steps):
        g = rng.standard_normal(n).astype(np.float32)
        e.grad, t.grad = ember.tensor(g.copy()), torch.tensor(g.copy())
        eo.step()
        to.step()
    return e, eo.state[e], t, to.state[t]


# torch's vectorized kernels fuse add(alpha=), addcmul and lerp into FMAs and the kernels contract the same
# multiply-adds, so these agree exactly (n is a multiple of the vector width: torch's scalar tail is unused).
@needs_numba
@needs_torch
@pytest.mark.parametrize("cfg", [dict(lr=0.01), dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1),
                                 dict(lr=0.01, momentum=0.5, dampening=0.3, maximize=True)])
def test_sgd_float32_equals_torch_bit_for_bit(cfg):
    e, _, t, _ = _fixed_grad_run("SGD", cfg, 20)
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_sgd_kernel_equals_the_general_kernel_bit_for_bit(dtype):
    rng = np.random.default_rng(7)
    p = (rng.standard_normal(1003) * 10).astype(dtype)
    g = rng.standard_normal(1003).astype(dtype)
    p[:4] = [-0.0, 0.0, np.inf, 1.0]
    g[:6] = [0.0, -0.0, 1.0, np.nan, -np.inf, 3.0]
    general, plain = p.copy(), p.copy()
    kernels.sgd(general, g, g, False, False, 0.0, 0.0, 0.0, False, 0.013)
    kernels.sgd_plain(plain, g, 0.013)
    assert not np.array_equal(plain, p)
    np.testing.assert_array_equal(plain.view(np.uint8), general.view(np.uint8))  # (signed zeros, NaN bits too)


@needs_numba
@needs_torch
@pytest.mark.parametrize("cfg", [dict(lr=0.01), dict(lr=0.01, betas=(0.3, 0.5), amsgrad=True)])
def test_adam_float32_moments_equal_torch_bit_for_bit(cfg):
    # the moments depend on the gradients only; the parameters also pass through torch's sqrt, which is not
    # always correctly rounded, so they agree to rounding
    e, es, t, ts = _fixed_grad_run("Adam", cfg, 20)
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(es[key].numpy(), ts[key].numpy(), err_msg=key)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-7)
