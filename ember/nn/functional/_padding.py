"""``pad``: constant (any dims, negative pads crop), reflect, replicate and circular.

Constant padding is one Op whose adjoint is padding by the negated amounts (a crop). The other
modes are index selections along each padded axis, so their gradients sum the repeated entries.
"""
import numpy as np

from ..._device import array_module
from ...autograd.function import Op
from ..._ops._util import shape_str
from ._axis_map import select_axes

__all__ = ["pad"]


class ConstantPad(Op):
    """Trailing dims padded by ``pads`` = ((lo, hi), ...) with ``value``; negative amounts crop."""

    def forward(ctx, x, pads, value):
        ctx.pads = pads
        lead = x.ndim - len(pads)
        shape = x.shape[:lead] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], pads))
        src, dst = [slice(None)] * lead, [slice(None)] * lead
        for n, (lo, hi) in zip(x.shape[lead:], pads):
            src.append(slice(max(-lo, 0), n - max(-hi, 0)))
            dst.append(slice(max(lo, 0), max(lo, 0) + max(n - max(-lo, 0) - max(-hi, 0), 0)))
        xp = np if x.__class__ is np.ndarray else array_module(x)
        out = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
        out[tuple(dst)] = x[tuple(src)]
        return out

    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in ctx.pads), 0), None, None


def _index(n, lo, hi, mode):
    if mode == "circular":  # negative amounts crop first; the wrap then reads the cropped region
        start, m = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        return start + np.arange(-max(lo, 0), m + max(hi, 0)) % m
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1)
        i = np.abs(i) % period if period else np.zeros_like(i)
        return np.where(i >= n, period - i, i)
    return np.clip(i, 0, n - 1)


_SUPPORTED = ("Supported combinations for non-constant padding:\n"
              "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
              "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
              "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    """Pad the trailing dims: ``pad`` = (last_lo, last_hi, second_last_lo, second_last_hi, ...).

    >>> F.pad(torch.ones(1, 2), (1, 2), value=0.5)
    tensor([[0.5000, 1.0000, 1.0000, 0.5000, 0.5000]])
    >>> F.pad(torch.arange(3.).view(1, 1, 3), (2, 1), mode='reflect')
    tensor([[[2., 1., 0., 1., 2., 1.]]])
    """
    x = input._data
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = len(pad) // 2
    if nd > x.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {x.ndim}")
    pads = tuple((pad[2 * i], pad[2 * i + 1]) for i in reversed(range(nd)))  # first padded dim first
    if mode == "constant":
        for n, (lo, hi) in zip(x.shape[x.ndim - nd:], pads):
            if n + lo + hi < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        return ConstantPad.apply(input, pads, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if nd not in (1, 2, 3) or x.ndim not in (nd + 1, nd + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\n{_SUPPORTED}")
    indices = []
    for d, (n, (lo, hi)) in enumerate(zip(x.shape[x.ndim - nd:], pads)):
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #{2 * nd + 2 - 2 * d}: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension {x.ndim - nd + d} of "
                               f"input {shape_str(x.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        indices.append(None if lo == hi == 0 else _index(n, lo, hi, mode))
    return select_axes(input, indices)
