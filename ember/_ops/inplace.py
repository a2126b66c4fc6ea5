"""In-place ops and ``out=``: computed out of place, then written into the target's storage.

When the graph is recorded, the target's old value is snapshotted so that the recorded op sees
the value it was given; the target then takes over the op's output history. Writing into a view
rewrites its base's history too (the base's gradient flows through ``ViewScatter``).
"""
import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import _enabled
from ..autograd.function import Op
from ._util import type_name
from .._device import array_module


def check_cast(result_dtype, target_dtype):
    if result_dtype != target_dtype and not D.can_cast(result_dtype, target_dtype):
        raise RuntimeError(f"result type {type_name(result_dtype)} can't be cast to the desired output "
                           f"type {type_name(target_dtype)}")


def apply_inplace(self, fn, *args, **kwargs):
    """Run ``fn(self, *args)`` and store its result in ``self``; returns ``self``."""
    recording = _enabled[0] and (self.requires_grad or any(
        isinstance(a, Tensor) and a.requires_grad for a in args))
    if not recording:
        out = fn(self, *args, **kwargs)
        _write(self, out)
        return self
    if self.requires_grad and self.grad_fn is None:
        if self._base is not None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    base = self._base
    if base is not None and self._view_chain is not None:
        if self._multi_view is not None:
            name, index = self._multi_view
            raise RuntimeError(f"Output {index} of {name} is a view and is being modified inplace. This view is the "
                               "output of a function that returns multiple views. Such functions do not allow the "
                               "output views to be modified inplace. You should replace the inplace operation by an "
                               "out-of-place one.")
        if base.requires_grad and base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        return _inplace_on_view(self, base, fn, args, kwargs)
    old = _snapshot(self)
    out = fn(old, *args, **kwargs)
    _write(self, out)
    _take_history(self, out)
    return self


def _snapshot(t):
    """A copy of ``t``'s current value that carries ``t``'s graph identity."""
    old = Tensor._make(t._data.copy())
    old.requires_grad = t.requires_grad
    old.grad_fn = t.grad_fn
    old._out_nr = t._out_nr
    return old


def _write(target, out):
    check_cast(out.dtype, target.dtype)
    if out._data is not target._data:
        if target._data.shape != out._data.shape:
            # torch broadcasts the result into self only if self's shape is the broadcast shape
            if np.broadcast_shapes(target._data.shape, out._data.shape) != target._data.shape:
                raise RuntimeError(f"output with shape {list(target._data.shape)} doesn't match the broadcast "
                                   f"shape {list(np.broadcast_shapes(target._data.shape, out._data.shape))}")
        np.copyto(target._data, out._data, casting="unsafe")
    target._bump_version()


def _take_history(target, out):
    if out.requires_grad:
        target.requires_grad = True
        target.grad_fn = out.grad_fn
        target._out_nr = out._out_nr


def _replay(t, chain):
    for op, args in chain:
        t = op.apply(t, *args)
    return t


def _replay_raw(arr, chain):
    for op, args in chain:
        arr = op.forward(op.__new__(op), arr, *[a._data if isinstance(a, Tensor) else a for a in args])
    return arr


class ViewScatter(Op):
    """``base`` with the region selected by ``chain`` replaced by ``value`` (out of place)."""

    def forward(ctx, base, value, chain):
        ctx.chain = chain
        out = base.copy()
        region = _replay_raw(out, chain)
        np.copyto(region, value, casting="unsafe")
        return out

    def backward(ctx, g):
        chain = ctx.chain
        g_value = _replay(g, chain)
        g_base = ViewScatter.apply(g, g_value.new_zeros(()).expand_as(g_value), chain)
        return g_base, g_value, None


def _inplace_on_view(view, base, fn, args, kwargs):
    chain = view._view_chain
    old_base = _snapshot(base)
    old_view = _replay(old_base, chain)
    out = fn(old_view, *args, **kwargs)
    new_base = ViewScatter.apply(old_base, out, chain)
    _write(view, out)  # writes through the view into base's storage
    _take_history(base, new_base)
    new_view = _replay(new_base, chain)
    _take_history(view, new_view)
    return view


def inplace_method(fn):
    """The ``op_`` method for an out-of-place op ``fn``."""

    def method(self, *args, **kwargs):
        return apply_inplace(self, fn, *args, **kwargs)

    method.__name__ = fn.__name__ + "_"
    return method


def write_out(result, out):
    """Implement ``out=``: resize ``out`` if needed (as torch does) and copy the result in."""
    if out is None:
        return result
    check_cast(result.dtype, out.dtype)
    if out._data.shape != result._data.shape:
        out._data = array_module(out._data).empty(result._data.shape, out._data.dtype)
    if _enabled[0] and (result.requires_grad or out.requires_grad):
        if out.requires_grad and out.grad_fn is None:
            raise RuntimeError(f"{'out'}=... arguments don't support automatic differentiation, but one of the "
                               "arguments requires grad.")
    np.copyto(out._data, result._data, casting="unsafe")
    out._bump_version()
    return out
