"""Adamax: the infinity-norm variant of Adam."""
import numpy as np

from .optimizer import Optimizer, _check_args, _lerp_, _scalar_state, _zeros_state


class Adamax(Optimizer):
    """torch.optim.Adamax.

    >>> opt = ember.optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, differentiable=differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = _scalar_state()
        state["exp_avg"] = _zeros_state(p)
        state["exp_inf"] = _zeros_state(p)

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (exp_avgs, exp_infs, steps) = self._gather(
                group, self._init_state, ("exp_avg", "exp_inf", "step"))
            beta1, beta2 = group["betas"]
            adamax(params, grads, exp_avgs, exp_infs, steps, eps=group["eps"], beta1=beta1, beta2=beta2,
                   lr=float(group["lr"]), weight_decay=group["weight_decay"], maximize=group["maximize"],
                   tmp=self._tmp)
        return loss


def adamax(params, grads, exp_avgs, exp_infs, steps, *, eps, beta1, beta2, lr, weight_decay, maximize, tmp):
    """The Adamax update over lists of NumPy arrays, in place."""
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        steps[i] += 1
        if weight_decay != 0:
            grad = grad + weight_decay * param
        exp_avg, exp_inf, buf = exp_avgs[i], exp_infs[i], tmp(param)
        _lerp_(exp_avg, grad, 1 - beta1, buf)
        exp_inf *= beta2
        np.abs(grad, out=buf)
        buf += eps
        np.maximum(exp_inf, buf, out=exp_inf)
        clr = lr / (1 - beta1 ** float(steps[i]))
        np.divide(exp_avg, exp_inf, out=buf)
        buf *= -clr
        param += buf
