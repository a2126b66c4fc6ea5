"""Fractional max pooling (Graham, 2014): pooling windows at pseudo-random, increasing offsets, so the
output can be any size between input/kernel and input - kernel + 1.

Offsets follow torch's rule, computed in the input's dtype from one uniform sample per (batch, channel,
dim): offset[i] = int((i + u) * alpha) - int(u * alpha), alpha = (in - k) / (out - 1), the last window
flush with the end. Within a window the first maximum wins; a NaN wins over everything (the last NaN,
as torch's scan keeps replacing). The output gathers the winners from the input, so the gradient flows
back through ``gather``.
"""
import numpy as np

from ..._device import array_module
from ..._ops.random import rand
from ..._tensor import Tensor

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _offsets(u, in_size, out_size, k, dt):
    """(..., out_size) window starts for samples ``u`` (...,), in dtype ``dt`` as torch computes them."""
    xp = array_module(u)
    seq = xp.empty(u.shape + (out_size,), np.int64)
    if out_size > 1:
        alpha = dt.type(in_size - k) / dt.type(out_size - 1)
        i = xp.arange(out_size - 1, dtype=dt)
        seq[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    seq[..., -1] = in_size - k
    return seq


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, samples, nd):
    name = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    spatial = tuple(x.shape[2:])
    kernel = _tuple(kernel_size, nd)
    if output_size is None:
        output_size = tuple(int(s * r) for s, r in zip(spatial, _tuple(output_ratio, nd)))
    out = _tuple(output_size, nd)
    dims = ("time", "height", "width")[3 - nd:]
    for d, s, k, o in zip(dims, spatial, kernel, out):
        if o + k - 1 > s:
            raise RuntimeError(f"{name}(): pool {d} {k} too large relative to input {d} {s}")
    n, c = x.shape[:2]
    if samples is None:
        samples = rand(n, c, nd, dtype=x.dtype, device=x.device)
    if samples.shape[1] != c:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    u = samples._data
    dt = np.dtype(np.float64) if x._data.dtype == np.float64 else np.dtype(np.float32)
    # sample j is for the dim counted from the last: [..., 0] the width, [..., 1] the height, ...
    starts = [_offsets(u[..., nd - 1 - d].astype(dt), spatial[d], out[d], kernel[d], dt) for d in range(nd)]
    strides = [int(np.prod(spatial[d + 1:])) for d in range(nd)]
    # flat input positions of every window element: (N, C, *out, *kernel)
    xp = array_module(x._data)
    flat = xp.zeros((n, c) + out + kernel, np.int64)
    for d in range(nd):
        shape_start = [n, c] + [1] * (2 * nd)
        shape_start[2 + d] = out[d]
        shape_k = [1] * (2 + 2 * nd)
        shape_k[2 + nd + d] = kernel[d]
        flat += (starts[d].reshape(shape_start) + xp.arange(kernel[d]).reshape(shape_k)) * strides[d]
    window = flat.reshape(n, c, -1, int(np.prod(kernel)))
    data = x._data.reshape(n, c, -1)
    values = np.take_along_axis(data, window.reshape(n, c, -1), axis=2).reshape(window.shape)
    best = values.argmax(-1)
    nan = np.isnan(values) if values.dtype.kind in "fc" else None
    if nan is not None and nan.any():
        last_nan = nan.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
        best = np.where(nan.any(-1), last_nan, best)
    indices = np.take_along_axis(window, best[..., None], axis=-1)[..., 0]  # (N, C, prod(out))
    index_tensor = Tensor._wrap(xp.ascontiguousarray(indices))
    result = x.reshape(n, c, -1).gather(2, index_tensor).reshape((n, c) + out)
    index_tensor = index_tensor.reshape((n, c) + out)
    if not batched:
        result, index_tensor = result.squeeze(0), index_tensor.squeeze(0)
    return (result, index_tensor) if return_indices else result


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)
