"""Linear algebra, norms and statistics ops, ember vs torch side by side, one thread each.

Matrices are 32x32 float64 (well conditioned; symmetric positive definite where the op needs it),
vectors 64x128 float32. The two libraries run interleaved (benchmarks/timing.py) so that a busy
machine slows both alike. Prints microseconds per call and torch/ember (> 1 means ember is faster).

Run: python benchmarks/bench_linalg.py [name-substring ...]
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
M = RNG.standard_normal((32, 32)) + 6 * np.eye(32)
SPD = M @ M.T
RHS = RNG.standard_normal((32, 4))
V = RNG.standard_normal((64, 128)).astype(np.float32)
P1 = RNG.standard_normal((64, 16)).astype(np.float32)
P2 = RNG.standard_normal((48, 16)).astype(np.float32)


def _case(fn, *arrays, grad=False):
    def make(lib):
        xs = [lib.tensor(a, requires_grad=grad) for a in arrays]
        if not grad:
            return lambda: fn(lib, *xs)

        def step():
            out = fn(lib, *xs)
            (out[0] if isinstance(out, tuple) else out).sum().backward()
        return step
    return make


_FNS = {
    "vector_norm": (lambda lib, x: lib.linalg.vector_norm(x), V),
    "norm dim=1": (lambda lib, x: x.norm(dim=1), V),
    "inv": (lambda lib, a: lib.linalg.inv(a), M),
    "det": (lambda lib, a: lib.linalg.det(a), M),
    "solve": (lambda lib, a, b: lib.linalg.solve(a, b), M, RHS),
    "cholesky": (lambda lib, a: lib.linalg.cholesky(a), SPD),
    "svd": (lambda lib, a: lib.linalg.svd(a, full_matrices=False)[1], M),
    "eigh": (lambda lib, a: lib.linalg.eigh(a)[0], SPD),
    "qr": (lambda lib, a: lib.linalg.qr(a)[1], M),
    "lu_factor": (lambda lib, a: lib.linalg.lu_factor(a)[0], M),
    "matrix_exp": (lambda lib, a: lib.linalg.matrix_exp(a * 0.05), M),
    "cdist": (lambda lib, a, b: lib.cdist(a, b), P1, P2),
    "logcumsumexp": (lambda lib, x: lib.logcumsumexp(x, 1), V),
}
CASES = {}
for _name, (_fn, *_arrays) in _FNS.items():
    CASES[_name] = _case(_fn, *_arrays)
    CASES[_name + " fwd+bwd"] = _case(_fn, *_arrays, grad=True)


def main(filters):
    print_case_table(CASES, filters, ember)


if __name__ == "__main__":
    main(sys.argv[1:])
