"""Differential testing against PyTorch: one function runs on both libraries, everything is compared.

``fn(lib, *tensors)`` is called with ``lib`` = ember and then torch, on the same input values. Values,
shapes, dtypes and the gradients of every floating input are compared.
"""
import numpy as np
import pytest

import ember

try:
    import torch
except ImportError:  # the oracle tests skip cleanly without torch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the test oracle) is not installed")

FLOAT_TOL = {"float64": (1e-10, 1e-7), "float32": (1e-5, 1e-4), "float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2),
             "complex64": (1e-5, 1e-4), "complex128": (1e-10, 1e-7)}


def to_ember(a, requires_grad=False):
    t = ember.tensor(a) if not isinstance(a, np.ndarray) else ember.from_numpy(a.copy())
    if requires_grad:
        t.requires_grad_(True)
    return t


def to_torch(a, requires_grad=False):
    if isinstance(a, np.ndarray):
        t = torch.from_numpy(a.copy()) if a.dtype.name != "bfloat16" else \
            torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    else:
        t = torch.tensor(a)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_numpy(x):
    """NumPy view of an ember or torch tensor, or of a nested structure's leaves."""
    if torch is not None and isinstance(x, torch.Tensor):
        x = x.detach().resolve_conj().resolve_neg()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy()
    if isinstance(x, ember.Tensor):
        x = x.detach()
        return x._data.astype(np.float32) if x.dtype is ember.bfloat16 else x._data
    return np.asarray(x)


def dtype_name(x):
    if torch is not None and isinstance(x, torch.Tensor):
        return str(x.dtype).replace("torch.", "")
    if isinstance(x, ember.Tensor):
        return x.dtype.name
    return type(x).__name__


def assert_same(e, t, atol=None, rtol=None, what="output", check_dtype=True):
    """Assert an ember result equals torch's: structure, shape, dtype and values."""
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)), f"{what}: torch returned a sequence, ember {type(e).__name__}"
        assert len(e) == len(t), f"{what}: length {len(e)} != {len(t)}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, atol, rtol, f"{what}[{i}]", check_dtype)
        return
    if torch is not None and isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected a Tensor, got {type(e).__name__}"
        assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
        if check_dtype:
            assert dtype_name(e) == dtype_name(t), f"{what}: dtype {dtype_name(e)} != torch {dtype_name(t)}"
        a, b = as_numpy(e), as_numpy(t)
        default_atol, default_rtol = FLOAT_TOL.get(dtype_name(t), (0, 0))
        atol = default_atol if atol is None else atol
        rtol = default_rtol if rtol is None else rtol
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(a, b, err_msg=what)
        return
    if isinstance(t, float):
        assert np.isclose(e, t, atol=atol or 1e-6, rtol=rtol or 1e-5, equal_nan=True), f"{what}: {e} != {t}"
        return
    assert e == t, f"{what}: {e!r} != {t!r}"


def _is_float(a):
    return isinstance(a, np.ndarray) and (a.dtype.kind in "fc" or a.dtype.name == "bfloat16")


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _leaves(o)]
    return [out]


def check_op(fn, *inputs, grad=True, atol=None, rtol=None, grad_atol=None, grad_rtol=None, seed=0):
    """Run ``fn`` on ember and torch with the same inputs; compare outputs and input gradients."""
    e_in = [to_ember(a, grad and _is_float(a)) if isinstance(a, np.ndarray) else a for a in inputs]
    t_in = [to_torch(a, grad and _is_float(a)) if isinstance(a, np.ndarray) else a for a in inputs]
    t_out = fn(torch, *t_in)
    e_out = fn(ember, *e_in)
    assert_same(e_out, t_out, atol, rtol)
    if not grad:
        return
    t_leaves = [o for o in _leaves(t_out) if isinstance(o, torch.Tensor) and o.requires_grad]
    e_leaves = [o for o in _leaves(e_out) if isinstance(o, ember.Tensor) and o.requires_grad]
    assert len(t_leaves) == len(e_leaves), "different outputs require grad"
    if not t_leaves:
        return
    rng = np.random.default_rng(seed)
    t_gs, e_gs = [], []
    for o in t_leaves:
        g = rng.standard_normal(tuple(o.shape)).astype(np.float64)
        t_gs.append(torch.from_numpy(g).to(o.dtype))
        e_gs.append(ember.from_numpy(g).to(ember.tensor(np.zeros((), dtype=as_numpy(o).dtype)).dtype
                                             if o.dtype != torch.bfloat16 else ember.bfloat16))
    t_wrt = [x for x in t_in if isinstance(x, torch.Tensor) and x.requires_grad]
    e_wrt = [x for x in e_in if isinstance(x, ember.Tensor) and x.requires_grad]
    t_grads = torch.autograd.grad(t_leaves, t_wrt, t_gs, allow_unused=True)
    e_grads = ember.autograd.grad(e_leaves, e_wrt, e_gs, allow_unused=True)
    for i, (eg, tg) in enumerate(zip(e_grads, t_grads)):
        if tg is None:
            assert eg is None or not np.any(as_numpy(eg)), f"grad of input {i}: torch has none, ember non-zero"
            continue
        assert eg is not None, f"grad of input {i}: ember returned None"
        assert_same(eg, tg, grad_atol if grad_atol is not None else atol, grad_rtol if grad_rtol is not None else rtol,
                    f"grad of input {i}")


def check_error(fn, *inputs, match=None):
    """Both libraries raise the same exception type (and, with ``match``, ember's message matches)."""
    t_in = [to_torch(a) if isinstance(a, np.ndarray) else a for a in inputs]
    e_in = [to_ember(a) if isinstance(a, np.ndarray) else a for a in inputs]
    with pytest.raises(Exception) as t_err:
        fn(torch, *t_in)
    with pytest.raises(type(t_err.value), match=match) as e_err:
        fn(ember, *e_in)
    return e_err.value, t_err.value


def gradcheck_op(fn, *inputs, atol=1e-5, rtol=1e-3, second_order=True):
    """Finite-difference check of ember's gradients (and second derivatives) in float64."""
    e_in = [to_ember(a.astype(np.float64), True) if _is_float(a) else
            (to_ember(a) if isinstance(a, np.ndarray) else a) for a in inputs]

    def f(*xs):
        out = fn(ember, *xs)
        return tuple(o for o in _leaves(out) if isinstance(o, ember.Tensor) and o.requires_grad)

    assert ember.autograd.gradcheck(f, e_in, atol=atol, rtol=rtol)
    if second_order:
        assert ember.autograd.gradgradcheck(f, e_in, atol=atol, rtol=rtol)
