"""NAdam: Adam with Nesterov momentum (Dozat), with torch's momentum-decay schedule."""
import numpy as np

from .adam import _update_moments_, _weight_decay
from .optimizer import Optimizer, _check_args, _scalar_state, _zeros_state


class NAdam(Optimizer):
    """torch.optim.NAdam.

    >>> opt = ember.optim.NAdam(model.parameters(), lr=2e-3, decoupled_weight_decay=True, weight_decay=1e-2)
    """

    _scalar_state_keys = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay,
                    differentiable=differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = _scalar_state()
        state["mu_product"] = _scalar_state(1.0)
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (exp_avgs, exp_avg_sqs, mu_products, steps) = self._gather(
                group, self._init_state, ("exp_avg", "exp_avg_sq", "mu_product", "step"))
            beta1, beta2 = group["betas"]
            nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, beta1=beta1, beta2=beta2,
                  lr=float(group["lr"]), weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
                  eps=group["eps"], decoupled_weight_decay=group["decoupled_weight_decay"],
                  maximize=group["maximize"], tmp=self._tmp)
        return loss


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, *, beta1, beta2, lr, weight_decay,
          momentum_decay, eps, decoupled_weight_decay, maximize, tmp):
    """The NAdam update over lists of NumPy arrays, in place (``mu_products`` are 0-d float32)."""
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq, mu_product = exp_avgs[i], exp_avg_sqs[i], mu_products[i]
        steps[i] += 1
        step = float(steps[i])
        bias_correction2 = 1 - beta2 ** step
        grad = _weight_decay(param, grad, lr, weight_decay, decoupled_weight_decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product *= mu  # kept in float32, as torch keeps it
        buf = tmp(param)
        _update_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2, buf)
        denom = exp_avg_sq / bias_correction2
        np.sqrt(denom, out=denom)
        denom += eps
        mu_prod = float(mu_product)
        np.divide(grad, denom, out=buf)
        buf *= -lr * (1.0 - mu) / (1.0 - mu_prod)
        param += buf
        np.divide(exp_avg, denom, out=buf)
        buf *= (-lr * mu_next) / (1.0 - mu_prod * mu_next)
        param += buf
