"""Dropout family: one Op multiplies by a random mask (element-wise or per channel) and an affine
correction; the mask is kept as a constant for the backward pass."""
import warnings

import numpy as np

from ..._device import array_module
from ..._tensor import Tensor
from ...autograd.function import Op
from ..._ops.inplace import apply_inplace
from ..._ops.random import default_generator

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

_SELU_NEG = -1.7580993408473766  # -selu scale * selu alpha: the value SELU saturates to


class MaskAffine(Op):
    """out = x * mask * a + b, where ``mask`` broadcasts against x."""

    def forward(ctx, x, mask, a, b):
        ctx.mask, ctx.a = mask, a
        out = x * mask
        if a != 1:
            out *= out.dtype.type(a)
        if b is not None:
            out += b
        return out.astype(x.dtype, copy=False)

    def backward(ctx, g):
        scaled = ctx.mask * ctx.mask.dtype.type(ctx.a)
        return g * Tensor._wrap(scaled), None, None, None


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, like):
    """A 0/1 keep mask for ``like``'s data, drawn on the host (as every sample) and moved to its device.
    Compute-dtype mask (float32 for half types keeps the multiply exact enough)."""
    mdt = np.float64 if like.dtype == np.float64 else np.float32
    mask = (default_generator._rng.random(shape, dtype=mdt) >= p).astype(mdt)
    return mask if like.__class__ is np.ndarray else array_module(like).asarray(mask)


def _run(input, inplace, fn):
    return apply_inplace(input, lambda t: fn(t)) if inplace else fn(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (training only).

    >>> F.dropout(ember.ones(4), p=0.0)
    tensor([1., 1., 1., 1.])
    """
    _check_p(p)
    if not training or p == 0:
        return input
    return _run(input, inplace, lambda t: _dropout(t, p, t.shape))


def _dropout(t, p, mask_shape):
    if p == 1:
        return MaskAffine.apply(t, array_module(t._data).zeros(mask_shape, np.float32), 1.0, None)
    return MaskAffine.apply(t, _keep_mask(mask_shape, p, t._data), 1.0 / (1.0 - p), None)


def _feature_shape(t):
    return tuple(t.shape[:2]) + (1,) * (t.dim() - 2)


def _feature_dropout(input, p, training, inplace):
    _check_p(p)
    if not training or p == 0:
        return input
    return _run(input, inplace, lambda t: _dropout(t, p, _feature_shape(t)))


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    _check_p(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if input.dim() == 2:
        if not training or p == 0:
            return input
        return _run(input, inplace, lambda t: _dropout(t, p, (t.shape[0], 1)))
    return _feature_dropout(input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input (3-D input is treated as (N, C, L), as torch does)."""
    _check_p(p)
    if input.dim() not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", stacklevel=2)
    if input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    _check_p(p)
    if input.dim() not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout on "
                      "inputs with 3 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", stacklevel=2)
    if input.dim() == 4:
        if not training or p == 0:
            return input
        return _run(input, inplace, lambda t: _dropout(t, p, (t.shape[0], 1, 1, 1)))
    return _feature_dropout(input, p, training, inplace)


def _alpha(input, p, mask_shape):
    if p == 1:
        return input * 0  # torch returns zeros for p == 1
    keep = _keep_mask(mask_shape, p, input._data)
    a = ((1 - p) * (1 + p * _SELU_NEG ** 2)) ** -0.5
    # a * (x * keep + alpha' * (1 - keep)) + b  with  b = -a * alpha' * p
    shift = (a * _SELU_NEG * (1 - keep) - a * _SELU_NEG * p).astype(keep.dtype)
    return MaskAffine.apply(input, keep, a, shift)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units take SELU's saturation value, and an affine map keeps
    mean and variance."""
    _check_p(p)
    if not training or p == 0:
        return input
    return _run(input, inplace, lambda t: _alpha(t, p, t.shape))


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout over whole channels."""
    _check_p(p)
    if not training or p == 0:
        return input
    return _run(input, inplace, lambda t: _alpha(t, p, _feature_shape(t)))
