"""Activation functions: each one Op with a NumPy forward and a backward in ember ops.

The hot ones (relu, gelu, silu, softmax, log_softmax) also take a plain-NumPy backward when no
graph is being built for the gradient (``create_graph=False``), which is the training-loop case.
Half-precision inputs compute in float32 and are cast back, as torch does.
"""
import math
import warnings

import numpy as np

from ... import _dtype as D
from ... import _jit
from ..._device import array_module
from ..._kernels import activation as _kernels
from ..._tensor import Tensor
from ...autograd.function import Op, OP_ATTRS, PLAIN_APPLY, edge_of, save_output
from ...autograd.grad_mode import _enabled
from ..._ops import elementwise as E
from ..._ops.elementwise import _erf
from ..._ops.inplace import apply_inplace
from ..._ops._util import wrap_dim

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "elu", "elu_",
           "celu", "celu_", "selu", "selu_", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_",
           "hardsigmoid", "hardswish", "softplus", "softsign", "softshrink", "hardshrink", "tanhshrink",
           "threshold", "threshold_", "glu", "logsigmoid", "softmax", "log_softmax", "softmin", "gumbel_softmax"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# erf for float32 as a rational function x P(x^2) / Q(x^2) on [-4, 4] (|error| < 5e-7, i.e. a few
# float32 ulp): about six times faster than scipy's erf, which computes every element in float64.
_ERF_P = [np.float32(c) for c in (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                                  -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                                  -1.60960333262415e-02)]
_ERF_Q = [np.float32(c) for c in (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                                  -7.37332916720468e-03, -1.42647390514189e-02)]


def _erf_fast(x):
    if x.dtype != np.float32:
        return _erf(x)
    x = np.clip(x, np.float32(-4), np.float32(4))
    x2 = x * x
    p = _ERF_P[0] * x2
    for c in _ERF_P[1:-1]:
        p += c
        p *= x2
    p += _ERF_P[-1]
    p *= x
    q = _ERF_Q[0] * x2
    for c in _ERF_Q[1:-1]:
        q += c
        q *= x2
    q += _ERF_Q[-1]
    p /= q
    return p


def _up(x):
    """The compute array: float16/bfloat16 widen to float32."""
    return x.astype(np.float32) if x.dtype in D.REDUCED_NP else x


def _down(y, dt):
    return y if y.dtype == dt else y.astype(dt)


def _inplace(fn):
    """The ``inplace=True`` form of an activation: result written into ``input``."""
    def run(input, *args):
        return apply_inplace(input, lambda t, *a: fn(t, *a), *args)
    return run


# ------------------------------------------------------------------ ReLU family
class Relu(Op):
    def forward(ctx, x):
        if x.dtype == np.bool_:
            out = x.copy()
        else:
            out = _relu_array(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        # torch's threshold_backward is a select (0 where out <= 0, else g), not a product: a NaN output
        # passes its gradient, a NaN gradient where out <= 0 does not
        if not _enabled[0]:
            y, = ctx._saved_arrays()
            gd = g._data
            if _host_kernels(y, gd) and y.dtype in _FAST and gd.dtype == y.dtype and y.flags.c_contiguous \
                    and gd.flags.c_contiguous and y.shape == gd.shape:
                result = np.empty_like(gd)
                # (ravel: a view of each C-contiguous array, about half reshape(-1)'s call cost)
                _kernels.relu_backward(y.ravel(), gd.ravel(), result.ravel())
                return Tensor._wrap(result)
            keep = np.less_equal(y, 0)  # a product, not a select, on this path: NumPy's where is ~10x slower
            np.logical_not(keep, out=keep)
            return Tensor._wrap((gd * keep).astype(gd.dtype, copy=False))
        out, = ctx.saved_tensors
        return E.where(out <= 0, 0.0, g)


def relu(input, inplace=False):
    """max(x, 0).

    >>> F.relu(ember.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    if inplace:
        return relu_(input)
    if input.__class__ is Tensor and OP_ATTRS["apply"] is PLAIN_APPLY:
        x = input._data
        # on the host: Relu.forward's arithmetic, and its node, without the op machinery
        if x.dtype in _FAST and x.__class__ is np.ndarray:
            if _enabled[0] and input.requires_grad:
                t = Relu._record(_relu_array(x), (edge_of(input),))
                save_output(t)
                return t
            t = _new(Tensor)
            t._data = _relu_array(x)
            return t
    return Relu.apply(input)


def _relu_array(x):
    """max(x, 0) as a new array: one kernel pass on the host (0.6x the time of the NumPy form at
    (256, 1024)), else a maximum against a zero array written into it (NumPy's array-scalar maximum is
    several times slower than the array-array loop)."""
    if x.dtype in _FAST and _host_kernels(x, x):
        out = np.empty(x.shape, x.dtype)
        _kernels.relu_forward(x.ravel(), out.ravel())  # out is fresh, C-contiguous: its ravel is a view
        return out
    xp = np if x.__class__ is np.ndarray else array_module(x)
    out = xp.zeros(x.shape, x.dtype)
    np.maximum(out, x, out=out)  # zeros first: -0.0 stays -0.0, as in torch's clamp_min and the kernel
    return out


_FAST = (np.dtype(np.float32), np.dtype(np.float64))
_new = object.__new__


def _host_kernels(a, b):
    """``_jit.enabled_for(a, b)`` for the hot ReLU paths, without its generator over the arguments."""
    return a.__class__ is np.ndarray and b.__class__ is np.ndarray and _jit.enabled()


relu_ = _inplace(Relu.apply)


class Hardtanh(Op):
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        return _down(np.clip(_up(x), lo, hi), x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ((x > ctx.lo) & (x < ctx.hi)), None, None


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val]; gradient 1 strictly inside."""
    if inplace:
        return hardtanh_(input, min_val, max_val)
    return Hardtanh.apply(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return apply_inplace(input, lambda t: Hardtanh.apply(t, min_val, max_val))


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


class LeakyRelu(Op):
    def forward(ctx, x, slope):
        ctx.slope = slope
        ctx.save_for_backward(x)
        return np.where(x > 0, x, x * x.dtype.type(slope)).astype(x.dtype, copy=False)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return E.where(x > 0, g, g * ctx.slope), None


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    if inplace:
        return leaky_relu_(input, negative_slope)
    return LeakyRelu.apply(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return apply_inplace(input, lambda t: LeakyRelu.apply(t, negative_slope))


def prelu(input, weight):
    """Leaky ReLU with a learned slope per channel (dim 1, or dim 0 for 1-D input)."""
    if weight.dim() != 1 and weight.numel() != 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
                           f"{weight.dim()}")
    w = weight
    if weight.numel() != 1:
        channels = input.shape[1] if input.dim() >= 2 else (input.shape[0] if input.dim() == 1 else 1)
        if weight.numel() != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers "
                               f"= {weight.numel()} and channel size = {channels}.")
        if input.dim() >= 2:
            w = weight.reshape((channels,) + (1,) * (input.dim() - 2))
    else:
        w = weight.reshape(())
    return E.where(input > 0, input, input * w)


class RreluTrain(Op):
    def forward(ctx, x, lower, upper, rng):
        xc = _up(x)
        slopes = rng.uniform(lower, upper, x.shape).astype(xc.dtype)  # drawn on the host, as every sample
        if xc.__class__ is not np.ndarray:
            slopes = array_module(xc).asarray(slopes)
        noise = np.where(xc >= 0, xc.dtype.type(1), slopes)
        ctx.noise = noise
        return _down(xc * noise, x.dtype)

    def backward(ctx, g):
        return g * Tensor._wrap(ctx.noise), None, None, None


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: a slope drawn from U(lower, upper) per element in training,
    (lower + upper) / 2 in eval."""
    if inplace:
        return rrelu_(input, lower, upper, training)
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    from ..._ops.random import default_generator
    return RreluTrain.apply(input, lower, upper, default_generator._rng)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return apply_inplace(input, lambda t: rrelu(t, lower, upper, training))


class Elu(Op):
    """scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)): ELU, CELU and SELU."""

    def forward(ctx, x, alpha, scale, input_scale):
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        xc = _up(x)
        neg = alpha * np.expm1(np.minimum(xc, 0) * input_scale)
        ctx.save_for_backward(x)
        return _down(scale * np.where(xc > 0, xc, neg), x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        a, s, i = ctx.alpha, ctx.scale, ctx.input_scale
        return E.where(x > 0, g * s, g * (s * a * i) * E.exp(x.clamp(max=0) * i)), None, None, None


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    if inplace:
        return elu_(input, alpha)
    return Elu.apply(input, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return apply_inplace(input, lambda t: Elu.apply(t, alpha, 1.0, 1.0))


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return celu_(input, alpha)
    return Elu.apply(input, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    return apply_inplace(input, lambda t: Elu.apply(t, alpha, 1.0, 1.0 / alpha))


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    if inplace:
        return selu_(input)
    return Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return apply_inplace(input, lambda t: Elu.apply(t, _SELU_ALPHA, _SELU_SCALE, 1.0))


# ------------------------------------------------------------------ smooth activations
class Gelu(Op):
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        xc = _up(x)
        if approximate == "tanh" and _gelu_kernel_ok(xc):
            out = np.empty(xc.shape, np.float32)
            flat = _flat(xc)
            _kernels.gelu_tanh(flat, flat, out.reshape(-1), False)
        elif approximate == "tanh":
            out = 0.5 * xc * (1 + np.tanh(_SQRT_2_OVER_PI * (xc + 0.044715 * xc * xc * xc)))
        elif _gelu_kernel_ok(xc):
            out = np.empty(xc.shape, np.float32)
            _kernels.gelu_forward(_flat(xc), out.reshape(-1))
        else:
            cdf = 0.5 * (1 + _erf_fast(xc * _INV_SQRT_2))
            if ctx.needs_input_grad[0]:
                ctx.cdf = cdf  # the backward reuses Phi(x) instead of evaluating erf a second time
            out = xc * cdf
        return _down(out, x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        if not _enabled[0]:
            return Tensor._wrap(_gelu_backward_raw(ctx, _up(x._data), g._data)), None
        if ctx.approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
            t = E.tanh(inner)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner), None
        cdf = 0.5 * (1 + E.erf(x * _INV_SQRT_2))
        pdf = E.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return g * (cdf + x * pdf), None


def _gelu_kernel_ok(xc):
    return xc.dtype == np.float32 and xc.size > 0 and _jit.enabled_for(xc)


def _flat(a):
    """A C-contiguous 1-D view of ``a`` (a copy only when ``a`` is not contiguous)."""
    return np.ascontiguousarray(a).reshape(-1)


def _gelu_backward_raw(ctx, xc, gd):
    """g * GELU'(x) on arrays, in g's dtype."""
    if _gelu_kernel_ok(xc) and _up(gd).dtype == np.float32:
        out = np.empty(xc.shape, np.float32)
        if ctx.approximate == "tanh":
            _kernels.gelu_tanh(_flat(xc), _flat(_up(gd)), out.reshape(-1), True)
        else:
            _kernels.gelu_backward(_flat(xc), _flat(_up(gd)), out.reshape(-1))
        return _down(out, gd.dtype)
    if ctx.approximate == "tanh":
        local = _gelu_tanh_grad_raw(xc)
    else:
        cdf = getattr(ctx, "cdf", None)  # absent when the forward ran the kernel
        if cdf is None:
            cdf = 0.5 * (1 + _erf_fast(xc * _INV_SQRT_2))
        local = cdf + xc * np.exp(-0.5 * xc * xc) * _INV_SQRT_2PI
    return _down(gd * local, gd.dtype)


def _gelu_tanh_grad_raw(x):
    t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)


def gelu(input, approximate="none"):
    """x * Phi(x) (``approximate='tanh'``: the tanh approximation).

    >>> F.gelu(ember.tensor([1.0]))
    tensor([0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    if not input.is_floating_point():
        from ..._ops._util import type_name
        raise NotImplementedError(f'"GeluKernelImpl" not implemented for \'{type_name(input.dtype)}\'')
    return Gelu.apply(input, approximate)


def _sigmoid_fast(x):
    """1 / (1 + exp(-x)): exp(-x) may overflow to inf for very negative x, which still gives the
    correctly rounded 0, so no branch (np.where) is needed."""
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    e += 1
    return np.reciprocal(e, out=e)


class Silu(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xc = _up(x)
        return _down(xc * _sigmoid_fast(xc), x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        if not _enabled[0]:
            xc = _up(x._data)
            s = _sigmoid_fast(xc)
            return Tensor._wrap(_down(g._data * (s * (1 + xc * (1 - s))), g._data.dtype))
        s = E.sigmoid(x)
        return g * (s * (1 + x * (1 - s)))


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    if inplace:
        return apply_inplace(input, Silu.apply)
    return Silu.apply(input)


def _softplus_raw(x, beta, threshold):
    bx = x * beta
    with np.errstate(over="ignore"):
        soft = np.log1p(np.exp(-np.abs(bx))) + np.maximum(bx, 0)
    return np.where(bx > threshold, x, soft / beta)


class Softplus(Op):
    def forward(ctx, x, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(x)
        return _down(_softplus_raw(_up(x), beta, threshold), x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        bx = x * ctx.beta
        return E.where(bx > ctx.threshold, g, g * E.sigmoid(bx)), None, None


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold``."""
    return Softplus.apply(input, beta, threshold)


class Mish(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xc = _up(x)
        return _down(xc * np.tanh(_softplus_raw(xc, 1.0, 20.0)), x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        t = E.tanh(softplus(x))
        return g * (t + x * E.sigmoid(x) * (1 - t * t))


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    if inplace:
        return apply_inplace(input, Mish.apply)
    return Mish.apply(input)


def sigmoid(input):
    return E.sigmoid(input)


def tanh(input):
    return E.tanh(input)


class Hardsigmoid(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xc = _up(x)
        return _down(np.clip(xc / 6 + 0.5, 0, 1), x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ((x > -3) & (x < 3)) * (1.0 / 6)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    if inplace:
        return apply_inplace(input, Hardsigmoid.apply)
    return Hardsigmoid.apply(input)


class Hardswish(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xc = _up(x)
        return _down(xc * np.clip(xc + 3, 0, 6) / 6, x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        mid = g * (x * (1.0 / 3) + 0.5)
        return E.where(x < -3, g * 0, E.where(x <= 3, mid, g))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    if inplace:
        return apply_inplace(input, Hardswish.apply)
    return Hardswish.apply(input)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (1 + input.abs())


class Shrink(Op):
    """softshrink (soft=True) and hardshrink."""

    def forward(ctx, x, lambd, soft):
        ctx.lambd, ctx.soft = lambd, soft
        ctx.save_for_backward(x)
        xc = _up(x)
        keep = (xc > lambd) | (xc < -lambd)
        if soft:
            out = np.where(xc > lambd, xc - lambd, np.where(xc < -lambd, xc + lambd, 0))
        else:
            out = np.where(keep, xc, 0)
        return _down(out, x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ((x > ctx.lambd) | (x < -ctx.lambd)), None, None


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return Shrink.apply(input, lambd, True)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return Shrink.apply(input, lambd, False)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - E.tanh(input)


class Threshold(Op):
    def forward(ctx, x, threshold, value):
        ctx.threshold = threshold
        ctx.save_for_backward(x)
        return np.where(x > threshold, x, x.dtype.type(value)).astype(x.dtype, copy=False)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x > ctx.threshold), None, None


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    if inplace:
        return threshold_(input, threshold, value)
    return Threshold.apply(input, threshold, value)


def threshold_(input, threshold, value):
    return apply_inplace(input, lambda t: Threshold.apply(t, threshold, value))


def glu(input, dim=-1):
    """a * sigmoid(b) where a, b are the halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.dim())
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * E.sigmoid(b)


class LogSigmoid(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xc = _up(x)
        return _down(np.minimum(xc, 0) - np.log1p(np.exp(-np.abs(xc))), x.dtype)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * E.sigmoid(-x)


def logsigmoid(input):
    """log(sigmoid(x)), computed stably."""
    return LogSigmoid.apply(input)


# ------------------------------------------------------------------ softmax family
def _implicit_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  "dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _shift_by_max(x, axis):
    # no special case for rows of -inf or +inf: -inf - -inf and inf - inf are nan, which is torch's
    # answer for such rows
    with np.errstate(invalid="ignore"):
        return x - np.max(x, axis=axis, keepdims=True)


def _rows(a, dim):
    """``a`` as C-contiguous (rows, a.shape[dim]) when ``dim`` is the last axis, else None."""
    if dim != a.ndim - 1:
        return None
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])


class Softmax(Op):
    def forward(ctx, x, dim):
        ctx.dim = dim
        xc = _up(x)
        rows = _rows(xc, dim) if xc.dtype == np.float32 and xc.size and _jit.enabled_for(xc) else None
        if rows is not None:
            out = np.empty(xc.shape, np.float32)
            _kernels.softmax_rows(rows, out.reshape(rows.shape), False)
        elif xc.size == 0:
            out = xc.copy()
        else:
            out = _shift_by_max(xc, dim)  # a fresh array: exp and normalise it in place
            np.exp(out, out=out)
            with np.errstate(invalid="ignore"):
                out /= out.sum(axis=dim, keepdims=True)
        out = _down(out, x.dtype)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        out, = ctx.saved_tensors
        dim = ctx.dim
        if not _enabled[0]:
            return Tensor._wrap(_softmax_backward_raw(_up(out._data), _up(g._data), dim, g._data.dtype)), None
        gy = g * out
        return gy - out * gy.sum(dim, keepdim=True), None


def _softmax_backward_raw(y, gd, dim, dt):
    """y * (g - sum(g * y)) along ``dim`` on arrays, in dtype ``dt``."""
    if y.dtype in _FAST and gd.dtype == y.dtype and y.size and _jit.enabled_for(y, gd):
        y_rows = _rows(y, dim)
        if y_rows is not None:
            out = np.empty(y.shape, y.dtype)
            _kernels.softmax_rows_backward(y_rows, _rows(gd, dim), out.reshape(y_rows.shape))
            return _down(out, dt)
    gy = gd * y
    return _down(gy - y * gy.sum(axis=dim, keepdims=True), dt)


class LogSoftmax(Op):
    def forward(ctx, x, dim):
        ctx.dim = dim
        xc = _up(x)
        if xc.size == 0:
            out = xc.copy()
        else:
            out = _shift_by_max(xc, dim)
            out -= np.log(np.exp(out).sum(axis=dim, keepdims=True))
        out = _down(out, x.dtype)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        out, = ctx.saved_tensors
        dim = ctx.dim
        if not _enabled[0]:
            y, gd = _up(out._data), _up(g._data)
            return Tensor._wrap(_down(gd - np.exp(y) * gd.sum(axis=dim, keepdims=True), g._data.dtype)), None
        return g - E.exp(out) * g.sum(dim, keepdim=True), None


def _softmax_args(input, dim, dtype, name):
    if dim is None:
        dim = _implicit_dim(name, input.dim())
    if dtype is not None:
        input = input.to(dtype)
    if not input.is_floating_point():
        from ..._ops._util import type_name
        last = "lastdim_" if dim in (-1, input.dim() - 1) else ""
        raise NotImplementedError(f'"{name}_{last}kernel_impl" not implemented for \'{type_name(input.dtype)}\'')
    if input.dim() == 0:
        wrap_dim(dim, 0)
        return input.reshape(1), 0, True
    return input, wrap_dim(dim, input.dim()), False


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (shifted by the max: no overflow).

    >>> F.softmax(ember.tensor([1.0, 1.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    x, d, scalar = _softmax_args(input, dim, dtype, "softmax")
    out = Softmax.apply(x, d)
    return out.reshape(()) if scalar else out


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x) (stable)."""
    x, d, scalar = _softmax_args(input, dim, dtype, "log_softmax")
    out = LogSoftmax.apply(x, d)
    return out.reshape(()) if scalar else out


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _implicit_dim("softmin", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution (straight-through one-hot when ``hard``)."""
    from ..._ops.random import default_generator
    g = default_generator._rng.exponential(1.0, logits.shape)  # drawn on the host, as every sample
    xp = array_module(logits._data)
    gumbels = -Tensor._wrap(xp.asarray(np.log(g).astype(logits._data.dtype)))
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = Tensor._wrap(xp.zeros(logits.shape, dtype=logits._data.dtype))
    np.put_along_axis(y_hard._data, index._data, 1, axis=wrap_dim(dim, logits.dim()))
    return y_hard - y_soft.detach() + y_soft
