"""torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp (reverse mode)."""


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _grad(outputs, inputs, grad_outputs, create_graph):
    from . import grad
    return grad(outputs, inputs, grad_outputs, create_graph=create_graph, retain_graph=True, allow_unused=True,
                materialize_grads=True)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    from .grad_mode import enable_grad
    single = not isinstance(inputs, (tuple, list))
    xs = tuple(x.detach().requires_grad_() for x in _tuple(inputs))
    with enable_grad():
        out = func(*xs)
        outs = _tuple(out)
        vs = _tuple(v) if v is not None else tuple(None for _ in outs)
        g = _grad(list(outs), list(xs), list(vs), create_graph)
    res = out if create_graph else (tuple(o.detach() for o in outs) if isinstance(out, tuple) else out.detach())
    return res, (g[0] if single else g)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    from .grad_mode import enable_grad
    from .._tensor import Tensor
    from .._device import array_module
    single_in = not isinstance(inputs, (tuple, list))
    xs = tuple(x.detach().requires_grad_() for x in _tuple(inputs))
    with enable_grad():
        out = func(*xs)
        single_out = not isinstance(out, (tuple, list))
        outs = _tuple(out)
        rows = []
        for o in outs:
            per_input = [[] for _ in xs]
            for k in range(o.numel()):
                gv = array_module(o._data).zeros(o._data.shape, o._data.dtype)
                gv.reshape(-1)[k] = 1
                gs = _grad([o], list(xs), [Tensor._wrap(gv)], create_graph)
                for i, gi in enumerate(gs):
                    per_input[i].append(gi)
            from .._ops.shape import stack
            blocks = []
            for i, x in enumerate(xs):
                if per_input[i]:
                    blocks.append(stack(per_input[i]).reshape(tuple(o.shape) + tuple(x.shape)))
                else:
                    blocks.append(x.new_zeros(tuple(o.shape) + tuple(x.shape)))
            rows.append(blocks)
    if not create_graph:
        rows = [[b.detach() for b in r] for r in rows]
    if single_out and single_in:
        return rows[0][0]
    if single_out:
        return tuple(rows[0])
    if single_in:
        return tuple(r[0] for r in rows)
    return tuple(tuple(r) for r in rows)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    single = not isinstance(inputs, (tuple, list))

    def grad_fn(*xs):
        from . import grad
        out = func(*xs)
        g = grad([out], list(xs), create_graph=True, allow_unused=True, materialize_grads=True)
        return g[0] if single else g

    return jacobian(grad_fn, inputs, create_graph=create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    # reverse-over-reverse: J v = d/du (u^T J v)... computed via the double-vjp trick
    from .grad_mode import enable_grad
    single = not isinstance(inputs, (tuple, list))
    xs = tuple(x.detach().requires_grad_() for x in _tuple(inputs))
    vs = _tuple(v) if v is not None else tuple(x.new_ones(x.shape) for x in xs)
    with enable_grad():
        out = func(*xs)
        outs = _tuple(out)
        us = [o.new_zeros(o.shape).requires_grad_() for o in outs]
        g = _grad(list(outs), list(xs), us, True)
        jv = _grad(list(g), us, list(vs), create_graph)
    res = out if create_graph else (tuple(o.detach() for o in outs) if isinstance(out, tuple) else out.detach())
    jv = tuple(j if create_graph else j.detach() for j in jv)
    return res, (jv[0] if not isinstance(out, tuple) else jv)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    from .grad_mode import enable_grad
    single = not isinstance(inputs, (tuple, list))
    xs = tuple(x.detach().requires_grad_() for x in _tuple(inputs))
    vs = _tuple(v)
    with enable_grad():
        out = func(*xs)
        g = _grad([out], list(xs), None, True)
        hv = _grad(list(g), list(xs), list(vs), create_graph)
    hv = tuple(h if create_graph else h.detach() for h in hv)
    return (out if create_graph else out.detach()), (hv[0] if single else hv)


hvp = vhp  # the Hessian of a scalar function is symmetric
