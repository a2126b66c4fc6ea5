"""Averaged stochastic gradient descent (Polyak & Juditsky)."""
import numpy as np

from .optimizer import Optimizer, _check_args, _scalar_state, _zeros_state


class ASGD(Optimizer):
    """torch.optim.ASGD: SGD with a decaying step size and a running average ``ax`` of the iterates.

    >>> opt = ember.optim.ASGD(model.parameters(), lr=1e-2, t0=100)
    """

    _scalar_state_keys = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_args(lr=lr, weight_decay=weight_decay, differentiable=differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(p, state, group):
        # on the parameter's device, as torch keeps ASGD's counters
        state["step"] = _scalar_state(like=p)
        state["eta"] = _scalar_state(float(group["lr"]), like=p)
        state["mu"] = _scalar_state(1.0, like=p)
        state["ax"] = _zeros_state(p)

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (axs, mus, etas, steps) = self._gather(group, self._init_state, ("ax", "mu", "eta", "step"))
            asgd(params, grads, axs, mus, etas, steps, lambd=group["lambd"], lr=float(group["lr"]), t0=group["t0"],
                 alpha=group["alpha"], weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def asgd(params, grads, axs, mus, etas, steps, *, lambd, lr, t0, alpha, weight_decay, maximize):
    """The ASGD update over lists of NumPy arrays, in place (``mus``/``etas`` are 0-d float32)."""
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        ax, mu, eta = axs[i], mus[i], etas[i]
        steps[i] += 1
        if weight_decay != 0:
            grad = grad + weight_decay * param
        eta_value = float(eta)
        param *= 1 - lambd * eta_value
        param -= eta_value * grad
        if float(mu) != 1:
            diff = param - ax
            diff *= mu.astype(param.dtype)
            ax += diff
        else:
            ax[...] = param
        step = float(steps[i])
        eta[...] = lr / ((1 + lambd * lr * step) ** alpha)
        mu[...] = 1 / max(1, step - t0)
