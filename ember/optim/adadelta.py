"""Adadelta (Zeiler): step sizes from running averages of squared gradients and squared updates."""
import numpy as np

from .optimizer import Optimizer, _check_args, _scalar_state, _zeros_state


class Adadelta(Optimizer):
    """torch.optim.Adadelta.

    >>> opt = ember.optim.Adadelta(model.parameters(), lr=1.0, rho=0.9)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_args(lr=lr, eps=eps, weight_decay=weight_decay, differentiable=differentiable)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = _scalar_state()
        state["square_avg"] = _zeros_state(p)
        state["acc_delta"] = _zeros_state(p)

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (square_avgs, acc_deltas, steps) = self._gather(
                group, self._init_state, ("square_avg", "acc_delta", "step"))
            adadelta(params, grads, square_avgs, acc_deltas, steps, lr=float(group["lr"]), rho=group["rho"],
                     eps=group["eps"], weight_decay=group["weight_decay"], maximize=group["maximize"],
                     tmp=self._tmp)
        return loss


def adadelta(params, grads, square_avgs, acc_deltas, steps, *, lr, rho, eps, weight_decay, maximize, tmp):
    """The Adadelta update over lists of NumPy arrays, in place."""
    for i, param in enumerate(params):
        steps[i] += 1
        grad = grads[i] if not maximize else -grads[i]
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg, acc_delta, buf = square_avgs[i], acc_deltas[i], tmp(param)
        square_avg *= rho
        np.multiply(grad, 1 - rho, out=buf)
        buf *= grad
        square_avg += buf
        std = square_avg + eps
        np.sqrt(std, out=std)
        delta = np.add(acc_delta, eps, out=buf)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        acc_delta *= rho
        np.multiply(delta, 1 - rho, out=std)
        std *= delta
        acc_delta += std
        delta *= -lr
        param += delta
