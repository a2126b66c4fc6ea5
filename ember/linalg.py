"""``torch.linalg`` on NumPy: norms, inverses, solves, factorizations, all differentiable and batched.

>>> import ember as torch
>>> A = torch.tensor([[2., 1.], [1., 3.]])
>>> torch.linalg.solve(A, torch.tensor([1., 2.]))
tensor([0.2000, 0.6000])
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from . import _dtype as D
from ._device import array_module, as_array, is_array, to_host
from ._tensor import Tensor
from .autograd.function import Op
from ._ops._util import wrap_dims, wrap_dim, type_name, broadcast_shapes
from ._ops.inplace import write_out
from ._optional import scipy_module
from ._ops import blas as _blas
from ._ops.linalg_ops import (LinAlgError, check_matrix, check_float, Inv, InvEx, Det, Slogdet, Solve,
                              SolveTriangular, Cholesky, CholeskyEx, Eigh, Svd, Qr, MatrixExp, Eig, VectorNorm,
                              _serial_lapack, Lu, _getrf, pivots_to_permutation)

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "det", "slogdet", "solve",
           "solve_ex", "solve_triangular", "lstsq", "qr", "svd", "svdvals", "eig", "eigvals", "eigh", "eigvalsh",
           "cholesky", "cholesky_ex", "pinv", "matrix_rank", "matrix_power", "matrix_exp", "cross", "vecdot",
           "multi_dot", "diagonal", "tensorinv", "tensorsolve", "cond", "lu", "lu_factor", "lu_factor_ex",
           "lu_solve", "vander", "householder_product", "ldl_factor", "ldl_factor_ex", "ldl_solve", "matmul"]

_slogdet_t = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
_inv_ex_t = namedtuple("linalg_inv_ex", ["inverse", "info"])
_solve_ex_t = namedtuple("linalg_solve_ex", ["result", "info"])
_cholesky_ex_t = namedtuple("linalg_cholesky_ex", ["L", "info"])
_qr_t = namedtuple("linalg_qr", ["Q", "R"])
_svd_t = namedtuple("linalg_svd", ["U", "S", "Vh"])
_eigh_t = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
_eig_t = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])
_lu_t = namedtuple("linalg_lu", ["P", "L", "U"])
_lu_factor_t = namedtuple("linalg_lu_factor", ["LU", "pivots"])
_lu_factor_ex_t = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_lstsq_t = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_ldl_factor_t = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
_ldl_factor_ex_t = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


def _write_outs(result, out):
    """``out=`` for functions returning a named tuple: each field is written into its out tensor."""
    if out is None:
        return result
    return type(result)(*(write_out(r, o) for r, o in zip(result, out)))


# ------------------------------------------------------------------ norms
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """||x||_ord over ``dim`` (all elements when None); ord may be any real, inf, -inf or 0.

    >>> torch.linalg.vector_norm(torch.tensor([3., -4.]))
    tensor(5.)
    """
    data = x._data
    if data.dtype not in _NATIVE_FLOAT:
        check_float_or_complex(x, "linalg.vector_norm")
    if dtype is not None:
        dt = D.to_dtype(dtype)
        if not D.can_cast(x.dtype, dt) or (x.dtype.is_complex and not dt.is_complex) or \
                np.dtype(dt.np).itemsize < data.dtype.itemsize and dt.np.kind == data.dtype.kind:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({type_name(x.dtype)}) should be "
                               f"convertible without narrowing to the specified dtype ({type_name(dt)})")
        x = x.to(dt)
        data = x._data
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        dims = tuple(range(data.ndim))
    else:
        dims = wrap_dims(dim, data.ndim)
    if ord.__class__ is not int or ord < 0:
        if isinstance(ord, str):
            raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not str")
        ord = float(ord)
        if (ord in (math.inf, -math.inf) or ord < 0) and data.size == 0 and \
                (not dims or any(data.shape[d] == 0 for d in dims)):
            what = "inf" if ord == math.inf else ("-inf" if ord == -math.inf else "negative")
            raise RuntimeError(f"linalg.vector_norm cannot compute the {what} norm on an empty tensor because "
                               "the operation does not have an identity")
    if data.dtype in D.REDUCED_NP:  # accumulate half precision in float32, as torch does
        res = VectorNorm.apply(x.float(), ord, dims, keepdim, _F32).to(x.dtype)
    else:
        res = VectorNorm.apply(x, ord, dims, keepdim, _REAL_OF.get(data.dtype, data.dtype))
    return write_out(res, out) if out is not None else res


_F32 = np.dtype(np.float32)
_NATIVE_FLOAT = frozenset(np.dtype(t) for t in (np.float32, np.float64))
_REAL_OF = {np.dtype(np.complex64): _F32, np.dtype(np.complex128): np.dtype(np.float64)}


def check_float_or_complex(x, fname):
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got {type_name(x.dtype)}")


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm over the two dims ``dim``: 'fro', 'nuc', 1, -1, 2, -2, inf or -inf.

    >>> torch.linalg.matrix_norm(torch.eye(3), 'nuc')
    tensor(3.)
    """
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    check_float_or_complex(A, "linalg.matrix_norm")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    d0, d1 = wrap_dim(dim[0], A.ndim), wrap_dim(dim[1], A.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return write_out(vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord == "nuc" or ord in (2, -2):
        S = svdvals(A.movedim((d0, d1), (-2, -1)))
        if ord == "nuc":
            res = S.sum(-1)
        else:
            res = S.amax(-1) if ord == 2 else S.amin(-1)
    elif ord in (1, -1, math.inf, -math.inf):
        # 1: largest column sum (reduce rows first); inf: largest row sum
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(sum_dim, keepdim=True)
        res = sums.amax(red_dim, keepdim=True) if ord > 0 else sums.amin(red_dim, keepdim=True)
        res = res.squeeze((d0, d1)) if not keepdim else res
        return write_out(res, out)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        lo, hi = sorted((d0, d1))
        res = res.unsqueeze(lo).unsqueeze(hi)
    return write_out(res, out)


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """Vector or matrix norm, chosen from ``ord`` and ``dim`` as ``torch.linalg.norm`` does."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1 and not isinstance(ord, str):  # a string ord goes to matrix_norm, which objects
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype, out=out)
        if len(dims) <= 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype, out=out)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    if A._data.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    if A._data.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")


def cond(A, p=None):
    """Condition number ||A|| ||A^{-1}|| (2-norm ratio of singular values by default)."""
    check_matrix(A, "linalg.cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        S = svdvals(A)
        return S.amax(-1) / S.amin(-1) if p != -2 else S.amin(-1) / S.amax(-1)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# ------------------------------------------------------------------ inverses and determinants
def inv(A, *, out=None):
    """Inverse of a (batch of) square matrices; singular input raises ``LinAlgError``.

    >>> torch.linalg.inv(torch.tensor([[2., 0.], [0., 4.]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    check_matrix(A, "linalg.inv")
    return write_out(Inv.apply(A, "linalg.inv"), out)


def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info): info is the 1-based index of a zero pivot, 0 when ``A`` is invertible."""
    check_matrix(A, "linalg.inv_ex")
    if check_errors:
        info = array_module(A._data).zeros(A.shape[:-2], np.int32)
        return _write_outs(_inv_ex_t(Inv.apply(A, "linalg.inv_ex"), Tensor._wrap(info)), out)
    return _write_outs(_inv_ex_t(*InvEx.apply(A)), out)


def det(A, *, out=None):
    """Determinant of a (batch of) square matrices.

    >>> torch.linalg.det(torch.tensor([[1., 2.], [3., 4.]]))
    tensor(-2.)
    """
    check_matrix(A, "linalg.det")
    return write_out(Det.apply(A), out)


def slogdet(A, *, out=None):
    """(sign, log|det|) of a (batch of) square matrices.

    >>> torch.linalg.slogdet(torch.tensor([[-2., 0.], [0., 1.]])).sign
    tensor(-1.)
    """
    check_matrix(A, "linalg.slogdet")
    return _write_outs(_slogdet_t(*Slogdet.apply(A)), out)


# ------------------------------------------------------------------ solves
def _is_vector_rhs(A, B):
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left=True, out=None):
    """X with A X = B (or X A = B when ``left=False``); B may be a (batch of) vectors.

    >>> torch.linalg.solve(torch.tensor([[2., 1.], [1., 3.]]), torch.tensor([1., 2.]))
    tensor([0.2000, 0.6000])
    """
    check_matrix(A, "linalg.solve")
    check_float(B, "linalg.solve")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{type_name(A.dtype)} and B of type {type_name(B.dtype)} instead")
    vec = _is_vector_rhs(A, B)
    Bm = B.unsqueeze(-1) if vec else B
    n = A.shape[-1]
    rows = Bm.shape[-2] if left else Bm.shape[-1]
    if rows != n:
        shown = (f"{Bm.shape[-2]}x{Bm.shape[-1]}" if left else f"{Bm.shape[-1]}x{Bm.shape[-2]}")
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {shown})")
    broadcast_shapes(tuple(Bm.shape[:-2]), tuple(A.shape[:-2]))  # torch's message for mismatched batches
    if left:
        X = Solve.apply(A, Bm)
    else:
        X = Solve.apply(A.mT, Bm.mT).mT
    return write_out(X.squeeze(-1) if vec else X, out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """(result, info) version of :func:`solve`; a singular ``A`` raises only with ``check_errors``."""
    xp = array_module(A._data)
    try:
        X = solve(A, B, left=left)
        info = xp.zeros(A.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        info = InvEx.apply(A.detach())[1]._data
        shape = tuple(B.shape) if _is_vector_rhs(A, B) else \
            np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2])) + tuple(B.shape[-2:])
        X = Tensor._wrap(xp.full(shape, np.nan, A._data.dtype))
    return _write_outs(_solve_ex_t(X, Tensor._wrap(info)), out)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B for triangular ``A`` (only its ``upper``/lower triangle is read)."""
    check_matrix(A, "linalg.solve_triangular")
    if B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of "
                           f"type {type_name(A.dtype)} and B of type {type_name(B.dtype)} instead")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    broadcast_shapes(tuple(B.shape[:-2]), tuple(A.shape[:-2]))
    if left:
        X = SolveTriangular.apply(A, B, upper, unitriangular)
    else:
        X = SolveTriangular.apply(A.mT, B.mT, not upper, unitriangular).mT
    return write_out(X, out)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B: (solution, residuals, rank, singular_values).

    As on torch's CPU: driver 'gelsy' (default) fills ``rank``; 'gelsd'/'gelss' also give the
    singular values; residuals are filled for full-rank tall problems except with 'gelsy'.
    """
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    driver = "gelsy" if driver is None else driver
    if driver not in drivers:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of ({', '.join(drivers)})")
    check_matrix(A, "torch.linalg.lstsq", square=False)
    vec = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vec else B
    if Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2], A.shape[-1]
    eps = np.finfo(A._data.dtype).eps
    rtol = eps * builtins.max(m, n) if rcond is None or rcond < 0 else rcond
    P = Pinv.apply(A, 0.0, rtol, False)
    X = P @ Bm
    with _serial_lapack(A._data):
        S = Tensor._wrap(np.linalg.svd(A._data, compute_uv=False).astype(np.finfo(A._data.dtype).dtype))
    xp = array_module(A._data)
    rank_raw = (S._data > rtol * _max_singular(S._data, keepdims=True)).sum(-1).astype(np.int64)
    empty = Tensor._wrap(xp.empty((0,), np.finfo(A._data.dtype).dtype))
    rank = Tensor._wrap(rank_raw) if driver != "gels" else Tensor._wrap(xp.empty((0,), np.int64))
    residuals = empty
    if driver != "gelsy" and m > n and bool((rank_raw == n).all()):
        r = A @ X - Bm
        residuals = (r * r.conj()).real.sum(-2) if r.is_complex() else (r * r).sum(-2)
    sv = S if driver in ("gelsd", "gelss") else empty
    return _lstsq_t(X.squeeze(-1) if vec else X, residuals, rank, sv)


# ------------------------------------------------------------------ factorizations
def cholesky(A, *, upper=False, out=None):
    """Cholesky factor L (A = L L^H), or U = L^H with ``upper=True``.

    >>> torch.linalg.cholesky(torch.tensor([[4., 2.], [2., 5.]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    check_matrix(A, "linalg.cholesky")
    L = Cholesky.apply(A, "linalg.cholesky")
    return write_out(L.mH if upper else L, out)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info): info is the order of the first non-positive-definite leading minor, or 0."""
    check_matrix(A, "linalg.cholesky_ex")
    if check_errors:
        L = Cholesky.apply(A, "linalg.cholesky_ex")
        info = Tensor._wrap(array_module(A._data).zeros(A.shape[:-2], np.int32))
    else:
        L, info = CholeskyEx.apply(A)
    return _write_outs(_cholesky_ex_t(L.mH if upper else L, info), out)


def qr(A, mode="reduced", *, out=None):
    """QR decomposition; ``mode`` is 'reduced', 'complete' or 'r' (Q empty).

    >>> torch.linalg.qr(torch.tensor([[3., 1.], [4., 2.]])).R.abs()
    tensor([[5.0000, 2.2000],
            [0.0000, 0.4000]])
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    check_matrix(A, "linalg.qr", square=False)
    return _write_outs(_qr_t(*Qr.apply(A, mode)), out)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """A = U diag(S) Vh; singular values descending.

    >>> torch.linalg.svd(torch.tensor([[3., 0.], [0., -4.]])).S
    tensor([4., 3.])
    """
    check_matrix(A, "linalg.svd", square=False)
    return _write_outs(_svd_t(*Svd.apply(A, full_matrices)), out)


def svdvals(A, *, driver=None, out=None):
    """Singular values, descending (differentiable; U and V are only formed for the gradient)."""
    check_matrix(A, "linalg.svdvals", square=False)
    if A.requires_grad:
        return write_out(Svd.apply(A, False)[1], out)
    with _serial_lapack(A._data):
        S = np.linalg.svd(A._data, compute_uv=False)
    return write_out(Tensor._wrap(S.astype(np.finfo(A._data.dtype).dtype, copy=False)), out)


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and eigenvectors of a symmetric/Hermitian matrix; reads one triangle.

    >>> torch.linalg.eigh(torch.tensor([[2., 1.], [1., 2.]])).eigenvalues
    tensor([1., 3.])
    """
    check_matrix(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _write_outs(_eigh_t(*Eigh.apply(A, UPLO)), out)


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) of a symmetric/Hermitian matrix."""
    check_matrix(A, "linalg.eigvalsh")
    if A.requires_grad:
        return write_out(Eigh.apply(A, UPLO)[0], out)
    with _serial_lapack(A._data):
        w = np.linalg.eigvalsh(A._data, UPLO=UPLO)
    return write_out(Tensor._wrap(w), out)


def eig(A, *, out=None):
    """Complex eigenvalues and eigenvectors (unit norm columns) of a general square matrix."""
    check_matrix(A, "linalg.eig")
    return _write_outs(_eig_t(*Eig.apply(A)), out)


def eigvals(A, *, out=None):
    """Complex eigenvalues of a general square matrix."""
    check_matrix(A, "linalg.eigvals")
    if A.requires_grad:
        return write_out(Eig.apply(A)[0], out)
    cdt = np.complex128 if A._data.dtype in (np.float64, np.complex128) else np.complex64
    with _serial_lapack(A._data):
        w = np.linalg.eigvals(A._data)
    return write_out(Tensor._wrap(w.astype(cdt)), out)


# ------------------------------------------------------------------ LU
def _check_pivot(pivot, fname):
    if not pivot:
        raise RuntimeError(f"{fname}: LU without pivoting is not implemented on the CPU")


def lu(A, *, pivot=True, out=None):
    """A = P L U with partial pivoting (L unit lower trapezoidal, U upper trapezoidal)."""
    check_matrix(A, "linalg.lu", square=False)
    _check_pivot(pivot, "linalg.lu_factor")  # torch's message names lu_factor here too
    P, L, U, _ = Lu.apply(A)
    return _write_outs(_lu_t(P, L, U), out)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info): L and U packed in one matrix, LAPACK's 1-based int32 row swaps."""
    check_matrix(A, "linalg.lu_factor_ex", square=False)
    _check_pivot(pivot, "linalg.lu_factor_ex")
    if not A.requires_grad:  # no graph to record: keep LAPACK's packed result as it is
        lu_, piv, info = _getrf(A._data)
        return _write_outs(_lu_factor_ex_t(Tensor._wrap(lu_), Tensor._wrap(piv), Tensor._wrap(info)), out)
    P, L, U, piv = Lu.apply(A)
    m, n = A.shape[-2:]
    k = builtins.min(m, n)
    from ._ops.shape import cat
    low = L.tril(-1)
    if n > k:
        low = cat([low, low.new_zeros(tuple(low.shape[:-1]) + (n - k,))], -1)
    up = U
    if m > k:
        up = cat([up, up.new_zeros(tuple(up.shape[:-2]) + (m - k, n))], -2)
    info = np.diagonal(U._data, 0, -2, -1) == 0
    info = np.where(info.any(-1), np.argmax(info, -1) + 1, 0).astype(np.int32)
    return _write_outs(_lu_factor_ex_t(low + up, piv, Tensor._wrap(info)), out)


def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots) of :func:`lu_factor_ex`; an exactly singular ``A`` raises, as in torch."""
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    bad = np.flatnonzero(info._data)
    if bad.size:
        i = int(info._data.reshape(-1)[bad[0]])
        raise RuntimeError(f"torch.linalg.lu_factor: {_batch_prefix(A.shape, int(bad[0]))}U[{i},{i}] is zero and "
                           "using it on lu_solve would result in a division by zero. If you still want to perform "
                           "the factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return _write_outs(_lu_factor_t(LU, piv), out)


def _batch_prefix(shape, b):
    return f"(Batch element {b}): " if len(shape) > 2 else ""


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B (``adjoint``: A^H X = B; ``left=False``: X A = B) from A's LU factorization."""
    check_matrix(LU, "linalg.lu_solve")
    if not left:  # X A = B  <=>  A^H X^H = B^H
        return write_out(lu_solve(LU, pivots, B.mH, adjoint=not adjoint).mH, out)
    P = Tensor._wrap(pivots_to_permutation(pivots._data, LU.shape[-1], LU._data.dtype))
    if adjoint:  # A^H = U^H L^H P^T
        Y = SolveTriangular.apply(LU.mH, B, False, False)
        X = P @ SolveTriangular.apply(LU.mH, Y, True, True)
    else:
        Y = SolveTriangular.apply(LU, P.mT @ B, False, True)
        X = SolveTriangular.apply(LU, Y, True, False)
    return write_out(X, out)


# ------------------------------------------------------------------ pseudo-inverse and rank
def _tolerances(A, atol, rtol, fname):
    def raw(t):
        return t._data if isinstance(t, Tensor) else t
    atol, rtol = raw(atol), raw(rtol)
    if rtol is None:
        m, n = A.shape[-2], A.shape[-1]
        no_atol = atol is None or (builtins.bool((atol <= 0).all()) if is_array(atol) else atol <= 0)
        rtol = np.finfo(A._data.dtype).eps * builtins.max(m, n) if no_atol else 0.0
    return (0.0 if atol is None else atol), rtol


def _per_matrix(tol, xp):
    """A tolerance ready to broadcast against (..., 1) per-matrix values: tensors carry one per batch entry."""
    return xp.asarray(tol)[..., None] if is_array(tol) else tol


def _max_singular(S, keepdims=False):
    """The largest of the (..., k) singular values, 0 when k = 0 (CuPy's max has no ``initial``)."""
    if S.shape[-1]:
        return S.max(-1, keepdims=keepdims)
    return array_module(S).zeros(S.shape[:-1] + ((1,) if keepdims else ()), S.dtype)


class Pinv(Op):
    """Moore-Penrose pseudo-inverse; singular values <= max(atol, rtol * s_max) are dropped."""

    def forward(ctx, A, atol, rtol, hermitian):
        xp = array_module(A)
        if A.shape[-1] == 0 or A.shape[-2] == 0:
            out = xp.zeros(A.shape[:-2] + (A.shape[-1], A.shape[-2]), A.dtype)
        elif hermitian:
            with _serial_lapack(A):
                w, V = np.linalg.eigh(A)
            aw = np.abs(w)
            cut = np.maximum(_per_matrix(atol, xp), _per_matrix(rtol, xp) * aw.max(-1, keepdims=True))
            inv_w = np.where(aw > cut, 1 / np.where(aw > cut, w, 1), 0).astype(A.dtype)
            out = (V * inv_w[..., None, :]) @ np.conj(np.swapaxes(V, -1, -2))
        else:
            with _serial_lapack(A):
                U, S, Vh = np.linalg.svd(A, full_matrices=False)
            cut = np.maximum(_per_matrix(atol, xp), _per_matrix(rtol, xp) * S[..., :1])
            inv_s = np.where(S > cut, 1 / np.where(S > cut, S, 1), 0).astype(A.dtype)
            out = (np.conj(np.swapaxes(Vh, -1, -2)) * inv_s[..., None, :]) @ np.conj(np.swapaxes(U, -1, -2))
        out = xp.ascontiguousarray(out, dtype=A.dtype)
        ctx.save_for_backward(A, out)
        return out

    def backward(ctx, g):
        A, P = ctx.saved_tensors
        # d P = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P, taken adjoint
        Ph, gh = P.mH, g.mH
        left = Ph @ g @ Ph
        term2 = (gh - A @ (P @ gh)) @ (P @ Ph)
        term3 = (Ph @ P) @ (gh - (gh @ P) @ A)
        return -left + term2 + term3, None, None, None


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Pseudo-inverse through the SVD (eigh when ``hermitian``).

    >>> torch.linalg.pinv(torch.tensor([[1., 0.], [0., 0.]]))
    tensor([[1., 0.],
            [0., 0.]])
    """
    check_matrix(A, "linalg.pinv", square=False)
    atol, rtol = _tolerances(A, atol, rtol, "linalg.pinv")
    return write_out(Pinv.apply(A, atol, rtol, hermitian), out)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """Number of singular values above max(atol, rtol * s_max), as int64.

    >>> torch.linalg.matrix_rank(torch.tensor([[1., 2.], [2., 4.]]))
    tensor(1)
    """
    check_matrix(A, "linalg.matrix_rank", square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _tolerances(A, atol, rtol, "linalg.matrix_rank")
    a = A._data
    with _serial_lapack(a):
        S = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    xp = array_module(a)
    cut = np.maximum(_per_matrix(atol, xp), _per_matrix(rtol, xp) * _max_singular(S, keepdims=True))
    return write_out(Tensor._wrap(as_array((S > cut).sum(-1), np.int64)), out)


# ------------------------------------------------------------------ powers, exp and products
def matrix_power(A, n, *, out=None):
    """A^n by repeated squaring; negative ``n`` inverts first, ``n = 0`` gives the identity.

    >>> torch.linalg.matrix_power(torch.tensor([[1., 1.], [0., 1.]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    check_matrix(A, "linalg.matrix_power", need_float=False)  # integer matrices have non-negative powers
    if n == 0:  # the identity, still attached to A's graph (with a zero gradient) as in torch
        eye = Tensor._wrap(array_module(A._data).eye(A.shape[-1], dtype=A._data.dtype))
        return write_out(A * 0 + eye if A.requires_grad else eye.expand(A.shape).clone(), out)
    base = inv(A) if n < 0 else A
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return write_out(result if result is not A else A.clone(), out)


def matrix_exp(A):
    """Matrix exponential (scaling and squaring with a Pade approximant).

    >>> torch.linalg.matrix_exp(torch.zeros(2, 2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    check_matrix(A, "linalg.matrix_exp")
    return MatrixExp.apply(A)


def cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along ``dim`` (inputs broadcast).

    >>> torch.linalg.cross(torch.tensor([1., 0., 0.]), torch.tensor([0., 1., 0.]))
    tensor([0., 0., 1.])
    """
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, builtins.max(input.ndim, 1))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    input, other = input.expand(shape), other.expand(shape)
    a1, a2 = input.roll(-1, d), input.roll(-2, d)
    b1, b2 = other.roll(-1, d), other.roll(-2, d)
    return write_out(a1 * b2 - a2 * b1, out)


def vecdot(x, y, *, dim=-1, out=None):
    """Dot product of vectors along ``dim``, conjugating ``x``: sum(conj(x) * y, dim).

    >>> torch.linalg.vecdot(torch.tensor([1., 2.]), torch.tensor([3., 4.]))
    tensor(11.)
    """
    return write_out((x.conj() * y).sum(dim), out)


def multi_dot(tensors, *, out=None):
    """Product of a chain of matrices in the cheapest order; the first/last may be 1-D.

    >>> torch.linalg.multi_dot([torch.ones(2), torch.eye(2), torch.ones(2)])
    tensor(2.)
    """
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    mats = list(tensors)
    first_vec, last_vec = mats[0].ndim == 1, mats[-1].ndim == 1
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    for i, m in enumerate(mats):
        if m.ndim != 2:
            which = "first" if i == 0 else ("last" if i == n - 1 else None)
            if which:
                raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got {tensors[i].ndim}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {m.ndim}D")
    for i in range(n - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                               f"{list(tensors[i + 1].shape)} cannot be multiplied")
    res = _chain(mats, _chain_order([m.shape[0] for m in mats] + [mats[-1].shape[1]]), 0, n - 1)
    if first_vec:
        res = res.squeeze(0)
    if last_vec:
        res = res.squeeze(-1)
    return write_out(res, out)


def _chain_order(dims):
    """Matrix-chain DP: split[i][j] is where to split the product of matrices i..j."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(mats, split, i, j):
    if i == j:
        return mats[i]
    k = split[i][j]
    return _chain(mats, split, i, k) @ _chain(mats, split, k + 1, j)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset`` diagonal of each matrix (a view)."""
    return A.diagonal(offset, dim1, dim2)


def tensorinv(A, ind=2, *, out=None):
    """Inverse for ``tensordot``: the result X satisfies tensordot(X, A, ind) = identity."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return write_out(inv(A.reshape(rows, cols)).reshape(shape[ind:] + shape[:ind]), out)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))
    n = B.numel()
    rest = tuple(A.shape[B.ndim:])
    X = solve(A.reshape(n, math.prod(rest)), B.reshape(n))
    return write_out(X.reshape(rest), out)


def vander(x, *, N=None):
    """Vandermonde matrix with increasing powers: column j is x ** j.

    >>> torch.linalg.vander(torch.tensor([1, 2, 3]))
    tensor([[1, 1, 1],
            [1, 2, 4],
            [1, 3, 9]])
    """
    if x.dtype is D.bool:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, but got Bool")
    n = x.shape[-1] if N is None and x.ndim else N
    if n is None or n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from ._ops.shape import cat
    powers = x.unsqueeze(-1).expand(*x.shape, n - 1)
    return cat([x.new_ones(tuple(x.shape) + (1,)), powers], -1).cumprod(-1)


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H with v_i stored below A's diagonal
    (the Q of a QR factorization in LAPACK's compact form)."""
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.householder_product: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if n < k:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    xp = array_module(A._data)
    rows = xp.arange(m)
    Q = Tensor._wrap(xp.eye(m, n, dtype=A._data.dtype))
    for i in reversed(range(k)):  # Q <- H_i Q, applying the last reflector first
        below = Tensor._wrap((rows > i).astype(A._data.dtype))
        v = A[..., :, i] * below + Tensor._wrap((rows == i).astype(A._data.dtype))
        t = tau[..., i].unsqueeze(-1).unsqueeze(-1)
        Q = Q - t * v.unsqueeze(-1) * (v.conj().unsqueeze(-2) @ Q)
    return write_out(Q, out)


# ------------------------------------------------------------------ LDL (Bunch-Kaufman), through SciPy's LAPACK
# torch calls LAPACK's ?sytrf / ?hetrf with uplo='L' and keeps the lower triangle: SciPy's wrappers of the
# same routines give the same LD, pivots (1-based, negative for 2x2 blocks) and info.  torch has no
# derivative for either function: their results carry a graph whose backward raises, as torch's do.
_LAPACK_PREFIX = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}


def _ldl_routine(dtype, hermitian, what):
    lapack = scipy_module("linalg.lapack")
    if lapack is None:
        raise RuntimeError("torch.linalg.ldl_factor/ldl_solve need SciPy in ember (pip install scipy)")
    kind = "he" if hermitian and dtype.kind == "c" else "sy"
    return getattr(lapack, f"{_LAPACK_PREFIX[dtype.name]}{kind}{what}")


def _on_host(fn, *arrays):
    """``fn`` (a SciPy-LAPACK routine on NumPy arrays) applied to device data: CuPy has no Bunch-Kaufman
    factorization, so the data goes to the host and the results come back to the device."""
    if arrays[0].__class__ is np.ndarray:
        return fn(*arrays)
    xp = array_module(arrays[0])
    out = fn(*(to_host(a) if is_array(a) else a for a in arrays))
    return tuple(xp.asarray(r) for r in out) if isinstance(out, tuple) else xp.asarray(out)


class LdlFactorEx(Op):
    def forward(ctx, A, hermitian):
        LD, piv, info = _on_host(_ldl_factor_raw, A, hermitian)
        ctx.mark_non_differentiable(piv, info)
        return LD, piv, info

    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def _ldl_factor_raw(A, hermitian):
    n = A.shape[-1]
    LD = np.zeros(A.shape, A.dtype)
    piv = np.zeros(A.shape[:-1], np.int32)
    info = np.zeros(A.shape[:-2], np.int32)
    if A.size:
        sytrf = _ldl_routine(A.dtype, hermitian, "trf")
        for idx in np.ndindex(*A.shape[:-2]):
            ldu, ipiv, inf = sytrf(A[idx], lower=1)
            LD[idx], piv[idx], info[idx] = np.tril(ldu), ipiv, inf
    elif n:
        piv[...] = np.arange(1, n + 1, dtype=np.int32)
    return LD, piv, info


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info): A = P L D L^T P^T (L^H when ``hermitian``) from LAPACK's Bunch-Kaufman ?sytrf.

    Only the lower triangle of ``A`` is read.  ``info`` > 0 marks an exactly singular D.
    """
    check_matrix(A, "torch.linalg.ldl_factor_ex")
    LD, piv, info = LdlFactorEx.apply(A, bool(hermitian))
    if check_errors:
        _raise_ldl_info(info._data, A.shape, "torch.linalg.ldl_factor_ex")
    return _write_outs(_ldl_factor_ex_t(LD, piv, info), out)


def _raise_ldl_info(info, shape, fname):
    info = to_host(info)
    bad = np.flatnonzero(info)
    if bad.size:  # torch reports LAPACK's positive info this way (an internal assert) too
        raise RuntimeError(f"{fname}: {_batch_prefix(shape, int(bad[0]))}Unknown error code: "
                           f"{int(info.reshape(-1)[bad[0]])}.")


def ldl_factor(A, *, hermitian=False, out=None):
    """(LD, pivots) of :func:`ldl_factor_ex`; an exactly singular D raises, as in torch."""
    check_matrix(A, "torch.linalg.ldl_factor")
    LD, piv, info = LdlFactorEx.apply(A, bool(hermitian))
    _raise_ldl_info(info._data, A.shape, "torch.linalg.ldl_factor")
    return _write_outs(_ldl_factor_t(LD, piv), out)


class LdlSolve(Op):
    def forward(ctx, LD, pivots, B, hermitian):
        return _on_host(_ldl_solve_raw, LD, pivots, B, hermitian)

    def backward(ctx, g):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def _ldl_solve_raw(LD, pivots, B, hermitian):
    batch = np.broadcast_shapes(LD.shape[:-2], B.shape[:-2])
    LD = np.broadcast_to(LD, batch + LD.shape[-2:])
    pivots = np.broadcast_to(pivots.astype(np.int32, copy=False), batch + pivots.shape[-1:])
    B = np.broadcast_to(B, batch + B.shape[-2:])
    X = np.empty(B.shape, B.dtype)
    if X.size:
        sytrs = _ldl_routine(LD.dtype, hermitian, "trs")
        for idx in np.ndindex(*batch):
            X[idx] = sytrs(LD[idx], pivots[idx], B[idx], lower=1)[0]
    return X


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """X with A X = B from ``ldl_factor(A)``'s (LD, pivots); batch dimensions broadcast."""
    check_matrix(LD, "torch.linalg.ldl_solve")
    if B.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-builtins.max(B.dim(), 1)}, "
                         f"{builtins.max(B.dim(), 1) - 1}], but got -2)")
    if LD.shape[-1] != B.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is "
                           f"{LD.shape[-2]} by {LD.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    if B.dtype != LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {type_name(B.dtype)} "
                           f"and A of type {type_name(LD.dtype)} instead.")
    return write_out(LdlSolve.apply(LD, pivots, B, bool(hermitian)), out)


matmul = _blas.matmul  # torch.linalg.matmul is an alias of torch.matmul
