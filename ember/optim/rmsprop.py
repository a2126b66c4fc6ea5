"""RMSprop (Hinton), optionally centered and with momentum."""
import numpy as np

from .. import _jit
from .._kernels import optim as _kernels
from .optimizer import Optimizer, _blocks, _check_args, _kernel_views, _lerp_, _scalar_state, _zeros_state


class RMSprop(Optimizer):
    """torch.optim.RMSprop.

    >>> opt = ember.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.99, centered=True)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_args(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha,
                    differentiable=differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = _scalar_state()
        state["square_avg"] = _zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_state(p)

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            momentum, centered = group["momentum"], group["centered"]
            keys = ("square_avg", "step") + (("momentum_buffer",) if momentum > 0 else ()) + \
                (("grad_avg",) if centered else ())
            params, grads, (square_avgs, steps, *rest) = self._gather(group, self._init_state, keys)
            bufs = rest.pop(0) if momentum > 0 else None
            grad_avgs = rest.pop(0) if centered else None
            rmsprop(params, grads, square_avgs, grad_avgs, bufs, steps, lr=float(group["lr"]), alpha=group["alpha"],
                    eps=group["eps"], weight_decay=group["weight_decay"], momentum=momentum, centered=centered,
                    maximize=group["maximize"], tmp=self._tmp)
        return loss


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffers, steps, *, lr, alpha, eps, weight_decay,
            momentum, centered, maximize, tmp):
    """The RMSprop update over lists of NumPy arrays, in place."""
    compiled = _jit.enabled()  # and per parameter a host array (_jit.enabled_for inlined: the hot path)
    for i, param in enumerate(params):
        steps[i] += 1
        arrays = [param, grads[i], square_avgs[i]] + ([grad_avgs[i]] if centered else []) + \
            ([momentum_buffers[i]] if momentum > 0 else [])
        flat = _kernel_views(*arrays) if compiled and param.__class__ is np.ndarray else None
        if flat is not None:  # unused state slots get the square average (never touched)
            rest = flat[3:]
            grad_avg = rest.pop(0) if centered else flat[2]
            buf = rest.pop(0) if momentum > 0 else flat[2]
            _kernels.rmsprop(*flat[:3], grad_avg, buf, bool(centered), bool(maximize), float(weight_decay),
                             float(alpha), float(eps), float(momentum), float(lr))
            continue
        for block, buf in _blocks(arrays, tmp(param)):
            rest = block[3:]
            grad_avg = rest.pop(0) if centered else None
            mom = rest.pop(0) if momentum > 0 else None
            _rmsprop_block(*block[:3], grad_avg, mom, buf, lr, alpha, eps, weight_decay, momentum, maximize)


def _rmsprop_block(param, grad, square_avg, grad_avg, mom, buf, lr, alpha, eps, weight_decay, momentum, maximize):
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg *= alpha
    np.multiply(grad, 1 - alpha, out=buf)
    buf *= grad
    square_avg += buf
    if grad_avg is not None:  # centered: divide by an estimate of the gradient's standard deviation
        _lerp_(grad_avg, grad, 1 - alpha, buf)
        np.multiply(grad_avg, grad_avg, out=buf)
        np.subtract(square_avg, buf, out=buf)
        np.sqrt(buf, out=buf)
    else:
        np.sqrt(square_avg, out=buf)
    buf += eps
    np.divide(grad, buf, out=buf)
    if mom is not None:
        mom *= momentum
        mom += buf
        np.multiply(mom, -lr, out=buf)
    else:
        buf *= -lr
    param += buf
