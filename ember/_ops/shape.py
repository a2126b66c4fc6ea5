"""Shape ops. View ops return NumPy views, so writes through them reach their base as in torch."""
import builtins

import numpy as np

from .. import _dtype as D, _jit
from .._kernels import shape as _kernels
from .._device import array_module, to_host
from .._tensor import Tensor, Size
from ..autograd.function import Op
from ._util import install, wrap_dim, wrap_dims, shape_str

_ND = np.ndarray


def _sizes(args):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def infer_shape(shape, numel):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape_str(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{shape_str(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


class Reshape(Op):
    is_view = True

    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


class View(Reshape):
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return np.reshape(x, shape, copy=False)
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None


def reshape(input, *shape):
    shape = infer_shape(_sizes(shape), input._data.size)
    if shape == input._data.shape:
        return Reshape.apply(input, shape) if input.requires_grad else _alias(input)
    return Reshape.apply(input, shape)


def _alias(t):
    """A new view of all of ``t`` (torch returns one even when nothing changes shape)."""
    if t.requires_grad:
        return Reshape.apply(t, t._data.shape)
    out = Tensor._make(t._data)
    out._become_view_of(t, Reshape, (t._data.shape,))
    return out


def view(input, *shape):
    if len(shape) == 1 and isinstance(shape[0], (D.dtype, type)):
        return view_as_dtype(input, shape[0])
    return View.apply(input, infer_shape(_sizes(shape), input._data.size))


def view_as_dtype(input, dtype):
    dt = D.to_dtype(dtype)
    return Tensor._wrap(input._data.view(dt.np))


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = infer_shape(tuple(sizes), shape[d])
    return reshape(input, shape[:d] + tuple(sizes) + shape[d + 1:])


def ravel(input):
    return reshape(input, (-1,))


class Expand(Op):
    is_view = True

    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(ctx, g):
        return g.sum_to_size(ctx.in_shape), None


def expand(input, *sizes):
    sizes = _sizes(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(torch.{input.dtype.name.capitalize()}Tensor{{{shape_str(shape)}}}, size={shape_str(sizes)}): "
                           "the number of sizes provided (" + str(len(sizes)) + ") must be greater or equal to the "
                           "number of dimensions in the tensor (" + str(len(shape)) + ")")
    lead = len(sizes) - len(shape)
    target = list(sizes)
    for i, s in enumerate(shape):
        want = sizes[lead + i]
        if want == -1:
            target[lead + i] = s
        elif s != 1 and s != want:
            raise RuntimeError(f"The expanded size of the tensor ({want}) must match the existing size ({s}) at "
                               f"non-singleton dimension {lead + i}.  Target sizes: {shape_str(sizes)}.  Tensor sizes: "
                               f"{shape_str(shape)}")
    target = tuple(target)
    if target == shape:
        return input
    return Expand.apply(input, target)


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_tensors(*tensors):
    from ._util import broadcast_shapes
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = broadcast_shapes(*[t._data.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


class Permute(Op):
    is_view = True

    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.dims))), None


def permute(input, *dims):
    dims = _sizes(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           f"of the desired ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)


class Transpose(Op):
    is_view = True

    def forward(ctx, x, d0, d1):
        ctx.d = (d0, d1)
        return np.swapaxes(x, d0, d1)

    def backward(ctx, g):
        return g.transpose(*ctx.d), None, None


def transpose(input, dim0, dim1):
    n = input._data.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    if n < 2 and d0 == d1:
        return Reshape.apply(input, input._data.shape) if input.requires_grad else _alias(input)
    return Transpose.apply(input, d0, d1)


swapaxes = swapdims = transpose


def t(input):
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return transpose(input, 0, 1) if n == 2 else _alias(input)


def adjoint(input):
    return transpose(input, -2, -1).conj()


def movedim(input, source, destination):
    n = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                           f"the same number of dims as destination ({list(dst)} dims)")
    src = [wrap_dim(d, n) for d in src]
    dst = [wrap_dim(d, n) for d in dst]
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = wrap_dims(dim, len(shape)) if shape else ()
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return Reshape.apply(input, new) if new != shape or input.requires_grad else _alias(input)


def unsqueeze(input, dim):
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1)
    return Reshape.apply(input, shape[:d] + (1,) + shape[d:])


def _promote_all(arrays):
    dt = D.result_type_raw(*arrays).np
    return [a if a.dtype == dt else a.astype(dt) for a in arrays], dt


class Cat(Op):
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] if a.ndim else 0 for a in arrays]
        ctx.skip = [a.ndim == 1 and a.shape[0] == 0 for a in arrays]
        kept = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)]
        if not kept:
            kept = list(arrays[:1])
        kept, _ = _promote_all(kept) if len({a.dtype for a in kept}) > 1 else (kept, None)
        if len(kept) > 1 and any(_stored_transposed(a) for a in kept) and _jit.enabled_for(*kept):
            return _concatenate_tiled(kept, dim)
        return np.concatenate(kept, axis=dim)

    def backward(ctx, g):
        out, start = [None], 0
        for size, skip in zip(ctx.sizes, ctx.skip):
            if skip:  # torch's legacy rule: a 1-D empty tensor joins any cat, and gets an empty gradient
                out.append(g.new_zeros((0,)))
                continue
            out.append(g.narrow(ctx.dim, start, size))
            start += size
        return tuple(out)


_TILED_MIN = 4096  # elements: below this NumPy's strided copy costs less than the kernel call
_TILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _stored_transposed(a):
    """Whether ``a``'s last two axes are swapped in memory (a large stride along its last axis), the case
    where NumPy's copy reads one element per cache line: the gradient of a ``k.transpose(-2, -1)``."""
    return (a.ndim >= 2 and a.size >= _TILED_MIN and a.dtype in _TILED_DTYPES
            and a.strides[-2] == a.itemsize and a.strides[-1] != a.itemsize)


def _concatenate_tiled(arrays, dim):
    """``np.concatenate`` (same-dtype host arrays) whose parts stored transposed go through the tiled copy
    kernel (``ember._kernels.shape``); the others, and any whose leading axes do not merge, ``np.copyto``."""
    shape = list(arrays[0].shape)
    shape[dim] = builtins.sum(a.shape[dim] for a in arrays)
    out = np.empty(shape, arrays[0].dtype)
    start = 0
    for a in arrays:
        dst = out[(slice(None),) * dim + (slice(start, start + a.shape[dim]),)]
        start += a.shape[dim]
        if not (_stored_transposed(a) and _copy_transposed(a, dst)):
            np.copyto(dst, a)
    return out


def _copy_transposed(a, dst):
    """dst[...] = a through the tiled kernel on (N, R, C) views; False where the leading axes of ``a`` or
    ``dst`` do not merge into one without a copy."""
    r, c = a.shape[-2:]
    try:
        src_t = np.reshape(a.swapaxes(-1, -2), (-1, c, r), copy=False)
        dst3 = np.reshape(dst, (-1, r, c), copy=False)
    except ValueError:
        return False
    _kernels.copy_transposed(src_t, dst3)
    return True


def cat(tensors, dim=0, *, out=None):
    """Concatenate along an existing dim."""
    from .inplace import write_out
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    ref = next((t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)), tensors[0])
    if ref._data.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref._data.ndim)
    for i, t in enumerate(tensors):
        if t._data.ndim == 1 and t._data.shape[0] == 0:
            continue
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref._data.ndim} and {t._data.ndim}")
        for k in range(ref._data.ndim):
            if k != d and t._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._data.shape[k]} but got size {t._data.shape[k]} for tensor number {i} in the list.")
    return write_out(Cat.apply(d, *tensors), out)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    from .inplace import write_out
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {shape_str(shape)} at entry 0 "
                               f"and {shape_str(t._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(shape) + 1)
    return write_out(cat([unsqueeze(t, d) for t in tensors], d), out)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return hstack([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors])


def atleast_1d(t):
    return t.reshape(1) if t.ndim == 0 else t


def atleast_2d(t):
    return t.reshape(1, -1) if t.ndim < 2 else t


def atleast_3d(t):
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1, 1)
    if t.ndim == 2:
        return t.unsqueeze(-1)
    return t


class Narrow(Op):
    is_view = True

    def forward(ctx, x, dim, start, length):
        ctx.in_shape, ctx.dim, ctx.start = x.shape, dim, start
        idx = (slice(None),) * dim + (slice(start, start + length),)
        return x[idx]

    def backward(ctx, g):
        d, start = ctx.dim, ctx.start
        before = list(ctx.in_shape)
        before[d] = start
        after = list(ctx.in_shape)
        after[d] = ctx.in_shape[d] - start - g.shape[d]
        parts = [p for p in (g.new_zeros(before) if before[d] else None, g,
                             g.new_zeros(after) if after[d] else None) if p is not None]
        return (cat(parts, d) if len(parts) > 1 else g), None, None, None


def narrow(input, dim, start, length):
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Narrow.apply(input, d, start, int(length))


def split(tensor, split_size_or_sections, dim=0):
    d = wrap_dim(dim, tensor._data.ndim)
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [builtins.min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if builtins.sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sections}")
    starts = [0]
    for length in sections[:-1]:
        starts.append(starts[-1] + length)
    parts = Split.apply(tensor, d, tuple(sections))
    name = "Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes"
    for index, (part, start, length) in enumerate(zip(parts, starts, sections)):
        if part._view_chain is not None:  # replayed as the one-output Narrow; torch's in-place rule below
            part._view_chain = part._view_chain[:-1] + ((Narrow, (d, start, length)),)
            part._multi_view = (name, index)
    return parts


class Split(Op):
    """All parts of a split as views, in one node: its backward is a single concatenation of the parts'
    gradients (zeros for parts without one), where one Narrow node per part would each allocate and
    zero-fill the whole input's gradient."""
    is_view = True

    def forward(ctx, x, dim, sections):
        ctx.dim = dim
        lead = (slice(None),) * dim
        out, start = [], 0
        for length in sections:
            out.append(x[lead + (slice(start, start + length),)])
            start += length
        return tuple(out)

    def backward(ctx, *grads):
        return cat(grads, ctx.dim), None, None


def split_with_sizes(tensor, split_sizes, dim=0):
    return split(tensor, list(split_sizes), dim)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    step = -(-size // chunks) if size else 1
    return split(input, step, d)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        bounds = [i * (size // n) + builtins.min(i, size % n) for i in range(n + 1)]
    else:
        bounds = [0] + [builtins.min(int(i), size) for i in indices_or_sections] + [size]
    return tuple(narrow(input, d, a, builtins.max(b - a, 0)) for a, b in zip(bounds, bounds[1:]))


class Unbind(Op):
    is_view = True

    def forward(ctx, x, dim):
        ctx.dim = dim
        # x[..., i, ...] with a trailing Ellipsis: a view even when it is 0-d (x[i] would be a NumPy scalar)
        lead = (slice(None),) * dim
        return tuple(x[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    def backward(ctx, *grads):
        return stack(grads, ctx.dim), None


def unbind(input, dim=0):
    d = wrap_dim(dim, input._data.ndim)
    if input._data.shape[d] == 0:
        return ()
    parts = Unbind.apply(input, d)
    for index, part in enumerate(parts):
        if part._view_chain is not None:
            part._multi_view = ("Unbind", index)
    return parts


class Flip(Op):
    def forward(ctx, x, dims):
        ctx.dims = dims
        # a reversed slice per flipped dim: np.flip's argument normalisation costs more than the copy
        return x[tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(x.ndim))].copy()

    def backward(ctx, g):
        return g.flip(ctx.dims), None


def flip(input, *dims):
    dims = _sizes(dims)
    return Flip.apply(input, wrap_dims(dims, input._data.ndim))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


class Roll(Op):
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        if dims is None:
            return np.roll(x.reshape(-1), shifts).reshape(x.shape)
        return np.roll(x, shifts, dims)

    def backward(ctx, g):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll.apply(g, neg, ctx.dims), None, None


def roll(input, shifts, dims=None):
    if isinstance(shifts, (list, tuple)):
        shifts = tuple(int(s) for s in shifts)
    if dims is not None:
        dims = tuple(wrap_dim(d, input._data.ndim) for d in ((dims,) if isinstance(dims, int) else dims))
        if not isinstance(shifts, tuple):
            shifts = (int(shifts),)
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return Roll.apply(input, shifts, dims)


def rot90(input, k=1, dims=(0, 1)):
    k %= 4
    d0, d1 = dims
    if k == 0:
        return input.clone()
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    return input.transpose(d0, d1).flip(d1)


class Repeat(Op):
    def forward(ctx, x, reps):
        if len(reps) < x.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
        ctx.in_shape, ctx.reps = x.shape, reps
        return np.tile(x, reps)

    def backward(ctx, g):
        shape = (1,) * (len(ctx.reps) - len(ctx.in_shape)) + ctx.in_shape
        split_shape = []
        for r, s in zip(ctx.reps, shape):
            split_shape += [r, s]
        gr = g.reshape(split_shape).sum(tuple(range(0, len(split_shape), 2)))
        return gr.reshape(ctx.in_shape), None


def repeat(input, *sizes):
    return Repeat.apply(input, _sizes(sizes))


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    from .indexing import index_select
    if repeats is None:  # torch.repeat_interleave(repeats) form
        reps = input._data
        if reps.__class__ is _ND:
            return Tensor._wrap(np.repeat(np.arange(len(reps)), reps).astype(np.int64))
        return Tensor._wrap(_on_device_of(reps, _repeat_index(len(reps), reps)))
    if dim is None:
        input = input.reshape(-1)
        dim = 0
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    idx = _repeat_index(n, reps)
    if input._data.__class__ is not _ND:
        idx = _on_device_of(input._data, idx)
    return index_select(input, d, Tensor._wrap(idx))


def _repeat_index(n, reps):
    """``i`` repeated ``reps[i]`` times, on the host: the result's size is the sum of ``reps`` (a device
    sync anyway), and CuPy's ``repeat`` takes no array of counts."""
    return np.repeat(np.arange(n), reps if reps.__class__ is _ND or not hasattr(reps, "ndim") else to_host(reps)
                     ).astype(np.int64)


def _on_device_of(x, a):
    return a if x.__class__ is _ND else array_module(x).asarray(a)


class Tril(Op):
    upper = False

    def forward(ctx, x, k):
        ctx.k = k
        if x.ndim < 2:
            raise RuntimeError(f"{'triu' if ctx.upper else 'tril'}: input tensor must have at least 2 dimensions")
        return np.triu(x, k) if ctx.upper else np.tril(x, k)

    def backward(ctx, g):
        return type(ctx).apply(g, ctx.k), None


class Triu(Tril):
    upper = True


def tril(input, diagonal=0, *, out=None):
    return Tril.apply(input, diagonal)


def triu(input, diagonal=0, *, out=None):
    return Triu.apply(input, diagonal)


class Diagonal(Op):
    is_view = True

    def forward(ctx, x, offset, d1, d2):
        ctx.in_shape, ctx.args = x.shape, (offset, d1, d2)
        return np.diagonal(x, offset, d1, d2)

    def backward(ctx, g):
        offset, d1, d2 = ctx.args
        z = g.new_zeros(ctx.in_shape)
        return DiagonalScatter.apply(z, g, offset, d1, d2), None, None, None


class DiagonalScatter(Op):
    def forward(ctx, x, src, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        out = x.copy()
        idx = _diag_index(out.shape, offset, d1, d2, np if out.__class__ is _ND else array_module(out))
        # NumPy puts the diagonal last; advanced indices land in place only when d1, d2 are adjacent
        pos = builtins.min(d1, d2) if builtins.abs(d1 - d2) == 1 else 0
        out[idx] = np.moveaxis(src, -1, pos) if src.ndim > 1 else src
        return out

    def backward(ctx, g):
        offset, d1, d2 = ctx.args
        return DiagonalScatter.apply(g, g.diagonal(offset, d1, d2).new_zeros(()).expand_as(g.diagonal(offset, d1, d2)),
                                     offset, d1, d2), g.diagonal(offset, d1, d2), None, None, None


def _diag_index(shape, offset, d1, d2, xp=np):
    n1, n2 = shape[d1], shape[d2]
    length = builtins.max(0, builtins.min(n1 - builtins.max(-offset, 0), n2 - builtins.max(offset, 0)))
    i = xp.arange(length) + builtins.max(-offset, 0)
    j = xp.arange(length) + builtins.max(offset, 0)
    idx = [slice(None)] * len(shape)
    idx[d1], idx[d2] = i, j
    return tuple(idx)


def diagonal(input, offset=0, dim1=0, dim2=1):
    n = input._data.ndim
    return Diagonal.apply(input, offset, wrap_dim(dim1, n), wrap_dim(dim2, n))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    n = input._data.ndim
    return DiagonalScatter.apply(input, src, offset, wrap_dim(dim1, n), wrap_dim(dim2, n))


def diag(input, diagonal=0):
    if input._data.ndim == 1:
        n = input._data.shape[0] + builtins.abs(diagonal)
        z = input.new_zeros((n, n))
        return DiagonalScatter.apply(z, input, diagonal, 0, 1)
    if input._data.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + str(input._data.ndim) + "D")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input._data.shape[-1] + builtins.abs(offset)
    z = input.new_zeros(input._data.shape[:-1] + (n, n))
    return DiagonalScatter.apply(z, input, offset, z.ndim - 2, z.ndim - 1)


def diagflat(input, offset=0):
    return diag(input.reshape(-1), offset)


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    n = len(tensors)
    shape = [t.numel() for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(tensors):
        view_shape = [1] * n
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view_shape[pos] = -1
        out.append(t.reshape(view_shape).expand(shape))
    return tuple(out)


install(view=view, reshape=reshape, view_as=view_as, reshape_as=reshape_as, flatten=flatten, unflatten=unflatten,
        ravel=ravel, expand=expand, expand_as=expand_as, broadcast_to=broadcast_to, permute=permute,
        transpose=transpose, swapaxes=swapaxes, swapdims=swapaxes, t=t, adjoint=adjoint, movedim=movedim,
        moveaxis=movedim, squeeze=squeeze, unsqueeze=unsqueeze, narrow=narrow, split=split,
        split_with_sizes=split_with_sizes, chunk=chunk, tensor_split=tensor_split, unbind=unbind, flip=flip,
        fliplr=fliplr, flipud=flipud, roll=roll, rot90=rot90, repeat=repeat, tile=tile,
        repeat_interleave=repeat_interleave, tril=tril, triu=triu, diagonal=diagonal, diag=diag,
        diag_embed=diag_embed, diagonal_scatter=diagonal_scatter,
        T=property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1)))),
        mT=property(lambda self: transpose(self, -2, -1)),
        H=property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1))).conj()),
        mH=property(lambda self: transpose(self, -2, -1).conj()))
Tensor.t_ = lambda self: _set_shape_inplace(self, t(self))
Tensor.transpose_ = lambda self, d0, d1: _set_shape_inplace(self, transpose(self, d0, d1))
Tensor.squeeze_ = lambda self, dim=None: _set_shape_inplace(self, squeeze(self, dim))
Tensor.unsqueeze_ = lambda self, dim: _set_shape_inplace(self, unsqueeze(self, dim))
Tensor.tril_ = lambda self, diagonal=0: self.copy_(tril(self, diagonal))
Tensor.triu_ = lambda self, diagonal=0: self.copy_(triu(self, diagonal))


def _set_shape_inplace(self, result):
    self._data = result._data
    if result.requires_grad:
        self.grad_fn, self._out_nr, self.requires_grad = result.grad_fn, result._out_nr, True
    return self


__all__ = ["reshape", "view_as_dtype", "flatten", "unflatten", "ravel", "broadcast_to", "broadcast_tensors",
           "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "movedim", "moveaxis", "squeeze",
           "unsqueeze", "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
           "column_stack", "atleast_1d", "atleast_2d", "atleast_3d", "narrow", "split", "chunk", "tensor_split",
           "unbind", "flip", "fliplr", "flipud", "roll", "rot90", "tile", "repeat_interleave", "tril", "triu",
           "diagonal", "diag", "diag_embed", "diagflat", "diagonal_scatter", "meshgrid", "infer_shape"]
