"""Gradient clipping by total norm or by value, computed on the raw arrays (one pass, no graph)."""
import math

import numpy as np

from ..._device import array_module, as_array
from ..._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _grads_of(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm(array, norm_type):
    a = array.astype(np.float32, copy=False) if array.dtype.itemsize < 4 else array
    if norm_type == 2 and a.dtype.kind != "c":  # BLAS dot on the raw array: no |a| copy (3x faster)
        flat = a.reshape(-1)
        return np.sqrt(np.dot(flat, flat))
    a = np.abs(a)
    if norm_type == math.inf:
        return a.max() if a.size else array_module(a).zeros((), a.dtype)
    if norm_type == -math.inf:
        return a.min() if a.size else array_module(a).full((), np.inf, a.dtype)
    if norm_type == 1:
        return a.sum()
    if norm_type == 0:
        return as_array((a != 0).sum(), a.dtype)
    return (a ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type`` norm of the norms of ``tensors`` (as one concatenated vector).

    >>> ember.nn.utils.get_total_norm([p.grad for p in model.parameters()])
    """
    norm_type = float(norm_type)
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = [t for t in tensors if t is not None]
    if not tensors:
        return Tensor._wrap(np.zeros((), np.float32))
    # each norm as a 0-d array (NumPy gives scalars) so that the stack stays on the tensors' device
    norms = np.stack([as_array(_norm(t._data, norm_type)) for t in tensors])
    total = _norm(norms, norm_type)
    if error_if_nonfinite and not bool(np.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped. To disable this error and scale the gradients by the "
                           "non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._wrap(as_array(total, tensors[0]._data.dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by max_norm / (total_norm + 1e-6) when that is below 1."""
    grads = _grads_of(parameters)
    if not grads:
        return
    coef = min(float(max_norm) / (float(total_norm) + 1e-6), 1.0)
    for g in grads:
        g._data *= g._data.dtype.type(coef)  # a scalar of the gradient's dtype: usable on any device
        g._bump_version()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale gradients in place so that their total norm is at most ``max_norm``; returns the norm
    before clipping.

    >>> total = ember.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        parameters = list(parameters)
    grads = _grads_of(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated spelling of :func:`clip_grad_norm_`."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for g in _grads_of(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        g._bump_version()
