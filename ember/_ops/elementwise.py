"""Elementwise ops: binary arithmetic with torch's type promotion, and the unary math table."""
import cmath
import math

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Op, record_binary
from ..autograd.grad_mode import _enabled
from ._util import install, compute_dtype, float_dtype_for, broadcast_shapes, edge_of, wrap_recorded, saved_constant
from .inplace import inplace_method, write_out, apply_inplace

_FLOATING = D.FLOATING_NP
_ND = np.ndarray

from .._optional import scipy_module
from .._device import array_module, module_of, as_array, is_device_array, special_module

_PY_NUMBERS = frozenset((int, float, bool, complex))
_NOT_ARRAYS = _PY_NUMBERS | {type(None)}


def _is_arr(x):
    """An array operand (NumPy or device) rather than a Python number or None; numbers answer first."""
    return x.__class__ is _ND or (x.__class__ not in _NOT_ARRAYS and is_device_array(x))


# ------------------------------------------------------------------ promotion
def promote(a, b):
    """Cast array operands to torch's result dtype; Python scalars stay weak for NumPy.

    Returns (a, b, result_np_dtype); arrays are in the compute dtype (float32 for half types).
    """
    if a.__class__ is _ND and b.__class__ is _ND and a.dtype == b.dtype:
        dt = a.dtype
    elif a.__class__ is _ND and b.__class__ is not _ND and _scalar_fits(a.dtype, b):
        dt = a.dtype
    else:
        dt = D.result_type_raw(a, b).np
    cdt = compute_dtype(dt)
    if a.__class__ is _ND:
        if a.dtype != cdt:
            a = a.astype(cdt)
    elif dt.kind in "iu" and isinstance(a, float):
        a = int(a)
    elif a.__class__ is int and dt.kind in "iu":
        a = _wrapped_int(a, cdt)
    elif a.__class__ not in _PY_NUMBERS and a.dtype != cdt:  # a device array
        a = a.astype(cdt)
    if b.__class__ is _ND:
        if b.dtype != cdt:
            b = b.astype(cdt)
    elif b.__class__ is int and dt.kind in "iu":
        b = _wrapped_int(b, cdt)
    elif b.__class__ not in _PY_NUMBERS and b.dtype != cdt:  # a device array
        b = b.astype(cdt)
    return a, b, dt


def _wrapped_int(value, dt):
    """A Python int as an integer tensor's dtype sees it: torch wraps values outside the dtype's range
    (``int8 + 300`` adds 44) where NumPy raises OverflowError."""
    info = np.iinfo(dt)
    if info.min <= value <= info.max:
        return value
    if not -2 ** 63 <= value < 2 ** 64:
        raise OverflowError("int too big to convert")
    span = 1 << info.bits
    return dt.type((value - info.min) % span + info.min)


def _scalar_fits(dt, s):
    # A Python scalar keeps the tensor's dtype when it is of the same or a lower category.
    t = type(s)
    if t is float:
        return dt.kind in "fcV"
    if t is int:
        return dt.kind in "iufcV"
    if t is bool:
        return True
    return False


def finish(out, dt):
    """Give a result the dtype torch would, and make 0-d results arrays."""
    if out.__class__ is not _ND:
        return as_array(out, dt)
    return out if out.dtype == dt else out.astype(dt)


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


# ------------------------------------------------------------------ binary ops
class Add(Op):
    def forward(ctx, a, b):
        a, b, dt = promote(a, b)
        return finish(np.add(a, b), dt)

    def backward(ctx, g):
        return g, g


class Sub(Op):
    def forward(ctx, a, b):
        a_bool, b_bool = _is_bool(a), _is_bool(b)
        if a_bool and b_bool:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                               "Use the `^` or `logical_xor()` operator instead.")
        if a_bool or b_bool:
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        a, b, dt = promote(a, b)
        return finish(np.subtract(a, b), dt)

    def backward(ctx, g):
        if not ctx.needs_input_grad[1]:
            return g, None
        return g, (Tensor._wrap(np.negative(g._data)) if not _enabled[0] else -g)


def _raw_real(x, g):
    """``x``'s array (or Python number) when ``g * x`` in NumPy is exactly ember's ``g * x``: a real
    float gradient and a saved operand of its dtype or a Python float/int; else None."""
    dt = g._data.dtype
    if dt not in _RAW_FLOAT:
        return None
    if isinstance(x, Tensor):
        d = x._data
        return d if d.dtype is dt else None
    return x if x.__class__ is float or x.__class__ is int else None


_RAW_FLOAT = frozenset(np.dtype(t) for t in ("float32", "float64"))


def _is_bool(x):
    if x.__class__ is _ND:
        return x.dtype == np.bool_
    if x.__class__ in _PY_NUMBERS:
        return x.__class__ is bool
    return x.__class__ is np.bool_ or (is_device_array(x) and x.dtype == np.bool_)


class Mul(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b, dt = promote(a, b)
        return finish(np.multiply(a, b), dt)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if not _enabled[0]:
            gd = g._data
            bd = _raw_real(b, g) if need_a else None  # (each operand read only for the other's gradient)
            ad = _raw_real(a, g) if need_b else None
            if (bd is not None or not need_a) and (ad is not None or not need_b):  # nothing records: the bare ufuncs
                return (Tensor._wrap(gd * bd) if need_a else None), (Tensor._wrap(gd * ad) if need_b else None)
        return (g * _conj(b) if need_a else None), (g * _conj(a) if need_b else None)


class Div(Op):
    def forward(ctx, a, b):
        b_in = b
        a, b, dt = promote(a, b)
        if dt.kind in "biu":
            dt = D.get_default_dtype().np
            a = a.astype(dt) if _is_arr(a) else a
            b = b.astype(dt) if _is_arr(b) else b
        with np.errstate(divide="ignore", invalid="ignore"):
            out = finish(np.true_divide(a, b), dt)
        ctx.save_for_backward(b_in, out if ctx.needs_input_grad[1] else None)
        return out

    def backward(ctx, g):
        b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if not _enabled[0]:
            gd, bd = g._data, _raw_real(b, g)
            od = _raw_real(out, g) if need_b else None  # (saved only when the divisor needs a gradient)
            if bd is not None and (od is not None or not need_b):  # nothing records: the bare ufuncs, same order
                return (Tensor._wrap(gd / bd) if need_a else None), (Tensor._wrap(-gd * od / bd) if need_b else None)
        ga = g / _conj(b) if need_a else None
        gb = -g * _conj(out) / _conj(b) if need_b else None
        return ga, gb


class Pow(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b, dt = promote(a, b)
        if dt.kind in "iu" and (bool((b < 0).any()) if _is_arr(b) else b < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = finish(np.power(a, b), dt)
        return out

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if g._data.dtype.kind == "c":  # holomorphic in both: g * conj(d out / d input)
            a, b = _conj(a), _conj(b)
        if need_a:
            if isinstance(b, Tensor):
                ga = where(b == 0, 0.0, g * b * a ** (b - 1))
            elif b == 0:
                ga = g * 0.0
            else:
                ga = g * b * a ** (b - 1)
        if need_b:
            out = a ** b
            if isinstance(a, Tensor):
                la = log(a)
            elif a.__class__ is complex:
                la = cmath.log(a)
            else:
                la = math.log(a) if a > 0 else float("nan")
            gb = g * out * la
            if isinstance(a, Tensor) and isinstance(b, Tensor):
                gb = where((a == 0) & ((b.real if b.is_complex() else b) >= 0), 0.0, gb)
        return ga, gb


class Maximum(Op):
    def forward(ctx, a, b):
        a, b, dt = promote(a, b)
        ctx.a_wins = a > b
        ctx.tie = a == b
        return finish(np.maximum(a, b), dt)

    def backward(ctx, g):
        return _split_grad(ctx, g)


class Minimum(Op):
    def forward(ctx, a, b):
        a, b, dt = promote(a, b)
        ctx.a_wins = a < b
        ctx.tie = a == b
        return finish(np.minimum(a, b), dt)

    def backward(ctx, g):
        return _split_grad(ctx, g)


def _split_grad(ctx, g):
    # torch splits the gradient evenly between tied inputs
    share = ctx.a_wins.astype(g._data.dtype) + 0.5 * ctx.tie.astype(g._data.dtype)
    s = Tensor._wrap(share)
    return g * s, g * (1 - s)


class Atan2(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b, dt = promote(a, b)
        dt = float_dtype_for(dt)
        return finish(np.arctan2(a, b), dt)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        denom = a * a + b * b
        return g * b / denom, -g * a / denom


class Fmod(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b, dt = promote(a, b)
        _check_int_div(dt, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return finish(np.fmod(a, b), dt)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = -g * trunc(a / b) if ctx.needs_input_grad[1] else None
        return g, gb


class Remainder(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b, dt = promote(a, b)
        _check_int_div(dt, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return finish(np.remainder(a, b), dt)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = -g * floor(a / b) if ctx.needs_input_grad[1] else None
        return g, gb


def _check_int_div(dt, b):
    if dt.kind in "iu" and (b == 0 if b.__class__ in _PY_NUMBERS else bool((b == 0).any())):
        raise RuntimeError("ZeroDivisionError")


class FloorDivide(Op):
    def forward(ctx, a, b):
        a, b, dt = promote(a, b)
        _check_int_div(dt, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return finish(np.floor_divide(a, b), dt)

    def backward(ctx, g):
        return g * 0, None


class TruncDivide(Op):
    def forward(ctx, a, b):
        a, b, dt = promote(a, b)
        _check_int_div(dt, b)
        if dt.kind in "iu":
            q = np.floor_divide(a, b)
            fix = (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
            return finish(q + fix, dt)
        with np.errstate(divide="ignore", invalid="ignore"):
            return finish(np.trunc(np.true_divide(a, b)), dt)

    def backward(ctx, g):
        return g * 0, None


def _comparison(ufunc, name):
    class Compare(Op):
        def forward(ctx, a, b):
            a, b, _ = promote(a, b)
            out = ufunc(a, b)
            return out if out.__class__ is _ND else as_array(out)

    Compare.__name__ = name
    return Compare


Eq = _comparison(np.equal, "Eq")
Ne = _comparison(np.not_equal, "Ne")
Lt = _comparison(np.less, "Lt")
Le = _comparison(np.less_equal, "Le")
Gt = _comparison(np.greater, "Gt")
Ge = _comparison(np.greater_equal, "Ge")


def _logical(ufunc, name):
    class Logical(Op):
        def forward(ctx, a, b):
            a = a.astype(bool) if a.__class__ is _ND else _truth(a)
            b = b.astype(bool) if b.__class__ is _ND else _truth(b)
            return as_array(ufunc(a, b))

    Logical.__name__ = name
    return Logical


def _truth(x):
    return x.astype(bool) if _is_arr(x) else bool(x)


LogicalAnd = _logical(np.logical_and, "LogicalAnd")
LogicalOr = _logical(np.logical_or, "LogicalOr")
LogicalXor = _logical(np.logical_xor, "LogicalXor")


def _bitwise(ufunc, name):
    class Bitwise(Op):
        def forward(ctx, a, b):
            a, b, dt = promote(a, b)
            if dt.kind not in "biu":
                raise RuntimeError(f'"{name}_cpu" not implemented for \'{D._BY_NP[dt].name.capitalize()}\'')
            return finish(ufunc(a, b), dt)

    Bitwise.__name__ = name
    return Bitwise


BitwiseAnd = _bitwise(np.bitwise_and, "bitwise_and")
BitwiseOr = _bitwise(np.bitwise_or, "bitwise_or")
BitwiseXor = _bitwise(np.bitwise_xor, "bitwise_xor")
LeftShift = _bitwise(np.left_shift, "lshift")
RightShift = _bitwise(np.right_shift, "rshift")


def _conj(t):
    if isinstance(t, Tensor):
        return t.conj() if t._data.dtype.kind == "c" else t
    return t.conjugate() if t.__class__ is complex else t


def _with_shape_check(op, a, b):
    try:
        return op.apply(a, b)
    except ValueError:
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            broadcast_shapes(a._data.shape, b._data.shape)
        elif isinstance(a, Tensor) or isinstance(b, Tensor):
            broadcast_shapes(getattr(_raw(a), "shape", ()), getattr(_raw(b), "shape", ()))
        raise


def _check_operand(x, name="other"):
    if not isinstance(x, (Tensor, int, float, bool, complex)):
        if isinstance(x, (np.number, np.bool_)):
            return x.item()
        if isinstance(x, np.ndarray):
            return Tensor._wrap(x)
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(x).__name__}")
    return x


# ------------------------------------------------------------------ public binary functions
def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with torch's type promotion."""
    other = _check_operand(other)
    if alpha != 1:
        other = mul(other, alpha)
    return write_out(_with_shape_check(Add, input, other), out)


def sub(input, other, *, alpha=1, out=None):
    other = _check_operand(other)
    if alpha != 1:
        other = mul(other, alpha)
    return write_out(_with_shape_check(Sub, input, other), out)


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input if alpha == 1 else mul(input, alpha))


def mul(input, other, *, out=None):
    other = _check_operand(other)
    return write_out(_with_shape_check(Mul, input, other), out)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    other = _check_operand(other)
    if rounding_mode is None:
        res = _with_shape_check(Div, input, other)
    elif rounding_mode == "floor":
        res = _with_shape_check(FloorDivide, input, other)
    elif rounding_mode == "trunc":
        res = _with_shape_check(TruncDivide, input, other)
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    return write_out(res, out)


divide = true_divide = div


def floor_divide(input, other, *, out=None):
    return write_out(_with_shape_check(FloorDivide, input, _check_operand(other)), out)


def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        input = _scalar_tensor_like(input, exponent)
    return write_out(_with_shape_check(Pow, input, _check_operand(exponent)), out)


def float_power(input, exponent, *, out=None):
    base = input.double() if isinstance(input, Tensor) else float(input)
    exp = exponent.double() if isinstance(exponent, Tensor) else exponent
    return pow(base, exp, out=out)


def _scalar_tensor_like(value, other):
    dt = D.result_type_raw(value, _raw(other)).np
    return Tensor._wrap(module_of(_raw(other)).asarray(value, dtype=dt))


def maximum(input, other, *, out=None):
    return write_out(_with_shape_check(Maximum, input, other), out)


def minimum(input, other, *, out=None):
    return write_out(_with_shape_check(Minimum, input, other), out)


def fmax(input, other, *, out=None):
    return where(isnan(other), input, where(isnan(input), other, maximum(input, other)))


def fmin(input, other, *, out=None):
    return where(isnan(other), input, where(isnan(input), other, minimum(input, other)))


def atan2(input, other, *, out=None):
    return write_out(_with_shape_check(Atan2, input, other), out)


arctan2 = atan2


def fmod(input, other, *, out=None):
    return write_out(_with_shape_check(Fmod, input, _check_operand(other)), out)


def remainder(input, other, *, out=None):
    if not isinstance(input, Tensor):
        input = _scalar_tensor_like(input, other)
    return write_out(_with_shape_check(Remainder, input, _check_operand(other)), out)


def hypot(input, other, *, out=None):
    return write_out(sqrt(input * input + other * other), out)


class Copysign(Op):
    def forward(ctx, a, b):
        a, b, dt = promote(a, b)
        dt = float_dtype_for(dt)
        out = finish(np.copysign(a, b), dt)
        ctx.flip = as_array(np.signbit(a) != np.signbit(out))
        return out

    def backward(ctx, g):
        ga = where(Tensor._wrap(ctx.flip), -g, g)
        return ga, (g * 0 if ctx.needs_input_grad[1] else None)


def copysign(input, other, *, out=None):
    return write_out(_with_shape_check(Copysign, input, _check_operand(other)), out)


def _compare(op, name):
    def fn(input, other, *, out=None):
        return write_out(_with_shape_check(op, input, _check_operand(other)), out)
    fn.__name__ = name
    return fn


eq, ne, lt, le, gt, ge = (_compare(op, n) for op, n in ((Eq, "eq"), (Ne, "ne"), (Lt, "lt"), (Le, "le"),
                                                         (Gt, "gt"), (Ge, "ge")))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _compare(LogicalAnd, "logical_and")
logical_or = _compare(LogicalOr, "logical_or")
logical_xor = _compare(LogicalXor, "logical_xor")
bitwise_and = _compare(BitwiseAnd, "bitwise_and")
bitwise_or = _compare(BitwiseOr, "bitwise_or")
bitwise_xor = _compare(BitwiseXor, "bitwise_xor")
bitwise_left_shift = _compare(LeftShift, "bitwise_left_shift")
bitwise_right_shift = _compare(RightShift, "bitwise_right_shift")


def equal(input, other):
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b, _ = promote(input._data, _raw(other))
    return Tensor._wrap(as_array(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


# ------------------------------------------------------------------ where / lerp / addcmul / clamp
class Where(Op):
    def forward(ctx, cond, a, b):
        if cond.dtype != np.bool_:
            if cond.dtype == np.uint8:
                cond = cond.astype(bool)
            else:
                raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                                   f"{D._BY_NP[cond.dtype].name.capitalize()}")
        ctx.cond = cond
        a, b, dt = promote(a, b)
        return finish(np.where(cond, a, b), dt)

    def backward(ctx, g):
        c = Tensor._wrap(ctx.cond)
        need_a, need_b = ctx.needs_input_grad[1:]
        z = g.new_zeros(())
        return None, (where(c, g, z) if need_a else None), (where(c, z, g) if need_b else None)


def where(condition, input=None, other=None, *, out=None):
    """torch.where(condition, input, other), or nonzero-as-tuple when only a condition is given."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    return write_out(Where.apply(condition, input, other), out)


def lerp(input, end, weight, *, out=None):
    return write_out(input + weight * (end - input), out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    prod = tensor1 * tensor2
    return write_out(input + (prod * value if value != 1 else prod), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if not (tensor1.is_floating_point() or tensor2.is_floating_point()) and not tensor1.is_complex():
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release "
                           "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
                           "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) "
                           "for integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    q = tensor1 / tensor2
    return write_out(input + (q * value if value != 1 else q), out)


class Clamp(Op):
    def forward(ctx, x, lo, hi):
        if x.dtype in _NATIVE_FLOAT and _plain_bound(lo) and _plain_bound(hi):
            # Python-number bounds on float32/64 (relu as clamp(min=0)): NumPy's maximum/minimum already
            # propagate NaN, and only the input can need a gradient.
            out = x if lo is None else np.maximum(x, lo)
            if hi is not None:
                out = np.minimum(out, hi)
            if ctx.needs_input_grad[0]:
                # torch: where(self >= min & self <= max, grad, 0), so a NaN input gets no gradient
                ctx.x_mask = x <= hi if lo is None else x >= lo if hi is None else (x >= lo) & (x <= hi)
            return finish(out, x.dtype)
        lo_is_arr, hi_is_arr = _is_arr(lo), _is_arr(hi)
        if not lo_is_arr and not hi_is_arr and x.dtype.kind in "fV":
            dt = x.dtype  # float scalars never upcast a float tensor
        else:
            dt = D.result_type_raw(x, lo, hi).np
        cdt = compute_dtype(dt)
        xc = x.astype(cdt) if x.dtype != cdt else x
        lo_c = lo.astype(cdt) if lo_is_arr else lo
        hi_c = hi.astype(cdt) if hi_is_arr else hi
        out = xc
        if lo_c is not None:
            out = np.maximum(out, lo_c)
        if hi_c is not None:
            out = np.minimum(out, hi_c)
        if xc.dtype.kind == "f" and np.isnan(xc).any():
            out = np.where(np.isnan(xc), xc, out)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            # torch's clamp_backward_min_max masks
            below = xc < lo_c if lo_c is not None else _falses(xc)
            above = xc > hi_c if hi_c is not None else _falses(xc)
            if lo_c is not None and hi_c is not None:
                ctx.lo_mask = below & (lo_c < hi_c)
                ctx.hi_mask = above | (hi_c < lo_c)
            else:
                ctx.lo_mask, ctx.hi_mask = below, above
            ctx.x_mask = ~(below | above)
            if xc.dtype.kind == "f":  # torch's masks compare with >= and <=: NaN inputs get no gradient
                ctx.x_mask &= xc == xc
        return finish(out, dt)

    def backward(ctx, g):
        need = ctx.needs_input_grad
        gd = g._data
        if not _enabled[0] and need[0] and not need[1] and not need[2] and gd.dtype in _RAW_FLOAT:
            # nothing records, Python-number bounds: where(mask, g, 0) in NumPy
            return Tensor._wrap(np.where(ctx.x_mask, gd, gd.dtype.type(0))), None, None
        z = g.new_zeros(())
        pick = lambda m: where(Tensor._wrap(as_array(m)), g, z)
        return (pick(ctx.x_mask) if ctx.needs_input_grad[0] else None,
                pick(ctx.lo_mask) if ctx.needs_input_grad[1] else None,
                pick(ctx.hi_mask) if ctx.needs_input_grad[2] else None)


def _falses(x):
    return np.zeros(x.shape, bool) if x.__class__ is _ND else np.zeros_like(x, dtype=bool)


def _plain_bound(b):
    return b is None or ((b.__class__ is float or b.__class__ is int) and b == b)


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    x = input._data
    if out is None and x.__class__ is _ND and x.dtype in _NATIVE_FLOAT and _plain_bound(min) and _plain_bound(max):
        return _clamp_numbers(input, x, min, max)
    return write_out(Clamp.apply(input, min, max), out)


def _clamp_numbers(input, x, lo, hi):
    """Clamp's Python-number-bounds branch on a float32/64 ndarray (relu as clamp(min=0)), with its node
    recorded directly: the same arithmetic, mask and node as ``Clamp.apply``."""
    out = x if lo is None else np.maximum(x, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    if out.__class__ is not _ND:  # a 0-d input gives a NumPy scalar
        out = np.asarray(out)
    if not (_enabled[0] and input.requires_grad):
        t = _new(Tensor)
        t._data = out
        return t
    ctx = _new(Clamp)
    ctx._edges = (edge_of(input), None, None)
    ctx.x_mask = x <= hi if lo is None else x >= lo if hi is None else (x >= lo) & (x <= hi)
    return wrap_recorded(out, ctx)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


# ------------------------------------------------------------------ unary ops
# name -> (numpy forward, gradient in ember ops g(x, out, grad), kind)
# kind: "float" (ints give the default float dtype), "same" (keeps the dtype), "round" (float only,
# zero gradient), "bool" (bool result)
def _special(a):
    """The special-function module for ``a``'s data: scipy.special (None without SciPy) or cupyx's."""
    return special_module(np if a.__class__ is _ND else array_module(a))


def _erf(a):
    sp = _special(a)
    if sp is not None:
        return sp.erf(a)
    return np.vectorize(math.erf, otypes=[a.dtype])(a)


def _erfinv(a):
    sp = _special(a)
    if sp is not None:
        return sp.erfinv(a)
    raise RuntimeError("erfinv needs SciPy (pip install scipy)")


def _lgamma(a):
    sp = _special(a)
    if sp is not None:
        return sp.gammaln(a)
    return np.vectorize(math.lgamma, otypes=[a.dtype])(a)


def _digamma(a):
    sp = _special(a)
    if sp is not None:
        return sp.digamma(a)
    raise RuntimeError("digamma needs SciPy (pip install scipy)")


def _trigamma(a):
    sp = _special(a)
    if sp is not None:
        return sp.polygamma(1, a).astype(a.dtype)
    raise RuntimeError("the derivative of digamma needs SciPy (pip install scipy)")


def _sigmoid(a):
    if a.dtype.kind == "c":
        return 1 / (1 + np.exp(-a))
    # exp of a non-positive argument only, so large |a| neither overflows nor loses precision
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


_UNARY = {
    "exp": (np.exp, lambda x, y, g: g * y, "float"),
    "exp2": (np.exp2, lambda x, y, g: g * y * math.log(2), "float"),
    "expm1": (np.expm1, lambda x, y, g: g * (y + 1), "float"),
    "log": (np.log, lambda x, y, g: g / x, "float"),
    "log2": (np.log2, lambda x, y, g: g / (x * math.log(2)), "float"),
    "log10": (np.log10, lambda x, y, g: g / (x * math.log(10)), "float"),
    "log1p": (np.log1p, lambda x, y, g: g / (x + 1), "float"),
    "sqrt": (np.sqrt, lambda x, y, g: g / (2 * y), "float"),
    "rsqrt": (lambda a: 1 / np.sqrt(a), lambda x, y, g: -0.5 * g * y * y * y, "float"),
    "sin": (np.sin, lambda x, y, g: g * cos(x), "float"),
    "cos": (np.cos, lambda x, y, g: -g * sin(x), "float"),
    "tan": (np.tan, lambda x, y, g: g * (1 + y * y), "float"),
    "asin": (np.arcsin, lambda x, y, g: g * rsqrt(1 - x * x), "float"),
    "acos": (np.arccos, lambda x, y, g: -g * rsqrt(1 - x * x), "float"),
    "atan": (np.arctan, lambda x, y, g: g / (1 + x * x), "float"),
    "sinh": (np.sinh, lambda x, y, g: g * cosh(x), "float"),
    "cosh": (np.cosh, lambda x, y, g: g * sinh(x), "float"),
    "tanh": (np.tanh, lambda x, y, g: g * (1 - y * y), "float"),
    "asinh": (np.arcsinh, lambda x, y, g: g * rsqrt(x * x + 1), "float"),
    "acosh": (np.arccosh, lambda x, y, g: g * rsqrt(x * x - 1), "float"),
    "atanh": (np.arctanh, lambda x, y, g: g / (1 - x * x), "float"),
    "sigmoid": (_sigmoid, lambda x, y, g: g * y * (1 - y), "float"),
    "erf": (_erf, lambda x, y, g: g * (2 / math.sqrt(math.pi)) * exp(-x * x), "float"),
    "erfc": (lambda a: 1 - _erf(a), lambda x, y, g: -g * (2 / math.sqrt(math.pi)) * exp(-x * x), "float"),
    "erfinv": (_erfinv, lambda x, y, g: g * (math.sqrt(math.pi) / 2) * exp(y * y), "float"),
    "lgamma": (_lgamma, lambda x, y, g: g * digamma(x), "float"),
    "digamma": (_digamma, lambda x, y, g: g * Tensor._wrap(_trigamma(x._data)), "float"),
    "reciprocal": (lambda a: 1 / a, lambda x, y, g: -g * y * y, "float"),
    "neg": (np.negative, lambda x, y, g: -g, "same"),
    "abs": (np.abs, lambda x, y, g: g * sgn(x), "same"),  # sgn: differentiable for complex x
    "square": (np.square, lambda x, y, g: 2 * g * x, "same"),
    "sign": (np.sign, lambda x, y, g: g * 0, "same"),
    "sgn": (np.sign, lambda x, y, g: _sgn_grad(x, g), "same"),
    "floor": (np.floor, lambda x, y, g: g * 0, "round"),
    "ceil": (np.ceil, lambda x, y, g: g * 0, "round"),
    "trunc": (np.trunc, lambda x, y, g: g * 0, "round"),
    "round": (np.round, lambda x, y, g: g * 0, "round"),
    "frac": (lambda a: a - np.trunc(a), lambda x, y, g: g, "round"),
    "signbit": (np.signbit, None, "bool"),
    "isnan": (np.isnan, None, "bool"),
    "isinf": (np.isinf, None, "bool"),
    "isfinite": (np.isfinite, None, "bool"),
    "isposinf": (np.isposinf, None, "bool"),
    "isneginf": (np.isneginf, None, "bool"),
    "logical_not": (np.logical_not, None, "bool"),
    "bitwise_not": (np.invert, None, "int"),
    "conj": (np.conj, lambda x, y, g: g.conj(), "same"),
    "angle": (np.angle, lambda x, y, g: _angle_grad(x, g), "float"),
}
# Complex inputs: for these (holomorphic) functions torch's gradient is g * conj(f'(z)), which the
# formulas above give when evaluated at conj(z) (their coefficients are real).
_NOT_HOLOMORPHIC = frozenset(("abs", "angle", "sgn", "sign", "conj"))


def _sgn_grad(x, g):
    if not x.is_complex():
        return g * 0
    # sgn(z) = z / |z| is not holomorphic: (g - conj(g) * sgn(z)^2) / (2 |z|), zero at z == 0
    r = x.abs()
    s = x / r
    return where(r == 0, 0.0, (g - g.conj() * s * s) / (2 * r))  # noqa: F821


def _angle_grad(x, g):
    if not x.is_complex():
        return g * 0
    # d angle / d conj(z) convention: g * z / |z|^2 * 1j, zero at z == 0 (torch's choice)
    return where(x == 0, 0.0, g * x / x.abs().square() * 1j)  # noqa: F821
_NEEDS = {"x": ("log", "log2", "log10", "log1p", "sin", "cos", "asin", "acos", "atan", "sinh", "cosh", "asinh",
                "acosh", "atanh", "erf", "erfc", "lgamma", "digamma", "abs", "square", "angle", "sgn"),
          "y": ("exp", "exp2", "expm1", "sqrt", "rsqrt", "tan", "tanh", "sigmoid", "erfinv", "reciprocal")}


# Unary ops that raise no floating-point warning on real floats: their forward skips np.errstate
# (entering it costs more than the op on a small tensor).
_QUIET = frozenset(("neg", "abs", "sign", "floor", "ceil", "trunc", "round", "conj"))


def _make_unary(name, fwd, grad, kind):
    saves_x = name in _NEEDS["x"]
    saves_y = name in _NEEDS["y"]
    quiet = name in _QUIET

    def forward(ctx, x):
        dt = x.dtype
        if kind == "float":
            dt = float_dtype_for(dt)
        elif kind == "bool":
            if x.dtype.kind in "iub" and name in ("isnan", "isinf", "isposinf", "isneginf", "signbit"):
                return as_array(np.signbit(x)) if name == "signbit" else np.zeros_like(x, dtype=bool)
            if name == "isfinite" and x.dtype.kind in "iub":
                return np.ones_like(x, dtype=bool)
            out = fwd(x)
            return out if out.__class__ is _ND else as_array(out)
        elif kind == "int":
            if dt.kind not in "biu":
                raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{D._BY_NP[dt].name.capitalize()}'")
            return as_array(np.logical_not(x) if dt == np.bool_ else fwd(x))
        elif kind == "round" and dt.kind in "biu":
            return x.copy() if name != "frac" else np.zeros_like(x)
        elif name == "abs" and dt == np.bool_:
            return x.copy()
        elif name == "neg" and dt == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                               "to invert a mask, use the `~` or `logical_not()` operator instead.")
        if name in ("abs", "angle") and dt.kind == "c":  # real results: complex64 -> float32, ...128 -> 64
            ctx.save_for_backward(x, None)
            return as_array(fwd(x))
        if quiet and dt in _NATIVE_FLOAT:
            out = fwd(x)
            out = out if out.__class__ is _ND else as_array(out, dt)
        else:
            cdt = compute_dtype(dt)
            xc = x if x.dtype == cdt else x.astype(cdt)
            with np.errstate(all="ignore"):
                out = finish(fwd(xc), dt)
        if saves_x or saves_y:
            ctx.save_for_backward(x if saves_x else None, out if saves_y else None)
        return out

    def backward(ctx, g):
        if grad is None:
            raise RuntimeError(f"the derivative for '{name}' is not implemented.")
        if name == "neg" and not _enabled[0]:
            return Tensor._wrap(np.negative(g._data))
        x, y = ctx.saved_tensors if (saves_x or saves_y) else (None, None)
        if g._data.dtype.kind == "c" and name not in _NOT_HOLOMORPHIC:
            x = x.conj() if x is not None else None
            y = y.conj() if y is not None else None
        return grad(x, y, g)

    cls = type(name.capitalize(), (Op,), {"forward": forward, "backward": backward})

    def fn(input, *, out=None):
        return write_out(cls.apply(input), out)

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}``, as ``torch.{name}``."
    fn._op = cls
    return fn


for _name, (_fwd, _grad, _kind) in _UNARY.items():
    globals()[_name] = _make_unary(_name, _fwd, _grad, _kind)

absolute = abs  # noqa: F821 (defined by the table above)
_Neg = neg._op  # noqa: F821
negative = neg  # noqa: F821
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh  # noqa: F821
fix = trunc  # noqa: F821
special_expit = sigmoid  # noqa: F821
_round_plain = round  # noqa: F821


def round(input, *, decimals=0, out=None):
    if decimals == 0:
        return _round_plain(input, out=out)
    scale = 10.0 ** decimals
    return write_out(_round_plain(input * scale) / scale, out)


def logit(input, eps=None, *, out=None):
    x = input if eps is None else clamp(input, eps, 1 - eps)
    return write_out(log(x / (1 - x)), out)  # noqa: F821


def xlogy(input, other, *, out=None):
    return write_out(where(input == 0, 0.0, input * log(other)), out)  # noqa: F821


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if input._data.dtype.kind not in "fcV":
        return write_out(input.clone(), out)
    info = np.finfo(compute_dtype(input._data.dtype)) if input.dtype is not D.bfloat16 else None
    big = float(info.max) if info is not None else 3.3895313892515355e38
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    r = where(isnan(input), nan, input)  # noqa: F821
    r = where(isposinf(input), posinf, r)  # noqa: F821
    return write_out(where(isneginf(input), neginf, r), out)  # noqa: F821


def positive(input):
    return input


# ------------------------------------------------------------------ methods and operators
def _reflected_scalar(fn, scalar, tensor):
    if fn is sub:
        if scalar.__class__ is bool or tensor._data.dtype == np.bool_:
            return Sub.apply(scalar, tensor)  # raises torch's bool-subtraction error
        return add(neg(tensor), scalar)  # noqa: F821
    if fn is div:
        return mul(reciprocal(tensor), scalar)  # noqa: F821
    if fn is floor_divide:
        return floor_divide(_scalar_tensor_like(scalar, tensor), tensor)
    return fn(tensor, scalar)


# Operator fast paths. For operands of one dtype whose NumPy arithmetic already is torch's (no
# promotion, no float32 round trip for half types) the op is the bare ufunc: no promote(), no
# write_out(), no ctx when nothing records. Anything else, including every error (a broadcast
# failure surfaces as ValueError), takes the general path, which gives torch's result and message.
# tuples, float32 first: a dtype found by identity at the front costs less than a set's hash
_NATIVE_FLOAT = tuple(np.dtype(t) for t in ("float32", "float64"))
_F32 = _NATIVE_FLOAT[0]  # tested by identity before the tuple: float32 is the common case
_NATIVE_ARITH = _NATIVE_FLOAT + tuple(np.dtype(t) for t in ("int64", "int32", "int16", "int8", "uint8"))
_new = object.__new__


_DIVISOR = "divisor"


def _operator(ufunc, op, general, native, scalar_ok=None, saves=None):
    # saves: None records through op's own forward; True/False records the node directly, saving
    # (self, other) or nothing, as that forward would; _DIVISOR (division) records it directly when
    # the divisor is a Python number, saving only that number, as Div.forward does.
    def method(self, other):
        a = self._data
        if other.__class__ is Tensor or isinstance(other, Tensor):  # the class test first: the common case
            b = other._data
            dt = a.dtype
            if dt is not b.dtype or (dt is not _F32 and dt not in native):
                return general(self, other)
            if _enabled[0]:
                a_grad = self.requires_grad
                b_grad = other.requires_grad
            else:
                a_grad = b_grad = False
        elif other.__class__ is float or other.__class__ is int:
            dt = a.dtype
            if (dt is not _F32 and dt not in _NATIVE_FLOAT) or (scalar_ok is not None and not scalar_ok(other)):
                return general(self, other)
            b = other
            a_grad = self.requires_grad if _enabled[0] else False
            b_grad = False
        else:
            return general(self, other)
        if (a_grad or b_grad) and (saves is None or dt not in _NATIVE_FLOAT or (saves is _DIVISOR and b is not other)):
            try:
                return op._apply_recording((self, other))
            except ValueError:
                return general(self, other)
        try:
            out = ufunc(a, b)
        except (ValueError, TypeError):  # a broadcast failure, or CuPy refusing a tensor from another device
            return general(self, other)
        if out.__class__ is not _ND and isinstance(out, np.generic):  # NumPy's 0-d result; CuPy's is an array
            out = np.asarray(out)
        if a_grad or b_grad:
            if saves is _DIVISOR:
                ctx = _new(op)
                ctx._edges = (edge_of(self), None)
                ctx._saved = (saved_constant(other), None)
                return wrap_recorded(out, ctx)
            return record_binary(op, self, other, out, saves, a_grad, b_grad)
        t = _new(Tensor)
        t._data = out
        t.requires_grad = False  # stored, not the class default: the next op's read of it is specialised
        return t
    method.__name__ = f"__{general.__name__}__"
    return method


def _fast_neg(self):
    # -x on float32/64: the bare ufunc, and the node recorded directly (neg saves nothing)
    d = self._data
    if d.__class__ is not _ND or d.dtype not in _NATIVE_FLOAT:
        return neg(self)  # noqa: F821
    out = np.negative(d)
    if out.__class__ is not _ND:
        out = np.asarray(out)
    if _enabled[0] and self.requires_grad:
        ctx = _new(_Neg)
        ctx._edges = (edge_of(self),)
        return wrap_recorded(out, ctx)
    t = _new(Tensor)
    t._data = out
    return t


def _general(op, fn):
    def general(self, other):
        if other.__class__ is Tensor or other.__class__ in (int, float):
            return _with_shape_check(op, self, other)
        return fn(self, other)
    general.__name__ = fn.__name__
    return general


_fast_add = _operator(np.add, Add, _general(Add, add), _NATIVE_ARITH, saves=False)
_fast_sub = _operator(np.subtract, Sub, _general(Sub, sub), _NATIVE_ARITH, saves=False)
_fast_mul = _operator(np.multiply, Mul, _general(Mul, mul), _NATIVE_ARITH, saves=True)
# a divisor that is a safe float32 (neither 0 nor denormal once cast) cannot raise divide/invalid
_fast_div = _operator(np.true_divide, Div, _general(Div, div), _NATIVE_FLOAT,
                      lambda s: 1e-30 < s < 1e30 or -1e30 < s < -1e-30, saves=_DIVISOR)  # builtin abs is shadowed here


def _fast_inplace(op, fallback):
    # No graph to record: run the ufunc straight into self's storage (the optimizer's hot path).
    def method(self, other, **kwargs):
        if kwargs or not (other.__class__ is Tensor or other.__class__ in (int, float)) or self._data.dtype in D.REDUCED_NP:
            return apply_inplace(self, fallback, other, **kwargs)
        from ..autograd.grad_mode import _enabled
        if _enabled[0] and (self.requires_grad or (other.__class__ is Tensor and other.requires_grad)):
            return apply_inplace(self, fallback, other)
        o = other._data if other.__class__ is Tensor else other
        rdt = D.result_type_raw(self._data, o)
        if rdt.np != self._data.dtype:
            return apply_inplace(self, fallback, other)
        try:
            op(self._data, o, out=self._data)
        except TypeError:  # CuPy refuses an operand from another device: the general path says so in torch's words
            return apply_inplace(self, fallback, other)
        self._bump_version()
        return self
    method.__name__ = fallback.__name__ + "_"
    return method


install(
    add=add, sub=sub, subtract=sub, mul=mul, multiply=mul, div=div, divide=div, true_divide=div,
    floor_divide=floor_divide, pow=pow, float_power=float_power, maximum=maximum, minimum=minimum, fmax=fmax,
    fmin=fmin, atan2=atan2, arctan2=atan2, fmod=fmod, remainder=remainder, hypot=hypot, copysign=copysign,
    eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, greater=gt, greater_equal=ge, less=lt, less_equal=le,
    not_equal=ne, logical_and=logical_and, logical_or=logical_or, logical_xor=logical_xor,
    bitwise_and=bitwise_and, bitwise_or=bitwise_or, bitwise_xor=bitwise_xor,
    bitwise_left_shift=bitwise_left_shift, bitwise_right_shift=bitwise_right_shift,
    equal=equal, isclose=isclose, allclose=allclose, where=lambda self, condition, other: where(condition, self, other),
    lerp=lerp, addcmul=addcmul, addcdiv=addcdiv, clamp=clamp, clip=clamp, clamp_min=clamp_min,
    clamp_max=clamp_max, logit=logit, xlogy=xlogy, nan_to_num=nan_to_num, round=round, positive=positive, rsub=rsub,
    absolute=abs, negative=neg, arcsin=asin, arccos=acos, arctan=atan, arcsinh=asinh, arccosh=acosh,  # noqa: F821
    arctanh=atanh, fix=trunc,  # noqa: F821
    __add__=_fast_add, __radd__=_fast_add, __sub__=_fast_sub, __rsub__=lambda s, o: _reflected_scalar(sub, o, s)
    if not isinstance(o, Tensor) else sub(o, s), __mul__=_fast_mul, __rmul__=_fast_mul, __truediv__=_fast_div,
    __rtruediv__=lambda s, o: _reflected_scalar(div, o, s) if not isinstance(o, Tensor) else div(o, s),
    __floordiv__=floor_divide, __rfloordiv__=lambda s, o: _reflected_scalar(floor_divide, o, s),
    __mod__=remainder, __rmod__=lambda s, o: remainder(_scalar_tensor_like(o, s), s),
    __pow__=pow, __rpow__=lambda s, o: pow(_scalar_tensor_like(o, s), s),
    __neg__=_fast_neg, __pos__=positive, __abs__=lambda s: abs(s),  # noqa: F821
    __invert__=lambda s: bitwise_not(s),  # noqa: F821
    __eq__=eq, __ne__=ne, __lt__=lt, __le__=le, __gt__=gt, __ge__=ge,
    __and__=bitwise_and, __rand__=bitwise_and, __or__=bitwise_or, __ror__=bitwise_or,
    __xor__=bitwise_xor, __rxor__=bitwise_xor, __lshift__=bitwise_left_shift, __rshift__=bitwise_right_shift,
    add_=_fast_inplace(np.add, add), sub_=_fast_inplace(np.subtract, sub), mul_=_fast_inplace(np.multiply, mul),
    div_=inplace_method(div), __iadd__=_fast_inplace(np.add, add), __isub__=_fast_inplace(np.subtract, sub),
    __imul__=_fast_inplace(np.multiply, mul), __itruediv__=inplace_method(div),
)
for _fn in (pow, floor_divide, fmod, remainder, clamp, clamp_min, clamp_max, lerp, addcmul, addcdiv, maximum,
            minimum, atan2, hypot, logit, nan_to_num, round, copysign, xlogy, float_power,
            eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_xor, bitwise_and, bitwise_or, bitwise_xor):
    setattr(Tensor, _fn.__name__ + "_", inplace_method(_fn))
Tensor.subtract_, Tensor.multiply_, Tensor.divide_, Tensor.true_divide_, Tensor.clip_ = (
    Tensor.sub_, Tensor.mul_, Tensor.div_, Tensor.div_, Tensor.clamp_)
Tensor.__ipow__ = Tensor.pow_
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__imod__ = Tensor.remainder_
Tensor.__iand__, Tensor.__ior__, Tensor.__ixor__ = Tensor.bitwise_and_, Tensor.bitwise_or_, Tensor.bitwise_xor_

for _name in _UNARY:
    setattr(Tensor, _name, globals()[_name])
    setattr(Tensor, _name + "_", inplace_method(globals()[_name]))
Tensor.round = round
Tensor.round_ = inplace_method(round)

__all__ = [n for n in list(globals()) if not n.startswith("_") and callable(globals()[n])
           and n not in ("Op", "Tensor", "D", "np", "math", "install", "compute_dtype", "float_dtype_for",
                         "broadcast_shapes", "inplace_method", "write_out", "apply_inplace", "promote", "finish")
           and not n[0].isupper()]
