"""Adagrad (Duchi et al.): per-coordinate learning rates from the sum of squared gradients."""
import numpy as np

from .._tensor import Tensor
from .. import _jit
from .._kernels import optim as _kernels
from .optimizer import Optimizer, _blocks, _check_args, _kernel_views, _scalar_state


class Adagrad(Optimizer):
    """torch.optim.Adagrad. Its state is created at construction, as torch does.

    >>> opt = ember.optim.Adagrad(model.parameters(), lr=1e-2, lr_decay=1e-4)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_args(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps, differentiable=differentiable,
                    initial_accumulator_value=initial_accumulator_value)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    @staticmethod
    def _init_state(p, state, group):
        value = group["initial_accumulator_value"]
        if p._data.dtype.kind == "c":
            value = complex(value, value)
        state["step"] = _scalar_state()
        state["sum"] = Tensor._make(np.full_like(p._data, value))

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (sums, steps) = self._gather(group, self._init_state, ("sum", "step"))
            adagrad(params, grads, sums, steps, lr=float(group["lr"]), weight_decay=group["weight_decay"],
                    lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"], tmp=self._tmp)
        return loss


def adagrad(params, grads, state_sums, steps, *, lr, weight_decay, lr_decay, eps, maximize, tmp):
    """The Adagrad update over lists of NumPy arrays, in place."""
    compiled = _jit.enabled()  # and per parameter a host array (_jit.enabled_for inlined: the hot path)
    for i, param in enumerate(params):
        steps[i] += 1
        clr = lr / (1 + (float(steps[i]) - 1) * lr_decay)
        flat = _kernel_views(param, grads[i], state_sums[i]) if compiled and param.__class__ is np.ndarray else None
        if flat is not None:
            _kernels.adagrad(*flat, bool(maximize), float(weight_decay), float(clr), float(eps))
            continue
        for (p, grad, state_sum), buf in _blocks([param, grads[i], state_sums[i]], tmp(param)):
            if maximize:
                grad = -grad
            if weight_decay != 0:
                grad = grad + weight_decay * p
            np.multiply(grad, grad, out=buf)
            state_sum += buf
            np.sqrt(state_sum, out=buf)
            buf += eps
            np.divide(grad, buf, out=buf)
            buf *= -clr
            p += buf
