"""Rprop: resilient backpropagation, sign-based steps with per-coordinate adaptive sizes."""
import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _check_args, _scalar_state, _zeros_state


class Rprop(Optimizer):
    """torch.optim.Rprop.

    >>> opt = ember.optim.Rprop(model.parameters(), lr=1e-2, etas=(0.5, 1.2))
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_args(lr=lr, differentiable=differentiable)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(p, state, group):
        lr = float(group["lr"])
        state["step"] = _scalar_state()
        state["prev"] = _zeros_state(p)
        state["step_size"] = Tensor._make(np.full_like(p._data, complex(lr, lr) if p.is_complex() else lr))

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (prevs, step_sizes, steps) = self._gather(
                group, self._init_state, ("prev", "step_size", "step"))
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            rprop(params, grads, prevs, step_sizes, steps, step_size_min=step_size_min, step_size_max=step_size_max,
                  etaminus=etaminus, etaplus=etaplus, maximize=group["maximize"])
        return loss


def rprop(params, grads, prevs, step_sizes, steps, *, step_size_min, step_size_max, etaminus, etaplus, maximize):
    """The Rprop update over lists of NumPy arrays, in place."""
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        prev, step_size = prevs[i], step_sizes[i]
        steps[i] += 1
        kind = param.dtype.type
        sign = np.sign(grad * prev)
        factor = np.where(sign > 0, kind(etaplus), np.where(sign < 0, kind(etaminus), kind(1)))
        step_size *= factor
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        # after a sign change the gradient is forgotten: no step now, no sign comparison next time
        grad = grad.copy()
        grad[factor == kind(etaminus)] = 0
        np.sign(grad, out=prev)
        prev *= step_size
        param -= prev
        prev[...] = grad
