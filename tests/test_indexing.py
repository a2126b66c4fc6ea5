"""Indexing, gather/scatter and index_* ops: behaviour, errors and property-based key tests against torch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from oracle import assert_same, check_error, check_op, needs_torch, torch

pytestmark = needs_torch

X = np.arange(12, dtype=np.float32).reshape(3, 4)


def _x(lib, a, dtype):
    return a.to(getattr(lib, dtype))


# ------------------------------------------------------------------ errors in torch's words
@pytest.mark.parametrize("key", [5, -4, (0, 4), (slice(None), -5)])
def test_getitem_int_out_of_range(key):
    err, terr = check_error(lambda lib, x: x[key], X)
    assert str(err) == str(terr)


@pytest.mark.parametrize("make_key", [lambda lib: lib.tensor([5]), lambda lib: [0, 3],
                                      lambda lib: ([0, 1], [3, 5]), lambda lib: (slice(None), lib.tensor([-5]))])
def test_getitem_tensor_out_of_range(make_key):
    err, terr = check_error(lambda lib, x: x[make_key(lib)], X)
    assert str(err) == str(terr)


def test_setitem_out_of_range():
    def f(lib, x):
        x[lib.tensor([0, 3])] = 1.0
    err, terr = check_error(f, X)
    assert str(err) == str(terr)


_ERRORS = {
    "scatter_oob": lambda lib, x: x.scatter(0, lib.tensor([[0, 5]]), 1.0),
    "scatter_negative": lambda lib, x: x.scatter(0, lib.tensor([[0, -1]]), 1.0),
    "scatter_float_index": lambda lib, x: x.scatter(0, lib.tensor([[0.0]]), 1.0),
    "scatter_short_index": lambda lib, x: x.scatter(0, lib.tensor([[0]], dtype=lib.int16), 1.0),
    "scatter_ndim": lambda lib, x: x.scatter(0, lib.tensor([0, 1]), 1.0),
    "scatter_src_small": lambda lib, x: x.scatter(0, lib.tensor([[0, 1]]), lib.ones(1, 1)),
    "scatter_index_big": lambda lib, x: x.scatter(1, lib.tensor([[0]] * 4), 1.0),
    "scatter_dtype": lambda lib, x: x.scatter(0, lib.tensor([[0]]), lib.ones(1, 1, dtype=lib.float64)),
    "scatter_bad_reduce": lambda lib, x: x.scatter(0, lib.tensor([[0]]), 1.0, reduce="max"),
    "scatter_reduce_bad": lambda lib, x: x.scatter_reduce(0, lib.tensor([[0]]), lib.ones(1, 1), "foo"),
    "scatter_add_oob": lambda lib, x: x.scatter_add(1, lib.tensor([[4]]), lib.ones(1, 1)),
    "gather_oob": lambda lib, x: x.gather(1, lib.tensor([[4]])),
    "gather_float": lambda lib, x: x.gather(1, lib.tensor([[0.0]])),
    "gather_ndim": lambda lib, x: x.gather(1, lib.tensor([0])),
    "gather_big": lambda lib, x: x.gather(1, lib.tensor([[0]] * 4)),
    "index_add_oob": lambda lib, x: x.index_add(0, lib.tensor([0, 3]), lib.ones(2, 4)),
    "index_add_negative": lambda lib, x: x.index_add(0, lib.tensor([0, -1]), lib.ones(2, 4)),
    "index_add_shape": lambda lib, x: x.index_add(0, lib.tensor([0, 1]), lib.ones(2, 3)),
    "index_add_count": lambda lib, x: x.index_add(0, lib.tensor([0, 1]), lib.ones(3, 4)),
    "index_add_float": lambda lib, x: x.index_add(0, lib.tensor([0.0]), lib.ones(1, 4)),
    "index_add_dtype": lambda lib, x: x.index_add(0, lib.tensor([0]), lib.ones(1, 4, dtype=lib.float64)),
    "index_add_2d_index": lambda lib, x: x.index_add(0, lib.tensor([[0, 1]]), lib.ones(2, 4)),
    "index_copy_oob": lambda lib, x: x.index_copy(0, lib.tensor([0, 3]), lib.ones(2, 4)),
    "index_copy_slice": lambda lib, x: x.index_copy(0, lib.tensor([0, 1]), lib.ones(2, 3)),
    "index_copy_float": lambda lib, x: x.index_copy(0, lib.tensor([0.0]), lib.ones(1, 4)),
    "index_copy_dtype": lambda lib, x: x.index_copy(0, lib.tensor([0]), lib.ones(1, 4, dtype=lib.float64)),
    "index_fill_oob": lambda lib, x: x.index_fill(0, lib.tensor([0, -4]), 1.0),
    "index_fill_float": lambda lib, x: x.index_fill(0, lib.tensor([0.0]), 1.0),
    "index_fill_value": lambda lib, x: x.index_fill(0, lib.tensor([0]), lib.ones(2)),
    "index_reduce_bad": lambda lib, x: x.index_reduce(0, lib.tensor([0]), lib.ones(1, 4), "sum"),
    "index_select_oob": lambda lib, x: x.index_select(0, lib.tensor([3])),
    "index_select_negative": lambda lib, x: x.index_select(0, lib.tensor([-1])),
    "index_select_2d": lambda lib, x: x.index_select(0, lib.tensor([[0]])),
    "index_select_float": lambda lib, x: x.index_select(0, lib.tensor([0.0])),
    "take_oob": lambda lib, x: x.take(lib.tensor([12])),
    "take_oob_negative": lambda lib, x: x.take(lib.tensor([-13])),
    "take_int32": lambda lib, x: x.take(lib.tensor([1], dtype=lib.int32)),
    "put_oob": lambda lib, x: x.put(lib.tensor([12]), lib.ones(1)),
    "put_count": lambda lib, x: x.put(lib.tensor([1, 2]), lib.ones(1)),
    "put_dtype": lambda lib, x: x.put(lib.tensor([1]), lib.ones(1, dtype=lib.float64)),
    "take_along_dim_int32": lambda lib, x: x.take_along_dim(lib.tensor([[0]], dtype=lib.int32), 1),
    "take_along_dim_ndim": lambda lib, x: x.take_along_dim(lib.tensor([[[0]]]), 1),
    "take_along_dim_bcast": lambda lib, x: x.take_along_dim(lib.tensor([[0], [1]]), 1),
    "masked_fill_float_mask": lambda lib, x: x.masked_fill(lib.ones(3, 4), 1.0),
    "masked_fill_byte_mask": lambda lib, x: x.masked_fill(lib.ones(3, 4, dtype=lib.uint8), 1.0),
    "masked_fill_shape": lambda lib, x: x.masked_fill(lib.ones(2, 4, dtype=lib.bool), 1.0),
    "masked_fill_value_1d": lambda lib, x: x.masked_fill(lib.ones(3, 4, dtype=lib.bool), lib.ones(1)),
    "masked_fill_inplace_bigger_mask": lambda lib, x: x.masked_fill_(lib.ones(2, 3, 4, dtype=lib.bool), 1.0),
    "masked_select_float_mask": lambda lib, x: x.masked_select(lib.ones(3, 4)),
    "masked_select_shape": lambda lib, x: x.masked_select(lib.ones(2, 4, dtype=lib.bool)),
    "masked_scatter_few": lambda lib, x: x.masked_scatter(lib.ones(3, 4, dtype=lib.bool), lib.ones(3)),
    "masked_scatter_float_mask": lambda lib, x: x.masked_scatter(lib.ones(3, 4), lib.ones(12)),
    "masked_scatter_dtype": lambda lib, x: x.masked_scatter(lib.ones(3, 4, dtype=lib.bool),
                                                            lib.ones(12, dtype=lib.float64)),
}


@pytest.mark.parametrize("name", list(_ERRORS))
def test_errors_match_torch(name):
    err, terr = check_error(_ERRORS[name], X)
    assert str(err).split("\n")[0] == str(terr).split("\n")[0]


def test_scatter_legacy_reduce_has_no_derivative():
    x = ember.zeros(3, requires_grad=True)
    y = x.scatter(0, ember.tensor([0, 0]), ember.ones(2), reduce="add")
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        y.sum().backward()


# ------------------------------------------------------------------ values torch allows but the op table can't hold
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_legacy_reduce(reduce):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda lib, x, s: x.scatter(1, lib.tensor([[0, 0], [3, 1]]), s, reduce=reduce), X, X + 1,
                 grad=False)
        check_op(lambda lib, x: x.scatter(1, lib.tensor([[0, 0], [3, 1]]), 2.0, reduce=reduce), X, grad=False)


def test_scatter_src_bigger_than_index():
    check_op(lambda lib, x, s: (x.scatter(0, lib.tensor([[2, 0]]), s), x.scatter_add(1, lib.tensor([[1, 1]]), s),
                                x.scatter_reduce(0, lib.tensor([[1]]), s, "amax")), X, X * 2, grad=False)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_integer(dtype, reduce, include_self):
    if dtype == "bool" and reduce == "mean":
        pytest.skip("torch rejects mean on bool")
    rng = np.random.default_rng(0)
    x = rng.integers(-9 if dtype in ("int64", "int32") else 0, 9, (3, 4))
    s = rng.integers(-9 if dtype in ("int64", "int32") else 0, 9, (4, 4))
    check_op(lambda lib, a, b: _x(lib, a, dtype).scatter_reduce(0, lib.tensor([[0, 1, 1, 0]] * 4), _x(lib, b, dtype),
                                                                reduce, include_self=include_self), x, s, grad=False)


def test_scatter_reduce_nan_propagates():
    x = np.array([1.0, np.nan, 3.0])
    s = np.array([np.nan, 2.0, 5.0, 0.0])
    for r in ("amax", "amin", "sum", "mean", "prod"):
        check_op(lambda lib, a, b: a.scatter_reduce(0, lib.tensor([0, 1, 2, 2]), b, r), x, s, grad=False)


def test_scatter_reduce_prod_grad_with_zeros():
    x = np.array([1.0, 0.0, 3.0, 2.0])
    s = np.array([0.0, 3.0, 0.0, 2.0, 4.0])
    for inc in (True, False):
        check_op(lambda lib, a, b: a.scatter_reduce(0, lib.tensor([0, 0, 1, 1, 3]), b, "prod", include_self=inc),
                 x, s)


def test_scatter_reduce_amax_ties_split_gradient():
    x = np.array([1.0, 2.0, 3.0])
    s = np.array([2.0, 3.0, 3.0, 3.0])
    for inc in (True, False):
        check_op(lambda lib, a, b: a.scatter_reduce(0, lib.tensor([0, 0, 2, 2]), b, "amax", include_self=inc), x, s)


def test_index_reduce_integer_mean_floors():
    check_op(lambda lib: lib.tensor([5, 6, 7]).index_reduce(0, lib.tensor([0, 0, 1]), lib.tensor([-9, 2, -4]), "mean"),
             grad=False)


def test_zero_dim_inputs():
    def f(lib, x, v):
        idx = lib.tensor([0, 0])
        return (x.gather(0, idx), x.scatter_add(0, idx, v), x.index_select(0, lib.tensor([0])),
                x.index_fill(0, lib.tensor([0]), 4.0), x.take(lib.tensor([0, -1])), x.masked_select(lib.tensor(True)))
    check_op(f, np.array(3.0), np.array([1.0, 2.0]))


def test_empty_index():
    check_op(lambda lib, x: (x.gather(1, lib.zeros(3, 0, dtype=lib.int64)), x.take(lib.zeros(0, dtype=lib.int64)),
                             x.scatter_add(1, lib.zeros(2, 0, dtype=lib.int64), lib.zeros(2, 0)),
                             x.index_select(1, lib.zeros(0, dtype=lib.int64))), X)


def test_int32_index_accepted():
    check_op(lambda lib, x: (x.gather(1, lib.tensor([[1]], dtype=lib.int32)),
                             x.index_select(0, lib.tensor([2], dtype=lib.int32)),
                             x.scatter(0, lib.tensor([[2]], dtype=lib.int32), 1.0),
                             x.index_add(0, lib.tensor([2], dtype=lib.int32), x[:1])), X)


# ------------------------------------------------------------------ in-place variants write into self
_INPLACE = {
    "scatter_": lambda lib, x, s: x.scatter_(0, lib.tensor([[2, 0, 1, 0]]), s[:1]),
    "scatter_value_": lambda lib, x, s: x.scatter_(1, lib.tensor([[2], [0], [1]]), value=-1.0),
    "scatter_add_": lambda lib, x, s: x.scatter_add_(0, lib.tensor([[2, 2, 1, 0]]), s[:1]),
    "scatter_reduce_": lambda lib, x, s: x.scatter_reduce_(0, lib.tensor([[2, 2, 1, 0]]), s[:1], "amin"),
    "index_add_": lambda lib, x, s: x.index_add_(1, lib.tensor([0, 0]), s[:, :2], alpha=-1),
    "index_copy_": lambda lib, x, s: x.index_copy_(0, lib.tensor([1]), s[2:]),
    "index_fill_": lambda lib, x, s: x.index_fill_(1, lib.tensor([3]), 7.0),
    "index_reduce_": lambda lib, x, s: x.index_reduce_(0, lib.tensor([1, 1]), s[:2], "amax"),
    "masked_fill_": lambda lib, x, s: x.masked_fill_(s > 4, 0.5),
    "masked_scatter_": lambda lib, x, s: x.masked_scatter_(s > 4, s),
    "put_": lambda lib, x, s: x.put_(lib.tensor([0, 11]), s[0, :2]),
    "put_accumulate_": lambda lib, x, s: x.put_(lib.tensor([1, 1]), s[1, :2], accumulate=True),
    "index_put_": lambda lib, x, s: x.index_put_((lib.tensor([1, 1]),), s[0, 0], accumulate=True),
}


@pytest.mark.parametrize("name", list(_INPLACE))
def test_inplace_variants(name):
    import warnings

    def f(lib, x, s):
        y = x * 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = _INPLACE[name](lib, y, s)
        assert r is y
        return y
    check_op(f, X.astype(np.float64), X[::-1].astype(np.float64) * 1.5)


# ------------------------------------------------------------------ gradients through indexing
def test_duplicate_advanced_index_accumulates():
    check_op(lambda lib, x: x[[0, 0, 2, 0]] * lib.arange(4.0).reshape(4, 1), X)
    check_op(lambda lib, x: x[lib.tensor([[1, 1], [1, 0]]), lib.tensor([3, 3])], X)


def test_setitem_gradients_reach_value_and_base():
    def f(lib, x, v):
        y = x.clone()
        y[[0, 2], 1:3] = v
        y[:, -1] = v[0, 0] * 2
        y[y > 10] = 0.0
        return y * y
    check_op(f, X.astype(np.float64), np.ones((2, 2)) * 3)


def test_setitem_through_view_reaches_base():
    def f(lib, x, v):
        y = x * 1.0
        row = y[1]
        row[::2] = v
        return y
    check_op(f, X.astype(np.float64), np.array([5.0, 6.0]))


# ------------------------------------------------------------------ __setitem__ edge cases (values only)
_SET_KEYS = [
    (lambda lib: (Ellipsis, 0), lambda lib: lib.tensor([7.0, 8.0, 9.0])),
    (lambda lib: (None, slice(None), -1), lambda lib: 5),
    (lambda lib: lib.tensor(2), lambda lib: lib.tensor(1.5)),
    (lambda lib: lib.tensor([True, False, True]), lambda lib: lib.tensor([[1.0], [2.0]])),
    (lambda lib: X > 5, lambda lib: lib.tensor(0.0)),
    (lambda lib: (slice(None, None, 2), slice(1, None, 2)), lambda lib: lib.tensor([[1.0, 2.0]])),
    (lambda lib: ([0, 0], [1, 1]), lambda lib: lib.tensor([3.0, 3.0])),
    (lambda lib: (lib.tensor([[0], [2]]), lib.tensor([1, 3])), lambda lib: lib.tensor([4.0, 5.0])),
    (lambda lib: (slice(None), [True, False, False, True]), lambda lib: -1.0),
    (lambda lib: lib.tensor([1, 2], dtype=lib.int32), lambda lib: 9.0),
]


@pytest.mark.parametrize("case", range(len(_SET_KEYS)))
def test_setitem_edge_cases(case):
    make_key, make_value = _SET_KEYS[case]

    def f(lib, x):
        key = make_key(lib)
        if isinstance(key, np.ndarray):
            key = lib.tensor(key)
        x[key] = make_value(lib)
        return x
    check_op(f, X.copy(), grad=False)


def test_setitem_shape_mismatch():
    def f(lib, x):
        x[0] = lib.ones(3)
    err, terr = check_error(f, X)
    assert str(err) == str(terr)


# ------------------------------------------------------------------ property-based keys
def _keys(draw, shape):
    """A random torch key for ``shape``: ints, slices with steps, None, one Ellipsis, int lists, one bool mask."""
    parts = []
    dim = 0
    used_ellipsis = False
    used_array = False
    while dim < len(shape) and draw(st.booleans()):
        n = shape[dim]
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "list", "mask"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
            dim += 1
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n - 1, n + 1))
            stop = draw(st.none() | st.integers(-n - 1, n + 1))
            step = draw(st.none() | st.integers(1, 3))
            parts.append(slice(start, stop, step))
            dim += 1
        elif kind == "none":
            parts.append(None)
        elif kind == "ellipsis" and not used_ellipsis:
            parts.append(Ellipsis)
            used_ellipsis = True
            dim = len(shape) - draw(st.integers(0, len(shape) - dim))
        elif kind == "list":
            as_tensor = draw(st.booleans())
            parts.append(("list" if as_tensor else "pylist", draw(st.lists(st.integers(-n, n - 1), min_size=1,
                                                                           max_size=3))))
            used_array = True
            dim += 1
        elif kind == "mask" and not used_array:
            parts.append(("mask", draw(st.lists(st.booleans(), min_size=n, max_size=n))))
            used_array = True
            dim += 1
    return parts


@st.composite
def _shape_and_key(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    return shape, _keys(draw, shape)


def _realise(lib, parts):
    """The key for ``lib``; int lists become index tensors so that several of them broadcast together."""
    key = []
    for p in parts:
        if isinstance(p, tuple) and p[0] == "list":
            key.append(lib.tensor(p[1]))
        elif isinstance(p, tuple) and p[0] == "pylist":
            key.append(list(p[1]))
        elif isinstance(p, tuple) and p[0] == "mask":
            key.append(lib.tensor(p[1]))
        else:
            key.append(p)
    return tuple(key)


def _same_or_both_fail(run):
    try:
        expected = run(torch)
    except Exception as e:  # torch rejects it (e.g. index lists that don't broadcast): so must ember
        with pytest.raises(type(e)):
            run(ember)
        return
    assert_same(run(ember), expected)


@settings(max_examples=50, deadline=None)
@given(_shape_and_key())
def test_getitem_random_keys(case):
    shape, parts = case
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    _same_or_both_fail(lambda lib: lib.tensor(data)[_realise(lib, parts)])


@settings(max_examples=50, deadline=None)
@given(_shape_and_key(), st.floats(-5, 5, width=32))
def test_setitem_random_keys(case, value):
    shape, parts = case
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)

    def run(lib):
        x = lib.tensor(data)
        x[_realise(lib, parts)] = value
        return x
    _same_or_both_fail(run)


@settings(max_examples=50, deadline=None)
@given(_shape_and_key(), st.data())
def test_setitem_random_keys_tensor_value(case, data):
    """A tensor value broadcast into the indexed region, and the gradients of base and value."""
    shape, parts = case
    try:
        target = tuple(torch.zeros(shape)[_realise(torch, parts)].shape)
    except Exception:
        return
    keep = data.draw(st.integers(0, len(target)))
    value_shape = tuple(n if data.draw(st.booleans()) else 1 for n in target[len(target) - keep:])
    rng = np.random.default_rng(0)

    def run(lib, x, v):
        y = x * 1.0
        y[_realise(lib, parts)] = v
        return y * 2
    check_op(run, rng.standard_normal(shape), rng.standard_normal(value_shape))


@settings(max_examples=50, deadline=None)
@given(_shape_and_key())
def test_getitem_random_keys_gradient(case):
    shape, parts = case
    data = np.random.default_rng(0).standard_normal(shape)
    try:
        torch.tensor(data)[_realise(torch, parts)]
    except Exception:
        return
    check_op(lambda lib, x: x[_realise(lib, parts)] * 2, data)


def test_integer_index_is_a_view():
    """x[i] on a 1-D tensor is a 0-d view, as in torch: writing into it changes x."""
    def f(lib, x):
        v = x[1]
        v.add_(5.0)
        w = x[0, ...]
        w.mul_(-1.0)
        return x
    check_op(f, np.arange(3.0), grad=False)


_SET_DTYPES = {
    "basic_casts": lambda lib: (lib.zeros(2, dtype=lib.long), slice(None), lib.tensor([1.7, -2.5])),
    "basic_to_bool": lambda lib: (lib.zeros(2, dtype=lib.bool), 0, lib.tensor(2.0)),
    "mask_0d_other_dtype": lambda lib: (lib.zeros(2, 2), (0, lib.tensor([True, False])), lib.tensor(3)),
    "index_other_dtype": lambda lib: (lib.zeros(3), [0], lib.tensor([5], dtype=lib.float64)),
    "index_0d_other_dtype": lambda lib: (lib.zeros(3, dtype=lib.long), [0], lib.tensor(5.0)),
    "mask_1d_other_dtype": lambda lib: (lib.zeros(3), lib.tensor([True, False, True]), lib.tensor([5, 6])),
}


@pytest.mark.parametrize("name", list(_SET_DTYPES))
def test_setitem_value_dtype_rules(name):
    """Basic keys cast like copy_; index tensors want the value's dtype to match (torch's index_put_)."""
    def f(lib):
        x, key, v = _SET_DTYPES[name](lib)
        x[key] = v
        return x
    try:
        f(torch)
    except RuntimeError:
        err, terr = check_error(f)
        assert str(err) == str(terr)
        return
    check_op(f, grad=False)


def test_index_put_dtype_mismatch():
    err, terr = check_error(lambda lib: lib.zeros(3).index_put_((lib.tensor([0]),), lib.tensor(5.0, dtype=lib.float64)))
    assert str(err) == str(terr)


def test_big_tensor_index_gradients():
    """Tensors over 65536 elements take the zero-stride position path in the accumulating backward."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((70, 1000))
    check_op(lambda lib, a: (a[[3, 3, 69]], a[lib.tensor([0, 5]), lib.tensor([999, 999])], a[:, 0, None][a[:, 0] > 0],
                             a[2:, [1, 1]]), x)


@pytest.mark.parametrize("make_key", [lambda lib: [[0, 1], [1, 2]], lambda lib: ((0, 1),), lambda lib: [],
                                      lambda lib: [[0, 2], slice(1, 3)], lambda lib: (Ellipsis, (3, 0))])
def test_sequence_keys(make_key):
    """A list holding sequences/slices reads as a tuple (torch's legacy rule); tuples inside keys index."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda lib, x: x[make_key(lib)], X)


def test_setitem_list_value_rejected():
    def f(lib, x):
        x[0] = [1.0, 2.0, 3.0, 4.0]
    err, terr = check_error(f, X)
    assert str(err) == str(terr)


# ------------------------------------------------------------------ masked_fill's compiled fill
from ember._kernels import indexing as _index_kernels  # noqa: E402
from kernel_layer import kernel_layer, expect_calls  # noqa: E402

fill_layer = kernel_layer(_index_kernels, ("masked_fill_tiled",))
_CAUSAL = np.triu(np.ones((5, 5), bool), 1)


def _scores(*shape, dtype=np.float32):
    return np.random.default_rng(3).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_fill_causal_mask_broadcast(fill_layer, dtype):
    """Attention's (T, T) mask over (batch, heads, T, T): the fill runs as one repeated block, forward and
    the gradient's zero fill (exact, as torch)."""
    check_op(lambda lib, x: x.masked_fill(lib.from_numpy(_CAUSAL), float("-inf")), _scores(2, 3, 5, 5, dtype=dtype),
             atol=0, rtol=0)
    expect_calls(fill_layer, "masked_fill_tiled")


def test_masked_fill_full_mask_and_special_values(fill_layer):
    """A mask of x's own shape; NaN in x is replaced under the mask and kept elsewhere; NaN, -0.0, int and
    bool values."""
    x = _scores(4, 6)
    x[0, :3] = [np.nan, np.inf, -np.inf]
    mask = np.zeros((4, 6), bool)
    mask[0, 0] = mask[1, :] = mask[2, ::2] = True
    for value in (float("nan"), -0.0, 3, True):
        check_op(lambda lib, t: t.masked_fill(lib.from_numpy(mask), value), x, atol=0, rtol=0)
    e = ember.tensor(x).masked_fill(ember.from_numpy(mask), -0.0).numpy()
    assert np.signbit(e[mask]).all() and not np.isnan(e[mask]).any()
    expect_calls(fill_layer, "masked_fill_tiled")


def test_masked_fill_non_repeating_masks_take_the_general_path(fill_layer):
    """Non-contiguous input, a mask broadcast over a middle dim, a 0-d value tensor with a gradient, an
    empty tensor: same results as torch, without the compiled fill."""
    mid = np.array([[True, False, True, False]])[:, None, :]  # (1, 1, 4) over (2, 3, 4): repeats in dim 1
    check_op(lambda lib, x: x.masked_fill(lib.from_numpy(np.broadcast_to(mid, (2, 1, 4)).copy()), 7.0),
             _scores(2, 3, 4), atol=0, rtol=0)
    check_op(lambda lib, x: x.transpose(0, 1).masked_fill(lib.from_numpy(_CAUSAL), -1.0), _scores(5, 5),
             atol=0, rtol=0)
    check_op(lambda lib, x, v: x.masked_fill(lib.from_numpy(_CAUSAL), v), _scores(2, 5, 5), np.array(2.5, np.float32))
    check_op(lambda lib, x: x.masked_fill(lib.ones(0, 3, dtype=lib.bool), 1.0), _scores(0, 3))
    assert fill_layer[1]["masked_fill_tiled"] == 0


def test_masked_fill_double_backward_records(fill_layer):
    """With create_graph the gradient's fill is recorded (the raw kernel serves only non-recording backward)."""
    def f(lib, x):
        y = x.masked_fill(lib.from_numpy(_CAUSAL), 0.0)
        g, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        return g * x
    check_op(f, _scores(3, 5, 5, dtype=np.float64))
