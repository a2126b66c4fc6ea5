"""DataLoader: dataset -> sampler -> batch sampler -> fetcher -> collate, in this process or in worker processes.

Worker processes fetch and collate batches into NumPy arrays and send them back through a pipe of their own
(the arrays themselves through shared memory where they can, see _shared.py); the main process puts them
back in order and wraps the arrays as tensors once.
"""
import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
import weakref

from . import _worker
from ._shared import SharedSlots
from ._collate import default_collate, default_convert, _to_tensors
from ._fetch import create_fetcher
from .dataset import IterableDataset
from .sampler import Sampler, SequentialSampler, RandomSampler, BatchSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

get_worker_info = _worker.get_worker_info
_STATUS_CHECK_INTERVAL = 0.2  # seconds between liveness checks of the workers while waiting for a batch


class _InfiniteConstantSampler(Sampler):
    """The 'sampler' of an IterableDataset: None forever (the dataset decides when to stop)."""

    def __iter__(self):
        return itertools.repeat(None)


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) batches, optionally loading in worker processes.

    >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, num_workers=2)
    >>> for xb, yb in loader:
    ...     loss = loss_fn(model(xb), yb)
    """
    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise AssertionError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory  # accepted for compatibility: host memory is all there is on the CPU
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")

        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self.__initialized = True

    def __setattr__(self, attr, val):
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                           "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None or self._iterator._shut_down:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator._reset(first=False)
        return self._iterator

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def __del__(self):
        it = self.__dict__.get("_iterator")
        if it is not None:
            it._shutdown_workers()


class _BaseIter:
    def __init__(self, loader):
        from ..._ops.random import _rng
        # a weak link: a persistent loader holds its iterator, and a cycle would keep the workers alive until gc
        self._loader_ref = weakref.ref(loader)
        self._index_sampler = loader._index_sampler
        self._persistent = loader.persistent_workers
        self._dataset = loader.dataset
        self._auto_collation = loader._auto_collation
        self._collate_fn = loader.collate_fn
        self._drop_last = loader.drop_last
        self._is_iterable = loader._is_iterable
        self._sampler_iter = iter(self._index_sampler)
        # drawn here in both modes so a seeded generator gives the same shuffle whatever num_workers is
        self._base_seed = int(_rng(loader.generator).integers(0, 2 ** 62))

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader_ref())

    def _next_index(self):
        return next(self._sampler_iter)


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = create_fetcher(self._is_iterable, self._dataset, self._auto_collation, self._collate_fn,
                                       self._drop_last)

    def __next__(self):
        return self._fetcher.fetch(self._next_index())


class _MultiProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._shut_down = True  # until the workers exist, there is nothing to shut down
        ctx = loader.multiprocessing_context
        if ctx is None or isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        # arrays come back for ember's own collate functions only; a user's collate_fn result is sent as is
        self._wrap = self._collate_fn is default_collate or self._collate_fn is default_convert
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor * self._num_workers
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        # one slot per batch that can be in flight; mapped before the fork so that the workers share it
        self._slots = None
        if self._wrap and ctx.get_start_method() == "fork":
            self._slots = SharedSlots.create(self._prefetch)
        self._free_slots = list(range(self._slots.n)) if self._slots is not None else []
        # per worker: a task queue (its feeder thread never lets a put block us, whatever the size of the
        # index list, while the worker is blocked sending us a result) and a one-way reply pipe, written
        # directly by the worker (it blocks until we read, which we always do while waiting)
        self._index_queues, self._result_conns, self._workers = [], [], []
        self._retired = [False] * self._num_workers  # told to exit early, see _retire_idle_workers
        for i in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()  # never block our exit on tasks a dead worker will not read
            result_in, result_out = ctx.Pipe(duplex=False)
            inherited = self._result_conns + [result_in] if ctx.get_start_method() == "fork" else []
            w = ctx.Process(target=_worker._worker_loop, daemon=True,
                            args=(self._dataset, self._is_iterable, index_queue, result_out,
                                  self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                                  loader.worker_init_fn, i, self._num_workers, os.getpid(), self._slots,
                                  inherited))
            w.start()
            result_out.close()  # the worker's end: closed here so that its exit shows as end-of-file
            self._index_queues.append(index_queue)
            self._result_conns.append(result_in)
            self._workers.append(w)
        self._listening = dict(zip(self._result_conns, range(self._num_workers)))  # open reply pipes
        self._shut_down = False
        self._epoch = 0
        self._reset(first=True)

    def _reset(self, first):
        if not first:
            self._sampler_iter = iter(self._index_sampler)
            self._epoch += 1
            for worker_id in range(self._num_workers):
                self._send(worker_id, ("resume", self._epoch))
        self._send_idx = 0
        self._rcvd_idx = 0
        self._tasks = {}     # task id -> worker id, for every batch asked for and not yet handed out
        self._results = {}   # task id -> data that arrived ahead of its turn
        self._active = [True] * self._num_workers
        self._sampler_done = False
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch):
            self._try_put_index()

    def _try_put_index(self):
        if self._sampler_done or not any(self._active):
            return
        try:
            index = self._next_index()
        except StopIteration:
            self._sampler_done = True
            self._retire_idle_workers()
            return
        worker_id = next(self._worker_cycle)
        while not self._active[worker_id]:
            worker_id = next(self._worker_cycle)
        slot = self._free_slots.pop() if self._free_slots else None  # None: the batch comes through the pipe
        self._send(worker_id, (self._epoch, self._send_idx, index, slot))
        self._tasks[self._send_idx] = worker_id
        self._send_idx += 1

    def _send(self, worker_id, msg):
        try:
            self._index_queues[worker_id].put(msg)
        except (OSError, ValueError):  # the queue is closed: _get_data reports a dead worker
            pass

    def __next__(self):
        while True:
            task_id = self._ready_task()
            if task_id is None:
                if not self._tasks:
                    if not self._persistent:
                        self._shutdown_workers()
                    raise StopIteration
                self._receive()
                continue
            data = self._results.pop(task_id)
            del self._tasks[task_id]
            self._try_put_index()
            if isinstance(data, _worker.ExceptionWrapper):
                data.reraise()
            return _to_tensors(data) if self._wrap else data

    def _ready_task(self):
        """The task to hand out next, if its batch has arrived."""
        if not self._in_order:
            return next(iter(self._results), None)
        while self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._tasks:
            self._rcvd_idx += 1  # a task dropped because its worker's IterableDataset ran out
        if self._rcvd_idx in self._results:
            self._rcvd_idx += 1
            return self._rcvd_idx - 1
        return None

    def _receive(self):
        epoch, task_id, worker_id, slot, data = self._get_data()
        if slot is not None:  # copy the arrays out, then the slot can take the next task
            if epoch == self._epoch and data is not _worker._Skipped:
                data = self._slots.unpack(data)
            self._free_slots.append(slot)
        if epoch != self._epoch or data is _worker._Skipped:
            return  # a batch prefetched for an epoch that was abandoned, or a task a worker did not run
        if data is _worker._IterationEnd:
            # this worker's copy of the dataset is used up: its later tasks will never be answered
            self._active[worker_id] = False
            for t in [t for t, w in self._tasks.items() if w == worker_id and t not in self._results]:
                del self._tasks[t]
            self._try_put_index()
            return
        self._results[task_id] = data
        if self._sampler_done:
            self._retire_idle_workers()

    def _retire_idle_workers(self):
        """Once the sampler is used up, tell each worker with nothing left to fetch to exit now: its exit (a
        process as big as ours takes milliseconds to tear down) overlaps the last batches instead of delaying
        the end of the epoch. Persistent workers stay for the next epoch."""
        if self._persistent:
            return
        busy = {w for t, w in self._tasks.items() if t not in self._results}
        for worker_id in range(self._num_workers):
            if worker_id not in busy and not self._retired[worker_id]:
                self._retired[worker_id] = True
                self._send(worker_id, "retire")

    def _get_data(self):
        start = time.monotonic()
        while True:
            wait = _STATUS_CHECK_INTERVAL
            if self._timeout > 0:
                wait = min(wait, max(0.0, self._timeout - (time.monotonic() - start)))
            for conn in multiprocessing.connection.wait(list(self._listening), wait):
                try:
                    return conn.recv()
                except (EOFError, OSError):  # that worker has exited: a retired one, or a death reported below
                    del self._listening[conn]
            if self._timeout > 0 and time.monotonic() - start >= self._timeout:
                self._shutdown_workers(grace=0.0)
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            dead = [w for w, retired in zip(self._workers, self._retired) if not retired and not w.is_alive()]
            if dead:
                self._shutdown_workers(grace=0.0)
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(str(w.pid) for w in dead)}) exited "
                                   f"unexpectedly{_exit_reason(dead)}") from None
            if not self._listening:  # every worker has exited: wait for the exit codes, then say how
                for w in self._workers:
                    w.join(timeout=1.0)
                if all(retired or w.is_alive() for w, retired in zip(self._workers, self._retired)):
                    self._shutdown_workers(grace=0.0)
                    raise RuntimeError("DataLoader workers exited with batches outstanding")

    def _shutdown_workers(self, grace=1.0):
        """Ask every worker to exit, give them ``grace`` seconds, then terminate what is left."""
        if self._shut_down:
            return
        self._shut_down = True
        for worker_id in range(self._num_workers):
            self._send(worker_id, None)
        deadline = time.monotonic() + grace
        for w in self._workers:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
        for w in self._workers:
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
        for q in self._index_queues:
            q.close()
        for conn in self._result_conns:
            conn.close()

    def __del__(self):
        if self.__dict__.get("_shut_down") is False:
            try:
                self._shutdown_workers()
            except Exception:  # at interpreter exit multiprocessing may be half torn down; daemons die anyway
                pass


def _exit_reason(dead):
    """' (killed by signal: SIGSEGV)'-style detail from the exit codes, where there is one."""
    codes = []
    for w in dead:
        code = w.exitcode
        if code is not None and code < 0:
            try:
                codes.append(f"killed by signal: {signal.Signals(-code).name}")
            except ValueError:
                codes.append(f"killed by signal {-code}")
        elif code:
            codes.append(f"exit code {code}")
    return f" ({'; '.join(codes)})" if codes else ""
