"""Generic op tests, driven by the op table: ember against torch, forward and backward, every dtype,
non-contiguous inputs, and float64 finite-difference checks of first and second derivatives."""
import numpy as np
import pytest

from oracle import check_op, gradcheck_op, needs_torch, torch
from optable import all_ops

OPS = all_ops()
_RNG_SEED = 1234


def _cases():
    for op in OPS:
        for dt in op.dtypes:
            yield pytest.param(op, dt, id=f"{op.name}-{dt}")


def _cast(sample, dt):
    import ml_dtypes
    target = ml_dtypes.bfloat16 if dt == "bfloat16" else np.dtype(dt)
    sample = tuple(np.asarray(a) if isinstance(a, np.generic) else a for a in sample)
    return tuple(a.astype(target) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in sample)


@needs_torch
@pytest.mark.parametrize("op,dt", list(_cases()))
def test_matches_torch(op, dt):
    rng = np.random.default_rng(_RNG_SEED)
    for sample in op.samples(rng):
        check_op(op.fn, *_cast(sample, dt), grad=op.grad, atol=op.atol, rtol=op.rtol, grad_atol=op.grad_atol)


@needs_torch
@pytest.mark.parametrize("op", [o for o in OPS if o.noncontiguous], ids=lambda o: o.name)
def test_noncontiguous_inputs(op):
    """The same op on strided views (every other element of a bigger array) gives torch's result."""
    import ember
    from oracle import assert_same, to_torch
    rng = np.random.default_rng(_RNG_SEED)
    for sample in op.samples(rng):
        sample = _cast(sample, "float32")
        e_in, t_in = [], []
        for a in sample:
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.ndim:
                wide = np.repeat(a[..., None], 2, axis=-1)
                e_in.append(ember.from_numpy(wide[..., 0]))
                t_in.append(to_torch(a))
            else:
                e_in.append(ember.tensor(a) if isinstance(a, np.ndarray) else a)
                t_in.append(to_torch(a) if isinstance(a, np.ndarray) else a)
        assert_same(op.fn(ember, *e_in), op.fn(torch, *t_in))


@pytest.mark.parametrize("op", [o for o in OPS if o.grad and o.gradcheck], ids=lambda o: o.name)
def test_gradcheck(op):
    rng = np.random.default_rng(_RNG_SEED)
    sample = _cast(op.samples(rng)[0], "float64")
    if not any(isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.size for a in sample):
        sample = _cast(op.samples(rng)[-1], "float64")
    gradcheck_op(op.fn, *sample, atol=op.gradcheck_atol, second_order=op.gradgrad)


def _second_order(lib, fn, inputs, seed=7):
    """d/dx <grad_x <f(x), u>, v>: a Hessian-vector-style product through create_graph."""
    out = fn(lib, *inputs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.requires_grad]
    xs = [x for x in inputs if isinstance(x, lib.Tensor) and x.requires_grad]
    rng = np.random.default_rng(seed)
    us = [lib.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype) for o in outs]
    grads = lib.autograd.grad(outs, xs, us, create_graph=True, allow_unused=True)
    total = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)), dtype=g.dtype)).sum()
                for g in grads if g is not None and g.requires_grad)
    if not isinstance(total, lib.Tensor):
        return None
    return lib.autograd.grad(total, xs, allow_unused=True)


@needs_torch
@pytest.mark.parametrize("op", [o for o in OPS if o.grad and o.gradcheck and o.gradgrad], ids=lambda o: o.name)
def test_second_derivatives_match_torch(op):
    import ember
    from oracle import assert_same, to_ember, to_torch
    rng = np.random.default_rng(_RNG_SEED)
    sample = _cast(op.samples(rng)[0], "float64")
    floats = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in sample]
    e_in = [to_ember(a, True) if f else (to_ember(a) if isinstance(a, np.ndarray) else a) for a, f in zip(sample, floats)]
    t_in = [to_torch(a, True) if f else (to_torch(a) if isinstance(a, np.ndarray) else a) for a, f in zip(sample, floats)]
    try:
        t_res = _second_order(torch, op.fn, t_in)
    except NotImplementedError:
        pytest.skip("torch has no double backward for this op (gradgradcheck covers ember's)")
    e_res = _second_order(ember, op.fn, e_in)
    if t_res is None:
        return
    for i, (e, t) in enumerate(zip(e_res, t_res)):
        if t is not None and t._is_zerotensor():
            t = torch.zeros(t.shape, dtype=t.dtype)
        if t is None:
            assert e is None or not np.any(e.detach().numpy()), f"second derivative {i}: torch none, ember non-zero"
        else:
            assert e is not None, f"second derivative {i}: ember returned None"
            assert_same(e, t, 1e-7, 1e-6, f"second derivative wrt input {i}")
