"""Datasets, samplers, random_split and collate compared with torch.utils.data.

Random streams differ between ember and torch (NumPy PCG64 vs Philox/MT), so for random samplers the tests
check the properties torch guarantees (a permutation, the right counts, reproducible with a seeded
generator) instead of the exact order; deterministic pieces are compared with torch value for value.
"""
import collections
import warnings

import numpy as np
import pytest

import ember
from ember.utils import data as ed
from oracle import needs_torch, torch, assert_same

if torch is not None:
    from torch.utils import data as td


def both(fn):
    """fn(lib, data_module) on ember and on torch."""
    return fn(ember, ed), fn(torch, td)


@needs_torch
def test_tensor_dataset_and_concat_subset_stack():
    def build(lib, d):
        x = lib.arange(12).reshape(6, 2)
        y = lib.arange(6) * 10
        ds = d.TensorDataset(x, y)
        cat = d.ConcatDataset([ds, d.Subset(ds, [5, 0])])
        st = d.StackDataset(a=ds, b=d.Subset(ds, [1, 2, 3, 4, 5, 0]))
        tup = d.StackDataset(ds, ds)
        return [len(ds), ds[2][0], ds[2][1], len(cat), cat[7][0], cat[-1][1], cat[6][1], cat.cumulative_sizes,
                st[1]["b"][1], len(st), tup.__getitems__([0, 3])[1][1][1]]
    e, t = both(build)
    for a, b in zip(e, t):
        if isinstance(b, torch.Tensor):
            assert_same(a, b)
        else:
            assert a == b


@needs_torch
def test_dataset_errors_match_torch():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        ed.TensorDataset(ember.zeros(3), ember.zeros(4))
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        ed.ConcatDataset([range(3)])[-4]
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        ed.StackDataset(range(3), range(4))
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        ed.random_split(range(10), [3, 3])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ed.ConcatDataset([ed.IterableDataset()])


def test_dataset_add_and_chain():
    class It(ed.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n
    chain = It(2) + It(3)
    assert isinstance(chain, ed.ChainDataset) and list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    cat = ed.TensorDataset(ember.arange(2)) + ed.TensorDataset(ember.arange(3))
    assert len(cat) == 5 and int(cat[4][0]) == 2


@needs_torch
@pytest.mark.parametrize("lengths", [[3, 7], [0.5, 0.3, 0.2], [0.33, 0.33, 0.34], [0.1, 0.1, 0.8]])
def test_random_split_lengths_like_torch(lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = ed.random_split(range(10), lengths, generator=ember.Generator().manual_seed(0))
        t = td.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in e] == [len(s) for s in t]
    everything = sorted(i for s in e for i in s)
    assert everything == list(range(10))  # disjoint and complete
    again = ed.random_split(range(10), lengths, generator=ember.Generator().manual_seed(0))
    assert [list(s) for s in again] == [list(s) for s in e]


@needs_torch
def test_sequential_and_batch_sampler_match_torch():
    for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False)]:
        e = ed.BatchSampler(ed.SequentialSampler(range(n)), bs, drop)
        t = td.BatchSampler(td.SequentialSampler(range(n)), bs, drop)
        assert list(e) == list(t) and len(e) == len(t)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        ed.BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        ed.BatchSampler(range(3), 1, 0)


def test_random_sampler_properties():
    g = ember.Generator().manual_seed(3)
    first = list(ed.RandomSampler(range(20), generator=g))
    assert sorted(first) == list(range(20)) and first != list(range(20))
    second = list(ed.RandomSampler(range(20), generator=g))
    assert first != second  # the generator moves on: a new order each epoch
    again = list(ed.RandomSampler(range(20), generator=ember.Generator().manual_seed(3)))
    assert again == first
    s = ed.RandomSampler(range(5), num_samples=12)
    drawn = list(s)
    assert len(drawn) == len(s) == 12 and all(drawn.count(i) >= 2 for i in range(5))
    rep = list(ed.RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(rep) == 50 and set(rep) <= {0, 1, 2}
    ember.manual_seed(1)
    a = list(ed.RandomSampler(range(10)))
    ember.manual_seed(1)
    assert list(ed.RandomSampler(range(10))) == a  # no generator: seeded from ember's default one
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        ed.RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        ed.RandomSampler(range(3), replacement=1)


def test_subset_and_weighted_samplers():
    s = ed.SubsetRandomSampler([4, 8, 15, 16], generator=ember.Generator().manual_seed(0))
    assert sorted(s) == [4, 8, 15, 16] and len(s) == 4
    w = list(ed.WeightedRandomSampler([0.0, 0.0, 1.0], 7))
    assert w == [2] * 7
    counts = np.bincount(list(ed.WeightedRandomSampler(ember.tensor([1.0, 3.0]), 4000,
                                                       generator=ember.Generator().manual_seed(0))), minlength=2)
    assert 0.7 < counts[1] / 4000 < 0.8
    no_rep = list(ed.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        ed.WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        ed.WeightedRandomSampler([1.0], -1)


@needs_torch
@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (11, 4, False), (2, 4, False)])
def test_distributed_sampler_matches_torch_unshuffled(n, replicas, drop_last):
    for rank in range(replicas):
        e = ed.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        t = td.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(e) == list(t) and len(e) == len(t)


def test_distributed_sampler_shuffle_partitions_and_epochs():
    samplers = [ed.DistributedSampler(range(12), 3, r, seed=5) for r in range(3)]
    parts = [list(s) for s in samplers]
    assert sorted(sum(parts, [])) == list(range(12))  # the replicas see disjoint shares of one permutation
    for s in samplers:
        s.set_epoch(1)
    assert [list(s) for s in samplers] != parts
    with pytest.raises(ValueError, match="Invalid rank 3"):
        ed.DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
        ed.DistributedSampler(range(4))


Point = collections.namedtuple("Point", "x y")


def collate_cases(lib):
    t = lib.tensor
    return [
        [t([1.0, 2.0]), t([3.0, 4.0])],
        [1, 2, 3],
        [0.5, 1.5],
        [True, False],
        [np.arange(3, dtype=np.float32), np.ones(3, dtype=np.float32)],
        [np.int16(3), np.int16(4)],
        [{"a": 1, "b": [t(1), t(2)]}, {"a": 2, "b": [t(3), t(4)]}],
        [(1, "x"), (2, "y")],
        [Point(1, 2.0), Point(3, 4.0)],
        [[np.zeros(2), 1], [np.ones(2), 2]],
    ]


def _compare(e, t):
    if isinstance(t, torch.Tensor):
        assert_same(e, t)
    elif isinstance(t, dict):
        assert type(e) is type(t) and e.keys() == t.keys()
        for k in t:
            _compare(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            _compare(a, b)
    else:
        assert e == t


@needs_torch
@pytest.mark.parametrize("case", range(10))
def test_default_collate_matches_torch(case):
    _compare(ed.default_collate(collate_cases(ember)[case]), td.default_collate(collate_cases(torch)[case]))


@needs_torch
def test_default_convert_matches_torch():
    def sample(lib):
        return {"img": np.arange(4.0), "label": 3, "pair": (np.int32(2), "s"), "t": lib.tensor([1, 2])}
    _compare(ed.default_convert(sample(ember)), td.default_convert(sample(torch)))


@needs_torch
def test_default_collate_errors_match_torch():
    for bad in ([object(), object()], [np.array(["a"]), np.array(["b"])]):
        with pytest.raises(TypeError) as te:
            td.default_collate(bad)
        with pytest.raises(TypeError) as ee:
            ed.default_collate(bad)
        assert str(ee.value) == str(te.value)
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        ed.default_collate([[1, 2], [1]])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 "
                                           r"and \[3\] at entry 1"):
        ed.default_collate([ember.zeros(2), ember.zeros(3)])


def test_default_collate_keeps_autograd():
    a = ember.ones(2, requires_grad=True)
    out = ed.default_collate([a, a * 2])
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
