"""Helpers for comparing ember modules with torch modules (no conftest needed: import directly).

    from tests.nn.util import copy_weights, check_module
    check_module(lambda nn: nn.Linear(3, 4), x)   # same constructor on both libraries
"""
import numpy as np

import ember
from oracle import torch, assert_same, as_numpy


def copy_weights(torch_module, ember_module, strict=True):
    """Load ``torch_module``'s state_dict into ``ember_module`` (arrays copied); returns ember_module."""
    state = {k: ember.from_numpy(v.detach().cpu().numpy().copy()) for k, v in torch_module.state_dict().items()}
    ember_module.load_state_dict(state, strict=strict)
    return ember_module


def make_pair(build, train=True):
    """``build(nn)`` run against torch.nn and ember.nn, with torch's weights copied into ember's."""
    t_mod = build(torch.nn)
    e_mod = build(ember.nn)
    copy_weights(t_mod, e_mod)
    t_mod.train(train)
    e_mod.train(train)
    return e_mod, t_mod


def _input(a, lib):
    if not isinstance(a, np.ndarray):
        return a
    if lib is torch:
        t = torch.from_numpy(a.copy())
    else:
        t = ember.from_numpy(a.copy())
    if a.dtype.kind == "f":
        t.requires_grad_(True)
    return t


def check_module(build, *inputs, train=True, atol=None, rtol=None, grad=True, seed=0):
    """Forward ``inputs`` (NumPy arrays or other args) through the same architecture in both libraries;
    compare the output, the gradients of every floating input and of every parameter (by name)."""
    e_mod, t_mod = make_pair(build, train)
    e_in = [_input(a, ember) for a in inputs]
    t_in = [_input(a, torch) for a in inputs]
    t_out = t_mod(*t_in)
    e_out = e_mod(*e_in)
    assert_same(e_out, t_out, atol, rtol)
    if not grad:
        return e_mod, t_mod
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    e_outs = e_out if isinstance(e_out, tuple) else (e_out,)
    rng = np.random.default_rng(seed)
    t_loss, e_loss = 0, 0
    for t, e in zip(t_outs, e_outs):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            w = rng.standard_normal(tuple(t.shape))
            t_loss = t_loss + (t * torch.from_numpy(w).to(t.dtype)).sum()
            e_loss = e_loss + (e * ember.from_numpy(w).to(e.dtype)).sum()
    if not isinstance(t_loss, torch.Tensor):
        return e_mod, t_mod
    t_loss.backward()
    e_loss.backward()
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert e.grad is not None, f"input {i}: ember has no grad"
            assert_same(e.grad, t.grad, atol, rtol, what=f"grad of input {i}")
    t_params = dict(t_mod.named_parameters())
    e_params = dict(e_mod.named_parameters())
    assert sorted(e_params) == sorted(t_params)
    for name, tp in t_params.items():
        if tp.grad is None:
            assert e_params[name].grad is None or not np.any(as_numpy(e_params[name].grad)), name
            continue
        assert_same(e_params[name].grad, tp.grad, atol, rtol, what=f"grad of {name}")
    return e_mod, t_mod
