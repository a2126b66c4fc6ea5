"""Fused optimizer updates: one pass over each parameter, in place, no temporaries.

Each kernel takes flat C-contiguous arrays of one dtype (float32 or float64) and Python-float
hyper-parameters, and performs torch's single-tensor (``foreach=False``) update element by element,
one statement per torch op in torch's order, in the array's dtype (scalars are cast to it first, as
torch does with a Python number next to a tensor).

torch's vectorized CPU kernels compute ``add(other, alpha=)``, ``addcmul`` and ``lerp`` as one fused
multiply-add (one rounding). The kernels let LLVM contract a multiply into the add that uses it
(``fastmath={"contract"}``: no NaN or infinity result changes) and write each such op as
``product + addend``. Where the addend is itself a product that torch rounds first (``mul_`` then
``addcmul_``), LLVM may fuse the wrong one. Adam's second moment rounds that product on its own as
``a * b + zero``: the product fuses into the add of zero (a single rounding of the product, and
LLVM may not drop ``+ 0.0`` without ``nsz``), so only the intended product is left to fuse into
the addcmul's add. Elsewhere the add runs as ``cast(_wide(a) * b + c)``: a product of float32
numbers is exact in float64 and a product that feeds a conversion is never fused (float64 rounding
then float32 rounding: equal to the FMA but for rare double roundings; Adam's widened form gave
values unlike torch's in about 1 of 100k second-moment entries). In float32, SGD then equals torch bit for bit
and Adam's moments too; its parameters differ only where torch's vectorized ``sqrt`` is not
correctly rounded (float64 may differ in the last bit). ``lerp`` follows torch's formula choice:
``w * (b - a) + a`` for ``w < 0.5``, else ``(w - 1) * (b - a) + b``.

A kernel that does not use one of its state arrays (no AMSGrad, no momentum, not centered) is handed
another array of the same type in its place, so each kernel compiles once per dtype.
"""
import numpy as np

from .. import _jit

_contract = _jit.kernel(fastmath={"contract"})
_wide = np.float64


@_contract
def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad, maximize, weight_decay, decoupled, lr,
         beta1, beta2, eps, bias_correction2_sqrt, step_size):
    """Adam / AdamW; ``max_exp_avg_sq`` is read and written only when ``amsgrad``."""
    cast = param.dtype.type
    decay = cast(1 - lr * weight_decay)
    l2 = cast(weight_decay)
    use_l2 = weight_decay != 0 and not decoupled
    use_decay = weight_decay != 0 and decoupled
    w1 = cast(1 - beta1)
    w1_small = w1 < 0.5
    w1_coeff = w1 if w1_small else w1 - cast(1)
    b2 = cast(beta2)
    one_minus_b2 = cast(1 - beta2)
    zero = cast(0)
    bc2 = cast(bias_correction2_sqrt)
    e = cast(eps)
    neg_step = cast(-step_size)
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        p = param[i]
        if use_decay:
            p = p * decay  # param.mul_(1 - lr * weight_decay)
        if use_l2:
            g = l2 * p + g  # grad.add(param, alpha=weight_decay)
        m = exp_avg[i]
        m = w1_coeff * (g - m) + (m if w1_small else g)  # exp_avg.lerp_(grad, 1 - beta1)
        exp_avg[i] = m
        v = exp_avg_sq[i] * b2 + zero  # exp_avg_sq.mul_(beta2), rounded on its own (``+ zero``: see above)
        v = one_minus_b2 * g * g + v  # .addcmul_(grad, grad, value=1 - beta2): one FMA
        exp_avg_sq[i] = v
        if amsgrad:  # torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq): NaN wins
            top = max_exp_avg_sq[i]
            if v > top or v != v:
                top = v
            max_exp_avg_sq[i] = top
            v = top
        denom = np.sqrt(v) / bc2 + e  # (v.sqrt() / bias_correction2_sqrt).add_(eps)
        step = neg_step * m / denom  # param.addcdiv_(exp_avg, denom, value=-step_size)
        param[i] = cast(_wide(p) + step) if use_decay else p + step  # (p * decay is rounded first)


@_contract
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
        p = param[i]
        if use_l2:
            g = l2 * p + g  # grad.add(param, alpha=weight_decay)
        if use_momentum:
            if first_step:
                b = g  # buf = torch.clone(grad)
            else:
                b = momentum_buffer[i] * mom  # buf.mul_(momentum)
                b = keep * g + b  # .add_(grad, alpha=1 - dampening)
            momentum_buffer[i] = b
            g = mom * b + g if nesterov else b  # grad.add(buf, alpha=momentum)
        param[i] = neg_lr * g + p  # param.add_(grad, alpha=-lr)


@_contract
def sgd_plain(param, grad, lr):
    """param.add_(grad, alpha=-lr): SGD without momentum, decay or maximize, ``sgd``'s arithmetic
    (one fused multiply-add per element) with three arguments to dispatch instead of ten."""
    neg_lr = param.dtype.type(-lr)
    for i in range(param.size):
        param[i] = neg_lr * grad[i] + param[i]


@_contract
def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, centered, maximize, weight_decay, alpha, eps,
            momentum, lr):
    """RMSprop; ``grad_avg`` is used when ``centered``, ``momentum_buffer`` when ``momentum > 0``."""
    cast = param.dtype.type
    l2 = cast(weight_decay)
    a = cast(alpha)
    w = cast(1 - alpha)  # square_avg's addcmul value and grad_avg's lerp weight
    w_small = w < 0.5
    w_coeff = w if w_small else w - cast(1)
    e = cast(eps)
    mom = cast(momentum)
    neg_lr = cast(-lr)
    use_l2 = weight_decay != 0
    use_momentum = momentum > 0
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        p = param[i]
        if use_l2:
            g = l2 * p + g  # grad.add(param, alpha=weight_decay)
        sq = square_avg[i] * a  # square_avg.mul_(alpha)
        sq = cast(_wide(w * g) * g + sq)  # .addcmul_(grad, grad, value=1 - alpha)
        square_avg[i] = sq
        if centered:
            ga = grad_avg[i]
            ga = w_coeff * (g - ga) + (ga if w_small else g)  # grad_avg.lerp_(grad, 1 - alpha)
            grad_avg[i] = ga
            avg = np.sqrt(-ga * ga + sq)  # square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = np.sqrt(sq)
        avg = avg + e  # avg.add_(eps)
        if use_momentum:
            b = momentum_buffer[i] * mom  # buf.mul_(momentum)
            b = cast(_wide(b) + g / avg)  # .addcdiv_(grad, avg)
            momentum_buffer[i] = b
            param[i] = neg_lr * b + p  # param.add_(buf, alpha=-lr)
        else:
            param[i] = p + neg_lr * g / avg  # param.addcdiv_(grad, avg, value=-lr)


@_contract
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
            g = l2 * p + g  # grad.add(param, alpha=weight_decay)
        s = g * g + state_sum[i]  # state_sum.addcmul_(grad, grad, value=1)
        state_sum[i] = s
        std = np.sqrt(s) + e  # state_sum.sqrt().add_(eps)
        param[i] = p + neg_clr * g / std  # param.addcdiv_(grad, std, value=-clr)
