"""Linear algebra ops: inverses, determinants, solves, factorizations, matrix exp and vector norms.

Forward runs NumPy's LAPACK (batched over leading dims); backward is written in ember ops so that
double backward works. Formulas follow the standard matrix-calculus results (Giles 2008, Murray 2016
for Cholesky, Walter & Lehmann for QR) and give torch's gradients, complex inputs included
(conjugate convention).
"""
import math
import warnings

import numpy as np

from .. import _dtype as D
from .._device import array_module, as_array, to_host
from .._tensor import Tensor
from ..autograd.function import Op
from ._util import type_name, wrap_dim, compute_dtype

from .._optional import scipy_module


class LinAlgError(RuntimeError):
    """Raised when a factorization or inversion fails (``torch.linalg.LinAlgError``)."""


# ------------------------------------------------------------------ LAPACK threading
class _serial_lapack:
    """Run one eigen/SVD/QR call on a single BLAS thread when the matrices are small.

    OpenBLAS's threaded syevd/gesdd/geqrf spend far longer synchronising than computing below a
    few hundred rows (eigh of a 32x32 matrix: 40 ms threaded vs 0.1 ms serial on 2 busy cores).
    Needs threadpoolctl; without it this is a no-op.
    """
    _libs = None
    LIMIT = 512

    def __init__(self, a):
        self.active = max(a.shape[-2:], default=0) <= self.LIMIT and self._controllers()
        self.saved = ()

    @classmethod
    def _controllers(cls):
        if cls._libs is None:
            try:
                from threadpoolctl import ThreadpoolController
                cls._libs = ThreadpoolController().select(user_api="blas").lib_controllers
            except Exception:  # threadpoolctl missing or unable to inspect the BLAS
                cls._libs = []
        return cls._libs

    def __enter__(self):
        if self.active:
            self.saved = [(lib, lib.get_num_threads()) for lib in self._libs]
            for lib, n in self.saved:
                if n != 1:
                    lib.set_num_threads(1)

    def __exit__(self, *exc):
        for lib, n in self.saved:
            if n != 1:
                lib.set_num_threads(n)


# ------------------------------------------------------------------ argument checks
def check_matrix(A, fname, square=True, name="A", need_float=True):
    """torch's checks: at least 2 dims, square when asked, a floating (not half) dtype."""
    x = A._data
    if x.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{fname}: {name} must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    if need_float:
        check_float(A, fname)


def check_float(A, fname):
    dt = A._data.dtype
    if dt.kind not in "fc" and dt not in D.REDUCED_NP:
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got {type_name(A.dtype)}")
    if dt in D.REDUCED_NP:
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {type_name(A.dtype)}")


def _batch_prefix(shape, flat_index):
    """'(Batch element i): ' as torch writes it for batched inputs."""
    return f"(Batch element {flat_index}): " if len(shape) > 2 else ""


def _checked(fn, A, *args):
    """``fn(A, *args)`` (np.linalg.inv/cholesky/solve) raising ``np.linalg.LinAlgError`` on both devices:
    NumPy raises it for a singular or non-positive-definite input, CuPy returns NaN/inf instead."""
    out = fn(A, *args)
    if A.__class__ is not np.ndarray:
        xp = array_module(A)
        if not bool(xp.isfinite(out).all()) and all(bool(xp.isfinite(a).all()) for a in (A, *args)):
            raise np.linalg.LinAlgError("singular or not positive-definite (CuPy's NaN result)")
    return out


def _first_zero_pivot(A):
    """(batch index, 1-based pivot) of the first exactly-zero pivot of LU with partial pivoting,
    as LAPACK's getrf reports it. Only run on the error path."""
    info = to_host(_getrf(A)[2]).reshape(-1)
    bad = np.flatnonzero(info)
    return (int(bad[0]), int(info[bad[0]])) if bad.size else (0, A.shape[-1])


def _leading_minor(A):
    """(batch index, order) of the first leading minor that is not positive-definite."""
    a = to_host(A).reshape(-1, *A.shape[-2:])  # the error path: on the host, where LAPACK raises
    for b in range(a.shape[0]):
        for k in range(1, a.shape[-1] + 1):
            try:
                np.linalg.cholesky(a[b, :k, :k])
            except np.linalg.LinAlgError:
                return b, k
    return 0, a.shape[-1]


# ------------------------------------------------------------------ inverse, determinant, solve
def _inv_error(A, fname):
    b, i = _first_zero_pivot(A)
    return LinAlgError(f"{fname}: {_batch_prefix(A.shape, b)}The diagonal element {i} is zero, the inversion "
                       "could not be completed because the input matrix is singular.")


class Inv(Op):
    def forward(ctx, A, fname):
        try:
            out = _checked(np.linalg.inv, A)
        except np.linalg.LinAlgError:
            raise _inv_error(A, fname) from None
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        out, = ctx.saved_tensors
        h = out.mH
        return -(h @ g @ h), None


class InvEx(Op):
    """Like Inv, but singular matrices give NaNs and a non-zero ``info`` instead of raising."""

    def forward(ctx, A):
        xp = array_module(A)
        info = xp.zeros(A.shape[:-2], np.int32)
        try:
            out = _checked(np.linalg.inv, A)
        except np.linalg.LinAlgError:
            flat = A.reshape(-1, *A.shape[-2:])
            out = xp.full(flat.shape, np.nan, A.dtype)
            info = info.reshape(-1)
            for b in range(flat.shape[0]):
                try:
                    out[b] = _checked(np.linalg.inv, flat[b])
                except np.linalg.LinAlgError:
                    info[b] = _first_zero_pivot(flat[b])[1]
            out, info = out.reshape(A.shape), info.reshape(A.shape[:-2])
        ctx.save_for_backward(out)
        ctx.mark_non_differentiable(info)
        return out, info

    def backward(ctx, g, _):
        out, = ctx.saved_tensors
        h = out.mH
        return -(h @ g @ h)


def _eye_mask(n, like):
    """An n x n boolean identity on ``like``'s device, for masking diagonals in backward formulas."""
    return Tensor._wrap(array_module(like._data).eye(n, dtype=bool))


class Det(Op):
    def forward(ctx, A):
        out = as_array(np.linalg.det(A), A.dtype)
        ctx.save_for_backward(A, out)
        return out

    def backward(ctx, g):
        A, det = ctx.saved_tensors
        return g.unsqueeze(-1).unsqueeze(-2) * _det_grad(A, det)


def _det_grad(A, det):
    """conj(d det / dA): det^* A^{-H}, or for singular matrices the cofactor matrix through the SVD."""
    if bool((det._data != 0).all()):
        return det.conj().unsqueeze(-1).unsqueeze(-2) * Inv.apply(A, "linalg.det").mH
    # cofactor(A) = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, finite for singular A
    U, S, Vh = Svd.apply(A, False)
    n = S.shape[-1]
    eye = _eye_mask(n, A)
    prod_others = S.unsqueeze(-2).expand(*S.shape[:-1], n, n).masked_fill(eye, 1.0).prod(-1)
    sign = Det.apply(U.detach()) * Det.apply(Vh.detach())
    cof = (U * (sign.unsqueeze(-1) * prod_others.to(U.dtype)).unsqueeze(-2)) @ Vh
    return cof.conj()


class Slogdet(Op):
    def forward(ctx, A):
        sign, logabs = np.linalg.slogdet(A)
        sign = as_array(sign, A.dtype)
        logabs = as_array(logabs, np.finfo(A.dtype).dtype)
        ctx.save_for_backward(A)
        return sign, logabs

    def backward(ctx, g_sign, g_logabs):
        A, = ctx.saved_tensors
        return g_logabs.unsqueeze(-1).unsqueeze(-2) * Inv.apply(A, "linalg.slogdet").mH


def _solve_error(A, fname="torch.linalg.solve"):
    b, _ = _first_zero_pivot(A)
    return LinAlgError(f"{fname}: {_batch_prefix(A.shape, b)}The solver failed because the input matrix is singular.")


def solve_raw(A, B):
    """``np.linalg.solve`` for a (batch of) matrix right-hand sides whose batch dims broadcast against A's."""
    if A.__class__ is not np.ndarray and A.shape[:-2] != B.shape[:-2]:
        # cupy.linalg.solve wants equal batch dims: broadcast them first, as NumPy does by itself
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        A, B = np.broadcast_to(A, batch + A.shape[-2:]), np.broadcast_to(B, batch + B.shape[-2:])
    return _checked(np.linalg.solve, A, B)


class Solve(Op):
    """X = A^{-1} B for a matrix right-hand side; batch dims broadcast."""

    def forward(ctx, A, B):
        dt = np.result_type(A.dtype, B.dtype)
        try:
            X = solve_raw(A.astype(dt, copy=False), B.astype(dt, copy=False))
        except np.linalg.LinAlgError:
            raise _solve_error(A) from None
        ctx.save_for_backward(A, X)
        return X

    def backward(ctx, g):
        A, X = ctx.saved_tensors
        gB = Solve.apply(A.mH, g)
        gA = -(gB @ X.mH) if ctx.needs_input_grad[0] else None
        return gA, gB


class SolveTriangular(Op):
    """X = A^{-1} B with A lower (or upper) triangular; the other triangle of A is never read."""

    def forward(ctx, A, B, upper, unitriangular):
        T = np.triu(A) if upper else np.tril(A)
        if unitriangular:
            T = T.copy()
            idx = array_module(T).arange(T.shape[-1])
            T[..., idx, idx] = 1
        with np.errstate(all="ignore"):
            try:
                X = solve_raw(T, B)
            except np.linalg.LinAlgError:  # torch returns inf/nan here rather than raising
                X = array_module(T).full(np.broadcast_shapes(T.shape[:-2], B.shape[:-2]) + B.shape[-2:], np.nan, T.dtype)
        ctx.upper, ctx.unit = upper, unitriangular
        ctx.save_for_backward(A, X)
        return X

    def backward(ctx, g):
        A, X = ctx.saved_tensors
        gB = SolveTriangular.apply(A.mH, g, not ctx.upper, ctx.unit)
        gA = None
        if ctx.needs_input_grad[0]:
            gA = -(gB @ X.mH)
            offset = 1 if ctx.unit else 0
            gA = gA.triu(offset) if ctx.upper else gA.tril(-offset)
        return gA, gB, None, None


def solve_triangular_raw(A, B, upper, left=True, unitriangular=False):
    """Triangular solve on tensors, ``left=False`` meaning X A = B."""
    if left:
        return SolveTriangular.apply(A, B, upper, unitriangular)
    return SolveTriangular.apply(A.mT, B.mT, not upper, unitriangular).mT


# ------------------------------------------------------------------ factorizations
class Cholesky(Op):
    """Lower factor L of A = L L^H (only A's lower triangle is read)."""

    def forward(ctx, A, fname):
        try:
            L = _checked(np.linalg.cholesky, A)
        except np.linalg.LinAlgError:
            b, k = _leading_minor(A)
            raise LinAlgError(f"{fname}: {_batch_prefix(A.shape, b)}The factorization could not be completed "
                              f"because the input is not positive-definite (the leading minor of order {k} is "
                              "not positive-definite).") from None
        ctx.save_for_backward(L)
        return L

    def backward(ctx, g):
        L, = ctx.saved_tensors
        return cholesky_backward(g, L), None


def cholesky_backward(gL, L):
    # gA = L^{-H} Phi L^{-1} with Phi = (X + tril(X, -1)^H) / 2, X = tril(L^H gL): the lower triangle
    # mirrored up, diagonal halved (torch's Hermitian form of Murray's formula)
    X = (L.mH @ gL.tril()).tril()
    P = 0.5 * (X + X.tril(-1).mH)
    S = solve_triangular_raw(L.mH, P, upper=True)
    return solve_triangular_raw(L, S, upper=False, left=False)


class CholeskyEx(Op):
    def forward(ctx, A):
        xp = array_module(A)
        info = xp.zeros(A.shape[:-2], np.int32)
        try:
            L = _checked(np.linalg.cholesky, A)
        except np.linalg.LinAlgError:
            flat = A.reshape(-1, *A.shape[-2:])
            L = xp.full(flat.shape, np.nan, A.dtype)
            info = info.reshape(-1)
            for b in range(flat.shape[0]):
                try:
                    L[b] = _checked(np.linalg.cholesky, flat[b])
                except np.linalg.LinAlgError:
                    info[b] = _leading_minor(flat[b])[1]
            L, info = L.reshape(A.shape), info.reshape(A.shape[:-2])
        ctx.save_for_backward(L)
        ctx.mark_non_differentiable(info)
        return L, info

    def backward(ctx, g, _):
        L, = ctx.saved_tensors
        return cholesky_backward(g, L)


class Eigh(Op):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric/Hermitian matrix."""

    def forward(ctx, A, uplo):
        with _serial_lapack(A):
            L, V = np.linalg.eigh(A, UPLO=uplo)
        ctx.save_for_backward(L, V)
        return L, V

    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        # gA = V (diag(gL) + (V^H gV) / E) V^H with E_ij = L_j - L_i off the diagonal
        inner = gL.to(V.dtype).diag_embed()
        if not _is_zero(gV):
            E = L.unsqueeze(-2) - L.unsqueeze(-1)
            eye = _eye_mask(L.shape[-1], L)
            VhgV = V.mH @ gV
            VhgV = 0.5 * (VhgV - VhgV.mH)  # only the skew part moves orthonormal eigenvectors
            inner = inner + (VhgV / E.masked_fill(eye, 1.0)).masked_fill(eye, 0.0)
        return V @ inner @ V.mH, None


class Svd(Op):
    """A = U diag(S) Vh; ``full_matrices`` as in torch (the gradient uses the leading k columns)."""

    def forward(ctx, A, full_matrices):
        with _serial_lapack(A):
            U, S, Vh = np.linalg.svd(A, full_matrices=full_matrices)
        S = S.astype(np.finfo(A.dtype).dtype, copy=False)
        ctx.full = full_matrices
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        if ctx.full:
            k = S.shape[-1]
            U, Vh, gU, gVh = U[..., :, :k], Vh[..., :k, :], gU[..., :, :k], gVh[..., :k, :]
        return svd_backward(gU, gS, gVh, U, S, Vh), None


def _is_zero(g):
    """An output gradient that contributes nothing: all zeros (unused output) and not itself
    differentiated (a create_graph caller may take derivatives with respect to it)."""
    return g is None or (not g.requires_grad and not g._data.any())


def svd_backward(gU, gS, gVh, U, S, Vh):
    """Gradient of A = U diag(S) Vh (thin factors), real or complex; gauge-invariant losses only."""
    m, n, k = U.shape[-2], Vh.shape[-1], S.shape[-1]
    Sr = S.to(U.dtype)
    inner = gS.to(U.dtype).diag_embed()
    gU_zero, gVh_zero = _is_zero(gU), _is_zero(gVh)
    if gU_zero and gVh_zero:
        return U @ inner @ Vh
    eye = _eye_mask(k, U)
    S2 = Sr * Sr
    E = (S2.unsqueeze(-2) - S2.unsqueeze(-1)).masked_fill(eye, 1.0)
    skew_u = U.mH @ gU
    skew_u = skew_u - skew_u.mH
    skew_v = Vh @ gVh.mH
    skew_v = skew_v - skew_v.mH
    off = (skew_u * Sr.unsqueeze(-2) + Sr.unsqueeze(-1) * skew_v) / E
    inner = inner + off.masked_fill(eye, 0.0)
    if U.is_complex() and not gU_zero:
        # the phase of each singular pair is free: only i Im(diag(U^H gU)) / S reaches A
        d = (U.mH @ gU).diagonal(0, -2, -1)
        inner = inner + ((d - d.conj()) / (2 * Sr)).diag_embed()
    gA = U @ inner @ Vh
    if m > k and not gU_zero:  # the part of gU outside U's span
        proj = gU - U @ (U.mH @ gU)
        gA = gA + (proj / Sr.unsqueeze(-2)) @ Vh
    if n > k and not gVh_zero:
        proj = gVh - (gVh @ Vh.mH) @ Vh
        gA = gA + U @ (proj / Sr.unsqueeze(-1))
    return gA


class Qr(Op):
    def forward(ctx, A, mode):
        with _serial_lapack(A):
            if mode == "r":
                R = np.linalg.qr(A, mode="r")
                Q = array_module(A).empty((0,), A.dtype)
            else:
                Q, R = np.linalg.qr(A, mode=mode)
        ctx.mode = mode
        ctx.save_for_backward(A, Q, R)
        return Q, R

    def backward(ctx, gQ, gR):
        A, Q, R = ctx.saved_tensors
        m, n = A.shape[-2], A.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(gQ, gR, Q, R), None
        # A = Q [R1 R2]: the square block X = A[:, :m] = Q R1 carries Q, Y = A[:, m:] = Q R2
        gR1, gR2 = gR[..., :, :m], gR[..., :, m:]
        R1 = R[..., :, :m]
        Y = A[..., :, m:]
        gX = _qr_backward_tall(gQ + Y @ gR2.mH, gR1, Q, R1)
        gY = Q @ gR2
        from .shape import cat
        return cat([gX, gY], -1), None


def _qr_backward_tall(gQ, gR, Q, R):
    # gA = (gQ + Q copyltu(M)) R^{-H}, M = R gR^H - gQ^H Q, copyltu mirrors the lower triangle up
    M = R @ gR.mH - gQ.mH @ Q
    low = M.tril(-1)
    diag = M.diagonal(0, -2, -1)
    sym = low + low.mH + (diag.real.to(M.dtype) if M.is_complex() else diag).diag_embed()
    B = gQ + Q @ sym
    return solve_triangular_raw(R.mH, B, upper=False, left=False)  # B R^{-H}; R^H is lower triangular


# ------------------------------------------------------------------ LU
def _getrf(A):
    """LAPACK getrf semantics, batched: packed LU, 1-based int32 pivots (sequential row swaps) and
    info (1-based index of the first exactly-zero pivot, 0 if none)."""
    if A.__class__ is not np.ndarray:
        # neither cupy.linalg nor the CuPy stand-in has getrf: factor on the host, return device arrays
        xp = array_module(A)
        return tuple(xp.asarray(r) for r in _getrf(to_host(A)))
    m, n = A.shape[-2:]
    k = min(m, n)
    if scipy_module("linalg") is not None and m and n:
        with _serial_lapack(A), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SciPy warns on exactly singular input; torch reports it in info
            lu, piv = scipy_module("linalg").lu_factor(A, check_finite=False)
        lu, piv = lu.astype(A.dtype, copy=False), (piv + 1).astype(np.int32)
    else:
        lu = np.array(A).reshape(-1, m, n)
        piv = np.zeros((lu.shape[0], k), np.int32)
        rows = np.arange(lu.shape[0])
        for j in range(k):  # right-looking elimination, vectorised over the batch
            p = np.argmax(np.abs(lu[:, j:, j]), axis=1) + j
            piv[:, j] = p + 1
            lu[rows, j], lu[rows, p] = lu[rows, p].copy(), lu[rows, j].copy()
            pivot = lu[:, j, j]
            safe = np.where(pivot == 0, 1, pivot)
            lu[:, j + 1:, j] = np.where((pivot == 0)[:, None], lu[:, j + 1:, j], lu[:, j + 1:, j] / safe[:, None])
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
        lu, piv = lu.reshape(A.shape), piv.reshape(A.shape[:-2] + (k,))
    diag = np.diagonal(lu, 0, -2, -1)
    zero = diag == 0
    info = np.where(zero.any(-1), np.argmax(zero, -1) + 1, 0).astype(np.int32)
    return lu, piv, info


def pivots_to_permutation(piv, m, dtype):
    """The permutation matrix P with A = P L U, from LAPACK's sequential row swaps."""
    xp = array_module(piv)
    flat = piv.reshape(-1, piv.shape[-1]) - 1
    perm = xp.tile(xp.arange(m), (flat.shape[0], 1))
    rows = xp.arange(flat.shape[0])
    for i in range(flat.shape[1]):
        j = flat[:, i]
        perm[rows, i], perm[rows, j] = perm[rows, j], perm[rows, i].copy()
    P = xp.zeros((flat.shape[0], m, m), dtype)
    P[rows[:, None], perm, xp.arange(m)] = 1
    return P.reshape(piv.shape[:-1] + (m, m))


class Lu(Op):
    """A = P L U with partial pivoting; L is unit lower trapezoidal, U upper trapezoidal."""

    def forward(ctx, A):
        m, n = A.shape[-2:]
        k = min(m, n)
        lu, piv, _ = _getrf(A)
        L = np.tril(lu[..., :, :k], -1)
        idx = array_module(lu).arange(k)
        L[..., idx, idx] = 1
        U = np.triu(lu[..., :k, :])
        P = pivots_to_permutation(piv, m, A.dtype)
        ctx.mark_non_differentiable(P, piv)
        ctx.save_for_backward(P, L, U)
        return P, L, U, piv

    def backward(ctx, gP, gL, gU, gpiv):
        P, L, U = ctx.saved_tensors
        m, n = L.shape[-2], U.shape[-1]
        from .shape import cat
        if m == n:
            return P @ _lu_square_backward(gL, gU, L, U)
        if m < n:
            # A = P L [U1 U2]: U2 = L^{-1} P^T A2 also depends on L
            U1, U2, gU1, gU2 = U[..., :, :m], U[..., :, m:], gU[..., :, :m], gU[..., :, m:]
            gA2 = SolveTriangular.apply(L.mH, gU2, True, True)
            gA1 = _lu_square_backward(gL - gA2 @ U2.mH, gU1, L, U1)
            return P @ cat([gA1, gA2], -1)
        # A = P [L1; L2] U: L2 = (P^T A)_2 U^{-1} also depends on U
        L1, L2, gL1, gL2 = L[..., :n, :], L[..., n:, :], gL[..., :n, :], gL[..., n:, :]
        gA2 = solve_triangular_raw(U.mH, gL2, upper=False, left=False)
        gA1 = _lu_square_backward(gL1, gU - L2.mH @ gA2, L1, U)
        return P @ cat([gA1, gA2], -2)


def _lu_square_backward(gL, gU, L, U):
    # gA' = L^{-H} [tril(L^H gL, -1) + triu(gU U^H)] U^{-H}, for P^T A = L U
    inner = (L.mH @ gL).tril(-1) + (gU @ U.mH).triu()
    X = SolveTriangular.apply(L.mH, inner, True, True)
    return solve_triangular_raw(U.mH, X, upper=False, left=False)


# ------------------------------------------------------------------ matrix exponential
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
           10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def _expm(A):
    """exp(A) by scaling and squaring with a degree-13 Pade approximant (Higham 2005), batched."""
    work = np.complex128 if A.dtype.kind == "c" else np.float64
    a = A.astype(work)
    n = a.shape[-1]
    if n == 0:
        return A.copy()
    norm1 = np.abs(a).sum(-2).max(-1)
    s = np.maximum(0, np.ceil(np.log2(np.maximum(norm1, 1e-300) / _THETA13))).astype(np.int64)
    a = a / (2.0 ** s)[..., None, None]
    b = _PADE13
    ident = np.broadcast_to(array_module(a).eye(n, dtype=work), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * ident
    r = np.linalg.solve(v - u, v + u)
    for i in range(int(s.max()) if s.size else 0):
        r = np.where((s > i)[..., None, None], r @ r, r)
    return r.astype(A.dtype)


class MatrixExp(Op):
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return _expm(A)

    def backward(ctx, g):
        A, = ctx.saved_tensors
        # the Frechet derivative's adjoint is the top-right block of exp([[A^H, G], [0, A^H]])
        from .shape import cat
        Ah = A.mH
        zero = Ah.new_zeros(Ah.shape)
        big = cat([cat([Ah, g], -1), cat([zero, Ah], -1)], -2)
        n = A.shape[-1]
        return MatrixExp.apply(big)[..., :n, n:]


# ------------------------------------------------------------------ eigen-decomposition (general)
class Eig(Op):
    """Complex eigenvalues and eigenvectors of a general square matrix."""

    def forward(ctx, A):
        cdt = np.complex128 if A.dtype in (np.float64, np.complex128) else np.complex64
        with _serial_lapack(A):
            w, V = np.linalg.eig(A)
        w, V = w.astype(cdt), V.astype(cdt)
        ctx.real_input = A.dtype.kind != "c"
        ctx.save_for_backward(w, V)
        return w, V

    def backward(ctx, gw, gV):
        w, V = ctx.saved_tensors
        n = w.shape[-1]
        eye = _eye_mask(n, w)
        inner = gw.diag_embed()
        if not _is_zero(gV):
            # gauge term: V's columns have unit norm, so remove the real part of diag(V^H gV)
            VhgV = V.mH @ gV
            diag_re = (V.mH @ V) * VhgV.diagonal(0, -2, -1).real.to(V.dtype).unsqueeze(-2)
            E = (w.unsqueeze(-2) - w.unsqueeze(-1)).conj().masked_fill(eye, 1.0)
            inner = inner + ((VhgV - diag_re) / E).masked_fill(eye, 0.0)
        gA = Solve.apply(V.mH, inner @ V.mH)
        return gA.real if ctx.real_input else gA


# ------------------------------------------------------------------ vector norms
class VectorNorm(Op):
    """||x||_ord over ``dims``; the gradient at a zero vector is zero, as in torch."""

    def forward(ctx, x, ord, dims, keepdim, out_dt):
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        if ord == 2 and x.dtype.kind == "f":
            k = len(dims)
            if k == x.ndim and x.flags.c_contiguous:  # the whole tensor: one BLAS dot product
                flat = x.reshape(-1)
                out = np.sqrt(np.dot(flat, flat)).reshape((1,) * k if keepdim else ())
            elif dims == tuple(range(x.ndim - k, x.ndim)) and x.flags.c_contiguous:
                # trailing dims of a contiguous array: a row-wise dot product, much faster than np.sum
                rows = x.reshape(math.prod(x.shape[:x.ndim - k]), math.prod(x.shape[x.ndim - k:]))
                out = np.sqrt(np.einsum("ij,ij->i", rows, rows)).reshape(
                    tuple(x.shape[:x.ndim - k]) + ((1,) * k if keepdim else ()))
            else:
                out = np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
        else:
            out = _norm_raw(np.abs(x), ord, dims, keepdim)
        if out.__class__ is not np.ndarray or out.dtype is not out_dt:
            out = as_array(out, out_dt)
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        ord, dims = ctx.ord, ctx.dims
        if not ctx.keepdim:
            shape = tuple(1 if i in dims else n for i, n in enumerate(x.shape))
            g, norm = g.reshape(shape), norm.reshape(shape)
        if not x.is_complex() and g.dtype != x.dtype:
            g, norm = g.to(x.dtype), norm.to(x.dtype)
        if ord == 0:
            return x * 0, None, None, None, None
        if ord == 1:
            return x.sgn() * g, None, None, None, None
        if ord in (math.inf, -math.inf):
            mask = (x.abs() == norm).to(g.dtype)
            return x.sgn() * mask * (g / mask.sum(dims, keepdim=True)), None, None, None, None
        zero = norm._data == 0
        if zero.any():  # a zero vector has zero gradient; keep the division finite there
            g = g.masked_fill(Tensor._wrap(zero), 0.0)
            norm = norm.masked_fill(Tensor._wrap(zero), 1.0)
        if ord == 2:
            return x * (g / norm), None, None, None, None
        if ord < 2:
            scaled = (x.sgn() * x.abs().pow(ord - 1)).masked_fill(x == 0, 0.0)
        else:
            scaled = x * x.abs().pow(ord - 2)
        return scaled * (g / norm.pow(ord - 1)), None, None, None, None


def _norm_raw(a, ord, dims, keepdim):
    """The ord-norm of the non-negative array ``a`` over ``dims``."""
    if ord == 2:
        return np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
    if ord == 1:
        return np.sum(a, axis=dims, keepdims=keepdim)
    if ord == math.inf:
        return np.amax(a, axis=dims, keepdims=keepdim)
    if ord == -math.inf:
        return np.amin(a, axis=dims, keepdims=keepdim)
    if ord == 0:
        return np.sum(a != 0, axis=dims, keepdims=keepdim, dtype=a.dtype)
    with np.errstate(divide="ignore"):
        return np.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)


def _logcumsumexp_raw(x, dim):
    """log(cumsum(exp(x))) along ``dim``: shifted by the maximum and summed with cumsum (fast); a
    slice whose early prefix underflows after the shift falls back to a pairwise logaddexp scan."""
    cdt = compute_dtype(x.dtype)
    xc = x.astype(cdt, copy=False)
    with np.errstate(all="ignore"):
        m = np.max(xc, axis=dim, keepdims=True) if x.shape[dim] else np.zeros_like(xc)
        m = np.where(np.isfinite(m), m, 0)
        csum = np.cumsum(np.exp(xc - m), axis=dim)
        tiny = np.finfo(cdt).tiny * 1e6  # below this the shifted prefix sums have lost precision
        if np.any(csum < tiny) and not np.all(np.isneginf(xc) | (csum >= tiny)):
            out = np.logaddexp.accumulate(xc, axis=dim)  # -inf + -inf entries stay -inf
        else:
            out = np.log(csum) + m
        if np.isnan(xc).any() or np.isposinf(xc).any():
            out = np.logaddexp.accumulate(xc, axis=dim)
    return out.astype(x.dtype, copy=False)


class Logcumsumexp(Op):
    def forward(ctx, x, dim):
        out = _logcumsumexp_raw(x, dim) if x.ndim else x.copy()
        ctx.dim = dim
        ctx.save_for_backward(x, out)
        return out

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if x.ndim == 0:
            return g, None
        d = ctx.dim

        def reverse_lcse(t):
            return Logcumsumexp.apply(t.flip(d), d).flip(d)

        # grad_i = sum_{j >= i} g_j exp(x_i - out_j), split by the sign of g to stay in log space;
        # the lowest finite float (not -inf) marks "no contribution" so that inf - inf never occurs
        lowest = float(np.finfo(x._data.dtype).min)
        log_abs = g.abs().log()
        log_pos = log_abs.masked_fill(g <= 0, lowest)
        log_neg = log_abs.masked_fill(g >= 0, lowest)
        return (reverse_lcse(log_pos - out) + x).exp() - (reverse_lcse(log_neg - out) + x).exp(), None


# ------------------------------------------------------------------ top-level torch.* functions
_LINALG = []


def _la():
    """ember.linalg, imported on first use (it imports this module)."""
    if not _LINALG:
        from .. import linalg
        _LINALG.append(linalg)
    return _LINALG[0]


def _svd_t():
    from collections import namedtuple
    return namedtuple("svd", ["U", "S", "V"])


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: the vector p-norm over ``dim`` (all dims by default); 'nuc' and 'fro' over two dims
    are matrix norms.

    >>> torch.norm(torch.tensor([3., 4.]))
    tensor(5.)
    """
    la = _LINALG[0] if _LINALG else _la()
    if (p == "fro" or p == 2) and (dim is None or dim.__class__ is int) and out is None and dtype is None:
        return la.vector_norm(input, 2, dim, keepdim)  # the common case, straight through
    _dim = None if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return la.vector_norm(input, 2, _dim, keepdim, dtype=dtype, out=out)
        if _dim is None:
            _dim = list(range(input.ndim))
        return la.matrix_norm(input, p, _dim, keepdim, dtype=dtype, out=out)
    return la.vector_norm(input, 2.0 if p is None else p, _dim, keepdim, dtype=dtype, out=out)


def dist(input, other, p=2):
    """p-norm of ``input - other`` (broadcast)."""
    return _la().vector_norm(input - other, p)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of ``x1`` (B, P, M) and ``x2`` (B, R, M).

    >>> torch.cdist(torch.tensor([[0., 0.]]), torch.tensor([[3., 4.], [1., 0.]]))
    tensor([[5., 1.]])
    """
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {type_name(x.dtype)}")
    if x1.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    P, R = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                         (compute_mode == modes[0] and (P > 25 or R > 25)))
    if use_mm:
        # |a|^2 + |b|^2 - 2 a.b, as torch computes it (clamped before the square root)
        n1 = (x1 * x1).sum(-1, keepdim=True)
        n2 = (x2 * x2).sum(-1, keepdim=True)
        d2 = n1 - 2 * (x1 @ x2.mT) + n2.mT
        return d2.clamp_min(1e-30).sqrt()
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _la().vector_norm(diff, p, -1)


def cross(input, other, dim=None, *, out=None):
    """Cross product along ``dim`` (default: the first dim of size 3)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                      "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to "
                      "agree with that of linalg.cross in a future release.")
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input")
    return _la().cross(input, other, dim=dim, out=out)


def trace(input):
    """Sum of the main diagonal of a 2-D tensor.

    >>> torch.trace(torch.tensor([[1., 2.], [3., 4.]]))
    tensor(5.)
    """
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return input.diagonal().sum()


def det(input):
    return _la().det(input)


def logdet(input):
    """log(det(A)): NaN for a negative determinant, -inf for a singular matrix.

    >>> torch.logdet(torch.tensor([[-1., 0.], [0., 1.]]))
    tensor(nan)
    """
    check_matrix(input, "linalg.slogdet")
    sign, logabs = Slogdet.apply(input)
    if input.is_complex():
        return sign.log() + logabs
    return logabs.masked_fill(sign < 0, math.nan)


def slogdet(input):
    from collections import namedtuple
    return namedtuple("slogdet", ["sign", "logabsdet"])(*_la().slogdet(input))


def inverse(input, *, out=None):
    return _la().inv(input, out=out)


def cholesky(input, upper=False, *, out=None):
    """Deprecated torch.cholesky: the lower factor (upper with ``upper=True``)."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.")
    check_matrix(input, "cholesky")
    L = Cholesky.apply(input, "cholesky")
    from .inplace import write_out
    return write_out(L.mH if upper else L, out)


class CholeskySolve(Op):
    """X = A^{-1} B with A = L L^H. The forward reads only L's triangle; the gradient treats L as the
    full matrix in A = L L^H, as torch does: dL = -(G X^H + X G^H) L with G = A^{-1} dX."""

    def forward(ctx, B, L, upper):
        ctx.upper = upper
        low = L.swapaxes(-1, -2).conj() if upper else L
        Y = _solve_triangular_np(low, B, lower=True)
        X = _solve_triangular_np(low.swapaxes(-1, -2).conj(), Y, lower=False)
        ctx.save_for_backward(B, L, X)
        return X

    def backward(ctx, gX):
        B, L, X = ctx.saved_tensors
        G = CholeskySolve.apply(gX, L, ctx.upper)
        common = G @ X.mH
        common = common + common.mH
        gL = -(L @ common) if ctx.upper else -(common @ L)
        return G, gL, None


def _solve_triangular_np(T, B, lower):
    sl = scipy_module("linalg")
    if sl is not None and T.ndim == 2 and B.ndim == 2 and T.__class__ is np.ndarray:
        return sl.solve_triangular(T, B, lower=lower)
    return solve_raw(np.tril(T) if lower else np.triu(T), B)


def cholesky_solve(B, L, upper=False):
    """Solve A X = B given the Cholesky factor of A."""
    return CholeskySolve.apply(B, L, upper)


def cholesky_inverse(L, upper=False):
    """A^{-1} from the Cholesky factor of A."""
    n = L.shape[-1]
    eye = Tensor._wrap(np.broadcast_to(array_module(L._data).eye(n, dtype=L._data.dtype), L.shape).copy())
    return cholesky_solve(eye, L, upper)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """Deprecated torch.triangular_solve: (solution of op(A) X = b, a copy of A)."""
    from collections import namedtuple
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular")
    T = A.mT if transpose else A
    X = SolveTriangular.apply(T, b, upper != transpose, unitriangular)
    return namedtuple("triangular_solve", ["solution", "cloned_coefficient"])(X, A.clone())


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from a packed LU factorization and its LAPACK pivots."""
    from collections import namedtuple
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    empty = LU_data.new_zeros((0,))
    P = Tensor._wrap(pivots_to_permutation(LU_pivots._data, m, LU_data._data.dtype)) if unpack_pivots else empty
    if unpack_data:
        eye = Tensor._wrap(array_module(LU_data._data).eye(m, k, dtype=LU_data._data.dtype))
        L = LU_data[..., :, :k].tril(-1) + eye
        U = LU_data[..., :k, :].triu()
    else:
        L = U = empty
    return namedtuple("lu_unpack", ["P", "L", "U"])(P, L, U)


def lu(A, pivot=True, get_infos=False, out=None):
    """Deprecated torch.lu: (LU, pivots[, infos])."""
    la = _la()
    LU, piv, info = la.lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """Deprecated torch.lu_solve: solve A X = b from A's LU factorization."""
    return _la().lu_solve(LU_data, LU_pivots, b, out=out)


def pinverse(input, rcond=1e-15, hermitian=False):
    return _la().pinv(input, rtol=rcond, hermitian=hermitian)


def matrix_power(input, n):
    return _la().matrix_power(input, n)


def matrix_exp(input):
    return _la().matrix_exp(input)


def svd(input, some=True, compute_uv=True, *, out=None):
    """Deprecated torch.svd: returns (U, S, V) with V, not V^H."""
    U, S, Vh = _la().svd(input, full_matrices=not some)
    if not compute_uv:
        return _svd_t()(U.new_zeros(U.shape), S, Vh.new_zeros(Vh.mH.shape))
    return _svd_t()(U, S, Vh.mH)


def qr(input, some=True, *, out=None):
    from collections import namedtuple
    return namedtuple("qr", ["Q", "R"])(*_la().qr(input, "reduced" if some else "complete"))


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along ``dim``, computed stably.

    >>> torch.logcumsumexp(torch.tensor([0., 0.]), 0)
    tensor([0.0000, 0.6931])
    """
    from .inplace import write_out
    if not (input.is_floating_point() or input.is_complex()):
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{type_name(input.dtype)}'")
    return write_out(Logcumsumexp.apply(input, wrap_dim(dim, input.ndim)), out)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along ``dim``, after attaching ``prepend``/``append``.

    >>> torch.diff(torch.tensor([1, 4, 9, 16]), n=2)
    tensor([2, 2])
    """
    from .shape import cat
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    if len(parts) > 1:
        parts = [t if isinstance(t, Tensor) else input.new_full(
            tuple(input.shape[:d]) + (1,) + tuple(input.shape[d + 1:]), t) for t in parts]
        parts = [t.expand(*input.shape[:d], t.shape[d] if t.ndim == input.ndim else 1, *input.shape[d + 1:])
                 if t.ndim == input.ndim else t for t in parts]
        input = cat(parts, d)
    for _ in range(n):
        length = input.shape[d]
        if length == 0:
            break
        hi, lo = input.narrow(d, 1, length - 1), input.narrow(d, 0, length - 1)
        input = hi.logical_xor(lo) if input.dtype is D.bool else hi - lo
    return input


def renorm(input, p, dim, maxnorm):
    """Rescale each slice along ``dim`` whose p-norm exceeds ``maxnorm`` down to ``maxnorm``.

    >>> torch.renorm(torch.tensor([[3., 4.], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    d = wrap_dim(dim, input.ndim)
    others = tuple(i for i in range(input.ndim) if i != d)
    norms = _la().vector_norm(input, p, others, keepdim=True)
    factor = (maxnorm / (norms + 1e-7)).masked_fill(norms <= maxnorm, 1.0)
    return input * factor


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of ``input`` (observations in columns).

    >>> torch.cov(torch.tensor([[1., 2., 3.], [2., 4., 6.]]))
    tensor([[1., 2.],
            [2., 4.]])
    """
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(D.get_default_dtype())
    n_obs = x.shape[1]
    for name, w, integral in (("fweights", fweights, True), ("aweights", aweights, False)):
        if w is not None:
            _check_cov_weights(name, w, integral, n_obs)
    w = None
    if fweights is not None:
        w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        avg = x.mean(1)
        norm_factor = x.new_full((), float(n_obs - correction))
    else:
        w = w.to(x.dtype)
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if aweights is None:
            norm_factor = w_sum - correction
        else:
            norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    norm_factor = norm_factor.clamp_min(0)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = (xw @ xm.mH) / norm_factor
    return c.squeeze()


def _check_cov_weights(name, w, integral, n_obs):
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{w.ndim} dimensions")
    if integral and w.is_floating_point() or not integral and not w.is_floating_point():
        kind = "integral" if integral else "floating point"
        raise RuntimeError(f"cov(): expected {name} to have {kind} dtype but got {name} with "
                           f"{type_name(w.dtype)} dtype")
    if w.numel() != n_obs:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {w.numel()} != {n_obs}")
    if bool((w._data < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input``.

    >>> torch.corrcoef(torch.tensor([[1., 2., 3.], [3., 2., 1.]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    std = d.real.sqrt() if c.is_complex() else d.sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c.clamp(-1, 1) if not c.is_complex() else c


def _install():
    from ._util import install
    from .inplace import inplace_method
    la = _la
    install(det=lambda self: la().det(self), logdet=logdet, slogdet=slogdet, inverse=inverse,
            cholesky=cholesky, cholesky_solve=cholesky_solve, cholesky_inverse=cholesky_inverse,
            pinverse=pinverse, matrix_power=matrix_power, matrix_exp=matrix_exp, trace=trace,
            norm=lambda self, p="fro", dim=None, keepdim=False, dtype=None: norm(self, p, dim, keepdim, dtype=dtype),
            renorm=renorm, diff=diff, cross=cross, logcumsumexp=logcumsumexp, cov=cov, corrcoef=corrcoef,
            dist=dist, svd=svd, qr=qr, triangular_solve=triangular_solve, lu=lu,
            lu_solve=lambda self, LU_data, LU_pivots: lu_solve(self, LU_data, LU_pivots))
    Tensor.renorm_ = inplace_method(renorm)


_install()

__all__ = ["norm", "dist", "cdist", "cross", "trace", "det", "logdet", "slogdet", "inverse", "cholesky",
           "cholesky_solve", "cholesky_inverse", "triangular_solve", "lu_unpack", "lu", "lu_solve", "pinverse", "matrix_power", "matrix_exp", "svd", "qr",
           "logcumsumexp", "diff", "renorm", "cov", "corrcoef"]
