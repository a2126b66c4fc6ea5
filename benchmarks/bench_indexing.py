"""Indexing, scatter and sorting ops, ember vs torch side by side, one thread each.

Each op runs on a 64x128 float32 tensor (index tensors of matching size), interleaving the two
libraries (benchmarks/timing.py) so that a busy machine slows both alike. Prints microseconds per
call and torch/ember (> 1 means ember is faster).

Run: python benchmarks/bench_indexing.py [name-substring ...]
"""
import os
import sys

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import ember  # noqa: E402
from benchmarks.timing import print_case_table  # noqa: E402

RNG = np.random.default_rng(0)
A = RNG.standard_normal((64, 128)).astype(np.float32)
IDX = RNG.integers(0, 64, (64, 128))     # along dim 0, with duplicates
ROWS = RNG.integers(0, 64, 32)           # 32 row indices, with duplicates
TOP5 = np.argsort(A, 1)[:, :5].copy()    # distinct per row


def _backward(fn):
    def make(lib):
        x = lib.tensor(A, requires_grad=True)
        out = fn(lib, x)
        return lambda: fn(lib, x).sum().backward() if out is not None else None
    return make


def _forward(fn):
    def make(lib):
        x = lib.tensor(A)
        return lambda: fn(lib, x)
    return make


CASES = {
    "x[int]": _forward(lambda lib, x: x[3]),
    "x[slice, step]": _forward(lambda lib, x: x[1:10:2, ::3]),
    "x[index tensor]": _forward(lambda lib, x: x[lib.tensor(ROWS)]),
    "x[mask]": _forward(lambda lib, x: x[x > 0]),
    "x[index] = v": _forward(lambda lib, x: x.__setitem__(lib.tensor(ROWS), 1.0)),
    "gather": _forward(lambda lib, x: x.gather(0, lib.tensor(IDX))),
    "scatter value": _forward(lambda lib, x: x.scatter(1, lib.tensor(TOP5), 1.0)),
    "scatter_add": _forward(lambda lib, x: x.scatter_add(0, lib.tensor(IDX), x)),
    "scatter_reduce amax": _forward(lambda lib, x: x.scatter_reduce(0, lib.tensor(IDX), x, "amax")),
    "index_select": _forward(lambda lib, x: x.index_select(0, lib.tensor(ROWS))),
    "index_add": _forward(lambda lib, x: x.index_add(0, lib.tensor(ROWS), x[:32])),
    "masked_select": _forward(lambda lib, x: x.masked_select(x > 0)),
    "sort": _forward(lambda lib, x: x.sort(1)),
    "argsort": _forward(lambda lib, x: x.argsort(1)),
    "topk 5": _forward(lambda lib, x: x.topk(5)),
    "median dim": _forward(lambda lib, x: x.median(1)),
    "cummax": _forward(lambda lib, x: x.cummax(1)),
    "quantile dim": _forward(lambda lib, x: x.quantile(0.3, dim=1)),
    "unique counts": _forward(lambda lib, x: (x * 4).round().unique(return_counts=True)),
    "searchsorted": _forward(lambda lib, x: lib.searchsorted(x[0].sort().values, x)),
    "bincount": _forward(lambda lib, x: lib.bincount(lib.tensor(IDX.ravel()))),
    "x[index] fwd+bwd": _backward(lambda lib, x: x[lib.tensor(ROWS)]),
    "gather fwd+bwd": _backward(lambda lib, x: x.gather(0, lib.tensor(IDX))),
    "sort fwd+bwd": _backward(lambda lib, x: x.sort(1).values * 1.0),
    "topk fwd+bwd": _backward(lambda lib, x: x.topk(5).values * 1.0),
}


def main(filters):
    print_case_table(CASES, filters, ember)


if __name__ == "__main__":
    main(sys.argv[1:])
