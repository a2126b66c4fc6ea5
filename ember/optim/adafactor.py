"""Adafactor (Shazeer & Stern): second moments kept as row and column factors, with torch's variant."""
import numpy as np

from .._device import array_module

from .optimizer import Optimizer, _lerp_, _scalar_state


class Adafactor(Optimizer):
    """torch.optim.Adafactor: sublinear-memory adaptive steps, relative to the parameters' RMS.

    >>> opt = ember.optim.Adafactor(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(p, state, group):
        if p.is_complex():
            raise RuntimeError("Adafactor does not support complex parameters")
        state["step"] = _scalar_state()
        shape = p.grad._data.shape
        if len(shape) > 1:
            xp = array_module(p.grad._data)
            state["row_var"] = p._wrap(xp.zeros(shape[:-1] + (1,), dtype=p.grad._data.dtype))
            state["col_var"] = p._wrap(xp.zeros(shape[:-2] + (1, shape[-1]), dtype=p.grad._data.dtype))
        else:
            state["variance"] = p._wrap(np.zeros_like(p.grad._data))

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (steps,) = self._gather(group, self._init_state, ("step",))
            factors = []
            for p in group["params"]:
                if p.grad is not None:
                    s = self.state[p]
                    factors.append((s["row_var"]._data, s["col_var"]._data) if "row_var" in s
                                   else s["variance"]._data)
            eps1, eps2 = group["eps"]
            adafactor(params, grads, factors, steps, d=group["d"], lr=float(group["lr"]),
                      beta2_decay=group["beta2_decay"], weight_decay=group["weight_decay"], eps1=eps1, eps2=eps2,
                      maximize=group["maximize"])
        return loss


def adafactor(params, grads, factors, steps, *, d, lr, beta2_decay, weight_decay, eps1, eps2, maximize):
    """The Adafactor update over NumPy arrays, in place. ``factors[i]`` is ``(row_var, col_var)`` for a
    matrix (or batch of matrices) and the full ``variance`` for a vector."""
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        if eps1 is None:  # like torch, the first parameter's dtype fixes it for the group
            eps1 = float(np.finfo(param.dtype).eps)
        steps[i] += 1
        step = float(steps[i])
        one_minus_beta2 = step ** beta2_decay
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, float(np.linalg.norm(param.reshape(-1))) / param.size ** 0.5) * rho
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        squared = grad * grad
        if grad.ndim > 1:
            row_var, col_var = factors[i]
            _lerp_(row_var, squared.mean(axis=-1, keepdims=True, dtype=squared.dtype), one_minus_beta2,
                   np.empty_like(row_var))
            _lerp_(col_var, squared.mean(axis=-2, keepdims=True, dtype=squared.dtype), one_minus_beta2,
                   np.empty_like(col_var))
            var_estimate = np.matmul(row_var, col_var)
            var_estimate /= np.maximum(row_var.mean(axis=-2, keepdims=True, dtype=row_var.dtype), eps1)
        else:
            variance = factors[i]
            _lerp_(variance, squared, one_minus_beta2, np.empty_like(variance))
            var_estimate = variance.copy()
        np.maximum(var_estimate, eps1 * eps1, out=var_estimate)
        update = np.sqrt(var_estimate, out=var_estimate)
        np.divide(grad, update, out=update)
        denom = max(1.0, float(np.linalg.norm(update.reshape(-1))) / (update.size ** 0.5 * d))
        update *= -alpha / denom
        param += update
