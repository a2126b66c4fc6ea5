"""Fetchers turn an index (or a batch of indices) into a batch; the same ones serve the main process and workers.

A fetcher built with ``arrays=True`` leaves would-be tensors as NumPy arrays (see _collate.py): workers
ship those, and the main process wraps them once.
"""
from ._collate import default_collate, default_convert, _collate_arrays, _convert_arrays, _to_tensors


def _array_collate(collate_fn, arrays):
    """The collate function a fetcher runs: the NumPy half of ember's defaults when ``arrays``."""
    if arrays and collate_fn is default_collate:
        return _collate_arrays
    if arrays and collate_fn is default_convert:
        return _convert_arrays
    return collate_fn


def _collate(collate_fn, data, empty):
    """collate_fn(data); ember's array collate stacks where ``empty`` allocates (see _shared.py)."""
    if empty is not None and collate_fn is _collate_arrays:
        return _collate_arrays(data, empty)
    return collate_fn(data)


class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last, arrays=False):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = _array_collate(collate_fn, arrays)
        # TensorDataset + default_collate: gather each tensor once per batch instead of once per sample
        self._gather = getattr(dataset, "_collated_batch", None) if collate_fn is default_collate else None
        self._arrays = arrays
        self._getitems = getattr(dataset, "__getitems__", None)

    def fetch(self, index, empty=None):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self._gather is not None:
            batch = self._gather(index)
            if batch is not None:
                return batch if self._arrays else _to_tensors(batch)
        data = self._getitems(index) if self._getitems else [self.dataset[i] for i in index]
        return _collate(self.collate_fn, data, empty)


class _IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last, arrays=False):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = _array_collate(collate_fn, arrays)
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index, empty=None):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in possibly_batched_index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
            raise StopIteration
        return _collate(self.collate_fn, data, empty)


def create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last, arrays=False):
    cls = _IterableDatasetFetcher if is_iterable else _MapDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last, arrays)
