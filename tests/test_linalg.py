"""Behaviour of ember.linalg, the linear-algebra top-level functions and ember.special beyond the op
table: errors in torch's words, ``*_ex`` info codes, lstsq drivers, decomposition modes and shapes,
complex outputs of eig, singular-matrix gradients and the NumPy fallbacks of the special functions."""
import math

import numpy as np
import pytest

import ember
from oracle import assert_same, check_error, check_op, needs_torch, torch

rng = np.random.default_rng(7)


def R(*shape):
    return rng.standard_normal(shape)


def both(a, requires_grad=False):
    e = ember.tensor(a, requires_grad=requires_grad)
    t = torch.tensor(a, requires_grad=requires_grad)
    return e, t


# ------------------------------------------------------------------ errors
@needs_torch
@pytest.mark.parametrize("fn,arg", [
    (lambda L, a: L.linalg.inv(a), np.zeros((3, 3))),
    (lambda L, a: L.inverse(a), np.stack([np.eye(2), np.zeros((2, 2))])),
    (lambda L, a: L.linalg.solve(a, a[..., 0]), np.stack([np.eye(2), np.zeros((2, 2))])),
    (lambda L, a: L.linalg.cholesky(a), -np.eye(3)),
    (lambda L, a: L.linalg.cholesky(a), np.stack([np.eye(3), np.diag([1., 2., -1.])])),
])
def test_singular_inputs_raise_linalg_error(fn, arg):
    with pytest.raises(RuntimeError) as t_err:
        fn(torch, torch.tensor(arg))
    with pytest.raises(ember.linalg.LinAlgError) as e_err:
        fn(ember, ember.tensor(arg))
    assert isinstance(e_err.value, RuntimeError)
    assert type(e_err.value).__name__ == "LinAlgError"
    assert str(e_err.value) == str(t_err.value)


@needs_torch
@pytest.mark.parametrize("fn,args", [
    (lambda L, a: L.linalg.inv(a), [R(2, 3)]),
    (lambda L, a: L.linalg.inv(a), [R(3)]),
    (lambda L, a: L.linalg.det(a), [R(3, 2)]),
    (lambda L, a: L.linalg.inv(a.int()), [R(3, 3)]),
    (lambda L, a, b: L.linalg.solve(a, b), [R(3, 3), R(4)]),
    (lambda L, a, b: L.linalg.solve(a, b), [R(3, 3), R(4, 2)]),
    (lambda L, a: L.linalg.cholesky(a), [R(2, 3)]),
    (lambda L, a: L.linalg.eigh(a), [R(2, 3)]),
    (lambda L, a: L.linalg.qr(a), [R(3)]),
    (lambda L, a: L.linalg.qr(a, mode="thin"), [R(3, 3)]),
    (lambda L, a: L.linalg.svd(a), [R(3)]),
    (lambda L, a: L.trace(a), [R(2, 2, 2)]),
    (lambda L, a: L.linalg.matrix_power(a, 2), [R(2, 3)]),
    (lambda L, a, b: L.linalg.cross(a, b), [R(2, 4), R(2, 4)]),
    (lambda L, a, b: L.linalg.cross(a, b), [R(2, 3), R(3)]),
    (lambda L, a: L.linalg.vector_norm(a.int()), [R(3)]),
    (lambda L, a: L.linalg.vector_norm(a, dtype=L.float16), [R(3)]),
    (lambda L, a: L.linalg.vector_norm(a, math.inf), [R(0, 3)]),
    (lambda L, a: L.linalg.matrix_norm(a), [R(4)]),
    (lambda L, a: L.linalg.matrix_norm(a, 3), [R(3, 3)]),
    (lambda L, a: L.linalg.norm(a, 2), [R(2, 2, 2)]),
    (lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True), [R(3, 3), R(3)]),
    (lambda L, a: L.linalg.multi_dot([a]), [R(3, 3)]),
    (lambda L, a, b: L.linalg.multi_dot([a, b]), [R(2, 2, 2), R(2, 2)]),
    (lambda L, a, b: L.cdist(a, b), [R(3, 2), R(3, 4)]),
    (lambda L, a, b: L.cdist(a, b), [R(3), R(3, 3)]),
    (lambda L, a: L.diff(a), [R()]),
    (lambda L, a: L.renorm(a, 2, 0, 1.0), [R(3)]),
    (lambda L, a: L.linalg.lstsq(a, a, driver="qr"), [R(3, 3)]),
])
def test_errors_match_torch(fn, args):
    e, t = check_error(fn, *args)
    assert str(e) == str(t)


@needs_torch
def test_qr_backward_errors():
    for mode, shape in (("r", (3, 3)), ("complete", (4, 3))):
        e, t = check_error(lambda L, a: L.autograd.grad(L.linalg.qr(a.requires_grad_(), mode)[1].sum(), a),
                           R(*shape))
        assert str(e) == str(t)


# ------------------------------------------------------------------ *_ex variants
@needs_torch
def test_inv_ex_and_cholesky_ex_report_info():
    a = np.stack([np.eye(3) * 2, np.diag([1., 0., 1.]), np.diag([1., 1., -1.])])
    e, t = both(a)
    assert_same(ember.linalg.inv_ex(e).info, torch.linalg.inv_ex(t).info)
    assert_same(ember.linalg.inv_ex(e).inverse[0], torch.linalg.inv_ex(t).inverse[0])
    assert_same(ember.linalg.cholesky_ex(e).info, torch.linalg.cholesky_ex(t).info)
    assert_same(ember.linalg.cholesky_ex(e).L[0], torch.linalg.cholesky_ex(t).L[0])
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.inv_ex(e, check_errors=True)
    sol = ember.linalg.solve_ex(e, ember.ones(3, 3, dtype=ember.float64))
    assert sol.info.tolist() == [0, 2, 0]


# ------------------------------------------------------------------ lstsq
@needs_torch
@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_drivers(driver):
    check_op(lambda L, a, b: tuple(L.linalg.lstsq(a, b, driver=driver)), R(6, 3), R(6, 2), grad=False)


@needs_torch
def test_lstsq_rank_deficient():
    a = R(5, 2) @ R(2, 4)  # rank 2
    check_op(lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd")[2:], a, R(5, 2), grad=False)
    check_op(lambda L, a: L.linalg.matrix_rank(a), a, grad=False)
    check_op(lambda L, a: L.linalg.matrix_rank(a, atol=1.0, rtol=0.0), a, grad=False)
    check_op(lambda L, a: L.linalg.matrix_rank(a @ a.mT, hermitian=True), a, grad=False)
    check_op(lambda L, a: L.linalg.pinv(a, rtol=1e-2), a, atol=1e-8)


# ------------------------------------------------------------------ decompositions
@needs_torch
def test_qr_modes_and_svd_shapes():
    a = R(5, 3)
    check_op(lambda L, x: L.linalg.qr(x, mode="r").R, a, grad=False)
    assert tuple(ember.linalg.qr(ember.tensor(a), mode="r").Q.shape) == (0,)
    for full in (True, False):
        e = ember.linalg.svd(ember.tensor(a), full_matrices=full)
        t = torch.linalg.svd(torch.tensor(a), full_matrices=full)
        assert [tuple(x.shape) for x in e] == [tuple(x.shape) for x in t]
        np.testing.assert_allclose((e.U[:, :3] * e.S) @ e.Vh[:3], a, atol=1e-12)


@needs_torch
def test_eig_complex_outputs_and_gradients():
    a = R(4, 4)  # a general matrix: complex-conjugate eigenvalue pairs
    e, t = both(a, requires_grad=True)
    we, Ve = ember.linalg.eig(e)
    wt, Vt = torch.linalg.eig(t)
    assert we.dtype is ember.complex128
    order_e, order_t = np.lexsort((we.detach().numpy().imag, we.detach().numpy().real)), \
        np.lexsort((wt.detach().numpy().imag, wt.detach().numpy().real))
    np.testing.assert_allclose(we.detach().numpy()[order_e], wt.detach().numpy()[order_t], atol=1e-10)
    np.testing.assert_allclose(np.sort_complex(ember.linalg.eigvals(ember.tensor(a)).numpy()),
                               np.sort_complex(wt.detach().numpy()), atol=1e-10)
    # gauge-invariant loss: eigenvalues, and |V|^2 (each column's phase cancels)
    gw = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    G = rng.standard_normal((4, 4)) + 0j
    ge, = ember.autograd.grad([we, Ve * Ve.conj()], [e], [ember.tensor(gw[order_e.argsort()][order_t]),
                                                          ember.tensor(G[:, order_e.argsort()][:, order_t])])
    gt, = torch.autograd.grad([wt, Vt * Vt.conj()], [t], [torch.tensor(gw), torch.tensor(G)])
    np.testing.assert_allclose(ge.numpy(), gt.numpy(), atol=1e-8)


def test_det_gradient_of_singular_matrix_is_the_cofactor_matrix():
    # torch returns 0 here (its LU path gives up); the true derivative is the cofactor matrix,
    # the limit of torch's own gradient at nearby invertible matrices
    a = ember.tensor([[1., 2., 3.], [2., 4., 6.], [0., 1., 1.]], dtype=ember.float64, requires_grad=True)
    g, = ember.autograd.grad(ember.linalg.det(a), a)
    cof = np.array([[-2., -2., 2.], [1., 1., -1.], [0., 0., 0.]])
    np.testing.assert_allclose(g.numpy(), cof, atol=1e-12)
    assert ember.autograd.gradcheck(ember.linalg.det, [a])


@needs_torch
def test_eigh_and_svd_double_backward_match_torch():
    a = R(3, 3)
    v = R(3, 3)
    outs = []
    for L in (ember, torch):
        x = L.tensor(a, requires_grad=True)
        s = L.linalg.svdvals(x)
        w = L.linalg.eigvalsh(x + x.mT)
        g, = L.autograd.grad((s ** 3).sum() + (w ** 3).sum(), x, create_graph=True)
        h, = L.autograd.grad((g * L.tensor(v)).sum(), x)
        outs.append(h)
    assert_same(*outs)


# ------------------------------------------------------------------ norms and statistics
@needs_torch
def test_norm_dtypes():
    a = R(3, 4)
    check_op(lambda L, x: L.linalg.vector_norm(x, dtype=L.float64), a.astype(np.float32))
    check_op(lambda L, x: L.linalg.vector_norm(x.half(), 2, 1), a.astype(np.float32), atol=1e-2, rtol=1e-2)
    check_op(lambda L, x: L.linalg.matrix_norm(x, dtype=L.float64), a.astype(np.float32))
    check_op(lambda L, x: L.norm(x, p=3, dim=1, keepdim=True), a)
    check_op(lambda L, x: x.norm(), a)


@needs_torch
def test_vector_norm_gradient_at_zero_is_zero():
    for o in (2, 3, 0.5, 1):
        check_op(lambda L, x: L.linalg.vector_norm(x, o), np.zeros(3))
    check_op(lambda L, x: L.linalg.vector_norm(x, 0.5), np.array([0., 1., 0.]))


@needs_torch
def test_statistics_edge_cases():
    check_op(lambda L, x: L.logcumsumexp(x, 0), np.array([-np.inf, -np.inf, 0.0, 1.0]))
    check_op(lambda L, x: L.logcumsumexp(x, 0), np.array([-1000.0, 0.0, 1.0]))  # underflows after the shift
    check_op(lambda L, x: L.logcumsumexp(x, 1), 100 * R(4, 6))
    check_op(lambda L, x: L.logcumsumexp(x, 0), np.array([0.0, np.inf, 1.0]), grad=False)
    check_op(lambda L, x: L.diff(x > 0), R(6), grad=False)
    check_op(lambda L, x: L.cov(x.int()), (R(2, 5) * 5), grad=False)
    check_op(lambda L, x: L.corrcoef(x), R(5))
    check_op(lambda L, x, y: L.cdist(x, y, compute_mode="use_mm_for_euclid_dist"), R(3, 4), R(2, 4))
    check_op(lambda L, x: x.renorm(1, 1, 0.5), R(3, 4))
    with pytest.warns(UserWarning):
        check_op(lambda L, x, y: L.cross(x, y), R(2, 3), R(2, 3))


@needs_torch
def test_vander_integer_input():
    check_op(lambda L, x: L.linalg.vander((x * 3).long(), N=4), R(2, 3), grad=False)


@needs_torch
def test_tensorsolve_and_cond():
    a = R(6, 2, 3) + 0
    a.reshape(6, 6)[:] += 3 * np.eye(6)
    check_op(lambda L, x, b: L.linalg.tensorsolve(x, b), a, R(6))
    check_op(lambda L, x: L.linalg.cond(x), R(3, 3))
    check_op(lambda L, x: L.linalg.cond(x, "fro"), R(3, 3) + 3 * np.eye(3), grad=False)  # torch's own backward fails


# ------------------------------------------------------------------ special: NumPy fallbacks
def test_special_fallbacks_match_scipy(monkeypatch):
    sp = pytest.importorskip("scipy.special")
    from ember import special
    monkeypatch.setattr(special, "scipy_module", lambda name: None)
    x = np.array([0.3, 1.0, 2.5, 7.0, 30.0])
    np.testing.assert_allclose(special._digamma_np(np.r_[x, -0.5, -2.3]), sp.digamma(np.r_[x, -0.5, -2.3]),
                               rtol=1e-10)
    for n in (1, 2, 3):
        np.testing.assert_allclose(special._polygamma_np(n, x), sp.polygamma(n, x), rtol=1e-12)
    np.testing.assert_allclose(special._i1_np(np.r_[-x, x]), sp.i1(np.r_[-x, x]), rtol=1e-12)
    w = np.array([-30., -3., -0.5, 0., 0.7, 1.99, 2.01, 5., 40., 1e4])
    np.testing.assert_allclose(special._erfcx_np(w), sp.erfcx(w), rtol=1e-12)
    v = np.array([-20., -1.5, 0., 0.3, 4., 50.])
    np.testing.assert_allclose(special.i0e(ember.tensor(v)).numpy(), sp.i0e(v), rtol=1e-12)
    np.testing.assert_allclose(special.i1e(ember.tensor(v)).numpy(), sp.i1e(v), rtol=1e-12)
    z = np.array([-400., -40., -10., -4., -2.01, -1.99, 0., 3.])
    np.testing.assert_allclose(special._log_ndtr_np(z), sp.log_ndtr(z), rtol=1e-11)
    t = ember.tensor([0.5, 2.0], requires_grad=True)
    g, = ember.autograd.grad(special.digamma(t).sum(), t)
    np.testing.assert_allclose(g.numpy(), sp.polygamma(1, [0.5, 2.0]), rtol=1e-6)


# ------------------------------------------------------------------ complex inputs
def _C(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _spd(L, a):
    return a @ a.mH + 3 * L.eye(a.shape[-1], dtype=a.dtype)


_COMPLEX_CASES = {
    "inv": (lambda L, a: L.linalg.inv(a), [(3, 3)]),
    "det": (lambda L, a: L.linalg.det(a), [(3, 3)]),
    "slogdet": (lambda L, a: L.linalg.slogdet(a).logabsdet, [(3, 3)]),
    "solve": (lambda L, a, b: L.linalg.solve(a, b), [(3, 3), (3, 2)]),
    "cholesky": (lambda L, a: L.linalg.cholesky(_spd(L, a)), [(3, 3)]),
    "qr": (lambda L, a: L.linalg.qr(a), [(4, 3)]),
    "eigh": (lambda L, a: (lambda r: (r[0], r[1] * r[1].conj()))(L.linalg.eigh(a + a.mH)), [(3, 3)]),
    "svd": (lambda L, a: (lambda r: (r[1], r[0] @ r[2]))(L.linalg.svd(a, full_matrices=False)), [(4, 3)]),
    "pinv": (lambda L, a: L.linalg.pinv(a), [(4, 3)]),
    "matrix_exp": (lambda L, a: L.linalg.matrix_exp(a), [(3, 3)]),
    "vector_norm": (lambda L, a: L.linalg.vector_norm(a, 3), [(3, 3)]),
    "matrix_norm_nuc": (lambda L, a: L.linalg.matrix_norm(a, "nuc"), [(3, 3)]),
    "matmul": (lambda L, a, b: a @ b, [(2, 3), (3, 2)]),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(_COMPLEX_CASES))
def test_complex_values_and_gradients(name):
    """Complex inputs: values and the conjugate-convention gradients torch computes."""
    fn, shapes = _COMPLEX_CASES[name]
    inputs = [_C(*s) for s in shapes]
    results = []
    for L in (ember, torch):
        xs = [L.tensor(x, requires_grad=True) for x in inputs]
        out = fn(L, *xs)
        outs = out if isinstance(out, tuple) else (out,)
        r = np.random.default_rng(1)
        gs = [L.tensor(r.standard_normal(tuple(o.shape)) + (1j * r.standard_normal(tuple(o.shape))
                                                            if o.is_complex() else 0)).to(o.dtype) for o in outs]
        results.append((out, L.autograd.grad(outs, xs, gs)))
    assert_same(results[0][0], results[1][0])
    assert_same(results[0][1], results[1][1], atol=1e-8, rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("shape,kw", [((0, 3), {}), ((2, 0), {"dim": 1}), ((2, 3, 4), {"dim": (1, 2), "keepdim": True}),
                                      ((), {}), ((3,), {"dim": 0, "keepdim": True}), ((2, 3, 4), {"dim": (0, 2)})])
def test_vector_norm_shapes(shape, kw):
    """The fast paths (whole tensor, trailing dims) and the general one agree with torch on odd shapes."""
    check_op(lambda L, x: L.linalg.vector_norm(x, **kw), R(*shape))
    check_op(lambda L, x: L.linalg.vector_norm(x.mT if x.ndim >= 2 else x, **kw), R(*shape))


# ------------------------------------------------------------------ LU
@needs_torch
def test_lu_factor_without_grad_info_and_errors():
    a = np.stack([R(3, 3), np.diag([1., 0., 2.]), np.zeros((3, 3))])
    e, t = both(a)
    assert_same(tuple(ember.linalg.lu_factor_ex(e)), tuple(torch.linalg.lu_factor_ex(t)))
    assert_same(tuple(ember.linalg.lu_factor(e[0])), tuple(torch.linalg.lu_factor(t[0])))
    err, terr = check_error(lambda L, x: L.linalg.lu_factor(x), a)
    assert str(err) == str(terr)
    err, terr = check_error(lambda L, x: L.linalg.lu(x, pivot=False), a)
    assert str(err) == str(terr)


def test_lu_numpy_fallback_matches_lapack(monkeypatch):
    pytest.importorskip("scipy")
    from ember._ops import linalg_ops
    for shape in ((3, 3), (2, 4, 3), (2, 3, 5)):
        a = R(*shape)
        a[..., 1, :] = 0  # an exactly zero pivot on the way
        expected = linalg_ops._getrf(a)
        monkeypatch.setattr(linalg_ops, "scipy_module", lambda name: None)
        got = linalg_ops._getrf(a)
        monkeypatch.undo()
        for x, y in zip(got, expected):
            np.testing.assert_allclose(x, y, atol=1e-12)


@pytest.mark.parametrize("module", ["ember.linalg", "ember.special", "ember._ops.linalg_ops"])
def test_docstring_examples(module):
    """The examples in the docstrings run and print what they say."""
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module), extraglobs={"torch": ember},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@needs_torch
def test_out_arguments():
    a = R(3, 3) + 3 * np.eye(3)
    e, t = both(a)
    outs_e = tuple(ember.empty(0, dtype=ember.float64) for _ in range(2))
    outs_t = tuple(torch.empty(0, dtype=torch.float64) for _ in range(2))
    res = ember.linalg.qr(e, out=outs_e)
    torch.linalg.qr(t, out=outs_t)
    assert res.Q is outs_e[0]
    assert_same(outs_e, outs_t)
    o_e, o_t = ember.empty(3, 3, dtype=ember.float64), torch.empty(3, 3, dtype=torch.float64)
    ember.linalg.inv(e, out=o_e)
    torch.linalg.inv(t, out=o_t)
    assert_same(o_e, o_t)



# ------------------------------------------------------------------ argument handling against torch
def F(*shape):
    return _misc_rng.standard_normal(shape)


_misc_rng = np.random.default_rng(0)
_MISC = [
 ("solve dtype", lambda L: L.linalg.solve(L.tensor(F(3,3)).float(), L.tensor(F(3)))),
 ("solve batch mismatch", lambda L: L.linalg.solve(L.tensor(F(2,3,3)), L.tensor(F(4,3,1)))),
 ("solve int", lambda L: L.linalg.solve(L.tensor(F(3,3)).long(), L.tensor(F(3)).long())),
 ("lstsq shape", lambda L: L.linalg.lstsq(L.tensor(F(4,3)), L.tensor(F(5,2)))),
 ("lstsq vec", lambda L: L.linalg.lstsq(L.tensor(F(4,3)), L.tensor(F(4))).solution),
 ("lstsq batch", lambda L: L.linalg.lstsq(L.tensor(F(2,4,3)), L.tensor(F(2,4,2))).solution),
 ("cdist int", lambda L: L.cdist(L.tensor(F(3,2)).long(), L.tensor(F(3,2)))),
 ("cdist neg p", lambda L: L.cdist(L.tensor(F(3,2)), L.tensor(F(3,2)), p=-1)),
 ("cdist p0", lambda L: L.cdist(L.tensor(F(3,2)), L.tensor(F(4,2)), p=0)),
 ("cdist batch bcast", lambda L: L.cdist(L.tensor(F(2,3,2)), L.tensor(F(4,2)))),
 ("cov 3d", lambda L: L.cov(L.tensor(F(2,3,4)))),
 ("cov fweights float", lambda L: L.cov(L.tensor(F(2,4)), fweights=L.tensor(F(4)))),
 ("diff neg n", lambda L: L.diff(L.tensor(F(3)), n=-1)),
 ("diff n0", lambda L: L.diff(L.tensor(F(3)), n=0)),
 ("diff big n", lambda L: L.diff(L.tensor(F(3)), n=5)),
 ("renorm p0", lambda L: L.renorm(L.tensor(F(3,3)), 0, 0, 1.)),
 ("renorm neg maxnorm", lambda L: L.renorm(L.tensor(F(3,3)), 2, 0, -1.)),
 ("logcumsumexp int", lambda L: L.logcumsumexp(L.tensor(F(3)).long(), 0)),
 ("trace int", lambda L: L.trace(L.tensor(F(3,3)).long())),
 ("trace rect", lambda L: L.trace(L.tensor(F(3,4)))),
 ("cross no 3", lambda L: L.cross(L.tensor(F(2,2)), L.tensor(F(2,2)))),
 ("matrix_power int", lambda L: L.linalg.matrix_power(L.tensor(F(3,3)).long(), 2)),
 ("matrix_power int neg", lambda L: L.linalg.matrix_power(L.tensor(F(3,3)).long(), -1)),
 ("det empty", lambda L: L.linalg.det(L.tensor(F(2,0,0)))),
 ("inv empty", lambda L: L.linalg.inv(L.tensor(F(0,0)))),
 ("eigh empty", lambda L: L.linalg.eigh(L.tensor(F(0,0)))[0]),
 ("svd empty", lambda L: L.linalg.svd(L.tensor(F(0,3)))[1]),
 ("pinv empty", lambda L: L.linalg.pinv(L.tensor(F(0,3)))),
 ("qr empty", lambda L: L.linalg.qr(L.tensor(F(0,3)))[1]),
 ("cholesky empty", lambda L: L.linalg.cholesky(L.tensor(F(0,0)))),
 ("matrix_exp empty", lambda L: L.linalg.matrix_exp(L.tensor(F(0,0)))),
 ("slogdet empty", lambda L: L.linalg.slogdet(L.tensor(F(0,0)))[1]),
 ("multi_dot 3d mid", lambda L: L.linalg.multi_dot([L.tensor(F(2,2)), L.tensor(F(2,2,2)), L.tensor(F(2,2))])),
 ("multi_dot mismatch", lambda L: L.linalg.multi_dot([L.tensor(F(2,3)), L.tensor(F(2,2))])),
 ("vecdot", lambda L: L.linalg.vecdot(L.tensor(F(2,3)), L.tensor(F(2,3)), dim=0)),
 ("tensorinv bad", lambda L: L.linalg.tensorinv(L.tensor(F(2,3)), 1)),
 ("matrix_rank tol", lambda L: L.linalg.matrix_rank(L.tensor(F(3,3)), tol=0.5)),
 ("pinv atol tensor", lambda L: L.linalg.pinv(L.tensor(F(2,3,3)), atol=L.tensor([0.1, 0.2]))),
 ("norm int", lambda L: L.norm(L.tensor(F(3)).long())),
 ("dist p0", lambda L: L.dist(L.tensor(F(3)), L.tensor(F(3)), 0)),
 ("corrcoef 1row", lambda L: L.corrcoef(L.tensor(F(1,4)))),
 ("cholesky_inverse", lambda L: L.cholesky_inverse(L.linalg.cholesky(L.tensor(np.eye(3)*2)))),
 ("svd some false", lambda L: L.svd(L.tensor(F(4,3)), some=False)[1]),
 ("eigvals real", lambda L: L.linalg.eigvals(L.tensor(np.diag([1.,2.])))),
 ("solve_triangular batch vec", lambda L: L.linalg.solve_triangular(L.tensor(F(2,3,3)), L.tensor(F(3,1)), upper=True)),
]


@needs_torch
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name,fn", _MISC, ids=[c[0] for c in _MISC])
def test_misc_against_torch(name, fn):
    """Same result (shape, dtype, values) or the same exception type and message as torch."""
    global _misc_rng
    results = []
    for L in (ember, torch):
        _misc_rng = np.random.default_rng(0)  # both libraries see the same inputs
        try:
            results.append(("ok", fn(L)))
        except Exception as e:  # noqa: BLE001 - the exception itself is what is compared
            results.append(("err", type(e).__name__, str(e).split("\n")[0]))
    (kind_e, *e), (kind_t, *t) = results
    assert kind_e == kind_t, (results[0], results[1])
    if kind_e == "ok":
        assert_same(e[0], t[0], atol=1e-6, rtol=1e-5)
    else:
        assert e == t


def test_squeeze_without_size_one_dims_keeps_the_graph():
    """Regression: squeeze() of a tensor with no size-1 dims dropped it from the graph (broke cov)."""
    x = ember.randn(3, 4, requires_grad=True)
    y = x.squeeze()
    assert y.requires_grad
    g, = ember.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(g.numpy(), np.ones((3, 4), np.float32))


@needs_torch
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_gradient_is_dense_like_torch(upper):
    """torch differentiates A = L L^H with the whole of L: the unused triangle gets a gradient too."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3))
    factor = np.linalg.cholesky(a @ a.transpose(0, 2, 1) + 3 * np.eye(3))
    if upper:
        factor = factor.transpose(0, 2, 1)
    b = rng.standard_normal((2, 3, 2))
    results = []
    for lib in (ember, torch):
        f, rhs = lib.tensor(factor, requires_grad=True), lib.tensor(b, requires_grad=True)
        x = lib.cholesky_solve(rhs, f, upper=upper)
        (x * lib.arange(12.0).reshape(2, 3, 2)).sum().backward()
        results.append((x, f.grad, rhs.grad))
    for e, t in zip(*results):
        assert_same(e, t)
    assert np.abs(np.triu(results[0][1].numpy()[0], 1) if not upper else np.tril(results[0][1].numpy()[0], -1)).max() > 0
