"""Muon: momentum SGD whose update is orthogonalised by a Newton-Schulz iteration (2-D parameters)."""
import math

import numpy as np

from .. import _dtype as D
from .._device import is_device_array
from .optimizer import Optimizer, _lerp_

EPS = 1e-07
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.775, 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(x):
    """Round float32 values to bfloat16 precision (torch runs the iteration in bfloat16)."""
    if is_device_array(x):
        return _bf16_bits(x.astype(np.float32))
    return np.asarray(x, dtype=np.float32).astype(D.bfloat16.np).astype(np.float32)


def _bf16_bits(x):
    """bfloat16 rounding on the bits of float32 ``x`` (CuPy has no bfloat16): round to nearest even on the
    upper 16 bits; NaN stays NaN, infinities and overflow to infinity come out as the cast gives them."""
    bits = x.reshape(x.shape or (1,)).view(np.uint32)
    rounded = (bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))) & np.uint32(0xFFFF0000)
    out = rounded.view(np.float32).reshape(x.shape)
    return np.where(np.isnan(x), x, out)


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """An approximately orthogonal matrix with ``grad``'s singular vectors (quintic Newton-Schulz)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = _bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(np.sqrt(np.sum(x * x, dtype=np.float32)))
    x = _bf16(x / max(norm, float(_bf16(eps))))  # a Python float: usable next to device arrays
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        gram_update = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + gram_update @ x)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """torch.optim.Muon (for 2-D weight matrices; pair it with AdamW for the other parameters).

    >>> opt = ember.optim.Muon([layer.weight], lr=0.02)
    """

    _scalar_state_keys = ()

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    @staticmethod
    def _init_state(p, state, group):
        if p.is_complex():
            raise RuntimeError("Muon does not support complex parameters")
        state["momentum_buffer"] = p._wrap(np.zeros_like(p.grad._data))

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads, (bufs,) = self._gather(group, self._init_state, ("momentum_buffer",))
            muon(params, grads, bufs, lr=float(group["lr"]), weight_decay=group["weight_decay"],
                 momentum=group["momentum"], nesterov=group["nesterov"], ns_coefficients=group["ns_coefficients"],
                 eps=group["eps"], ns_steps=group["ns_steps"], adjust_lr_fn=group["adjust_lr_fn"])
        return loss


def muon(params, grads, momentum_bufs, *, lr, weight_decay, momentum, nesterov, ns_coefficients, ns_steps, eps,
         adjust_lr_fn):
    """The Muon update over lists of NumPy arrays, in place."""
    for i, param in enumerate(params):
        grad, buf = grads[i], momentum_bufs[i]
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        _lerp_(buf, grad, 1 - momentum, np.empty_like(buf))
        if nesterov:
            update = grad.copy()
            _lerp_(update, buf, momentum, np.empty_like(update))
        else:
            update = buf
        ortho = _zeropower_via_newtonschulz(update, ns_coefficients, ns_steps, eps)
        adjusted_lr = _adjust_lr(lr, adjust_lr_fn, param.shape)
        param *= 1 - lr * weight_decay
        param += (ortho * -adjusted_lr).astype(param.dtype, copy=False)
