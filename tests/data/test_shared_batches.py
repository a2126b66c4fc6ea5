"""Worker batches through shared-memory slots (ember/utils/data/_shared.py): same batches as the pipe and
as torch, slots never overwritten under a batch the user holds, every slot back after skipped tasks."""
import collections
import multiprocessing

import numpy as np
import pytest

import ember
from ember.utils import data as ed
from ember.utils.data import _shared
from oracle import needs_torch, torch, assert_same

if torch is not None:
    from torch.utils import data as td

Pair = collections.namedtuple("Pair", "image label")


class Mixed(ed.Dataset):
    """Sample i: dict of an image tensor, a float64 array, a namedtuple, an int, a string, an empty array."""

    def __init__(self, n=11, tensors=ember):
        self.n, self.tensors = n, tensors

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        image = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5) * (i + 1)
        return {"image": self.tensors.from_numpy(image), "stats": np.array([i, 0.5 * i]),
                "pair": Pair(np.full(3, i, np.int16), i % 4), "label": i, "name": f"n{i}",
                "empty": np.zeros((0, 2), np.float32)}


class TorchMixed(Mixed, td.Dataset if torch is not None else object):
    pass


def _check_same(e_batches, t_batches):
    assert len(e_batches) == len(t_batches)
    for e, t in zip(e_batches, t_batches):
        for key in ("image", "stats", "label", "empty"):
            assert_same(e[key], t[key])
        assert isinstance(e["pair"], Pair)
        assert_same(e["pair"].image, t["pair"].image)
        assert_same(e["pair"].label, t["pair"].label)
        assert e["name"] == t["name"]


@needs_torch
@pytest.mark.parametrize("slot_bytes", [_shared._SLOT_BYTES, 1024, 0])  # all fit / some spill / none fit
def test_batches_through_slots_match_torch(monkeypatch, slot_bytes):
    monkeypatch.setattr(_shared, "_SLOT_BYTES", slot_bytes or 64)
    e = list(ed.DataLoader(Mixed(), batch_size=4, num_workers=2))
    t = list(td.DataLoader(TorchMixed(tensors=torch), batch_size=4, num_workers=2))
    _check_same(e, t)


def test_kept_batches_are_not_overwritten():
    """Slots are reused for later batches: what the user holds must be a copy."""
    loader = ed.DataLoader(Mixed(40), batch_size=2, num_workers=2, prefetch_factor=1)
    kept = list(loader)
    expected = list(ed.DataLoader(Mixed(40), batch_size=2))
    assert len(kept) == len(expected) == 20
    for k, x in zip(kept, expected):
        assert np.array_equal(k["image"].numpy(), x["image"].numpy())
        assert np.array_equal(k["label"].numpy(), x["label"].numpy())


def test_slots_are_used_and_all_come_back(monkeypatch):
    """Abandoned epochs (tasks answered for a past epoch) and an IterableDataset that runs out in one
    worker (tasks skipped) must each give their slot back."""
    unpacked = []
    real_unpack = _shared.SharedSlots.unpack
    monkeypatch.setattr(_shared.SharedSlots, "unpack", lambda self, data: unpacked.append(1) or real_unpack(self, data))
    loader = ed.DataLoader(Mixed(30), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(3):
        it = iter(loader)
        next(it)
    full = list(loader)
    assert [b["label"].tolist() for b in full] == [[i, i + 1] for i in range(0, 30, 2)]
    # through the slots: all but the first 4 tasks of an epoch, which may find every slot still held by
    # the abandoned epoch's tasks and go through the pipe
    assert len(unpacked) >= 3 + 15 - 4
    assert sorted(it._free_slots) == list(range(it._slots.n)) == list(range(4))

    # the skipped tasks' answers may arrive after the epoch ended: wait for them (a lost one times out)
    uneven = ed.DataLoader(UnevenRange(), batch_size=2, num_workers=2, persistent_workers=True, timeout=20)
    for _ in range(2):
        assert sorted(v for b in uneven for v in b.tolist()) == list(range(12))
        it = uneven._iterator
        while len(it._free_slots) < 4:
            it._receive()
        assert sorted(it._free_slots) == list(range(4))
    del it, loader, uneven
    assert not multiprocessing.active_children()


class UnevenRange(ed.IterableDataset):
    """Worker 0 yields 10 numbers, worker 1 two: worker 1 runs out and skips the tasks it still has."""

    def __iter__(self):
        w = ed.get_worker_info()
        return iter(range(10) if w is None or w.id == 0 else range(10, 12))


class Failing(ed.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError("bad sample 5")
        return np.ones(3, np.float32) * i


def test_worker_error_gives_its_slot_back():
    loader = ed.DataLoader(Failing(), batch_size=2, num_workers=2, persistent_workers=True)
    it = iter(loader)
    assert next(it).tolist() == [[0.0] * 3, [1.0] * 3]
    next(it)
    with pytest.raises(ValueError, match="bad sample 5"):
        next(it)
    assert next(it).tolist() == [[6.0] * 3, [7.0] * 3]
    with pytest.raises(StopIteration):
        next(it)
    assert sorted(it._free_slots) == list(range(4))
    it._shutdown_workers()  # now: the traceback kept by pytest.raises holds the loader until a gc pass


def test_no_slots_with_a_custom_collate():
    loader = ed.DataLoader(Mixed(4), batch_size=2, num_workers=1, collate_fn=lambda b: [s["label"] for s in b])
    it = iter(loader)
    assert it._slots is None and next(it) == [0, 1]
    it._shutdown_workers()


@pytest.mark.slow
def test_no_slots_without_fork():
    spawned = iter(ed.DataLoader(ed.TensorDataset(ember.arange(4)), batch_size=2, num_workers=1,
                                 multiprocessing_context="spawn"))
    assert spawned._slots is None
    assert [b.tolist() for (b,) in spawned] == [[0, 1], [2, 3]]


def test_arena_pack_and_unpack():
    slots = _shared.SharedSlots(2, slot_bytes=4096)
    arena = slots.arena(1)
    stacked = arena.empty((2, 3), np.float32)
    stacked[...] = [[1, 2, 3], [4, 5, 6]]
    assert arena.empty((2000,), np.float64) is None  # does not fit: the caller allocates privately
    outside = np.arange(5, dtype=np.int64)
    packed = arena.pack({"a": stacked, "b": [outside, "text"], "c": np.array(["x"]), "d": np.zeros((0, 4))})
    assert isinstance(packed["a"], _shared.InSlot) and isinstance(packed["b"][0], _shared.InSlot)
    assert packed["a"].offset >= 4096 and packed["a"].offset % 64 == 0  # in slot 1, aligned
    assert packed["b"][1] == "text" and packed["c"].dtype.kind == "U" and packed["d"].shape == (0, 4)
    out = slots.unpack(packed)
    assert out["a"].dtype == np.float32 and out["a"].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert out["b"][0].tolist() == [0, 1, 2, 3, 4] and out["b"][0].dtype == np.int64
    stacked[...] = 0  # the slot is reused: the unpacked batch is a copy
    assert out["a"].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert _shared.SharedSlots.create(0) is None


def test_mixed_dtypes_stack_as_numpy_does():
    """Samples disagreeing on dtype are stacked with NumPy's promotion, not cast into the first's dtype."""
    class Promote(ed.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.array([i + 0.5]) if i % 2 else np.array([i], dtype=np.int64)
    batches = list(ed.DataLoader(Promote(), batch_size=2, num_workers=1))
    assert batches[0].dtype == ember.float64 and batches[0].tolist() == [[0.0], [1.5]]


class Numbers(ed.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return np.full(2, i, np.float32)


def test_idle_workers_exit_once_the_sampler_is_used_up():
    """3 batches on 2 workers: worker 1 gets batch 1 only, and may exit as soon as it has been received."""
    it = iter(ed.DataLoader(Numbers(), batch_size=2, num_workers=2))
    assert it._retired == [False, False]  # every worker still has a batch to fetch
    assert next(it).tolist() == [[0, 0], [1, 1]]
    assert next(it).tolist() == [[2, 2], [3, 3]]
    assert it._retired[1]
    it._workers[1].join(timeout=10)
    assert not it._workers[1].is_alive()  # exited while the epoch goes on, not counted as a dead worker
    assert next(it).tolist() == [[4, 4], [5, 5]]
    with pytest.raises(StopIteration):
        next(it)
    assert not any(w.is_alive() for w in it._workers)
    loader = ed.DataLoader(Numbers(), batch_size=2, num_workers=2, persistent_workers=True)
    assert len(list(loader)) == 3 and loader._iterator._retired == [False, False]  # kept for the next epoch
    workers = loader._iterator._workers
    assert all(w.is_alive() for w in workers)
    del loader
    assert not any(w.is_alive() for w in workers)


class Draws(ed.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return [i, float(np.random.rand())]


@pytest.mark.slow
def test_retired_workers_never_block_the_others():
    """A retiring worker must not exit while its feeder thread holds the result queue's shared write lock
    (the other workers could then never send their batches): many short epochs, each a chance to hit it."""
    for collate in (None, lambda b: b[0]):
        loader = ed.DataLoader(Draws(), batch_size=1, num_workers=2, collate_fn=collate, timeout=30)
        for _ in range(25):
            assert len(list(loader)) == 4
