"""torch.linalg.ldl_factor(_ex) / ldl_solve and linalg.matmul vs torch."""
import importlib.util

import numpy as np
import pytest

import ember
from tests.oracle import check_op, check_error, needs_torch, assert_same, torch

# ldl_* run SciPy's LAPACK wrappers
pytestmark = [needs_torch, pytest.mark.skipif(importlib.util.find_spec("scipy") is None,
                                              reason="SciPy is not installed")]
rng = np.random.default_rng(0)


def _symmetric(shape, dtype="float64"):
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return (a + np.swapaxes(a, -1, -2)).astype(dtype)


def _hermitian(shape, dtype):
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return (a + np.conj(np.swapaxes(a, -1, -2))).astype(dtype)


INDEFINITE = np.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]])          # 2x2 pivot blocks: negative pivots


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 0, 0), (0, 2, 2), (5, 5)])
def test_ldl_factor_matches_torch(dtype, shape):
    A = _symmetric(shape, dtype)
    check_op(lambda lib, a: tuple(lib.linalg.ldl_factor_ex(a)), A, grad=False)
    check_op(lambda lib, a: tuple(lib.linalg.ldl_factor(a)), A, grad=False)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_ldl_factor_hermitian(dtype):
    A = _hermitian((2, 4, 4), dtype)
    check_op(lambda lib, a: tuple(lib.linalg.ldl_factor(a, hermitian=True)), A, grad=False)
    B = (rng.standard_normal((2, 4, 3)) + 1j * rng.standard_normal((2, 4, 3))).astype(dtype)
    check_op(lambda lib, a, b: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(a, hermitian=True), b, hermitian=True),
             A, B, grad=False)


def test_ldl_factor_two_by_two_pivots_and_lower_triangle_only():
    check_op(lambda lib, a: tuple(lib.linalg.ldl_factor(a)), INDEFINITE, grad=False)
    LD, piv = ember.linalg.ldl_factor(ember.tensor(INDEFINITE))
    assert (piv.numpy() < 0).any()
    # only the lower triangle is read, as in torch
    check_op(lambda lib, a: tuple(lib.linalg.ldl_factor(a)), np.array([[1.0, 2.0], [3.0, 4.0]]), grad=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ldl_solve_matches_torch_and_solve(dtype):
    A, B = _symmetric((2, 5, 5), dtype), rng.standard_normal((2, 5, 3)).astype(dtype)
    check_op(lambda lib, a, b: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(a), b), A, B, grad=False)
    LD, piv = ember.linalg.ldl_factor(ember.from_numpy(A))
    X = ember.linalg.ldl_solve(LD, piv, ember.from_numpy(B))
    tol = 1e-3 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(A @ X.numpy(), B, atol=tol, rtol=tol)


def test_ldl_solve_broadcasts_batches_and_indefinite():
    A, B = INDEFINITE, rng.standard_normal((4, 3, 2))
    check_op(lambda lib, a, b: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(a), b), A, B, grad=False)
    check_op(lambda lib, a, b: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(a), b), _symmetric((2, 3, 3)),
             rng.standard_normal((3, 1)), grad=False)
    LD, piv = ember.linalg.ldl_factor(ember.tensor(A))
    out = ember.empty(3, 1, dtype=ember.float64)
    r = ember.linalg.ldl_solve(LD, piv.long(), ember.tensor([[1.0], [2.0], [3.0]], dtype=ember.float64), out=out)
    assert r is out
    np.testing.assert_allclose(A @ out.numpy(), [[1.0], [2.0], [3.0]], atol=1e-12)


def test_ldl_singular_and_errors():
    Z = np.zeros((3, 3))
    check_op(lambda lib, a: tuple(lib.linalg.ldl_factor_ex(a)), Z, grad=False)     # info = 1
    check_error(lambda lib, a: lib.linalg.ldl_factor(a), Z, match="ldl_factor")
    check_error(lambda lib, a: lib.linalg.ldl_factor_ex(a, check_errors=True), Z, match="ldl_factor_ex")
    check_error(lambda lib, a: lib.linalg.ldl_factor(a), np.ones((3, 4)), match="batches of square matrices")
    check_error(lambda lib, a: lib.linalg.ldl_factor(a), np.ones((3, 3), np.int64), match="Got Long")
    LD, piv = np.tril(_symmetric((3, 3))), np.array([1, 2, 3], np.int32)
    check_error(lambda lib, a, p, b: lib.linalg.ldl_solve(a, p, b), LD, piv, np.ones((4, 2)),
                match="each A matrix is 3 by 3 but each b matrix is 4 by 2")
    check_error(lambda lib, a, p, b: lib.linalg.ldl_solve(a, p, b), LD, piv, np.ones((3, 2), np.float32),
                match="found b of type Float and A of type Double")
    check_error(lambda lib, a, p, b: lib.linalg.ldl_solve(a, p, b), LD, piv, np.ones(3), match="out of range")


def test_ldl_has_no_derivative():
    A = _symmetric((3, 3))
    check_error(lambda lib, a: lib.linalg.ldl_factor(a.requires_grad_())[0].sum().backward(), A,
                match="derivative for aten::linalg_ldl_factor_ex is not implemented")
    check_error(lambda lib, a, b: lib.linalg.ldl_solve(*lib.linalg.ldl_factor(a), b.requires_grad_()).sum()
                .backward(), A, np.ones((3, 1)), match="derivative for aten::linalg_ldl_solve is not implemented")


def test_linalg_matmul_is_matmul():
    assert ember.linalg.matmul is ember.matmul
    check_op(lambda lib, a, b: lib.linalg.matmul(a, b), rng.standard_normal((2, 3, 4)), rng.standard_normal((4,)))
