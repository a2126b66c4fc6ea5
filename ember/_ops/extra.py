"""Less common tensor functions built from other ops: windows, isin, block_diag, trapezoid, vmap..."""
import itertools
import math

import numpy as np

from .. import _dtype as D
from .._device import array_module, as_array, module_of
from .._tensor import Tensor
from .creation import _finish, _np_dtype, arange, tensor
from .shape import stack, cat


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    if isinstance(elements, Tensor) and isinstance(test_elements, Tensor) and elements.device != test_elements.device:
        from ..autograd.function import _on_one_device
        elements, test_elements = _on_one_device((elements, test_elements))  # torch's error, or a 0-d tensor moved
    e = elements._data if isinstance(elements, Tensor) else None
    t = test_elements._data if isinstance(test_elements, Tensor) else None
    xp = module_of(e, t)
    e = xp.asarray(elements) if e is None else e  # a scalar or a list goes where the tensor is
    t = xp.asarray(test_elements) if t is None else t
    return Tensor._wrap(as_array(np.isin(e, t, invert=invert)))


def block_diag(*tensors):
    mats = [t.reshape(1, -1) if t.ndim == 1 else (t.reshape(1, 1) if t.ndim == 0 else t) for t in tensors]
    n_cols = sum(m.shape[1] for m in mats)
    dt = D.result_type_raw(*[m._data for m in mats]) if mats else D.get_default_dtype()
    rows, col = [], 0
    for m in mats:
        left = m.new_zeros((m.shape[0], col), dtype=dt)
        right = m.new_zeros((m.shape[0], n_cols - col - m.shape[1]), dtype=dt)
        rows.append(cat([left, m.to(dt), right], 1))
        col += m.shape[1]
    return cat(rows, 0) if rows else _finish(np.zeros((0, 0), dt.np))


def cartesian_prod(*tensors):
    if len(tensors) == 1:
        return tensors[0]
    grids = [g.reshape(-1) for g in _meshgrid_ij(tensors)]
    return stack(grids, 1)


def _meshgrid_ij(tensors):
    from .shape import meshgrid
    return meshgrid(*tensors, indexing="ij")


def combinations(input, r=2, with_replacement=False):
    n = input.shape[0]
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = array_module(input._data).asarray(list(pick(range(n), r)), dtype=np.int64).reshape(-1, r)
    if idx.size == 0:
        return input.new_zeros((0,) if r != 1 else (0, 1)) if r != 2 else input.new_zeros((0, r))
    return stack([input[Tensor._wrap(idx[:, k])] for k in range(r)], 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    n = y.shape[dim]
    left, right = y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)
    if x is None:
        return ((left + right) * (0.5 * (1.0 if dx is None else dx))).sum(dim)
    d = x.diff(dim=dim if x.ndim == y.ndim else -1)
    return ((left + right) * d * 0.5).sum(dim)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    n = y.shape[dim]
    left, right = y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)
    if x is None:
        return ((left + right) * (0.5 * (1.0 if dx is None else dx))).cumsum(dim)
    return ((left + right) * x.diff(dim=dim if x.ndim == y.ndim else -1) * 0.5).cumsum(dim)


def unravel_index(indices, shape):
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    return tuple(Tensor._wrap(as_array(a, np.int64)) for a in np.unravel_index(idx, tuple(shape)))


def vander(x, N=None, increasing=False):
    n = x.shape[0] if N is None else N
    powers = arange(n, device=x.device) if increasing else arange(n - 1, -1, -1, device=x.device)
    return x.unsqueeze(-1) ** powers.to(x.dtype if x.is_floating_point() else D.int64)


def _window(fn):
    def window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False, **kw):
        if window_length == 0:
            return _finish(np.zeros(0, _np_dtype(dtype)), requires_grad, device)
        if window_length == 1:
            return _finish(np.ones(1, _np_dtype(dtype)), requires_grad, device)
        n = window_length + 1 if periodic else window_length
        w = fn(n, **kw)[:window_length]
        return _finish(w.astype(_np_dtype(dtype)), requires_grad, device)
    window.__name__ = fn.__name__
    return window


hann_window = _window(np.hanning)
hamming_window = _window(lambda n, alpha=0.54, beta=0.46: alpha - beta * np.cos(2 * math.pi * np.arange(n) / (n - 1)))
blackman_window = _window(np.blackman)
bartlett_window = _window(np.bartlett)
kaiser_window = _window(lambda n, beta=12.0: np.kaiser(n, beta))


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    return _finish(np.frombuffer(buffer, dtype=D.to_dtype(dtype).np, count=count, offset=offset), requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _finish(np.empty(tuple(size), _np_dtype(dtype)), requires_grad, device)


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    edges_arg = bins._data if isinstance(bins, Tensor) else bins
    hist, edges = np.histogram(input._data, bins=edges_arg, range=range,
                               weights=None if weight is None else weight._data, density=density)
    dt = input._data.dtype
    return Tensor._wrap(hist.astype(dt)), Tensor._wrap(edges.astype(dt))


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorising map, evaluated by mapping ``func`` over the batch dim and stacking (exact, not fused)."""
    def mapped(*args):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        sizes = {a.shape[d] for a, d in zip(args, dims) if d is not None and isinstance(a, Tensor)}
        if len(sizes) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sorted(sizes)}")
        n = sizes.pop()
        results = []
        for i in range(n):
            sliced = [a.select(d, i) if d is not None and isinstance(a, Tensor) else a for a, d in zip(args, dims)]
            results.append(func(*sliced))
        if isinstance(results[0], tuple):
            odims = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(results[0])
            return tuple(stack([r[k] if isinstance(r[k], Tensor) else tensor(r[k]) for r in results], odims[k])
                         for k in range(len(results[0])))
        return stack([r if isinstance(r, Tensor) else tensor(r) for r in results], out_dims)
    return mapped


__all__ = ["isin", "block_diag", "cartesian_prod", "combinations", "trapezoid", "trapz", "cumulative_trapezoid",
           "unravel_index", "vander", "hann_window", "hamming_window",
           "blackman_window", "bartlett_window", "kaiser_window", "frombuffer", "empty_strided", "histogram", "vmap"]
