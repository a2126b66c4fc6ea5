"""The loop each DataLoader worker process runs, and what a worker knows about itself (get_worker_info).

Messages from the main process come on ``index_queue`` (a queue: its feeder thread means the main process
never blocks handing out a task, however large its index list, while this worker is blocked sending it a
result); replies go back on a pipe of this worker's own, written directly (no feeder thread to start every
epoch and to switch to per batch). Messages on ``index_queue``:
    (epoch, task_id, index, slot)  fetch this batch, into shared-memory slot ``slot`` unless it is None
    ("resume", epoch)               persistent workers: start a new epoch (fresh iterator for an IterableDataset)
    "retire"                        no more tasks this epoch: exit once every result is written
    None                            exit now
Replies on ``result_conn``: (epoch, task_id, worker_id, slot, data), where data is a batch (its arrays
described by _shared.InSlot when it came through a slot), an ExceptionWrapper, _IterationEnd when an
IterableDataset's copy in this worker is used up, or _Skipped for a task with a slot that was not run
(every task with a slot is answered, so the main process knows when the slot is free again).
"""
import gc
import os
import queue
import random
import signal
import sys
import traceback

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info"]

_worker_info = None
_PARENT_CHECK_INTERVAL = 1.0  # seconds between checks that the main process is still alive


class WorkerInfo:
    """Read-only facts about the current worker: ``id``, ``num_workers``, ``seed`` and ``dataset``."""
    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{self.__class__.__name__}({items})"


def get_worker_info():
    """In a DataLoader worker: its WorkerInfo (id, num_workers, seed, dataset copy). In the main process: None.

    >>> info = get_worker_info()   # inside IterableDataset.__iter__, to read only this worker's share
    """
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with the worker's traceback."""

    def __init__(self, exc_info, where):
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)  # KeyError repr()s its argument; keep the newlines readable
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


class KeyErrorMessage(str):
    def __repr__(self):
        return self


class _IterationEnd:
    """Sent once by a worker whose IterableDataset iterator is exhausted."""


class _Skipped:
    """The answer to a task this worker did not run (a past epoch, or its IterableDataset ran out)."""


def _seed_worker(seed):
    """Seed every generator a dataset may use: Python's, NumPy's global one and ember's default one."""
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    from ..._ops.random import manual_seed
    manual_seed(seed)


def _one_blas_thread():
    """num_workers processes each running multithreaded BLAS would oversubscribe the cores."""
    from ... import _threads
    if _threads._state["n"] == 1:
        return  # the parent's limit came with the fork (threadpoolctl's library scan costs milliseconds)
    try:
        _threads.set_num_threads(1)
    except Exception:
        pass


def _worker_loop(dataset, is_iterable, index_queue, result_conn, auto_collation, collate_fn, drop_last,
                 base_seed, init_fn, worker_id, num_workers, parent_pid, slots=None, main_reply_ends=()):
    global _worker_info
    # The reply pipes' read ends a fork copied into this process (ours and earlier workers'): closed, so that
    # once the main process is gone a worker blocked sending a large batch gets a broken pipe, not a hang
    for conn in main_reply_ends:
        conn.close()
    # Objects inherited from the main process are never garbage here: keep the collector off them, as its
    # passes write into every object they visit and so copy the pages fork shares with the main process
    gc.freeze()
    # Ctrl-C reaches the whole process group: let the main process handle it and shut us down
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from ._fetch import create_fetcher
    _one_blas_thread()
    seed = base_seed + worker_id
    _seed_worker(seed)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)

    fetcher = None
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last, arrays=True)
    except Exception:
        init_error = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")

    epoch = 0
    ended = False
    try:
        while True:
            msg = _next_message(index_queue, parent_pid)
            if msg is None or msg == "retire":  # exit now / no more tasks this epoch: every reply is sent already
                return
            if msg[0] == "resume":
                epoch, ended = msg[1], False
                if init_error is None:
                    fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last, arrays=True)
                continue
            task_epoch, task_id, index, slot = msg
            if ended or task_epoch != epoch:
                if slot is not None:
                    result_conn.send((task_epoch, task_id, worker_id, slot, _Skipped))
                continue
            if init_error is not None:
                data, init_error = init_error, None
            else:
                data, ended = _run_task(fetcher, index, slot, slots, is_iterable, worker_id)
            _send(result_conn, (task_epoch, task_id, worker_id, slot, data), worker_id)
            del data
    except (EOFError, OSError):  # the main process is gone or closed our pipes: nobody reads our results
        return


def _next_message(index_queue, parent_pid):
    """The next message from the main process; None (exit) once the main process has died."""
    while True:
        try:
            return index_queue.get(timeout=_PARENT_CHECK_INTERVAL)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return None


def _run_task(fetcher, index, slot, slots, is_iterable, worker_id):
    """(batch or ExceptionWrapper or _IterationEnd, whether this worker's IterableDataset ran out)."""
    try:
        if slot is None:
            return fetcher.fetch(index), False
        arena = slots.arena(slot)
        return arena.pack(fetcher.fetch(index, arena.empty)), False
    except StopIteration:
        if is_iterable:
            return _IterationEnd, True
        return ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}"), False
    except Exception:
        return ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}"), False


def _send(result_conn, reply, worker_id):
    """Send a reply; a batch that cannot be pickled is replaced by the error saying so (send pickles the
    whole message before writing a byte, so nothing partial reaches the pipe)."""
    try:
        result_conn.send(reply)
    except (EOFError, OSError):
        raise
    except Exception:
        err = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
        result_conn.send(reply[:4] + (err,))
