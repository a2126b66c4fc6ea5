"""Fused optimizer updates: one pass over each parameter, in place, no temporaries.

Each kernel takes flat C-contiguous arrays of one dtype (float32 or float64) and Python-float
hyper-parameters, and follows the operation order of torch's single-tensor (``foreach=False``)
implementation element by element. Scalars are cast to the array's dtype first, as torch does with a
Python number next to a tensor, so float32 parameters are updated in float32 arithmetic.

``lerp`` follows torch's formula choice: ``a + w * (b - a)`` for ``w < 0.5``, else
``b - (b - a) * (1 - w)``. A kernel that does not use one of its state arrays (no AMSGrad, no
momentum, not centered) is handed another array of the same type in its place, so each kernel
compiles once per dtype.
"""
import numpy as np

from .. import _jit


@_jit.kernel
def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad, maximize, weight_decay, decoupled, lr,
         beta1, beta2, eps, bias_correction2_sqrt, step_size):
    """Adam / AdamW; ``max_exp_avg_sq`` is read and written only when ``amsgrad``."""
    cast = param.dtype.type
    decay = cast(1 - lr * weight_decay)  # decoupled: param.mul_(1 - lr * weight_decay)
    l2 = cast(weight_decay)  # coupled: grad.add(param, alpha=weight_decay)
    use_l2 = weight_decay != 0 and not decoupled
    use_decay = weight_decay != 0 and decoupled
    w1 = cast(1 - beta1)  # exp_avg.lerp_(grad, 1 - beta1)
    w1_small = w1 < 0.5
    w1_rest = cast(1) - w1
    b2 = cast(beta2)
    one_minus_b2 = cast(1 - beta2)
    bc2 = cast(bias_correction2_sqrt)
    e = cast(eps)
    neg_step = cast(-step_size)
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        p = param[i]
        if use_decay:
            p = p * decay
        if use_l2:
            g = g + l2 * p
        m = exp_avg[i]
        m = m + w1 * (g - m) if w1_small else g - (g - m) * w1_rest
        exp_avg[i] = m
        v = exp_avg_sq[i] * b2 + one_minus_b2 * g * g  # mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        exp_avg_sq[i] = v
        if amsgrad:  # torch.maximum: NaN wins
            top = max_exp_avg_sq[i]
            if v > top or v != v:
                top = v
            max_exp_avg_sq[i] = top
            v = top
        # param.addcdiv_(exp_avg, sqrt(v) / bias_correction2_sqrt + eps, value=-step_size)
        param[i] = p + neg_step * m / (np.sqrt(v) / bc2 + e)


@_jit.kernel
def sgd(param, grad, momentum_buffer, first_step, maximize, weight_decay, momentum, dampening, nesterov, lr):
    """SGD; ``momentum_buffer`` is used when ``momentum != 0`` and filled (not read) on ``first_step``."""
    cast = param.dtype.type
    l2 = cast(weight_decay)
    mom = cast(momentum)
    keep = cast(1 - dampening)
    neg_lr = cast(-lr)
    use_l2 = weight_decay != 0
    use_momentum = momentum != 0
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        if use_l2:
            g = g + l2 * param[i]
        if use_momentum:
            # first step: buf = grad.clone(); then buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            b = g if first_step else momentum_buffer[i] * mom + keep * g
            momentum_buffer[i] = b
            g = g + mom * b if nesterov else b
        param[i] = param[i] + neg_lr * g


@_jit.kernel
def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, centered, maximize, weight_decay, alpha, eps,
            momentum, lr):
    """RMSprop; ``grad_avg`` is used when ``centered``, ``momentum_buffer`` when ``momentum > 0``."""
    cast = param.dtype.type
    l2 = cast(weight_decay)
    a = cast(alpha)
    w = cast(1 - alpha)  # square_avg's addcmul value and grad_avg's lerp weight
    w_small = w < 0.5
    w_rest = cast(1) - w
    e = cast(eps)
    mom = cast(momentum)
    neg_lr = cast(-lr)
    use_l2 = weight_decay != 0
    use_momentum = momentum > 0
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        if use_l2:
            g = g + l2 * param[i]
        sq = square_avg[i] * a + w * g * g
        square_avg[i] = sq
        if centered:
            ga = grad_avg[i]
            ga = ga + w * (g - ga) if w_small else g - (g - ga) * w_rest
            grad_avg[i] = ga
            avg = np.sqrt(sq - ga * ga) + e  # square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)
        else:
            avg = np.sqrt(sq) + e
        if use_momentum:
            b = momentum_buffer[i] * mom + g / avg  # buf.mul_(momentum).addcdiv_(grad, avg)
            momentum_buffer[i] = b
            param[i] = param[i] + neg_lr * b
        else:
            param[i] = param[i] + neg_lr * g / avg


@_jit.kernel
def adagrad(param, grad, state_sum, maximize, weight_decay, clr, eps):
    """Adagrad with the step's decayed learning rate ``clr``."""
    cast = param.dtype.type
    l2 = cast(weight_decay)
    e = cast(eps)
    neg_clr = cast(-clr)
    use_l2 = weight_decay != 0
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        p = param[i]
        if use_l2:
            g = g + l2 * p
        s = state_sum[i] + g * g  # state_sum.addcmul_(grad, grad, value=1)
        state_sum[i] = s
        param[i] = p + neg_clr * g / (np.sqrt(s) + e)
