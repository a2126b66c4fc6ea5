"""Reductions: sum, mean, max/min, var/std, logsumexp, all/any, cumulative ops.

Reduced-precision inputs accumulate in float32; integer sums give int64, as in torch.
"""
import builtins
from collections import namedtuple

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import _enabled
from .._device import array_module, as_array
from ._util import (install, wrap_dims, wrap_dim, compute_dtype, type_name, edge_of, wrap_recorded, saved_input,
                    saved_output)
from .inplace import write_out

_ND = np.ndarray
_HOST = (np.ndarray, np.generic, int)  # NumPy results (device arrays go through as_array)
_RAW_FLOAT = frozenset(np.dtype(t) for t in ("float32", "float64"))
# ufunc.reduce straight: np.sum's and np.max's arithmetic without their Python wrappers (float32/64 ndarrays)
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce
_new = object.__new__


def _keep_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    if not keepdim:
        g = g.reshape(_keep_shape(in_shape, dims))
    return g.expand(in_shape)


def _sum_dtype(x_dtype, dtype):
    if dtype is not None:
        return D.to_dtype(dtype).np
    if x_dtype.kind in "biu":
        return np.dtype(np.int64)
    return x_dtype


class Sum(Op):
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        out_dt = _sum_dtype(x.dtype, dtype)
        acc = compute_dtype(out_dt)
        out = np.sum(x, axis=dims, keepdims=keepdim, dtype=acc)
        if out.__class__ is _ND:
            return out if out.dtype == out_dt else out.astype(out_dt)
        return np.asarray(out, out_dt) if isinstance(out, np.generic) else as_array(out, out_dt)

    def backward(ctx, g):
        # dims None: x.sum() of every element (a 0-d gradient, expanded as it is)
        if not _enabled[0]:  # nothing records: a broadcast view of the gradient's array
            gd = g._data
            if ctx.dims is None:
                if gd.__class__ is _ND:
                    return Tensor._wrap(_expanded_scalar(gd, ctx.in_shape)), None, None, None
            elif not ctx.keepdim:
                gd = gd.reshape(_keep_shape(ctx.in_shape, ctx.dims))
            return Tensor._wrap(np.broadcast_to(gd, ctx.in_shape)), None, None, None
        if ctx.dims is None:
            return g.expand(ctx.in_shape), None, None, None
        return _expand_back(g, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None


def _expanded_scalar(a, shape):
    """np.broadcast_to(a, shape) for a 0-d ndarray: a read-only view with zero strides, built directly
    (broadcast_to's argument checks cost several times the view)."""
    view = _ND(shape, a.dtype, a, 0, (0,) * len(shape))
    view.setflags(write=False)
    return view


class SumToSize(Op):
    """Sum a broadcast gradient back to ``shape`` (leading dims and size-1 dims)."""

    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1)
        out = np.sum(x, axis=axes, keepdims=True, dtype=compute_dtype(x.dtype)) if axes else x
        out = out.reshape(shape)
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    def backward(ctx, g):
        return g.expand(ctx.in_shape), None


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum over ``dim`` (an int, a tuple, or all dims)."""
    if dim is None and dtype is None and out is None and not keepdim:
        x = input._data
        if x.__class__ is _ND and x.dtype in _RAW_FLOAT:
            return _sum_all(input, x)
    if isinstance(dim, (D.dtype, type)) and dtype is None:  # torch.sum(x, dtype) positional form
        dim, dtype = None, dim
    dims = wrap_dims(dim, input._data.ndim) if dim is not None and dim != () and dim != [] else tuple(range(input._data.ndim))
    return write_out(Sum.apply(input, dims, keepdim, dtype), out)


def _sum_all(input, x):
    """x.sum() of a float32/64 ndarray: Sum's arithmetic (add.reduce over every axis), its node recorded
    directly (dims None: all of them)."""
    out = np.asarray(_add_reduce(x, axis=None))
    if not (_enabled[0] and input.requires_grad):
        t = _new(Tensor)
        t._data = out
        return t
    ctx = _new(Sum)
    ctx._edges = (edge_of(input), None, None, None)
    ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, None, False
    return wrap_recorded(out, ctx)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return sum(input.nan_to_num(0.0, float("inf"), float("-inf")) if input.is_floating_point() else input,
               dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    dt = D.to_dtype(dtype) if dtype is not None else input.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {type_name(dt)}")
    dims = wrap_dims(dim, input._data.ndim) if dim is not None and dim != () and dim != [] else tuple(range(input._data.ndim))
    n = 1
    for d in dims:
        n *= input._data.shape[d]
    s = Sum.apply(input, dims, keepdim, dtype)
    return write_out(s / n if n else s * float("nan"), out)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    notnan = ~input.isnan()
    return nansum(input, dim, keepdim, dtype=dtype) / notnan.sum(dim, keepdim)


class Prod(Op):
    def forward(ctx, x, dim, keepdim, dtype):
        ctx.dim, ctx.keepdim = dim, keepdim
        out_dt = _sum_dtype(x.dtype, dtype)
        out = np.prod(x, axis=dim, keepdims=keepdim, dtype=compute_dtype(out_dt))
        ctx.save_for_backward(x)
        return np.asarray(out, out_dt) if isinstance(out, _HOST) else as_array(out, out_dt)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        if ctx.dim is None:
            flat = x.reshape(-1)
            return (g * _conj(_prod_others(flat, 0)).reshape(x.shape)), None, None, None
        d = ctx.dim
        if not ctx.keepdim:
            g = g.unsqueeze(d)
        return g * _conj(_prod_others(x, d)), None, None, None


def _conj(t):
    return t.conj() if t.is_complex() else t


def _prod_others(x, d):
    # product of all other elements along d without dividing (exact with zeros)
    ones_shape = list(x.shape)
    ones_shape[d] = 1
    one = x.new_ones(ones_shape)
    left = cumprod(cat_along(one, x.narrow(d, 0, x.shape[d] - 1), d), d)
    right = cumprod(cat_along(one, x.flip(d).narrow(d, 0, x.shape[d] - 1), d), d).flip(d)
    return left * right


def cat_along(a, b, d):
    from .shape import cat
    return cat([a, b], d)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dim is not None:
        dim = wrap_dim(dim, input._data.ndim)
    return Prod.apply(input, dim, keepdim, dtype)


# ------------------------------------------------------------------ max / min
_values_indices = namedtuple("torch_return_types", ["values", "indices"])


class _MinMaxDim(Op):
    reducer = None

    def forward(ctx, x, dim, keepdim):
        if x.shape[dim] == 0 if x.ndim else False:
            raise IndexError(f"{ctx.opname}(): Expected reduction dim {dim} to have non-zero size.")
        idx = ctx.argfn(x, axis=dim, keepdims=True) if x.ndim else array_module(x).zeros((), np.int64)
        if x.dtype.kind in "fV":  # NaN wins in torch
            nan_idx = np.argmax(np.isnan(x), axis=dim, keepdims=True) if x.ndim else idx
            has_nan = np.take_along_axis(np.isnan(x), nan_idx, dim) if x.ndim else np.isnan(x)
            idx = np.where(has_nan, nan_idx, idx)
        vals = np.take_along_axis(x, idx, dim) if x.ndim else x.copy()
        ctx.in_shape, ctx.dim, ctx.keepdim, ctx.idx = x.shape, dim, keepdim, idx
        if not keepdim and x.ndim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        idx = idx.astype(np.int64)
        ctx.mark_non_differentiable(idx)
        return vals, idx

    def backward(ctx, g, _):
        from .indexing import scatter_raw_grad
        return scatter_raw_grad(g, ctx.in_shape, ctx.dim, ctx.idx, ctx.keepdim), None, None


class MaxDim(_MinMaxDim):
    argfn = staticmethod(np.argmax)
    opname = "max"


class MinDim(_MinMaxDim):
    argfn = staticmethod(np.argmin)
    opname = "min"


class AMax(Op):
    fn = staticmethod(np.amax)

    def forward(ctx, x, dims, keepdim):
        if x.size == 0 and any(x.shape[d] == 0 for d in dims) if x.ndim else False:
            raise IndexError(f"{ctx.opname}(): Expected reduction dim {dims[0]} to have non-zero size.")
        out = type(ctx).fn(x, axis=dims, keepdims=keepdim)
        if out.__class__ is not _ND:  # a NumPy scalar, or a device array
            out = np.asarray(out) if isinstance(out, np.generic) else as_array(out)
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            shape = _keep_shape(x.shape, ctx.dims)
            out, g = out.reshape(shape), g.reshape(shape)
        mask = (x == out).to(g.dtype)
        return g * mask / mask.sum(ctx.dims, keepdim=True), None, None


class AMin(AMax):
    fn = staticmethod(np.amin)
    opname = "amin"


AMax.opname = "amax"


def _minmax(op_dim, op_all, name):
    def fn(input, dim=None, keepdim=False, *, out=None):
        if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
            from .elementwise import maximum, minimum
            return (maximum if name == "max" else minimum)(input, dim)
        if dim is None:
            if input._data.size == 0:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument.")
            return op_all.apply(input, tuple(range(input._data.ndim)), False)
        res = op_dim.apply(input, wrap_dim(dim, input._data.ndim), keepdim)
        return _values_indices(*res)
    fn.__name__ = name
    return fn


max = _minmax(MaxDim, AMax, "max")
min = _minmax(MinDim, AMin, "min")


def amax(input, dim=(), keepdim=False, *, out=None):
    dims = wrap_dims(dim if dim != () and dim != [] else None, input._data.ndim)
    return write_out(AMax.apply(input, dims, keepdim), out)


def amin(input, dim=(), keepdim=False, *, out=None):
    dims = wrap_dims(dim if dim != () and dim != [] else None, input._data.ndim)
    return write_out(AMin.apply(input, dims, keepdim), out)


def aminmax(input, *, dim=None, keepdim=False):
    return namedtuple("aminmax", ["min", "max"])(amin(input, dim if dim is not None else (), keepdim),
                                                 amax(input, dim if dim is not None else (), keepdim))


def _arg(fn, name):
    def arg(input, dim=None, keepdim=False):
        x = input._data
        if dim is None:
            if x.size == 0:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            r = fn(x.reshape(-1))
            r = np.asarray(r, np.int64) if isinstance(r, _HOST) else as_array(r, np.int64)
            return Tensor._wrap(r.reshape((1,) * x.ndim) if keepdim else r)
        d = wrap_dim(dim, x.ndim)
        if x.ndim == 0:
            return Tensor._wrap(array_module(x).zeros((), np.int64))
        r = fn(x, axis=d, keepdims=keepdim)
        return Tensor._wrap(np.asarray(r, np.int64) if isinstance(r, _HOST) else as_array(r, np.int64))
    arg.__name__ = name
    return arg


argmax = _arg(np.argmax, "argmax")
argmin = _arg(np.argmin, "argmin")


# ------------------------------------------------------------------ statistics
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool) and unbiased is None:  # var(x, unbiased) positional form
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    dims = wrap_dims(dim, input._data.ndim) if dim is not None else tuple(range(input._data.ndim))
    n = 1
    for d in dims:
        n *= input._data.shape[d]
    centered = input - mean(input, dims, keepdim=True)
    sq = centered * centered.conj() if input.is_complex() else centered * centered
    out = sum(sq, dims, keepdim) / builtins.max(n - correction, 0)
    return out.real if input.is_complex() else out


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


class LogSumExp(Op):
    """log(sum(exp(x))) over ``dims``, shifted by the max: one node where the composite records eight."""

    def forward(ctx, x, dims, keepdim):
        cdt = compute_dtype(x.dtype)
        xc = x if x.dtype == cdt else x.astype(cdt)
        m = np.max(xc, axis=dims, keepdims=True)
        m[np.isinf(m)] = 0  # an infinite max would turn the shift into nan
        with np.errstate(all="ignore"):
            out = np.log(np.sum(np.exp(xc - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            out = out.reshape([s for i, s in enumerate(x.shape) if i not in dims])
        out = out.astype(x.dtype, copy=False) if out.__class__ is _ND else as_array(out, x.dtype)
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not _enabled[0] and x._data.dtype in _RAW_FLOAT and g._data.dtype is x._data.dtype:
            gd, od = g._data, out._data
            if not ctx.keepdim:
                shape = _keep_shape(x.shape, ctx.dims)
                gd, od = gd.reshape(shape), od.reshape(shape)
            with np.errstate(all="ignore"):  # g * exp(x - out), in one buffer
                e = np.subtract(x._data, od)
                np.exp(e, out=e)
                np.multiply(gd, e, out=e)
            return Tensor._wrap(e), None, None
        if not ctx.keepdim:  # as torch's logsumexp_backward: grad * exp(x - result)
            shape = _keep_shape(x.shape, ctx.dims)
            g, out = g.reshape(shape), out.reshape(shape)
        return g * (x - out).exp(), None, None


def _logsumexp_finite(x, dims, keepdim):
    """LogSumExp.forward's result on a float32/64 ndarray whose maxima are all finite, in place where it
    can (same values); None otherwise (an infinite or NaN maximum: the general forward handles it).

    With finite maxima nothing can warn (x - m <= 0, the sums are >= 1), so no np.errstate.
    """
    m = _max_reduce(x, axis=dims, keepdims=True)
    total = float(_add_reduce(m, axis=None))
    if total - total != 0:  # inf or nan: some maximum is not finite (or the maxima overflow a sum)
        return None
    e = np.subtract(x, m)
    np.exp(e, out=e)
    out = _add_reduce(e, axis=dims, keepdims=True)
    np.log(out, out=out)
    np.add(out, m, out=out)
    if not keepdim:
        out = out.reshape([s for i, s in enumerate(x.shape) if i not in dims])
    return out


def _record_logsumexp(input, out, dims, keepdim):
    if not (_enabled[0] and input.requires_grad):
        t = _new(Tensor)
        t._data = out
        return t
    ctx = _new(LogSumExp)
    ctx._edges = (edge_of(input), None, None)
    ctx.dims, ctx.keepdim = dims, keepdim
    t = wrap_recorded(out, ctx)
    ctx._saved = (saved_input(input), saved_output(t))
    return t


def logsumexp(input, dim, keepdim=False):
    x = input._data
    if x.__class__ is _ND and x.dtype in _RAW_FLOAT and x.ndim and x.size:
        nd = x.ndim
        # one int dim in range (the common call) without wrap_dims' general handling
        dims = (dim + nd if dim < 0 else dim,) if dim.__class__ is int and -nd <= dim < nd else wrap_dims(dim, nd)
        if dims:
            out = _logsumexp_finite(x, dims, keepdim)
            if out is not None:
                return _record_logsumexp(input, out, dims, keepdim)
            return LogSumExp.apply(input, dims, keepdim)
    dims = wrap_dims(dim, input._data.ndim)
    if not input.is_floating_point():
        input = input.to(D.get_default_dtype())
    x = input._data
    if dims and x.ndim and x.size and (x.dtype.kind == "f" or x.dtype in D.REDUCED_NP):
        return LogSumExp.apply(input, dims, keepdim)
    with_inf = amax(input, dims, keepdim=True).detach()
    m = with_inf.masked_fill(with_inf.isinf(), 0.0)
    out = (input - m).exp().sum(dims, keepdim=True).log() + m
    return out if keepdim else out.squeeze(dims) if dims else out


# ------------------------------------------------------------------ boolean reductions
def _bool_reduce(fn, name):
    def red(input, dim=None, keepdim=False, *, out=None):
        dims = wrap_dims(dim, input._data.ndim) if dim is not None else None
        r = fn(input._data, axis=dims, keepdims=keepdim)
        if r.__class__ is not _ND:
            r = np.asarray(r) if isinstance(r, np.generic) else as_array(r)
        if input._data.dtype == np.uint8:
            r = r.astype(np.uint8)
        return write_out(Tensor._wrap(r), out)
    red.__name__ = name
    return red


all = _bool_reduce(np.all, "all")
any = _bool_reduce(np.any, "any")


def count_nonzero(input, dim=None):
    dims = wrap_dims(dim, input._data.ndim) if dim is not None else None
    r = np.count_nonzero(input._data, axis=dims)
    return Tensor._wrap(np.asarray(r, np.int64) if isinstance(r, _HOST) else as_array(r, np.int64))


# ------------------------------------------------------------------ cumulative
class Cumsum(Op):
    def forward(ctx, x, dim, dtype):
        ctx.dim = dim
        out_dt = _sum_dtype(x.dtype, dtype)
        out = np.cumsum(x, axis=dim, dtype=compute_dtype(out_dt)) if x.ndim else x.astype(out_dt)
        return out.astype(out_dt, copy=False)

    def backward(ctx, g):
        if g.ndim == 0:
            return g, None, None
        return g.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim), None, None


def cumsum(input, dim, *, dtype=None, out=None):
    return write_out(Cumsum.apply(input, wrap_dim(dim, input._data.ndim), dtype), out)


class Cumprod(Op):
    def forward(ctx, x, dim, dtype):
        ctx.dim = dim
        out_dt = _sum_dtype(x.dtype, dtype)
        out = np.cumprod(x, axis=dim, dtype=compute_dtype(out_dt)) if x.ndim else x.astype(out_dt)
        out = out.astype(out_dt, copy=False)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if g.ndim == 0:
            return g, None, None
        d = ctx.dim
        if bool((x == 0).any()):
            # exact for zeros: d out_j / d x_i = prod_{k<=j, k!=i} x_k
            n = x.shape[d]
            xs = x.movedim(d, -1)
            xp = array_module(x._data)
            gs = g.movedim(d, -1)
            cols = []
            for i in range(n):
                mask = Tensor._wrap(xp.arange(n) == i)
                replaced = xs.masked_fill(mask, 1.0)
                cp = replaced.cumprod(-1)
                contrib = (gs * cp).narrow(-1, i, n - i).sum(-1)
                cols.append(contrib)
            from .shape import stack
            return stack(cols, -1).movedim(-1, d), None, None
        return (g * out).flip(d).cumsum(d).flip(d) / x, None, None


def cumprod(input, dim, *, dtype=None, out=None):
    return write_out(Cumprod.apply(input, wrap_dim(dim, input._data.ndim), dtype), out)


install(sum=sum, nansum=nansum, mean=mean, nanmean=nanmean, prod=prod, max=max, min=min, amax=amax, amin=amin,
        aminmax=aminmax, argmax=argmax, argmin=argmin, var=var, std=std, logsumexp=logsumexp, all=all, any=any,
        count_nonzero=count_nonzero, cumsum=cumsum, cumprod=cumprod,
        sum_to_size=lambda self, *size: SumToSize.apply(self, tuple(size[0]) if len(size) == 1 and
                                                        isinstance(size[0], (tuple, list)) else tuple(size)))
Tensor.cumsum_ = lambda self, dim, *, dtype=None: self.copy_(cumsum(self, dim, dtype=dtype))

__all__ = ["sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax", "argmax", "argmin",
           "var", "std", "var_mean", "std_mean", "logsumexp", "all", "any", "count_nonzero", "cumsum", "cumprod"]
