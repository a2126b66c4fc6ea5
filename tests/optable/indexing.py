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
