"""default_collate / default_convert, split in two steps so workers can ship plain NumPy.

Step 1 (``_collate_arrays`` / ``_convert_arrays``) builds the batch with every would-be tensor as a NumPy
array; it runs wherever the batch is fetched (a worker or the main process). Step 2 (``_to_tensors``)
wraps those arrays as tensors without copying; it runs once, in the main process.
"""
import collections.abc
import re

import numpy as np

from ..._tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_NOT_NUMERIC = re.compile(r"[SaUO]")  # string and object dtypes never become tensors
_COLLATE_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _rebuild(elem, items):
    """A container of elem's type holding items (a plain list or dict where the type can't be built so)."""
    try:
        return type(elem)(items)
    except TypeError:
        return dict(items) if isinstance(elem, collections.abc.Mapping) else list(items)


def _stack(arrays, empty=None):
    try:
        if empty is not None:  # into the worker's shared-memory slot, when the samples agree on the dtype
            first = arrays[0]
            out = empty((len(arrays),) + first.shape, first.dtype) if len({a.dtype for a in arrays}) == 1 else None
            if out is not None:
                return np.stack(arrays, out=out)
        return np.stack(arrays)
    except ValueError:
        first = arrays[0].shape
        bad = next(i for i, a in enumerate(arrays) if a.shape != first)
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                           f"{list(arrays[bad].shape)} at entry {bad}") from None


def _collate_arrays(batch, empty=None):
    """default_collate with NumPy arrays in place of tensors; stacked arrays go where ``empty(shape, dtype)``
    puts them (a worker's shared-memory slot) when it is given and finds room."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t._data for t in batch], empty)
    if isinstance(elem, np.ndarray):
        if _NOT_NUMERIC.search(elem.dtype.str):
            raise TypeError(_COLLATE_ERR.format(elem.dtype))
        return _stack(batch, empty)
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return np.array(batch)
    if isinstance(elem, bool):
        return np.array(batch, dtype=np.bool_)
    if isinstance(elem, int):
        return np.array(batch, dtype=np.int64)
    if isinstance(elem, float):
        return np.array(batch, dtype=np.float64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: _collate_arrays([d[key] for d in batch], empty) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(_collate_arrays(s, empty) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if len(set(map(len, batch))) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [_collate_arrays(s, empty) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild(elem, columns)
    raise TypeError(_COLLATE_ERR.format(type(elem)))


def _convert_arrays(data):
    """default_convert with NumPy arrays in place of tensors."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return np.asarray(data)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: _convert_arrays(v) for key, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_convert_arrays(d) for d in data))
    if isinstance(data, tuple):
        return [_convert_arrays(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return _rebuild(data, [_convert_arrays(d) for d in data])
    return data


def _to_tensors(data):
    """Wrap every numeric NumPy array in a collated structure as a Tensor (no copy)."""
    if isinstance(data, np.ndarray):
        return data if _NOT_NUMERIC.search(data.dtype.str) else Tensor._wrap(data)
    if isinstance(data, (str, bytes, Tensor)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: _to_tensors(v) for key, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_to_tensors(d) for d in data))
    if isinstance(data, list):
        return [_to_tensors(d) for d in data]
    if isinstance(data, tuple):
        return tuple(_to_tensors(d) for d in data)
    return data


def _stack_with_grad(batch):
    from ..._ops.shape import stack
    return stack(batch, 0)


def default_collate(batch):
    """Merge a list of samples into a batch: tensors, arrays and numbers are stacked into tensors with a new
    first dimension; dicts, lists, tuples and namedtuples are collated field by field; strings stay lists.

    >>> default_collate([(1, 0.5), (2, 1.5)])
    [tensor([1, 2]), tensor([0.5000, 1.5000], dtype=torch.float64)]
    """
    elem = batch[0]
    if isinstance(elem, Tensor) and any(t.requires_grad for t in batch):
        return _stack_with_grad(batch)  # keep the autograd link, as torch.stack does
    return _to_tensors(_collate_arrays(batch))


def default_convert(data):
    """Turn NumPy arrays (also inside dicts, lists, tuples) into tensors; used when batch_size is None.

    >>> default_convert({"x": np.zeros(2)})
    {'x': tensor([0., 0.], dtype=torch.float64)}
    """
    return _to_tensors(_convert_arrays(data))
