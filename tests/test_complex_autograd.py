"""Complex tensors through autograd: torch's conjugate convention (a real loss's gradient with respect to
z is dL/d(conj z)), compared with torch for every op family that takes complex inputs, plus the real /
imag / view_as_real views."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch

CASES = {
    "abs": lambda L, z: L.abs(z).sum(),
    "abs_squared": lambda L, z: (L.abs(z) ** 2).sum(),
    "real_of_product": lambda L, z: L.real(z * z).sum(),
    "imag": lambda L, z: z.imag.sum(),
    "real": lambda L, z: z.real.sum(),
    "angle": lambda L, z: L.angle(z).sum(),
    "conj": lambda L, z: L.real(z.conj() * 2j).sum(),
    "exp": lambda L, z: L.real(L.exp(z)).sum(),
    "complex_scalar_mul": lambda L, z: L.imag(z * (1 + 2j)).sum(),
    "view_as_real": lambda L, z: (L.view_as_real(z) * L.tensor([1.0, 3.0])).sum(),
    "view_as_complex": lambda L, z: L.imag(L.view_as_complex(L.view_as_real(z) * 2)).sum(),
    "sqrt": lambda L, z: L.real(L.sqrt(z)).sum(),
    "reciprocal_div": lambda L, z: L.imag(1 / z).sum(),
    "sum": lambda L, z: L.imag(z.sum() * 1j),
    "matmul": lambda L, z: L.real(z @ z),
    "sin": lambda L, z: L.imag(L.sin(z)).sum(),
    "log": lambda L, z: L.imag(L.log(z) * z).sum(),
    "tanh": lambda L, z: L.real(L.tanh(z)).sum(),
    "sigmoid": lambda L, z: L.real(L.sigmoid(z)).sum(),
    "pow_scalar": lambda L, z: L.real(z ** 3).sum(),
    "pow_tensor": lambda L, z: L.real(z ** z).sum(),
    "rpow": lambda L, z: L.imag(2 ** z).sum(),
    "rsqrt": lambda L, z: L.imag(L.rsqrt(z)).sum(),
    "square": lambda L, z: L.imag(L.square(z)).sum(),
    "complex": lambda L, z: L.imag(L.complex(z.real * 2, z.imag * z.real)).sum(),
    "polar": lambda L, z: L.imag(L.polar(z.abs(), z.real)).sum(),
    "mean": lambda L, z: L.abs(z.mean()),
    "prod": lambda L, z: L.abs(z.prod()),
    "cumsum": lambda L, z: L.abs(z.cumsum(0)).sum(),
    "sgn": lambda L, z: L.real(L.sgn(z)).sum(),
    "mixed_real_operand": lambda L, z: L.imag(z * z.abs()).sum(),
    "index": lambda L, z: L.abs(z[1]),
    "stack": lambda L, z: L.abs(L.stack([z, z * 1j])).sum(),
    "where": lambda L, z: L.abs(L.where(z.real > 2, z, z * 2)).sum(),
    "vector_norm": lambda L, z: L.linalg.vector_norm(z),
    "vdot": lambda L, z: L.real(L.vdot(z, z * 1j)),
    "einsum": lambda L, z: L.real(L.einsum("i,i->", z, z)),
    "var": lambda L, z: z.var(),
}


@needs_torch
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", list(CASES))
def test_complex_gradient_matches_torch(name, dtype):
    values = np.array([1 + 2j, 3 - 1j, -0.5 + 0.25j], dtype=dtype)
    grads = []
    for lib in (ember, torch):
        z = lib.tensor(values, requires_grad=True)
        loss = CASES[name](lib, z)
        assert not loss.is_complex()
        loss.backward()
        assert z.grad.dtype == z.dtype
        grads.append(z.grad.resolve_conj().detach().numpy())
    tol = 1e-5 if dtype == "complex64" else 1e-12
    np.testing.assert_allclose(grads[0], grads[1], rtol=tol * 10, atol=tol)


@needs_torch
def test_abs_of_complex_is_real():
    for dtype in ("complex64", "complex128"):
        z = ember.tensor([3 + 4j, -1j], dtype=getattr(ember, dtype))
        t = torch.tensor([3 + 4j, -1j], dtype=getattr(torch, dtype))
        for fn in ("abs", "angle"):
            e, o = getattr(ember, fn)(z), getattr(torch, fn)(t)
            assert str(e.dtype) == str(o.dtype)
            np.testing.assert_allclose(e.numpy(), o.numpy(), rtol=1e-6)


def test_real_and_imag_are_views_of_the_base():
    z = ember.tensor([1 + 2j, 3 - 1j])
    z.real[0] = 10.0
    z.imag.mul_(2)
    np.testing.assert_array_equal(z.numpy(), np.array([10 + 4j, 3 - 2j], dtype=np.complex64))
    r = ember.view_as_real(z)
    r[1, 1] = 7.0
    assert z[1].item() == 3 + 7j


def test_view_as_complex_checks_its_input_like_torch():
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        ember.view_as_complex(ember.zeros(3, 3))
    with pytest.raises(RuntimeError, match="float and double"):
        ember.view_as_complex(ember.zeros(3, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="non-complex"):
        ember.imag(ember.zeros(2))


SECOND_ORDER = {
    "abs": lambda L, z: L.abs(z),
    "abs_of_square": lambda L, z: (z * z).abs(),
    "real_of_square": lambda L, z: L.real(z * z),
    "sgn": lambda L, z: L.real(L.sgn(z) * (0.3 + 0.1j)),
    "conj_product": lambda L, z: L.real(z.conj() * z * (0.5 + 1j)),
    "exp": lambda L, z: L.real(L.exp(z)),
    "angle": lambda L, z: L.angle(z),
}


@needs_torch
@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_complex_second_derivatives_match_torch(name):
    values = np.array([1 + 2j, -0.5 + 0.3j])
    weights = np.array([0.3 - 0.2j, 1.1 + 0.5j])
    results = []
    for lib in (ember, torch):
        z = lib.tensor(values, requires_grad=True)
        g, = lib.autograd.grad(SECOND_ORDER[name](lib, z), z, lib.tensor([0.7, -1.3], dtype=lib.float64),
                               create_graph=True)
        second, = lib.autograd.grad((g * lib.tensor(weights)).real.sum(), z)
        results.append(second.resolve_conj().detach().numpy())
    np.testing.assert_allclose(results[0], results[1], atol=1e-10)


def test_gradcheck_works_in_real_coordinates_for_complex_inputs():
    z = ember.tensor(np.array([1 + 2j, -0.5 + 0.3j]), requires_grad=True)
    x = ember.tensor([0.3, -1.2], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t, r: ember.exp(t) * r + t.angle() * t.conj(), (z, x))
    assert ember.autograd.gradgradcheck(lambda t: (t * t).abs(), (z,))

    class MissingConjugate(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, g):
            t, = ctx.saved_tensors
            return g * 2 * t  # torch's convention needs conj(2 t)
    assert not ember.autograd.gradcheck(lambda t: MissingConjugate.apply(t), (z,), raise_exception=False)
