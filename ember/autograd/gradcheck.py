"""gradcheck / gradgradcheck: analytical gradients against central finite differences."""
import numpy as np

from .._device import array_module, to_host


class GradcheckError(RuntimeError):
    pass


def _tensors(inputs):
    from .._tensor import Tensor
    return [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]


def _flat_outputs(fn, inputs):
    from .._tensor import Tensor
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor)]


# Complex tensors are checked in real coordinates: a complex input of n elements is 2n real inputs (real
# parts, then imaginary parts), a complex output of m elements 2m real outputs. With torch's convention a
# backward pass maps (dL/du + i dL/dv) for the output to (dL/dx + i dL/dy) for the input, so the grad
# output e_k gives the row of d u_k and i e_k the row of d v_k; real and imaginary parts of the result
# are the x and y columns.
def _real_coords(a):
    a = to_host(a).reshape(-1)  # the Jacobians are compared on the host
    return np.concatenate([a.real, a.imag]) if a.dtype.kind == "c" else a


def _real_dtype(dt):
    return np.zeros((), dt).real.dtype


def _n_coords(t):
    return t._data.size * (2 if t._data.dtype.kind == "c" else 1)


def _numerical(fn, inputs, targets, eps):
    """Jacobian columns by central differences: J[i][j] = d out_i / d target_j in real coordinates."""
    jac = []
    # grad stays enabled: gradgradcheck differentiates a function that itself calls grad()
    base = _flat_outputs(fn, inputs)
    for t in targets:
        flat = t._data.reshape(-1)
        steps = (1, 1j) if flat.dtype.kind == "c" else (1,)
        cols = [np.zeros((_n_coords(o), _n_coords(t)), _real_dtype(o._data.dtype)) for o in base]
        for s, step in enumerate(steps):
            for k in range(flat.size):
                orig = flat[k].copy()
                flat[k] = orig + eps * step
                plus = [_real_coords(o._data).copy() for o in _flat_outputs(fn, inputs)]
                flat[k] = orig - eps * step
                minus = [_real_coords(o._data).copy() for o in _flat_outputs(fn, inputs)]
                flat[k] = orig
                for c, p, m in zip(cols, plus, minus):
                    c[:, s * flat.size + k] = (p - m) / (2 * eps)
        jac.append(cols)
    return jac


def _analytical(fn, inputs, targets):
    from . import grad
    from .._tensor import Tensor
    outs = _flat_outputs(fn, inputs)
    jac = [[np.zeros((_n_coords(o), _n_coords(t)), _real_dtype(o._data.dtype)) for o in outs] for t in targets]
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue
        size = o._data.size
        for r in range(_n_coords(o)):
            g = array_module(o._data).zeros(o._data.shape, o._data.dtype)
            g.reshape(-1)[r % size] = 1j if r >= size else 1
            grads = grad([o], targets, [Tensor._wrap(g)], retain_graph=True, allow_unused=True)
            for ti, gt in enumerate(grads):
                if gt is not None:
                    jac[ti][oi][r] = _real_coords(gt._data)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """True when ``func``'s autograd gradients match finite differences (inputs in float64)."""
    from .._tensor import Tensor
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    targets = _tensors(inputs)
    for t in targets:
        if t.dtype.name not in ("float64", "complex128"):
            import warnings
            warnings.warn(f"Input #{inputs.index(t)} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are not of double "
                          "precision floating point or complex. ")
    numerical = _numerical(func, inputs, targets, eps)
    analytical = _analytical(func, inputs, targets)
    for ti, (num_cols, ana_cols) in enumerate(zip(numerical, analytical)):
        for oi, (n, a) in enumerate(zip(num_cols, ana_cols)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                msg = (f"Jacobian mismatch for output {oi} with respect to input {ti},\n"
                       f"numerical:{Tensor._wrap(n)}\nanalytical:{Tensor._wrap(a)}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the gradient: checks that backward is itself differentiable and correct."""
    from .._tensor import Tensor
    from . import grad
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    targets = _tensors(inputs)
    outs = _flat_outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._wrap(rng.standard_normal(o._data.shape)).to(o.device, o.dtype).requires_grad_()
                        for o in outs]
    n_in = len(inputs)

    def first_grads(*args):
        xs, gos = args[:n_in], args[n_in:]
        out = _flat_outputs(func, xs)
        ts = _tensors(xs)
        return grad(out, ts, list(gos), create_graph=True, allow_unused=True)

    return gradcheck(lambda *a: tuple(g for g in first_grads(*a) if g is not None), tuple(inputs) + tuple(grad_outputs),
                     eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
