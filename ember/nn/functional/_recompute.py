"""Double backward for fused ops whose fast backward works on raw arrays.

A fused op (attention, a whole recurrent layer) computes its gradient with NumPy when the engine runs
with ``create_graph=False``. When a higher-order gradient is asked for, the op re-runs its composite
form (plain ember ops) on the saved inputs and differentiates that with ``create_graph=True``, so the
result is a function of the inputs and can be differentiated again.
"""
from ...autograd import grad_mode
from ..._tensor import Tensor


def creating_graph():
    """True inside a backward pass that records (``create_graph=True``)."""
    return grad_mode._enabled[0]


def recompute_grads(composite, args, grads, needs):
    """Gradients of ``composite(*args)`` w.r.t. the args flagged in ``needs``, as differentiable tensors.

    Each needed tensor is aliased first so that an argument passed twice (``f(x, x)``) receives only
    the gradient of its own position.
    """
    from ...autograd import grad as autograd_grad
    with grad_mode.enable_grad():
        fresh = [a.view_as(a) if need and isinstance(a, Tensor) else a for a, need in zip(args, needs)]
        outs = composite(*fresh)
    outs = outs if isinstance(outs, tuple) else (outs,)
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o is not None and o.requires_grad]
    wrt = [fresh[i] for i, need in enumerate(needs) if need and isinstance(args[i], Tensor)]
    result = [None] * len(args)
    if not pairs or not wrt:
        return tuple(result)
    got = autograd_grad([o for o, _ in pairs], wrt, [g for _, g in pairs], create_graph=True, allow_unused=True)
    it = iter(got)
    for i, need in enumerate(needs):
        if need and isinstance(args[i], Tensor):
            result[i] = next(it)
    return tuple(result)
