"""Batches from worker processes through shared memory instead of through the result pipe.

Pickling a batch and pushing it through a pipe copies it four or five times (pickle, the kernel's pipe
buffer in 64 KB pieces, the reader's buffer, unpickle) and costs about a millisecond of CPU for a
batch of 64 CIFAR images, on the worker and on the main process. Instead, before forking the workers,
the main process maps one shared-memory file cut into ``n`` slots, one for each batch that can be in
flight. Each task carries a free slot; the worker's collate stacks the samples straight into it and
sends back only a small description of where each array lies (``InSlot``). The main process copies
the arrays out (so a batch the user keeps never pins a slot) and hands the slot to the next task.

Protocol (see _worker.py): a task sent with a slot gets exactly one reply naming that slot, even when
the worker skips the task, so the main process frees a slot only once no worker will write to it.
Without a free slot, or where shared memory is unavailable, a batch goes through the pipe as before.
"""
import collections.abc
import math
import mmap
import os

import numpy as np

from ._collate import _NOT_NUMERIC, _rebuild

__all__ = ["SharedSlots", "InSlot"]

_SLOT_BYTES = 1 << 30  # address space per slot: pages are allocated only where batches are written
_ALIGN = 64


class InSlot:
    """Where a worker left one array in the shared memory: byte offset, shape, dtype."""
    __slots__ = ("offset", "shape", "dtype")

    def __init__(self, offset, shape, dtype):
        self.offset, self.shape, self.dtype = offset, shape, dtype

    def __reduce__(self):
        return InSlot, (self.offset, self.shape, self.dtype)


def _map_arrays(data, fn):
    """``data`` with fn applied to every array and InSlot inside the containers collate builds."""
    if isinstance(data, (np.ndarray, InSlot)):
        return fn(data)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: _map_arrays(v, fn) for key, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_map_arrays(d, fn) for d in data))
    if isinstance(data, list):
        return [_map_arrays(d, fn) for d in data]
    if isinstance(data, tuple):
        return tuple(_map_arrays(d, fn) for d in data)
    return data


class SharedSlots:
    """``n`` slots of one shared-memory file, mapped by the main process before the workers fork.

    ``SharedSlots.create(n)`` returns None where this cannot work (no memfd_create, mapping refused)."""

    def __init__(self, n, slot_bytes):
        fd = os.memfd_create("ember-dataloader", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, n * slot_bytes)  # sparse: no memory is used until written
            self._map = mmap.mmap(fd, n * slot_bytes)
        finally:
            os.close(fd)
        self._whole = np.frombuffer(self._map, np.uint8)
        self._address = self._whole.__array_interface__["data"][0]
        self.slot_bytes = slot_bytes
        self.n = n

    @classmethod
    def create(cls, n):
        if n < 1 or not hasattr(os, "memfd_create"):
            return None
        try:
            return cls(n, _SLOT_BYTES)
        except (OSError, ValueError, OverflowError):
            return None

    # ------------------------------------------------------------------ worker side
    def arena(self, slot):
        return _Arena(self, slot)

    # ------------------------------------------------------------------ main-process side
    def unpack(self, data):
        """The batch with every InSlot replaced by a private copy of the array it describes."""
        whole = self._whole

        def copy_out(item):
            if not isinstance(item, InSlot):
                return item
            start = item.offset
            stop = start + math.prod(item.shape) * item.dtype.itemsize
            return whole[start:stop].view(item.dtype).reshape(item.shape).copy()
        return _map_arrays(data, copy_out)


class _Arena:
    """One slot, filled front to back while a worker builds one batch."""

    def __init__(self, slots, slot):
        self._slots = slots
        self._start = slot * slots.slot_bytes
        self._used = self._start
        self._stop = self._start + slots.slot_bytes

    def empty(self, shape, dtype):
        """An uninitialised array in the slot, or None when it does not fit."""
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        start = -(-self._used // _ALIGN) * _ALIGN
        if start + nbytes > self._stop:
            return None
        self._used = start + nbytes
        return self._slots._whole[start:start + nbytes].view(dtype).reshape(shape)

    def pack(self, data):
        """The batch with every numeric array moved into the slot replaced by its InSlot."""
        return _map_arrays(data, self._place)

    def _place(self, array):
        if not self._holds(array):  # not built in the slot by collate: copy it in if it fits
            if _NOT_NUMERIC.search(array.dtype.str) or array.size == 0:
                return array
            out = self.empty(array.shape, array.dtype)
            if out is None:
                return array
            np.copyto(out, array)
            array = out
        return InSlot(array.__array_interface__["data"][0] - self._slots._address, array.shape, array.dtype)

    def _holds(self, array):
        """Whether ``array`` is one that empty() handed out for this batch."""
        if array.base is not self._slots._whole or not array.flags.c_contiguous:
            return False
        return self._start <= array.__array_interface__["data"][0] - self._slots._address < self._used
