"""Sorting, order statistics, unique, searchsorted and histograms: behaviour and errors against torch."""
import numpy as np
import pytest

import ember
from oracle import check_error, check_op, needs_torch

pytestmark = needs_torch

NAN = float("nan")
RNG = np.random.default_rng(7)
INTS = RNG.integers(0, 4, (4, 6))
TIES = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.0, 0.0, 5.0, 5.0, 5.0]])
WITH_NAN = np.array([[1.0, NAN, 3.0, 0.5], [2.0, 1.0, NAN, NAN], [NAN, NAN, NAN, NAN]])


# ------------------------------------------------------------------ ties, NaN and dtypes
@pytest.mark.parametrize("descending", [False, True])
def test_sort_stable_ties_and_nan(descending):
    check_op(lambda lib, x: lib.sort(x, dim=1, descending=descending, stable=True), TIES)
    check_op(lambda lib, x: lib.sort(x, descending=descending, stable=True), WITH_NAN)
    check_op(lambda lib, x: lib.argsort(x, dim=0, descending=descending, stable=True), TIES)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16", "bfloat16"])
def test_sort_dtypes(dtype):
    check_op(lambda lib, x: lib.sort(x.to(getattr(lib, dtype)), dim=1, stable=True), INTS, grad=False)
    check_op(lambda lib, x: x.to(getattr(lib, dtype)).cummax(1), INTS, grad=False)


def test_sort_returns_named_fields_and_out():
    s = ember.sort(ember.tensor([2.0, 1.0]))
    assert s.values.tolist() == [1.0, 2.0] and s.indices.tolist() == [1, 0]

    calls = [lambda lib, x, out: lib.sort(x, 1, out=out),
             lambda lib, x, out: lib.topk(x + lib.arange(5) * 0.1, 2, out=out),
             lambda lib, x, out: lib.kthvalue(x, 2, 0, out=out), lambda lib, x, out: lib.median(x, 1, out=out),
             lambda lib, x, out: lib.mode(x, 1, out=out), lambda lib, x, out: lib.cummin(x, 1, out=out)]
    for call in calls:
        def f(lib, x):
            out = (lib.empty(0, dtype=x.dtype), lib.empty(0, dtype=lib.int64))
            res = call(lib, x, out)
            assert res.values is out[0] and res.indices is out[1]
            return out
        check_op(f, TIES, grad=False)
    check_op(lambda lib, x: lib.gather(x, 1, lib.tensor([[0], [2]]), out=lib.empty(0, dtype=x.dtype)), TIES, grad=False)


def test_cummax_cummin_ties_and_nan():
    x = np.array([1.0, 3.0, 3.0, 2.0, NAN, 5.0, NAN, 0.0])
    check_op(lambda lib, a: (a.cummax(0), a.cummin(0)), x)
    check_op(lambda lib, a: (a.cummax(1), a.cummin(0)), TIES)


def test_mode_ties_pick_smallest_value_and_last_index():
    check_op(lambda lib, x: (x.mode(1), x.mode(0)), TIES)
    check_op(lambda lib, x: (x.mode(1), x.mode(0, keepdim=True)), INTS, grad=False)
    check_op(lambda lib, x: lib.mode(x), np.array([1.0, NAN, NAN]))


def test_median_nan_and_ties():
    check_op(lambda lib, x: (x.median(), x.median(1), x.nanmedian(), x[:2].nanmedian(1)), WITH_NAN)
    # an all-NaN row: torch's index there comes from std::nth_element's internals; the value is NaN
    assert np.isnan(ember.tensor(WITH_NAN).nanmedian(1).values[2].item())
    check_op(lambda lib, x: (x.median(), x.median(0), x.nanmedian(0)), INTS, grad=False)


def test_median_all_spreads_gradient_over_ties():
    check_op(lambda lib, x: x.median(), np.array([2.0, 1.0, 2.0, 3.0, 2.0]))
    check_op(lambda lib, x: x.nanmedian(), np.array([2.0, NAN, 1.0, 2.0]))


def test_kthvalue_and_topk_values():
    check_op(lambda lib, x: (x.kthvalue(1, 0), x.kthvalue(5, keepdim=True), x.topk(0), x.topk(4, sorted=True)),
             RNG.standard_normal((5, 5)))


def test_quantile_nan_rows():
    check_op(lambda lib, x: (x.quantile(0.5, dim=1), x.nanquantile(lib.tensor([0.2, 0.9], dtype=x.dtype), dim=1),
                             x.nanquantile(0.3)), WITH_NAN)


def test_quantile_scalar_input():
    check_op(lambda lib, x: (x.quantile(0.5), x.quantile(lib.tensor([0.5, 0.1], dtype=x.dtype))), np.array(3.0))


# ------------------------------------------------------------------ empty and 0-d
def test_empty_and_zero_d():
    empty = np.zeros((0, 3))
    check_op(lambda lib, x: (x.sort(0), x.cummax(0), x.topk(0, dim=0), x.median(1), x.argsort(1)), empty)
    check_op(lambda lib, x: (x.sort(), x.argsort(), x.topk(1), x.kthvalue(1), x.median(0), x.mode(), x.cummin(0)),
             np.array(2.5))
    check_op(lambda lib: lib.median(lib.zeros(0)), grad=False)


# ------------------------------------------------------------------ unique
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique(dim):
    check_op(lambda lib, x: lib.unique(x, return_inverse=True, return_counts=True, dim=dim), INTS, grad=False)
    check_op(lambda lib, x: x.unique(sorted=True, dim=dim), INTS, grad=False)


def test_unique_special_inputs():
    check_op(lambda lib, x: lib.unique(x, return_counts=True), np.array([3.0, NAN, 1.0, NAN]), grad=False)
    check_op(lambda lib: lib.unique(lib.tensor([True, False, True]), return_inverse=True), grad=False)
    check_op(lambda lib: lib.unique(lib.tensor(3.0), return_inverse=True), grad=False)
    check_op(lambda lib: lib.unique(lib.zeros(0, 3), dim=0, return_inverse=True, return_counts=True), grad=False)
    check_op(lambda lib: lib.unique(lib.zeros(0, 3), return_inverse=True, return_counts=True), grad=False)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique_consecutive(dim):
    x = np.array([[1, 1, 2], [1, 1, 2], [3, 1, 1], [1, 1, 2]])
    check_op(lambda lib, a: lib.unique_consecutive(a, return_inverse=True, return_counts=True, dim=dim), x,
             grad=False)
    check_op(lambda lib, a: a.unique_consecutive(dim=dim), x, grad=False)


# ------------------------------------------------------------------ searchsorted / bucketize
def test_searchsorted():
    seq = np.sort(RNG.integers(0, 6, (3, 5)), axis=1)
    vals = RNG.integers(-1, 7, (3, 4))
    for kw in ({}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}):
        check_op(lambda lib, s, v: (lib.searchsorted(s, v, **kw), lib.searchsorted(s[0], v, **kw)), seq, vals,
                 grad=False)
    check_op(lambda lib, s, v: lib.searchsorted(s.double(), v.float() + 0.5), seq, vals, grad=False)
    check_op(lambda lib: (lib.searchsorted(lib.tensor([1.0, 3.0]), 3.0), lib.searchsorted(lib.tensor([1, 3]), 2)),
             grad=False)
    check_op(lambda lib: lib.searchsorted(lib.tensor([5, 1, 3]), lib.tensor([3, 0, 9]), sorter=lib.tensor([1, 2, 0]),
                                          right=True), grad=False)


def test_bucketize():
    check_op(lambda lib, x: (lib.bucketize(x, lib.tensor([0, 2])), lib.bucketize(x, lib.tensor([1, 2]), right=True,
                                                                                    out_int32=True)), INTS, grad=False)
    check_op(lambda lib: lib.bucketize(3, lib.tensor([1, 3, 5])), grad=False)


# ------------------------------------------------------------------ bincount / histc
def test_bincount():
    x = np.array([1, 1, 3, 0, 7])
    check_op(lambda lib, a: (lib.bincount(a), a.bincount(minlength=10)), x, grad=False)
    for wdt in ("float32", "float64", "int32", "float16"):
        check_op(lambda lib, a: lib.bincount(a, lib.arange(5).to(getattr(lib, wdt))), x, grad=False)
    check_op(lambda lib: (lib.bincount(lib.tensor([], dtype=lib.long)), lib.bincount(lib.tensor([2], dtype=lib.uint8))),
             grad=False)


def test_histc():
    x = RNG.standard_normal(50)
    check_op(lambda lib, a: (lib.histc(a, bins=7), a.float().histc(4, min=-1, max=1), lib.histc(a, 3, 0.5, 0.5)), x,
             grad=False)
    check_op(lambda lib: (lib.histc(lib.tensor([1.0, 1.0]), bins=4), lib.histc(lib.tensor([]), bins=4),
                          lib.histc(lib.tensor([0.0, 1.0, 2.0, 3.0]), bins=3)), grad=False)


# ------------------------------------------------------------------ errors
_ERRORS = {
    "sort_dim": lambda lib, x: x.sort(2),
    "topk_k": lambda lib, x: x.topk(6),
    "topk_negative": lambda lib, x: x.topk(-1),
    "kthvalue_k": lambda lib, x: x.kthvalue(6),
    "kthvalue_zero": lambda lib, x: x.kthvalue(0, 0),
    "median_empty_dim": lambda lib, x: lib.zeros(2, 0).median(1),
    "median_bool": lambda lib, x: lib.tensor([True, False]).median(),
    "mode_empty": lambda lib, x: lib.zeros(0).mode(),
    "quantile_int": lambda lib, x: lib.quantile(lib.tensor([1, 2]), 0.5),
    "quantile_q_range": lambda lib, x: x.quantile(1.5),
    "quantile_q_2d": lambda lib, x: x.quantile(lib.tensor([[0.5]])),
    "quantile_q_dtype": lambda lib, x: x.quantile(lib.tensor([0.5], dtype=lib.float64)),
    "quantile_interp": lambda lib, x: x.quantile(0.5, interpolation="foo"),
    "quantile_empty": lambda lib, x: lib.quantile(lib.tensor([]), 0.5),
    "searchsorted_side": lambda lib, x: lib.searchsorted(lib.tensor([1, 3]), lib.tensor([2]), side="foo"),
    "searchsorted_opposite": lambda lib, x: lib.searchsorted(lib.tensor([1, 3]), lib.tensor([2]), side="left",
                                                             right=True),
    "searchsorted_shape": lambda lib, x: lib.searchsorted(lib.tensor([[1, 3], [2, 4]]), lib.tensor([3])),
    "searchsorted_0d": lambda lib, x: lib.searchsorted(lib.tensor(1), lib.tensor([3])),
    "searchsorted_sorter": lambda lib, x: lib.searchsorted(lib.tensor([5, 1, 3]), lib.tensor([3]),
                                                           sorter=lib.tensor([1, 2])),
    "bucketize_2d": lambda lib, x: lib.bucketize(lib.tensor([3]), lib.tensor([[1, 2]])),
    "bincount_negative": lambda lib, x: lib.bincount(lib.tensor([-1, 1])),
    "bincount_float": lambda lib, x: lib.bincount(lib.tensor([1.0])),
    "bincount_2d": lambda lib, x: lib.bincount(lib.tensor([[1]])),
    "bincount_weights": lambda lib, x: lib.bincount(lib.tensor([1, 1, 3]), lib.tensor([1.0, 2.0])),
    "bincount_minlength": lambda lib, x: lib.bincount(lib.tensor([1]), minlength=-1),
    "histc_int": lambda lib, x: lib.histc(lib.tensor([1, 2]), bins=4),
    "histc_bins": lambda lib, x: lib.histc(x, bins=0),
    "histc_range": lambda lib, x: lib.histc(x, bins=4, min=3, max=1),
    "histc_inf": lambda lib, x: lib.histc(lib.tensor([1.0, float("inf")]), bins=4),
}


@pytest.mark.parametrize("name", list(_ERRORS))
def test_errors_match_torch(name):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        err, terr = check_error(_ERRORS[name], RNG.standard_normal((3, 5)).astype(np.float32))
    assert str(err).strip() == str(terr).split("\n")[0].strip()
