"""Variable-length sequences: padding, packing and ``PackedSequence`` (torch.nn.utils.rnn).

A packed batch stores the sequences time-major with the finished ones dropped: step ``t`` holds
``batch_sizes[t]`` rows, sequences sorted by decreasing length. Packing and unpacking are one
gather or scatter of rows each, through a flat index computed once with NumPy.
"""
from collections import namedtuple

import numpy as np

from ..._device import array_module
from ..._tensor import Tensor
from ...autograd.function import Op

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def invert_permutation(permutation):
    if permutation is None:
        return None
    p = permutation._data
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=p.dtype)
    return Tensor._wrap(out)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Holds the data and ``batch_sizes`` of a packed batch; build it with :func:`pack_padded_sequence`.

    >>> p = pack_sequence([ember.ones(3, 2), ember.ones(1, 2)])
    >>> p.batch_sizes
    tensor([2, 1, 1])
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # torch's legacy (data, batch_sizes) tuple form
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=_dtypes().float64)

    def float(self):
        return self.to(dtype=_dtypes().float32)

    def half(self):
        return self.to(dtype=_dtypes().float16)

    def long(self):
        return self.to(dtype=_dtypes().int64)

    def int(self):
        return self.to(dtype=_dtypes().int32)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _dtypes():
    import ember
    return ember


class _GatherRows(Op):
    """``x[idx]`` along dim 0; backward scatters the gradient back (into zeros)."""

    def forward(ctx, x, idx):
        ctx.idx, ctx.n = idx, x.shape[0]
        return x.take(_on_device_of(x, idx), axis=0)

    def backward(ctx, g):
        return _ScatterRows.apply(g, ctx.idx, ctx.n, 0), None


class _ScatterRows(Op):
    """A (n, ...) array filled with ``fill`` and ``out[idx] = x``; backward gathers."""

    def forward(ctx, x, idx, n, fill):
        ctx.idx = idx
        out = array_module(x).full((n,) + x.shape[1:], fill, dtype=x.dtype)
        out[_on_device_of(x, idx)] = x
        return out

    def backward(ctx, g):
        return _GatherRows.apply(g, ctx.idx), None, None, None


def _on_device_of(x, idx):
    """Host row numbers (computed from the CPU lengths, as torch keeps them) moved to ``x``'s device."""
    return idx if x.__class__ is np.ndarray else array_module(x).asarray(idx)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        return lengths._data.astype(np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _packed_steps(batch_sizes):
    """(time step, position in the sorted batch) of every packed row, in packed order."""
    t = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    b = np.arange(int(batch_sizes.sum())) - np.repeat(np.concatenate(([0], np.cumsum(batch_sizes)[:-1])), batch_sizes)
    return t, b


def _rows(t, b, T, B, batch_first):
    """Row numbers in a padded batch viewed as (T*B, *) rows (or (B*T, *) with ``batch_first``)."""
    return b * T + t if batch_first else t * B + b


def _batch_sizes(sorted_lengths):
    T = int(sorted_lengths[0]) if sorted_lengths.size else 0
    return (sorted_lengths[None, :] > np.arange(T)[:, None]).sum(1).astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences of ``lengths``.

    >>> x = ember.randn(4, 2, 3)
    >>> pack_padded_sequence(x, [4, 2]).data.shape
    torch.Size([6, 3])
    """
    lengths = _lengths_array(lengths)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = Tensor._wrap(order.astype(np.int64))
    if lengths.size and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    shape = input._data.shape
    T, B = (shape[1], shape[0]) if batch_first else (shape[0], shape[1])
    if lengths.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} (batch_size={B})")
    if lengths.size and lengths[0] > T:
        raise RuntimeError(f"start ({T}) + length ({int(lengths[0]) - T}) exceeds dimension size ({T}).")
    batch_sizes = _batch_sizes(lengths)
    t, b = _packed_steps(batch_sizes)
    rows = _rows(t, b if order is None else order[b], T, B, batch_first)
    flat = input.reshape((T * B,) + tuple(shape[2:]))
    data = _GatherRows.apply(flat, rows)
    return PackedSequence(data, Tensor._wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of :func:`pack_padded_sequence`: returns ``(padded, lengths)``, in the original batch order."""
    data, batch_sizes = sequence.data, sequence.batch_sizes._data.astype(np.int64)
    T = len(batch_sizes)
    B = int(batch_sizes[0]) if T else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {T}")
        T_out = total_length
    else:
        T_out = T
    lengths = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)
    t, b = _packed_steps(batch_sizes)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:  # sorted row b returns to its original position sorted_indices[b]
        b = sequence.sorted_indices._data[b]
        lengths = lengths[unsorted._data]
    rows = _rows(t, b, T_out, B, batch_first)
    out = _ScatterRows.apply(data, rows, T_out * B, padding_value)
    shape = (B, T_out) if batch_first else (T_out, B)
    return out.reshape(shape + tuple(data._data.shape[1:])), Tensor._wrap(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length tensors (L_i, *) into one padded (T, B, *) (or (B, T, *)) tensor.

    >>> pad_sequence([ember.ones(3), ember.ones(1)], batch_first=True)
    tensor([[1., 1., 1.],
            [1., 0., 0.]])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    from ... import cat
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    B, T = len(sequences), int(lengths.max()) if len(sequences) else 0
    b = np.repeat(np.arange(B), lengths)
    t = np.arange(int(lengths.sum())) - np.repeat(np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    if padding_side == "left":
        t = t + np.repeat(T - lengths, lengths)
    rows = b * T + t if batch_first else t * B + b
    data = cat(list(sequences), 0)
    out = _ScatterRows.apply(data, rows, T * B, padding_value)
    shape = (B, T) if batch_first else (T, B)
    return out.reshape(shape + tuple(data._data.shape[1:]))


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of unpadded tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_lengths_array(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length tensors (L_i, *) into a ``PackedSequence``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Inverse of :func:`pack_sequence`: a list of tensors in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
