"""RAdam: Adam with a rectified adaptive learning rate (Liu et al.)."""
import math

import numpy as np

from .adam import _update_moments_, _weight_decay
from .optimizer import Optimizer, _check_args, _scalar_state, _zeros_state


class RAdam(Optimizer):
    """torch.optim.RAdam.

    >>> opt = ember.optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, differentiable=differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = _scalar_state()
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (exp_avgs, exp_avg_sqs, steps) = self._gather(
                group, self._init_state, ("exp_avg", "exp_avg_sq", "step"))
            beta1, beta2 = group["betas"]
            radam(params, grads, exp_avgs, exp_avg_sqs, steps, beta1=beta1, beta2=beta2, lr=float(group["lr"]),
                  weight_decay=group["weight_decay"], eps=group["eps"],
                  decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"], tmp=self._tmp)
        return loss


def radam(params, grads, exp_avgs, exp_avg_sqs, steps, *, beta1, beta2, lr, weight_decay, eps,
          decoupled_weight_decay, maximize, tmp):
    """The RAdam update over lists of NumPy arrays, in place."""
    rho_inf = 2 / (1 - beta2) - 1
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
        steps[i] += 1
        step = float(steps[i])
        grad = _weight_decay(param, grad, lr, weight_decay, decoupled_weight_decay)
        buf = tmp(param)
        _update_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2, buf)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = exp_avg / bias_correction1
        update *= lr
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            # the variance of the adaptive rate is tractable: apply it, rectified
            np.sqrt(exp_avg_sq, out=buf)
            buf += eps
            np.divide(bias_correction2 ** 0.5, buf, out=buf)
            update *= buf
            update *= math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        param -= update
