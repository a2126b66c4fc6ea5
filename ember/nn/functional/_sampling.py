"""Resampling: interpolate/upsample, grid_sample, affine_grid, pixel (un)shuffle, channel shuffle, fold/unfold.

``interpolate`` is separable for every mode: along each spatial axis the output is a fixed linear
map of the input (a selection for nearest modes), built once from torch's source-index formulas
and applied with one GEMM (``_axis_map``). ``grid_sample`` gathers the 2**d corners of each sample
point with ember ops, so gradients reach both the input and the grid.
"""
import itertools
import math

import numpy as np

from ..._device import array_module
from ...autograd.function import Op
from ..._tensor import Tensor
from ..._backend.im2col import windows, col2im, pad_array, crop
from ..._ops._util import shape_str
from ._axis_map import map_axes, select_axes
from ._pooling import PlaneGather, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample", "affine_grid",
           "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "fold", "unfold"]

_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}


# ---------------------------------------------------------------- per-axis source indices and weights

def _linear_scale(n_in, n_out, align_corners, scale):
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def _source(dst, scale, align_corners, cubic):
    if align_corners:
        return scale * dst
    src = scale * (dst + 0.5) - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _nearest_index(n_in, n_out, scale, exact):
    # torch computes the nearest source index in float32
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    dst = np.arange(n_out, dtype=np.float32)
    src = np.floor((dst + np.float32(0.5)) * s) if exact else np.floor(dst * s)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _linear_matrix(n_in, n_out, align_corners, scale):
    src = _source(np.arange(n_out, dtype=np.float64), _linear_scale(n_in, n_out, align_corners, scale),
                  align_corners, False)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(m, (rows, i0), 1.0 - lam)
    np.add.at(m, (rows, i1), lam)
    return m


def _cubic_matrix(n_in, n_out, align_corners, scale):
    a = -0.75
    src = _source(np.arange(n_out, dtype=np.float64), _linear_scale(n_in, n_out, align_corners, scale),
                  align_corners, True)
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    weights = [((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
               ((a + 2) * t - (a + 3)) * t * t + 1,
               ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
               ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a]
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    for k, w in enumerate(weights):
        np.add.at(m, (rows, np.clip(i0 - 1 + k, 0, n_in - 1)), w)
    return m


def _aa_filter(mode):
    if mode == "bilinear":
        return lambda x: np.maximum(0.0, 1.0 - np.abs(x))
    if mode == "lanczos":  # Lanczos-3: sinc windowed by a 3x wider sinc, as PIL's LANCZOS
        return lambda x: np.where(np.abs(x) < 3.0, np.sinc(x) * np.sinc(x / 3.0), 0.0)
    a = -0.5  # Keys' cubic, as PIL (and torch's antialiased bicubic) use

    def cubic(x):
        x = np.abs(x)
        return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1,
                        np.where(x < 2.0, (((x - 5) * x + 8) * x - 4) * a, 0.0))
    return cubic


def _antialias_matrix(n_in, n_out, align_corners, scale, mode):
    """PIL-style resampling weights: when shrinking, the filter is stretched by the scale so every input
    pixel contributes (no aliasing); each row is normalised to sum to one."""
    s = _linear_scale(n_in, n_out, align_corners, scale)
    support = {"bilinear": 2.0, "bicubic": 4.0, "lanczos": 6.0}[mode] * 0.5 * (s if s >= 1.0 else 1.0)
    invscale = 1.0 / s if s >= 1.0 else 1.0
    m = np.zeros((n_out, n_in))
    filt = _aa_filter(mode)
    for i in range(n_out):  # one row per output pixel: a few hundred at most
        center = s * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = filt((np.arange(lo, hi) - center + 0.5) * invscale)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return m


# ---------------------------------------------------------------- interpolate

def _output_sizes(x, nd, size, scale_factor, recompute_scale_factor):
    in_size = x.shape[-nd:]
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(in_size)} and output size of {size}. Please "
                                 "provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, "
                                 "...,oK) format.")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * nd
        return out, (None,) * nd
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(in_size)} and scale_factor of shape "
                             f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                             "scale_factor in (s1, s2, ...,sK) format.")
        scales = tuple(float(s) for s in scale_factor)
    else:
        scales = (float(scale_factor),) * nd
    out = tuple(int(math.floor(float(n) * s)) for n, s in zip(in_size, scales))
    return out, ((None,) * nd if recompute_scale_factor else scales)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resample the spatial dims of (N, C, *spatial) to ``size`` or by ``scale_factor``.

    Modes: nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area, and lanczos (with
    ``antialias=True``); ``antialias`` resamples as PIL does when shrinking.

    >>> F.interpolate(torch.arange(4.).view(1, 1, 2, 2), scale_factor=2, mode='nearest')[0, 0, 0]
    tensor([0., 0., 1., 1.])
    >>> F.interpolate(torch.randn(1, 3, 4, 4), size=(7, 5), mode='bilinear', align_corners=True).shape
    torch.Size([1, 3, 7, 5])
    """
    x = input._data
    nd = x.ndim - 2
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and x.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                         "4-D tensor as input")
    if mode not in ("nearest", "nearest-exact", "area") + tuple(_MODE_DIMS):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                                  f"modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact "
                                  f"(got {mode})")
    if nd < 1 or nd > 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                                  f"modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact "
                                  f"(got {mode})")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        need = _MODE_DIMS[mode] + 2
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {need}D input")
    out, scales = _output_sizes(x, nd, size, scale_factor, recompute_scale_factor)
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(f'{a}: {n}' for a, n in zip('DHW'[-nd:], x.shape[2:]))}) output "
                           f"({', '.join(f'{a}: {n}' for a, n in zip('DHW'[-nd:], out))})")
    in_size = x.shape[2:]
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input, out)
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        idx = [None if (n == o and not exact and s is None) else _nearest_index(n, o, s, exact)
               for n, o, s in zip(in_size, out, scales)]
        idx = [None if i is not None and len(i) == n and np.array_equal(i, np.arange(n)) else i
               for i, n in zip(idx, in_size)]
        if all(i is None for i in idx):
            return input.clone()
        return select_axes(input, idx)
    align = bool(align_corners)
    if mode == "lanczos":
        if align:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if antialias:
        mats = [_antialias_matrix(n, o, align, s, mode) for n, o, s in zip(in_size, out, scales)]
        return map_axes(input, mats)
    build = _cubic_matrix if mode == "bicubic" else _linear_matrix
    mats = [build(n, o, align, s) for n, o, s in zip(in_size, out, scales)]
    return map_axes(input, mats)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------- grid_sample / affine_grid

def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = coord.fmod(span)
    flips = (coord / span).floor().detach()
    even = (flips.fmod(2) == 0)
    return (extra + low).where(even, span - extra + low)


def _source_coord(coord, size, padding_mode, align_corners):
    c = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        c = c.clamp(0, size - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = c.clamp(0, size - 1)
    return c


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, *in) at the normalised [-1, 1] points of ``grid`` (N, *out, d), x first.

    >>> theta = torch.tensor([[[1., 0., 0.], [0., 1., 0.]]])
    >>> x = torch.randn(1, 2, 4, 4)
    >>> torch.allclose(F.grid_sample(x, F.affine_grid(theta, (1, 2, 4, 4)), align_corners=False), x)
    True
    """
    x, g = input._data, grid._data
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    nd = x.ndim - 2
    if x.ndim not in (4, 5) or g.ndim != x.ndim:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {shape_str(x.shape)} and grid with sizes {shape_str(g.shape)}")
    if g.shape[0] != x.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {shape_str(x.shape)} and grid with sizes {shape_str(g.shape)}")
    if g.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, but got grid with "
                           f"sizes {shape_str(g.shape)}")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x.dtype != g.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    align = bool(align_corners)
    n, c = x.shape[:2]
    in_size = x.shape[2:]
    out_size = g.shape[1:-1]
    plane_strides = [math.prod(in_size[d + 1:]) for d in range(nd)]
    if mode == "bicubic":
        return _grid_sample_bicubic(input, grid, padding_mode, align, plane_strides)
    # grid's last dim lists x (width) first: coordinate i addresses spatial dim nd-1-i
    coords = [_source_coord(grid[..., nd - 1 - d], in_size[d], padding_mode, align) for d in range(nd)]
    if mode == "nearest":
        corners = [(c_.round().detach(), None) for c_ in coords]
        choices = [[(0, None)] for _ in range(nd)]
        # torch gives the grid a zero gradient here, not none: keep it in the graph at weight 1
        unit = coords[0] * 0 + 1
    else:
        corners = [(c_.floor().detach(), c_) for c_ in coords]
        choices = [[(0, "lo"), (1, "hi")] for _ in range(nd)]
    out = None
    for pick in itertools.product(*choices):
        weight, flat, valid = None, 0, None
        for d, (shift, side) in enumerate(pick):
            base, exact = corners[d]
            pos = base._data + shift
            ok = (pos >= 0) & (pos <= in_size[d] - 1)
            valid = ok if valid is None else valid & ok
            flat = flat + np.clip(pos, 0, in_size[d] - 1).astype(np.int64) * plane_strides[d]
            if side is not None:
                w = (exact - base) if side == "hi" else (1 - (exact - base))
                weight = w if weight is None else weight * w
        idx = np.broadcast_to(flat.reshape((n, 1) + tuple(out_size)), (n, c) + tuple(out_size))
        vals = PlaneGather.apply(input, array_module(idx).ascontiguousarray(idx), nd)
        mask = valid.astype(x.dtype).reshape((n, 1) + tuple(out_size))
        term = vals * Tensor._wrap(mask)
        if weight is None and mode == "nearest":
            weight = unit
        if weight is not None:
            term = term * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out


def _reflect_raw(pos, twice_low, twice_high):
    if twice_low == twice_high:
        return np.zeros_like(pos)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    pos = np.abs(pos - low)
    extra = np.fmod(pos, span)
    flips = np.floor(pos / span)
    return np.where(np.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _tap_position(pos, size, padding_mode, align):
    """Where a bicubic tap at integer position ``pos`` reads, and whether it reads anything (zeros mode)."""
    if padding_mode == "border":
        pos = np.clip(pos, 0, size - 1)
    elif padding_mode == "reflection":
        pos = _reflect_raw(pos, 0, 2 * (size - 1)) if align else _reflect_raw(pos, -1, 2 * size - 1)
        pos = np.clip(pos, 0, size - 1)
    return pos, (pos >= 0) & (pos <= size - 1)


def _cubic_weights(t):
    """The four Keys (A = -0.75) weights of taps -1, 0, 1, 2 at fractional offset ``t`` (ember ops)."""
    a = -0.75
    t1, u, u1 = t + 1, 1 - t, 2 - t
    return [((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * u - (a + 3)) * u * u + 1,
            ((a * u1 - 5 * a) * u1 + 8 * a) * u1 - 4 * a]


def _grid_sample_bicubic(input, grid, padding_mode, align, plane_strides):
    # 16 taps around each point; the padding mode applies to each tap's position, not to the point
    x = input._data
    n, c = x.shape[:2]
    in_size = x.shape[2:]
    out_size = tuple(grid._data.shape[1:-1])
    coords = [_unnormalize(grid[..., 1 - d], in_size[d], align) for d in range(2)]
    bases = [co.floor().detach() for co in coords]
    weights = [_cubic_weights(co - b) for co, b in zip(coords, bases)]
    out = None
    for i, j in itertools.product(range(4), range(4)):
        flat, valid = 0, None
        for d, tap in enumerate((i, j)):
            pos, ok = _tap_position(bases[d]._data + (tap - 1), in_size[d], padding_mode, align)
            valid = ok if valid is None else valid & ok
            flat = flat + np.clip(pos, 0, in_size[d] - 1).astype(np.int64) * plane_strides[d]
        idx = np.broadcast_to(flat.reshape((n, 1) + out_size), (n, c) + out_size)
        vals = PlaneGather.apply(input, array_module(idx).ascontiguousarray(idx), 2)
        mask = Tensor._wrap(valid.astype(x.dtype).reshape((n, 1) + out_size))
        term = vals * mask * (weights[0][i] * weights[1][j]).unsqueeze(1)
        out = term if out is None else out + term
    return out


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, *size[2:], d) of the affine maps ``theta`` (N, d, d+1), for grid_sample.

    >>> F.affine_grid(torch.eye(2, 3).unsqueeze(0), (1, 1, 2, 3), align_corners=False).shape
    torch.Size([1, 2, 3, 2])
    """
    from ..._ops.creation import from_numpy
    size = list(size)
    t = theta._data
    if t.dtype.kind in "iub":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if t.ndim != 3 or t.shape[-2:] != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{theta.shape}.")
    elif len(size) == 5:
        if t.ndim != 3 or t.shape[-2:] != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{theta.shape}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    align = bool(align_corners)
    spatial = size[2:]

    def axis(n):
        if n <= 1:
            return np.zeros(n)
        v = np.linspace(-1.0, 1.0, n)
        return v if align else v * (n - 1) / n

    # base grid (*spatial, d+1) holding (x, y[, z], 1): x varies along the last spatial dim
    axes = [axis(s) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m for m in reversed(mesh)] + [np.ones(spatial)], axis=-1).astype(t.dtype)
    base = from_numpy(base.reshape(1, -1, len(spatial) + 1))  # built on the host: small
    if base.device != theta.device:
        base = base.to(theta.device)
    grid = base @ theta.transpose(1, 2)
    return grid.reshape([size[0]] + spatial + [len(spatial)])


# ---------------------------------------------------------------- pixel and channel shuffles

def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r).

    >>> F.pixel_shuffle(torch.randn(1, 8, 3, 3), 2).shape
    torch.Size([1, 2, 6, 6])
    """
    x = input._data
    r = int(upscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c, h, w = x.shape[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead = list(x.shape[:-3])
    k = len(lead)
    y = input.reshape(lead + [c // (r * r), r, r, h, w])
    y = y.permute(list(range(k)) + [k, k + 3, k + 1, k + 4, k + 2])
    return y.reshape(lead + [c // (r * r), h * r, w * r])


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W), the inverse of pixel_shuffle.

    >>> F.pixel_unshuffle(torch.randn(1, 2, 6, 6), 2).shape
    torch.Size([1, 8, 3, 3])
    """
    x = input._data
    r = int(downscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    c, h, w = x.shape[-3:]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    lead = list(x.shape[:-3])
    k = len(lead)
    y = input.reshape(lead + [c, h // r, r, w // r, r])
    y = y.permute(list(range(k)) + [k, k + 2, k + 4, k + 1, k + 3])
    return y.reshape(lead + [c * r * r, h // r, w // r])


def channel_shuffle(input, groups):
    """Interleave the channels of (N, C, *) across ``groups`` (ShuffleNet).

    >>> F.channel_shuffle(torch.arange(4.).view(1, 4, 1), 2).flatten()
    tensor([0., 2., 1., 3.])
    """
    x = input._data
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = x.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    n = x.shape[0]
    rest = list(x.shape[2:])
    y = input.reshape([n, groups, c // groups] + rest).transpose(1, 2)
    return y.reshape([n, c] + rest)


native_channel_shuffle = channel_shuffle


# ---------------------------------------------------------------- fold / unfold

def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (int(v), int(v))


class _UnfoldGeometry:
    __slots__ = ("kernel", "dilation", "pads", "stride", "in_size", "out")

    def __init__(self, kernel, dilation, padding, stride, in_size):
        self.kernel, self.dilation, self.stride, self.in_size = kernel, dilation, stride, in_size
        self.pads = tuple((p, p) for p in padding)
        self.out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                         for n, p, d, k, s in zip(in_size, padding, dilation, kernel, stride))


class Unfold(Op):
    """(N, C, H, W) -> (N, C*kh*kw, L): im2col, the adjoint of Fold."""

    def forward(ctx, x, geo):
        ctx.geo = geo
        n, c = x.shape[:2]
        win = windows(pad_array(x, geo.pads), geo.kernel, geo.stride, geo.dilation, geo.out)
        return win.reshape(n, c * math.prod(geo.kernel), math.prod(geo.out))

    def backward(ctx, g):
        return Fold.apply(g, ctx.geo), None


class Fold(Op):
    """(N, C*kh*kw, L) -> (N, C, H, W), summing overlaps: col2im, the adjoint of Unfold."""

    def forward(ctx, cols, geo):
        ctx.geo = geo
        n = cols.shape[0]
        c = cols.shape[1] // math.prod(geo.kernel)
        blocks = cols.reshape((n, c, math.prod(geo.kernel)) + geo.out)
        padded = (n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(geo.in_size, geo.pads))
        out = crop(col2im(lambda k: blocks[:, :, k], padded, geo.kernel, geo.stride, geo.dilation, geo.out),
                   geo.pads)
        return array_module(out).ascontiguousarray(out)

    def backward(ctx, g):
        return Unfold.apply(g, ctx.geo), None


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L).

    >>> F.unfold(torch.randn(1, 2, 4, 4), 2).shape
    torch.Size([1, 8, 9])
    """
    x = input._data
    if x.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)")
    unbatched = x.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    geo = _UnfoldGeometry(_pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride),
                          tuple(input._data.shape[2:]))
    if any(o <= 0 for o in geo.out):
        raise RuntimeError(f"Given input with spatial size ({', '.join(map(str, geo.in_size))}), kernel_size="
                           f"({', '.join(map(str, geo.kernel))}), dilation=({', '.join(map(str, geo.dilation))}), "
                           f"padding=({', '.join(str(p) for p, _ in geo.pads)}), calculated shape of the array of "
                           f"sliding blocks as ({', '.join(map(str, geo.out))}), but its components must be at "
                           "least one.")
    y = Unfold.apply(input, geo)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding blocks, summing overlaps: (N, C*kh*kw, L) -> (N, C, H, W).

    >>> F.fold(torch.ones(1, 4, 9), (4, 4), 2).shape
    torch.Size([1, 1, 4, 4])
    """
    x = input._data
    if x.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {x.ndim}D)")
    unbatched = x.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    geo = _UnfoldGeometry(_pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride), _pair(output_size))
    k = math.prod(geo.kernel)
    cols = input._data
    if cols.shape[1] % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={cols.shape[1]} and kernel_size=({', '.join(map(str, geo.kernel))}).")
    if cols.shape[2] != math.prod(geo.out):
        raise RuntimeError(f"Given output_size=({', '.join(map(str, geo.in_size))}), kernel_size=("
                           f"{', '.join(map(str, geo.kernel))}), dilation=({', '.join(map(str, geo.dilation))}), "
                           f"padding=({', '.join(str(p) for p, _ in geo.pads)}), stride=("
                           f"{', '.join(map(str, geo.stride))}), expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {' * '.join(map(str, geo.out))} = "
                           f"{math.prod(geo.out)}, but got input.size(2)={cols.shape[2]}.")
    y = Fold.apply(input, geo)
    return y.squeeze(0) if unbatched else y
