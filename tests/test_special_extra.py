"""torch.special's Bessel/Airy functions, orthogonal polynomials, incomplete gamma and zeta, vs torch."""
import importlib.util

import numpy as np
import pytest

import ember
from tests.oracle import check_op, check_error, needs_torch, assert_same, torch

pytestmark = needs_torch
# the Bessel/Airy functions, gammainc/gammaincc and zeta take their values from SciPy
needs_scipy = pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="SciPy is not installed")

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 7.5, 30.0, -30.0, 1e-8, 100.0, np.inf, -np.inf, np.nan]

UNARY = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
         "scaled_modified_bessel_k1", "spherical_bessel_j0"]

POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
               "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
               "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]


@needs_scipy
@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_values_and_no_grad(name, dtype):
    x = np.concatenate([np.array(EDGES), np.linspace(-12, 12, 25)]).astype(dtype)
    # SciPy's float64 values are closer to the true ones than torch's Cephes-style approximations,
    # which are off by up to ~2e-6 relative (airy_ai near its zeros, the Bessel functions between 5 and 8)
    tol = dict(atol=1e-6, rtol=2e-5) if dtype == "float32" else dict(atol=1e-7, rtol=5e-6)
    # torch computes them without a derivative: the result never requires grad
    check_op(lambda lib, a: getattr(lib.special, name)(a), x, **tol)


@needs_scipy
@pytest.mark.parametrize("name", UNARY)
def test_unary_integer_input_gives_default_float(name):
    check_op(lambda lib, a: getattr(lib.special, name)(a), np.array([0, 1, -2, 5]), grad=False,
             atol=1e-6, rtol=2e-5)


@needs_scipy
def test_unary_out():
    out = ember.empty(3)
    r = ember.special.bessel_j0(ember.tensor([0.0, 1.0, 2.0]), out=out)
    assert r is out
    assert_same(out, torch.special.bessel_j0(torch.tensor([0.0, 1.0, 2.0])))


XS = np.array([-3.0, -1.0, -0.7, -0.5, 0.0, 0.25, 0.5, 0.9, 1.0, 1.5, 4.0, np.inf, -np.inf])
NS = np.array([-2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 9.0, 12.0, 2.7])


@pytest.mark.parametrize("name", POLYNOMIALS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_polynomial_values_broadcast_n(name, dtype):
    x = XS.astype(dtype)
    n = NS.astype(dtype)[:, None]                     # (11, 1) against (13,): every x with every n
    tol = dict(atol=1e-4, rtol=1e-4) if dtype == "float32" else dict(atol=1e-9, rtol=1e-9)
    check_op(lambda lib, a, b: getattr(lib.special, name)(a, b), x, n, **tol)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_number_n_and_integer_dtypes(name):
    fn = lambda lib, a, b: getattr(lib.special, name)(a, b)
    check_op(fn, XS, 6, grad=False, rtol=1e-9)               # float64 x, Python int n
    check_op(fn, XS.astype("float32"), 3.9, grad=False, atol=1e-4, rtol=1e-4)  # float n is truncated
    check_op(fn, np.array([-2, 0, 1, 3]), np.array([0, 1, 2, 5]), grad=False, atol=1e-4, rtol=1e-4)  # ints
    check_op(fn, np.array([-2, 0, 1, 3]), 4, grad=False, atol=1e-4, rtol=1e-4)
    check_op(fn, XS.astype("float32"), np.array(3.0), grad=False, atol=1e-4, rtol=1e-4)  # 0-d float64 n
    check_op(lambda lib, b: getattr(lib.special, name)(0.3, b), np.array([0, 1, 2, 8, 15]), grad=False,
             atol=1e-4, rtol=1e-4)                                                    # Number x


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "hermite_polynomial_h", "legendre_polynomial_p"])
def test_polynomial_nan_and_huge_n(name):
    n = np.array([np.nan, np.inf, -np.inf, 40.0, 60.0])
    check_op(lambda lib, a, b: getattr(lib.special, name)(a, b), np.array([[0.3], [2.0], [-5.0]]), n,
             grad=False, rtol=1e-9)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_nan_x(name):
    # torch returns an uninitialized value for NaN x past degree 1 (its loop stops on NaN before
    # writing the result); ember gives NaN there, and torch's values for n = 0 and 1
    p = getattr(ember.special, name)(ember.tensor([np.nan] * 4, dtype=ember.float64), ember.tensor([0, 1, 2, 7]))
    assert p[0].item() == 1.0 and np.isnan(p[1:].numpy()).all()
    check_op(lambda lib, a: getattr(lib.special, name)(a, 1), np.array([np.nan]), grad=False)


def test_polynomial_needs_a_tensor():
    check_error(lambda lib: lib.special.chebyshev_polynomial_t(0.5, 3))


def test_polynomial_is_not_differentiable():
    x = ember.tensor([0.5, 2.0], requires_grad=True)
    n = ember.tensor([3.0, 4.0], requires_grad=True)
    assert not ember.special.legendre_polynomial_p(x, n).requires_grad


@needs_scipy
@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_incomplete_gamma_values(name, dtype):
    a = np.array([0.0, 1.0, -1.0, 2.0, np.inf, 1.0, 0.0, 0.5, 3.0, 10.0, np.nan, 2.0]).astype(dtype)
    x = np.array([1.0, 0.0, 1.0, np.inf, 1.0, -1.0, 0.0, 0.3, 2.5, 12.0, 1.0, np.nan]).astype(dtype)
    tol = dict(atol=1e-6, rtol=1e-5) if dtype == "float32" else dict(atol=1e-12, rtol=1e-9)
    check_op(lambda lib, p, q: getattr(lib.special, name)(p, q), a, x, grad=False, **tol)


@needs_scipy
@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma_grad_of_other_and_errors(name):
    a, x = np.array([0.5, 1.5, 3.0]), np.array([[0.2, 1.0, 4.0]]).T
    check_op(lambda lib, p, q: getattr(lib.special, name)(p.detach(), q), a, x)   # d/dx, broadcast
    # d/da is not implemented in torch either: same error, raised by backward
    check_error(lambda lib, p, q: getattr(lib.special, name)(p.requires_grad_(), q).sum().backward(),
                np.array([1.5]), np.array([2.0]), match="derivative for 'igamma")
    check_error(lambda lib, p, q: getattr(lib.special, name)(p, q), np.array([1, 2]), np.array([2, 3]),
                match="not implemented for 'Long'")
    check_error(lambda lib, p: getattr(lib.special, name)(p, 2.0), np.array([1.0]), match="must be Tensor")
    check_op(lambda lib, p, q: getattr(lib.special, name)(p, q), np.array([1, 2]), np.array([0.5, 3.0]),
             grad=False)                                                   # int input, float other


@needs_scipy
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zeta_values(dtype):
    x = np.array([2.0, 1.0, 0.5, -1.0, 2.0, np.nan, np.inf, 2.0, 2.0, 2.0, 2.0, 3.0, 4.5]).astype(dtype)
    q = np.array([1.0, 1.0, 1.0, 1.0, -1.5, 1.0, 1.0, 0.0, -1.0, -1.5, np.inf, 1e-3, 7.0]).astype(dtype)
    tol = dict(atol=1e-6, rtol=1e-5) if dtype == "float32" else dict(atol=1e-12, rtol=1e-9)
    check_op(lambda lib, a, b: lib.special.zeta(a, b), x, q, grad=False, **tol)


@needs_scipy
def test_zeta_numbers_dtypes_and_grad():
    check_op(lambda lib, b: lib.special.zeta(2.0, b), np.array([1.0, 2.5, 4.0]))
    check_op(lambda lib, a: lib.special.zeta(a, 2.0), np.array([2.0, 3.5]).astype("float32"), grad=False)
    check_op(lambda lib, a, b: lib.special.zeta(a, b), np.array([2, 3]), np.array([1, 2]), grad=False)
    check_op(lambda lib, a, b: lib.special.zeta(a.detach(), b), np.array([2.0, 3.5]), np.array([[1.5], [3.0]]))
    check_error(lambda lib, a, b: lib.special.zeta(a.requires_grad_(), b).sum().backward(),
                np.array([2.0]), np.array([1.0]),
                match="derivative for 'zeta' is not implemented")


@pytest.mark.parametrize("call", [
    lambda lib, a: lib.special.bessel_j0(a), lambda lib, a: lib.special.spherical_bessel_j0(a),
    lambda lib, a: lib.special.chebyshev_polynomial_t(a, 2), lambda lib, a: lib.special.zeta(a, a)])
@pytest.mark.parametrize("dtype", ["float16", "complex64"])
def test_only_float32_and_float64_kernels(call, dtype):
    check_error(call, np.ones(2, dtype), match="_cpu\" not implemented for")


@needs_scipy
@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma_half_types(name):
    for dtype in ["float16", "bfloat16"]:
        x = ember.tensor([0.5, 1.5, 2.0], dtype=getattr(ember, dtype))
        assert_same(getattr(ember.special, name)(x, x + 1),
                    getattr(torch.special, name)(*(torch.tensor([0.5, 1.5, 2.0], dtype=getattr(torch, dtype)) + d
                                                   for d in (0, 1))))
    check_error(lambda lib, a: getattr(lib.special, name)(a, a), np.ones(2, "complex64"),
                match="not implemented for 'ComplexFloat'")


@needs_scipy
def test_bool_input_is_promoted():
    check_op(lambda lib, a: lib.special.bessel_j0(a), np.array([True, False]), grad=False)


@needs_scipy
def test_zero_dim_operands():
    check_op(lambda lib, a: lib.special.hermite_polynomial_h(a, 5), np.array(0.7), grad=False)
    check_op(lambda lib, b: lib.special.chebyshev_polynomial_t(0.7, b), np.array(3), grad=False)
    check_op(lambda lib, a: lib.special.airy_ai(a), np.array(1.0), grad=False)
