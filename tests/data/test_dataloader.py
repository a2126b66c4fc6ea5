"""DataLoader in the main process and with real worker processes, compared with torch's DataLoader."""
import ctypes
import gc
import multiprocessing
import os
import random
import signal
import time

import numpy as np
import pytest

import ember
from ember.utils import data as ed
from oracle import needs_torch, torch, assert_same

if torch is not None:
    from torch.utils import data as td


class Squares(ed.Dataset):
    """Sample i is (array [i, i*i] float32, label i % 3, name)."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i % 3, f"s{i}"


class TorchSquares(Squares, td.Dataset if torch is not None else object):
    pass


class Range(ed.IterableDataset):
    """0..n-1, split between workers by get_worker_info the way torch's docs show."""

    def __init__(self, n, info=ed.get_worker_info):
        self.n, self.info = n, info

    def __iter__(self):
        w = self.info()
        start, step = (0, 1) if w is None else (w.id, w.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


def _compare_batches(e_batches, t_batches):
    assert len(e_batches) == len(t_batches)
    for e, t in zip(e_batches, t_batches):
        assert_same(e[0], t[0])
        assert_same(e[1], t[1])
        assert list(e[2]) == list(t[2])


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=4, drop_last=True),
                                    dict(batch_size=3, num_workers=2), dict(batch_size=2, num_workers=2,
                                                                            prefetch_factor=1, in_order=True)])
def test_batches_match_torch(kwargs):
    e = list(ed.DataLoader(Squares(), **kwargs))
    t = list(td.DataLoader(TorchSquares(), **{k: v for k, v in kwargs.items() if k not in ("num_workers", "prefetch_factor")}))
    _compare_batches(e, t)
    assert len(ed.DataLoader(Squares(), **kwargs)) == len(t)


@needs_torch
def test_no_auto_batching_and_custom_samplers_match_torch():
    def run(d, ds):
        out = []
        for x in d.DataLoader(ds, batch_size=None):
            out.append(x)
        bs = d.BatchSampler(d.SequentialSampler(range(5)), 2, False)
        out2 = list(d.DataLoader(ds, batch_sampler=bs))
        out3 = list(d.DataLoader(ds, sampler=[4, 1], batch_size=2, collate_fn=lambda b: [s[1] for s in b]))
        return out, out2, out3
    e, t = run(ed, Squares(5)), run(td, TorchSquares(5))
    for a, b in zip(e[0], t[0]):
        assert_same(a[0], b[0]) if isinstance(b[0], torch.Tensor) else None
        assert a[1] == b[1] and a[2] == b[2]
    _compare_batches(e[1], t[1])
    assert e[2] == t[2] == [[1, 1]]


@needs_torch
def test_tensor_dataset_fast_path_matches_per_sample_collate():
    x, y = np.random.rand(11, 3).astype(np.float32), np.arange(11)
    e = list(ed.DataLoader(ed.TensorDataset(ember.from_numpy(x), ember.from_numpy(y)), batch_size=4))
    t = list(td.DataLoader(td.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4))
    for a, b in zip(e, t):
        assert_same(a, b)


@needs_torch
def test_argument_errors_match_torch():
    ds, it = Squares(), Range(4)
    cases = [dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
             dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
             dict(batch_size=None, drop_last=True)]
    for kw in cases:
        with pytest.raises(ValueError) as te:
            td.DataLoader(ds, **kw)
        with pytest.raises(ValueError) as ee:
            ed.DataLoader(ds, **kw)
        assert str(ee.value) == str(te.value), kw
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        ed.DataLoader(it, shuffle=True)
    loader = ed.DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3


def test_shuffle_same_order_for_any_num_workers():
    ds = ed.TensorDataset(ember.arange(20))
    orders = []
    for workers in (0, 2):
        g = ember.Generator().manual_seed(7)
        loader = ed.DataLoader(ds, batch_size=4, shuffle=True, generator=g, num_workers=workers)
        epoch1 = [v for (b,) in loader for v in b.tolist()]
        epoch2 = [v for (b,) in loader for v in b.tolist()]
        assert sorted(epoch1) == list(range(20)) and epoch1 != epoch2
        orders.append((epoch1, epoch2))
    assert orders[0] == orders[1]


@needs_torch
def test_iterable_dataset_sharding_matches_torch():
    e = [b.tolist() for b in ed.DataLoader(Range(10), batch_size=2, num_workers=3)]
    t = [b.tolist() for b in td.DataLoader(TorchRange(10), batch_size=2, num_workers=3)]
    assert e == t
    assert sorted(sum(e, [])) == list(range(10))
    assert [b.tolist() for b in ed.DataLoader(Range(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(ed.DataLoader(Range(7), batch_size=3)) == 3


if torch is not None:
    class TorchRange(Range, td.IterableDataset):
        def __init__(self, n):
            super().__init__(n, td.get_worker_info)


class SeedProbe(ed.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        w = ed.get_worker_info()
        return [w.id, w.seed, random.random(), float(np.random.rand()), float(ember.rand(1)), os.getpid()]


def test_worker_seeding_is_reproducible_and_distinct():
    def run(seed):
        loader = ed.DataLoader(SeedProbe(), batch_size=1, num_workers=2, generator=ember.Generator().manual_seed(seed),
                               collate_fn=lambda b: b[0])
        return list(loader)
    a, b, c = run(1), run(1), run(2)
    assert [r[:5] for r in a] == [r[:5] for r in b]
    assert [r[2:5] for r in a] != [r[2:5] for r in c]
    w0, w1 = a[0], a[1]
    assert (w0[0], w1[0]) == (0, 1) and w1[1] == w0[1] + 1 and w0[2:5] != w1[2:5] and w0[5] != w1[5]
    assert ed.get_worker_info() is None


def test_worker_init_fn_runs_in_each_worker():
    class D(ed.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return os.environ.get("EMBER_TEST_WORKER")

    def init(worker_id):
        os.environ["EMBER_TEST_WORKER"] = f"w{worker_id}"
    out = list(ed.DataLoader(D(), batch_size=None, num_workers=2, worker_init_fn=init))
    assert out == ["w0", "w1"] and "EMBER_TEST_WORKER" not in os.environ


class Failing(ed.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise KeyError(f"bad index {i}")
        if i == 5:
            raise ValueError("five is right out")
        return i


def test_worker_exception_reraised_with_worker_traceback():
    loader = ed.DataLoader(Failing(), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0, 1]
    with pytest.raises(KeyError) as err:
        next(it)
    msg = err.value.args[0]
    assert "Caught KeyError in DataLoader worker process 1" in msg and "Original Traceback" in msg
    assert "__getitem__" in msg and "bad index 3" in msg
    with pytest.raises(ValueError, match="(?s)Caught ValueError in DataLoader worker process 0.*five is right out"):
        next(it)
    del it, err  # the traceback holds the iterator frame; drop both to free the workers
    gc.collect()
    assert not multiprocessing.active_children()


class Dies(ed.Dataset):
    def __init__(self, how):
        self.how = how

    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            import faulthandler
            faulthandler.disable()  # no crash dump on the test output
            ctypes.string_at(0)  # segfault
        return i


@pytest.mark.parametrize("how,signame", [("kill", "SIGKILL"), ("segfault", "SIGSEGV")])
def test_dead_worker_raises_instead_of_hanging(how, signame):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly.*{signame}"):
        list(ed.DataLoader(Dies(how), batch_size=1, num_workers=2))
    assert time.monotonic() - start < 10
    assert not multiprocessing.active_children()


class Slow(ed.Dataset):
    def __init__(self, delays):
        self.delays = delays

    def __len__(self):
        return len(self.delays)

    def __getitem__(self, i):
        time.sleep(self.delays[i])
        return i


def test_timeout_is_honoured():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        list(ed.DataLoader(Slow([5.0]), batch_size=None, num_workers=1, timeout=0.3))
    assert time.monotonic() - start < 3
    assert not multiprocessing.active_children()


def test_in_order_and_out_of_order():
    delays = [0.4, 0.0, 0.0, 0.0]
    assert list(ed.DataLoader(Slow(delays), batch_size=None, num_workers=2)) == [0, 1, 2, 3]
    out = list(ed.DataLoader(Slow(delays), batch_size=None, num_workers=2, in_order=False))
    assert sorted(out) == [0, 1, 2, 3] and out[0] != 0


def test_early_stop_and_del_leave_no_processes():
    loader = ed.DataLoader(Squares(50), batch_size=2, num_workers=2)
    for i, _ in enumerate(loader):
        if i == 1:
            break
    assert not multiprocessing.active_children()
    it = iter(loader)
    next(it)
    assert len(multiprocessing.active_children()) == 2
    del it
    assert not multiprocessing.active_children()


class Pid(ed.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return [i, os.getpid()]


def test_persistent_workers_reused_across_epochs():
    loader = ed.DataLoader(Pid(), batch_size=2, num_workers=2, persistent_workers=True)
    it = iter(loader)
    first = next(it)  # stop early: the next epoch must not see stale batches
    epoch2 = list(loader)
    epoch3 = list(loader)
    assert [b[0].tolist() for b in epoch2] == [b[0].tolist() for b in epoch3] == [[0, 1], [2, 3], [4, 5]]
    pids = {p for b in epoch2 + epoch3 + [first] for p in b[1].tolist()}
    assert len(pids) == 2 and len(multiprocessing.active_children()) == 2
    del it, loader
    assert not multiprocessing.active_children()


def test_persistent_workers_with_iterable_dataset():
    loader = ed.DataLoader(Range(6), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(v for b in loader for v in b.tolist()) == list(range(6))
    del loader
    assert not multiprocessing.active_children()


def test_pin_memory_is_accepted():
    out = list(ed.DataLoader(ed.TensorDataset(ember.arange(4)), batch_size=2, pin_memory=True))
    assert [b.tolist() for (b,) in out] == [[0, 1], [2, 3]]


class Unpicklable(ed.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return (lambda: i) if i == 2 else i


def test_unpicklable_batch_reraised_and_the_epoch_goes_on():
    """A worker whose batch cannot be pickled sends the error instead (nothing partial reaches its pipe)."""
    it = iter(ed.DataLoader(Unpicklable(), batch_size=None, num_workers=2, collate_fn=lambda x: x))
    assert next(it) == 0 and next(it) == 1
    with pytest.raises(Exception, match="(?s)in DataLoader worker process 0.*(pickle|lambda)"):
        next(it)
    assert next(it) == 3
    with pytest.raises(StopIteration):
        next(it)
    assert not multiprocessing.active_children()


_LARGE_TASKS = """
import sys
from ember.utils import data as ed

class Ints(ed.Dataset):
    def __len__(self):
        return 120000

    def __getitem__(self, i):
        return i

def as_floats(batch):  # a list, not arrays: the batch comes back through the worker's pipe
    return [float(i) for i in batch]

loader = ed.DataLoader(Ints(), batch_size=30000, num_workers=2, collate_fn=as_floats)
print(sum(sum(b) for b in loader))
"""


def test_large_index_lists_with_large_batches_do_not_deadlock():
    """Tasks larger than a pipe's buffer while a worker is blocked sending a large batch: the main
    process must never block handing out a task (it hung when tasks went through a plain pipe)."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", _LARGE_TASKS], capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == float(sum(range(120000)))


_MAIN_DIES = _LARGE_TASKS.replace("print(sum(sum(b) for b in loader))", """
import os, time
it = iter(loader)
print(" ".join(str(w.pid) for w in it._workers), flush=True)
time.sleep(1.5)  # the workers are now blocked sending batches larger than their pipes hold
os._exit(0)      # the main process dies without shutting them down
""")


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_workers_blocked_on_a_batch_exit_when_the_main_process_dies():
    """No process but the main one holds a reply pipe's read end, so a blocked worker gets a broken pipe."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", _MAIN_DIES], capture_output=True, text=True, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2, done.stderr
    deadline = time.monotonic() + 15
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(p) for p in pids)


def test_no_file_descriptors_left_behind():
    """Each worker's task queue and reply pipe are closed when its epoch ends, early or not."""
    loader = ed.DataLoader(Squares(8), batch_size=2, num_workers=2)
    list(loader)
    gc.collect()  # what earlier tests left for the collector
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(5):
        list(loader)
    it = iter(loader)
    next(it)
    del it
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
    assert not multiprocessing.active_children()


class FreezeCount(ed.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return gc.get_freeze_count()


def test_workers_keep_the_collector_off_inherited_objects():
    """gc passes in a forked worker would write into (and so copy) every page shared with the main process."""
    assert all(n > 0 for n in ed.DataLoader(FreezeCount(), batch_size=None, num_workers=2))
    assert gc.get_freeze_count() == 0  # the main process is left as it was
