"""torch.func: function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call).

Built on ember's reverse-mode autograd rather than functorch's batching rules: ``grad``/``vjp`` run the
function on fresh leaves and differentiate it, ``jvp`` and ``jacfwd`` use reverse mode too (the values
match forward mode), and ``vmap`` runs the function once per batch element and stacks the results.

Transforms compose: inside a transform (or when an input already requires grad) gradients are built
with ``create_graph=True``, so ``grad(grad(f))``, ``hessian`` and ``vmap(grad(f))`` work and results
stay differentiable with respect to tensors from outside.
"""
import contextlib
import functools

from .. import autograd, random as _random
from .._tensor import Tensor
from ..autograd import grad_mode
from ._pytree import tree_flatten, tree_unflatten, tree_map, broadcast_prefix

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"]

_depth = [0]  # how many differentiating transforms are running the function now


@contextlib.contextmanager
def _transform_level():
    _depth[0] += 1
    try:
        with grad_mode.enable_grad():
            yield
    finally:
        _depth[0] -= 1


def _fresh(x):
    """A tensor standing for ``x`` that the transform differentiates with respect to.

    A view keeps ``x``'s own graph reachable so that the result can be differentiated again.
    """
    if not isinstance(x, Tensor):
        return x
    return x.view_as(x) if x.requires_grad else x.detach().requires_grad_()


def _keeps_graph(inputs):
    return _depth[0] > 0 or any(isinstance(x, Tensor) and x.requires_grad for x in inputs)


def _finish(x, keep):
    return x if keep or not isinstance(x, Tensor) else x.detach()


def _grads(outputs, inputs, cotangents, create_graph):
    """Gradients of ``outputs`` (a list) w.r.t. ``inputs`` (a list), zeros for unused inputs."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not pairs:
        return [x.new_zeros(x.shape) for x in inputs]
    got = autograd.grad([o for o, _ in pairs], inputs, [c for _, c in pairs], create_graph=create_graph,
                        retain_graph=True, allow_unused=True, materialize_grads=True)
    return list(got)


# ---- functional_call

def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with parameters and buffers replaced by the given tensors."""
    from ..nn.utils import stateless
    if isinstance(parameter_and_buffer_dicts, dict):
        merged = parameter_and_buffer_dicts
    else:
        merged = {}
        seen = set()
        repeated = []
        for d in parameter_and_buffer_dicts:
            for k in d:
                if k in seen and k not in repeated:
                    repeated.append(k)
                seen.add(k)
            merged.update(d)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                             "ambiguous")
    return stateless.functional_call(module, merged, args, kwargs, tie_weights=tie_weights, strict=strict)


# ---- grad / grad_and_value / vjp

def _argnums_tuple(argnums, n):
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(a)}")
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
    return tuple(a % n for a in nums)


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}(f)(*args): output of function f should be a tuple: (output, aux) if has_aux "
                           "is True")
    return out


def _fresh_at(args, nums):
    """``args`` with fresh leaves at the positions ``nums``. Call it inside ``_transform_level()``: a
    fresh view must record under enable_grad."""
    args = list(args)
    for i in nums:
        args[i] = tree_map(_fresh, args[i])
    return args


def grad_and_value(func, argnums=0, has_aux=False):
    """``(gradient, value)`` of a scalar-valued ``func`` w.r.t. the positional args in ``argnums``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args))
        keep = _keeps_graph(tree_flatten([args[i] for i in nums])[0])  # read outside the transform level
        with _transform_level():
            args = _fresh_at(args, nums)
            value, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value")
            if not isinstance(value, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(value)}")
            if value.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {value.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                                   "APIs instead?")
            wrt, spec = tree_flatten(tuple(args[i] for i in nums))
            grads = _grads([value], wrt, [None], keep)
        grads = tree_unflatten([_finish(g, keep) for g in grads], spec)
        if not isinstance(argnums, tuple):
            grads = grads[0]
        value = _finish(value, keep)
        if has_aux:
            return grads, (value, tree_map(lambda a: _finish(a, keep), aux))
        return grads, value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar-valued ``func`` w.r.t. the positional args in ``argnums``.

    >>> per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, xs, ys)
    """
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = inner(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn[, aux])``; ``vjp_fn(cotangents)`` gives one gradient per primal."""
    keep = _keeps_graph(tree_flatten(primals)[0])
    with _transform_level():
        fresh = tree_map(_fresh, primals)
        out, aux = _split_aux(func(*fresh), has_aux, "vjp")
    outs, out_spec = tree_flatten(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"vjp(f, *primals): Expected f to be a function that has non-empty output, got "
                               f"{type(o)}" if o is None else
                               f"vjp(f, *primals): Expected f(*primals) to return only tensors, got unsupported "
                               f"type {type(o)}")
    wrt, in_spec = tree_flatten(fresh)

    def vjp_fn(cotangents):
        cots, cot_spec = tree_flatten(cotangents)
        if len(cots) != len(outs):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               "outputs to the function.")
        for o, c in zip(outs, cots):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {c.shape} and output[0] "
                                   f"has a shape of {o.shape}.")
        create = keep or _keeps_graph(cots)
        with grad_mode.enable_grad():
            grads = _grads(outs, wrt, cots, create)
        return tree_unflatten([_finish(g, create) for g in grads], in_spec)

    out = tree_unflatten([_finish(o, keep) for o in outs], out_spec)
    if has_aux:
        return out, vjp_fn, tree_map(lambda a: _finish(a, keep), aux)
    return out, vjp_fn


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)``, the forward-mode product computed by two reverse passes."""
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid "
                           "to call f(*primals).")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if len(flat_p) != len(flat_t) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, tangents also must be. "
                           f"Got primals with structure {p_spec} and tangents with structure {t_spec}")
    keep = _keeps_graph(flat_p + flat_t)
    with _transform_level():
        fresh = [_fresh(x) for x in flat_p]
        out, aux = _split_aux(func(*tree_unflatten(fresh, p_spec)), has_aux, "jvp")
        outs, out_spec = tree_flatten(out)
        # u -> J^T u is linear in u; differentiating <J^T u, t> w.r.t. u gives J t.
        us = [o.detach().new_zeros(o.shape).requires_grad_() for o in outs]
        jtu = _grads(outs, fresh, us, True)
        pairs = [(g, t) for g, t in zip(jtu, flat_t) if g.requires_grad]
        jt = _grads([g for g, _ in pairs], us, [t for _, t in pairs], keep)
    out = tree_unflatten([_finish(o, keep) for o in outs], out_spec)
    jt = tree_unflatten([_finish(j, keep) for j in jt], out_spec)
    if has_aux:
        return out, jt, tree_map(lambda a: _finish(a, keep), aux)
    return out, jt


# ---- Jacobians

def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` w.r.t. the args in ``argnums``: output shape + input shape per pair."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args))
        keep = _keeps_graph(tree_flatten([args[i] for i in nums])[0])  # read outside the transform level
        with _transform_level():
            args = _fresh_at(args, nums)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "jacrev")
            outs, out_spec = tree_flatten(out)
            wrt, in_spec = tree_flatten(tuple(args[i] for i in nums))
            blocks = [[_jacobian_block(o, wrt, keep)[k] for k in range(len(wrt))] for o in outs]
        per_out = [tree_unflatten([_finish(b, keep) for b in row], in_spec) for row in blocks]
        if not isinstance(argnums, tuple):
            per_out = [p[0] for p in per_out]
        jac = tree_unflatten(per_out, out_spec)
        if has_aux:
            return jac, tree_map(lambda a: _finish(a, keep), aux)
        return jac

    return wrapper


def _jacobian_block(out, wrt, keep):
    """d out / d w for each w in ``wrt``, shaped out.shape + w.shape, one reverse pass per output element."""
    from .._ops.shape import stack
    rows = [[] for _ in wrt]
    import numpy as np
    n = out.numel()
    basis = Tensor._wrap(np.eye(n, dtype=out._data.dtype).reshape((n,) + tuple(out.shape)))
    for k in range(out.numel()):
        for r, g in zip(rows, _grads([out], wrt, [basis[k]], keep)):
            r.append(g)
    result = []
    for r, w in zip(rows, wrt):
        if r:
            result.append(stack(r).reshape(tuple(out.shape) + tuple(w.shape)))
        else:
            result.append(w.detach().new_zeros(tuple(out.shape) + tuple(w.shape)))
    return result


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func``; computed in reverse mode here, with the same values as forward mode."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """Second derivatives of a scalar ``func``: ``jacfwd(jacrev(func, argnums), argnums)``."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---- vmap

def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over a batch dimension: run it on each slice and stack the results along ``out_dims``.

    ``randomness``: "error" raises when ``func`` draws random numbers, "same" replays the same draws for
    every element, "different" lets each element draw its own (not torch's batched values).
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
                           f"{randomness}")
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    name = getattr(func, "__name__", repr(func))

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not isinstance(in_dims, (int, tuple)) and in_dims is not None:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                             f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
        flat_args, args_spec = tree_flatten(args)
        dims = broadcast_prefix(in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args), args,
                                lambda: ValueError(
                                    f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible "
                                    f"with the structure of `inputs`. in_dims has structure "
                                    f"{tree_flatten(in_dims)[1]} but inputs has structure {args_spec}."))
        size = _batch_size(name, in_dims, flat_args, dims)
        results = []
        start = _random.get_rng_state()
        for b in range(size):
            sliced = [x.select(d, b) if d is not None else x for x, d in zip(flat_args, dims)]
            if randomness == "same":  # every element draws the numbers the first one drew
                _random.set_rng_state(start)
            results.append(func(*tree_unflatten(sliced, args_spec), **kwargs))
            if randomness == "error" and not _same_state(start, _random.get_rng_state()):
                raise RuntimeError("vmap: called random operation while in randomness error mode. Please either "
                                   "use the 'same' or 'different' randomness flags on vmap or perform the "
                                   "randomness operation out of vmap")
        return _stack_results(name, results, out_dims)

    return wrapper


def _same_state(a, b):
    return a.shape == b.shape and bool((a == b).all())


def _batch_size(name, in_dims, flat_args, dims):
    sizes = []
    for i, (x, d) in enumerate(zip(flat_args, dims)):
        if d is None:
            continue
        if not isinstance(d, int):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims must be int, None or a "
                             f"tuple; got {type(d)}")
        if not isinstance(x, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             f"the input is of type {type(x)}. We cannot vmap over non-Tensor arguments, please "
                             "use None as the respective in_dim")
        if not -x.dim() <= d < max(x.dim(), 1) or x.dim() == 0:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, "
                             f"but that input is a Tensor of dimensionality {x.dim()} so expected in_dim to "
                             f"satisfy -{x.dim()} <= in_dim < {x.dim()}.")
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dims={in_dims} with no "
                         "Tensor inputs to vmap over; at least one input must be mapped.")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    return sizes[0]


def _stack_results(name, results, out_dims):
    from .._ops.shape import stack
    flats = [tree_flatten(r) for r in results]
    spec = flats[0][1]
    n = len(flats[0][0])
    dims = broadcast_prefix(out_dims, results[0], lambda: ValueError(
        f"vmap({name}, ...): out_dims is not compatible with the structure of `outputs`. out_dims has structure "
        f"{tree_flatten(out_dims)[1]} but outputs has structure {spec}."))
    stacked = []
    for k in range(n):
        column = [f[0][k] for f in flats]
        d = dims[k]
        if d is None:
            stacked.append(column[0])
            continue
        if not isinstance(column[0], Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(column[0])}. "
                             "Did you mean to set out_dims= to None for output?")
        stacked.append(stack(column, dim=d))
    return tree_unflatten(stacked, spec)
