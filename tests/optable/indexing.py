import numpy as np

from . import OpInfo, randn


def _i(name, fn, *shapes_list, **kw):
    return OpInfo(name, fn, lambda rng: [tuple(randn(rng, *s) for s in shapes) for shapes in shapes_list], **kw)


OPS = [
    _i("getitem_int", lambda lib, x: x[1], [(3, 4)]),
    _i("getitem_slice_step", lambda lib, x: x[::2, 1:3], [(5, 4)]),
    _i("getitem_none_ellipsis", lambda lib, x: x[None, ..., 1], [(2, 3, 4)]),
    _i("getitem_neg", lambda lib, x: x[-1, -2:], [(3, 4)]),
    _i("getitem_list", lambda lib, x: x[[0, 2, 2]], [(3, 4)]),
    _i("getitem_tensor_idx", lambda lib, x: x[:, lib.tensor([3, 0, 3])], [(3, 4)]),
    _i("getitem_two_idx", lambda lib, x: x[lib.tensor([0, 1]), lib.tensor([2, 3])], [(3, 4)]),
    _i("getitem_mask", lambda lib, x: x[x > 0], [(3, 4)]),
    _i("getitem_row_mask", lambda lib, x: x[x[:, 0] > 0], [(5, 4)]),
    _i("getitem_mixed", lambda lib, x: x[1:, [0, 2]], [(3, 4)]),
    _i("gather", lambda lib, x: lib.gather(x, 1, lib.tensor([[0, 0], [1, 0], [3, 2]])), [(3, 4)]),
    _i("gather_dim0", lambda lib, x: x.gather(0, lib.tensor([[2, 1, 0, 0]])), [(3, 4)]),
    _i("index_select", lambda lib, x: lib.index_select(x, 1, lib.tensor([0, 3, 3])), [(3, 4)]),
    _i("masked_fill", lambda lib, x: x.masked_fill(x > 0.5, -1.0), [(3, 4)]),
    _i("masked_fill_bcast", lambda lib, x: x.masked_fill(lib.tensor([True, False, True, False]), 2.0), [(3, 4)]),
    _i("setitem_then_grad", lambda lib, x, v: _setitem(lib, x, v), [(3, 4), (4,)]),
    _i("setitem_mask", lambda lib, x: _set_mask(lib, x), [(3, 4)]),
]


def _setitem(lib, x, v):
    y = x * 1.0
    y[1] = v * 2
    return y


def _set_mask(lib, x):
    y = x.clone()
    y[y < 0] = 0.0
    return y * x


def _idx(lib, rows):
    return lib.tensor(rows)


# scatter family: index tensors are built inside fn so both libraries see the same values
_PERM = [[2, 0, 1, 0], [1, 2, 0, 2]]  # along dim 0 of a (3, 4) target: no duplicate per column
_DUP = [[0, 2, 2, 0], [2, 2, 1, 0], [0, 0, 0, 0]]
_SCATTER_REDUCE = [
    _i(f"scatter_reduce_{r}{'' if inc else '_noself'}",
       (lambda r, inc: lambda lib, x, s: x.scatter_reduce(0, _idx(lib, _DUP), s, r, include_self=inc))(r, inc),
       [(3, 4), (3, 4)])
    for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)]

OPS += [
    _i("scatter_src", lambda lib, x, s: x.scatter(0, _idx(lib, _PERM), s), [(3, 4), (2, 4)]),
    _i("scatter_value", lambda lib, x: lib.scatter(x, 1, _idx(lib, [[3], [0], [1]]), 2.5), [(3, 4)]),
    _i("scatter_0d", lambda lib, x, s: x.scatter(0, _idx(lib, [0]), s), [(), (1,)]),
    _i("scatter_add", lambda lib, x, s: x.scatter_add(0, _idx(lib, _DUP), s), [(3, 4), (3, 4)]),
    _i("scatter_add_dim1", lambda lib, x, s: lib.scatter_add(x, 1, _idx(lib, [[0, 0], [3, 1]]), s),
       [(3, 4), (2, 2)]),
    *_SCATTER_REDUCE,
    _i("index_add", lambda lib, x, s: x.index_add(1, _idx(lib, [0, 3, 0]), s, alpha=2.0), [(3, 4), (3, 3)]),
    _i("index_add_0d", lambda lib, x, s: x.index_add(0, _idx(lib, [0]), s), [(), ()]),
    _i("index_copy", lambda lib, x, s: x.index_copy(0, _idx(lib, [2, 0]), s), [(3, 4), (2, 4)]),
    _i("index_fill", lambda lib, x: x.index_fill(1, _idx(lib, [0, -1]), -2.0), [(3, 4)]),
    _i("index_fill_tensor", lambda lib, x, v: x.index_fill(0, _idx(lib, [1]), v), [(3, 4), ()]),
    *[_i(f"index_reduce_{r}", (lambda r: lambda lib, x, s: x.index_reduce(0, _idx(lib, [1, 0, 1]), s, r))(r),
         [(3, 4), (3, 4)]) for r in ("prod", "mean", "amax", "amin")],
    _i("index_reduce_noself", lambda lib, x, s: x.index_reduce(0, _idx(lib, [2, 2]), s, "mean", include_self=False),
       [(3, 4), (2, 4)]),
    _i("masked_fill_bigger_mask", lambda lib, x, v: x.masked_fill(lib.tensor([[True], [False]]), v), [(3,), ()]),
    _i("masked_select", lambda lib, x: x.masked_select(x > 0), [(3, 4)]),
    _i("masked_select_bcast", lambda lib, x: lib.masked_select(x, lib.tensor([True, False, True])), [(2, 3)]),
    _i("masked_scatter", lambda lib, x, s: x.masked_scatter(x > 0, s), [(3, 4), (2, 7)]),
    _i("masked_scatter_bcast", lambda lib, x, s: x.masked_scatter(lib.tensor([False, True, True]), s),
       [(2, 3), (5,)]),
    _i("take", lambda lib, x: x.take(_idx(lib, [[0, -1], [5, 5]])), [(3, 4)]),
    _i("take_along_dim", lambda lib, x: lib.take_along_dim(x, _idx(lib, [[0, 3, 3]]), dim=1), [(3, 4)]),
    _i("take_along_dim_flat", lambda lib, x: x.take_along_dim(_idx(lib, [7, 0, 7])), [(3, 4)]),
    _i("put", lambda lib, x, s: x.put(_idx(lib, [0, -1, 5]), s), [(3, 4), (3,)]),
    _i("put_accumulate", lambda lib, x, s: x.put(_idx(lib, [[1, 1], [2, 1]]), s, accumulate=True), [(3, 4), (2, 2)]),
    _i("index_put_accumulate", lambda lib, x, v: x.index_put((_idx(lib, [0, 2, 0]), ), v, accumulate=True),
       [(3, 4), (3, 4)]),
    _i("index_put_bcast", lambda lib, x, v: x.index_put((_idx(lib, [0, 2]), _idx(lib, [1, 1])), v), [(3, 4), (1,)]),
    _i("getitem_dup_2d", lambda lib, x: x[_idx(lib, [[0, 0], [2, 0]]), 1:], [(3, 4)]),
    _i("setitem_tensor_value_bcast", lambda lib, x, v: _set(lib, x, (slice(None), _idx(lib, [0, 2])), v),
       [(3, 4), (3, 1)]),
    _i("setitem_step_slice", lambda lib, x, v: _set(lib, x, (slice(None, None, 2), Ellipsis), v), [(5, 4), (4,)]),
    _i("setitem_none_neg", lambda lib, x, v: _set(lib, x, (None, -1), v), [(3, 4), (1, 4)]),
    _i("setitem_mask_value", lambda lib, x, v: _set(lib, x, (lib.tensor([True, False, True]),), v), [(3, 4), (4,)]),
]


def _set(lib, x, key, v):
    y = x * 1.0
    y[key] = v
    return y * x
