"""Adam (Kingma & Ba) with optional AMSGrad and decoupled (AdamW-style) weight decay."""
import numpy as np

from .. import _jit
from .._kernels import optim as _kernels
from .optimizer import Optimizer, _blocks, _check_args, _kernel_views, _lerp_, _scalar_state, _zeros_state


class Adam(Optimizer):
    """torch.optim.Adam.

    >>> opt = ember.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, differentiable=differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
            group.setdefault("decoupled_weight_decay", False)

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = _scalar_state()
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_state(p)

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            keys = ("exp_avg", "exp_avg_sq", "step") + (("max_exp_avg_sq",) if amsgrad else ())
            params, grads, (exp_avgs, exp_avg_sqs, steps, *maxes) = self._gather(group, self._init_state, keys)
            beta1, beta2 = group["betas"]
            adam(params, grads, exp_avgs, exp_avg_sqs, maxes[0] if amsgrad else [], steps, amsgrad=amsgrad,
                 beta1=float(beta1), beta2=float(beta2), lr=float(group["lr"]),
                 weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
                 decoupled_weight_decay=group["decoupled_weight_decay"], tmp=self._tmp)
        return loss


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, amsgrad, beta1, beta2, lr,
         weight_decay, eps, maximize, decoupled_weight_decay=False, tmp=None):
    """The Adam update over lists of NumPy arrays, in place (``steps`` are 0-d float32 counters)."""
    tmp = tmp or np.empty_like
    compiled = _jit.enabled()  # and per parameter a host array (_jit.enabled_for inlined: the hot path)
    options = (bool(amsgrad), bool(maximize), float(weight_decay), bool(decoupled_weight_decay), float(lr),
               float(beta1), float(beta2), float(eps))  # the kernel's argument types, fixed once per step
    for i, param in enumerate(params):
        steps[i] += 1
        step = float(steps[i])
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        arrays = [param, grads[i], exp_avgs[i], exp_avg_sqs[i]] + ([max_exp_avg_sqs[i]] if amsgrad else [])
        flat = _kernel_views(*arrays) if compiled and param.__class__ is np.ndarray else None
        if flat is not None:  # one fused pass in torch's operation order
            _kernels.adam(*flat[:4], flat[-1], *options, bias_correction2_sqrt, lr / bias_correction1)
            continue
        # param.addcdiv_(exp_avg, sqrt(v) / bc2_sqrt + eps, value=-lr / bc1), with bc2_sqrt moved into the
        # scalars: the same update less one pass over the data (equal up to rounding)
        scaled_eps = eps * bias_correction2_sqrt
        step_size = -(lr / bias_correction1) * bias_correction2_sqrt
        for block, buf in _blocks(arrays, tmp(param)):
            _adam_block(*block[:4], block[4] if amsgrad else None, buf, beta1, beta2, lr, weight_decay,
                        decoupled_weight_decay, maximize, scaled_eps, step_size)


def _adam_block(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, buf, beta1, beta2, lr, weight_decay,
                decoupled_weight_decay, maximize, scaled_eps, step_size):
    if maximize:
        grad = -grad
    grad = _weight_decay(param, grad, lr, weight_decay, decoupled_weight_decay)
    _update_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2, buf)
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        np.sqrt(max_exp_avg_sq, out=buf)
    else:
        np.sqrt(exp_avg_sq, out=buf)
    buf += scaled_eps
    np.divide(exp_avg, buf, out=buf)
    buf *= step_size
    param += buf


def _weight_decay(param, grad, lr, weight_decay, decoupled):
    """The gradient after weight decay: decoupled (AdamW) shrinks ``param`` in place, else L2 joins the gradient."""
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    return grad


def _update_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2, buf):
    """Adam's moment estimates, in place: exp_avg toward grad, exp_avg_sq toward grad**2 (``buf`` is scratch)."""
    _lerp_(exp_avg, grad, 1 - beta1, buf)
    exp_avg_sq *= beta2
    np.multiply(grad, 1 - beta2, out=buf)
    buf *= grad
    exp_avg_sq += buf
