"""Op-table entries for ember.linalg, the linear-algebra top-level functions and ember.special.

Decompositions with a sign/phase freedom (svd, eigh, eig) are compared through functions of their
outputs that do not depend on that choice, as torch's own tests do; ops that read one triangle
(cholesky, eigh) are fed a symmetrised input so that gradients compare and gradcheck cleanly.
"""
import math

import numpy as np

from . import OpInfo, randn, positive, unit


def well_conditioned(rng, *shape):
    """Random square matrices with a strong diagonal: safe to invert in float32."""
    return randn(rng, *shape) + 3 * np.eye(shape[-1])


def _one(name, fn, *shape_lists, gen=randn, **kw):
    return OpInfo(name, fn, lambda rng: [tuple(gen(rng, *s) for s in shapes) for shapes in shape_lists], **kw)


def _spd(lib, a):
    n = a.shape[-1]
    return a @ a.mT + n * lib.eye(n, dtype=a.dtype, device=a.device)


def _sym(a):
    return a + a.mT


def _svd_invariants(r):
    U, S, Vh = r
    return S, U @ Vh, U * U, Vh * Vh


_INF = math.inf
_PAIRED = {"gen": well_conditioned}

OPS = [
    # ---- inverses, determinants, solves
    _one("linalg.inv", lambda lib, a: lib.linalg.inv(a), [(3, 3)], [(2, 3, 3)], **_PAIRED),
    _one("linalg.inv_ex", lambda lib, a: lib.linalg.inv_ex(a).inverse, [(2, 3, 3)], **_PAIRED),
    _one("inverse", lambda lib, a: lib.inverse(a), [(4, 4)], **_PAIRED),
    _one("linalg.det", lambda lib, a: lib.linalg.det(a), [(3, 3)], [(2, 4, 4)], [(1, 1)]),
    _one("det_method", lambda lib, a: a.det(), [(2, 2)]),
    _one("linalg.slogdet", lambda lib, a: lib.linalg.slogdet(a), [(3, 3)], [(2, 3, 3)], **_PAIRED),
    _one("logdet", lambda lib, a: lib.logdet(_spd(lib, a)), [(3, 3)]),
    OpInfo("linalg.solve", lambda lib, a, b: lib.linalg.solve(a, b),
           lambda rng: [(well_conditioned(rng, 3, 3), randn(rng, 3, 2)),
                        (well_conditioned(rng, 2, 3, 3), randn(rng, 2, 3)),  # batch of vectors
                        (well_conditioned(rng, 3, 3), randn(rng, 3)),
                        (well_conditioned(rng, 3, 3), randn(rng, 2, 3, 2))]),  # broadcast batch
    OpInfo("linalg.solve_left_false", lambda lib, a, b: lib.linalg.solve(a, b, left=False),
           lambda rng: [(well_conditioned(rng, 3, 3), randn(rng, 2, 3))]),
    OpInfo("linalg.solve_triangular",
           lambda lib, a, b, up, left, unit: lib.linalg.solve_triangular(a, b, upper=up, left=left,
                                                                          unitriangular=unit),
           lambda rng: [(well_conditioned(rng, 3, 3), randn(rng, 3, 2) if left else randn(rng, 2, 3), up, left, unit)
                        for up in (True, False) for left in (True, False) for unit in (False, True)]),
    OpInfo("linalg.lstsq", lambda lib, a, b: lib.linalg.lstsq(a, b).solution,
           lambda rng: [(randn(rng, 5, 3), randn(rng, 5, 2)), (randn(rng, 2, 4, 3), randn(rng, 2, 4))]),
    _one("pinverse", lambda lib, a: lib.pinverse(a), [(4, 3)], [(2, 3, 5)]),
    _one("linalg.pinv_hermitian", lambda lib, a: lib.linalg.pinv(_sym(a), hermitian=True), [(3, 3)]),
    # ---- factorizations
    _one("linalg.lu", lambda lib, a: lib.linalg.lu(a), [(3, 3)], [(2, 3, 5)], [(2, 5, 3)]),
    _one("linalg.lu_factor", lambda lib, a: lib.linalg.lu_factor(a), [(3, 3)], [(3, 4)], [(2, 4, 3)]),
    _one("lu_unpack", lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a)), [(4, 3)], [(3, 4)]),
    OpInfo("linalg.lu_solve",
           lambda lib, a, b, left, adj: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=left, adjoint=adj),
           lambda rng: [(well_conditioned(rng, 3, 3), randn(rng, 3, 2) if left else randn(rng, 2, 3), left, adj)
                        for left in (True, False) for adj in (False, True)]),
    OpInfo("lu_solve", lambda lib, b, a: lib.lu_solve(b, *lib.lu(a)),
           lambda rng: [(randn(rng, 3, 2), well_conditioned(rng, 3, 3))]),
    _one("linalg.cholesky", lambda lib, a: lib.linalg.cholesky(_spd(lib, a)), [(3, 3)], [(2, 3, 3)]),
    _one("linalg.cholesky_upper", lambda lib, a: lib.linalg.cholesky(_spd(lib, a), upper=True), [(3, 3)]),
    _one("linalg.cholesky_ex", lambda lib, a: lib.linalg.cholesky_ex(_spd(lib, a)).L, [(3, 3)]),
    _one("cholesky_solve", lambda lib, b, a: lib.cholesky_solve(b, lib.linalg.cholesky(_spd(lib, a))),
         [(3, 2), (3, 3)]),
    _one("cholesky_inverse", lambda lib, a: lib.cholesky_inverse(lib.linalg.cholesky(_spd(lib, a))), [(3, 3)]),
    _one("linalg.qr", lambda lib, a: lib.linalg.qr(a), [(4, 3)], [(3, 3)], [(2, 3, 5)]),
    _one("linalg.qr_complete", lambda lib, a: lib.linalg.qr(a, "complete"), [(3, 3)], [(3, 5)]),
    _one("qr", lambda lib, a: lib.qr(a), [(4, 3)]),
    _one("linalg.svd", lambda lib, a: _svd_invariants(lib.linalg.svd(a, full_matrices=False)),
         [(4, 3)], [(3, 5)], [(2, 3, 3)]),
    _one("linalg.svd_full", lambda lib, a: (lambda r: (r.S, r.U[..., :3] @ r.Vh[..., :3, :]))(lib.linalg.svd(a)),
         [(4, 3)]),
    _one("svd", lambda lib, a: (lambda r: (r.S, r.U @ r.V.mT))(lib.svd(a)), [(4, 3)]),
    _one("linalg.svdvals", lambda lib, a: lib.linalg.svdvals(a), [(4, 3)], [(2, 3, 5)]),
    _one("linalg.eigh", lambda lib, a: (lambda r: (r.eigenvalues, r.eigenvectors ** 2))(lib.linalg.eigh(_sym(a))),
         [(3, 3)], [(2, 4, 4)]),
    _one("linalg.eigh_upper", lambda lib, a: lib.linalg.eigh(_sym(a), UPLO="U").eigenvalues, [(3, 3)]),
    _one("linalg.eigvalsh", lambda lib, a: lib.linalg.eigvalsh(_sym(a)), [(3, 3)], [(2, 3, 3)]),
    OpInfo("linalg.householder_product", lambda lib, a, t: lib.linalg.householder_product(a, t),
           lambda rng: [(randn(rng, 4, 3), randn(rng, 2)), (randn(rng, 2, 3, 3), randn(rng, 2, 3))]),
    _one("linalg.vander", lambda lib, x: [lib.linalg.vander(x), lib.linalg.vander(x, N=5)], [(3,)], [(2, 4)]),
    # ---- norms
    OpInfo("linalg.vector_norm", lambda lib, x, o, d, k: lib.linalg.vector_norm(x, o, d, k),
           lambda rng: [(randn(rng, 3, 4), o, d, k) for o in (2, 1, 3, 0.5, -1.5, _INF, -_INF, 0)
                        for d, k in ((None, False), (1, True), ((0, 1), False))]),
    OpInfo("linalg.matrix_norm", lambda lib, x, o, k: lib.linalg.matrix_norm(x, o, keepdim=k),
           lambda rng: [(randn(rng, 2, 3, 4), o, k) for o in ("fro", "nuc", 1, -1, 2, -2, _INF, -_INF)
                        for k in (False, True)]),
    OpInfo("linalg.norm", lambda lib, x, o, d: lib.linalg.norm(x, o, d),
           lambda rng: [(randn(rng, 3, 4), None, None), (randn(rng, 3, 4), "fro", None), (randn(rng, 3, 4), 2, None),
                        (randn(rng, 4), 3, None), (randn(rng, 2, 3, 4), 1, (0, 2)), (randn(rng, 2, 3, 4), None, 1)]),
    OpInfo("norm", lambda lib, x, p, d, k: lib.norm(x, p, d, k),
           lambda rng: [(randn(rng, 3, 4), p, d, k) for p, d in (("fro", None), (2, 1), (1, (0, 1)), ("nuc", None),
                                                                ("fro", (0, 1)), (_INF, 0))
                        for k in (False, True)]),
    OpInfo("dist", lambda lib, a, b, p: lib.dist(a, b, p),
           lambda rng: [(randn(rng, 3, 4), randn(rng, 4), p) for p in (2, 1, 3.5, _INF)]),
    OpInfo("cdist", lambda lib, a, b, p: lib.cdist(a, b, p),
           lambda rng: [(randn(rng, 4, 3), randn(rng, 5, 3), p) for p in (2.0, 1.0, 3.0, _INF)] +
           [(randn(rng, 2, 30, 3), randn(rng, 2, 4, 3), 2.0)]),  # > 25 rows: the matmul formulation
    OpInfo("renorm", lambda lib, x, p, d: lib.renorm(x, p, d, 1.5),
           lambda rng: [(randn(rng, 3, 4), p, d) for p in (1, 2) for d in (0, 1)]),
    # ---- products and powers
    _one("linalg.matrix_power", lambda lib, a: [lib.linalg.matrix_power(a, n) for n in (0, 1, 3, -2)], [(3, 3)],
         **_PAIRED),
    _one("matrix_power_method", lambda lib, a: a.matrix_power(5), [(2, 3, 3)], **_PAIRED),
    _one("linalg.matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a), [(3, 3)], [(2, 3, 3)]),
    _one("matrix_exp_large_norm", lambda lib, a: lib.matrix_exp(4 * a), [(3, 3)], gradgrad=False),
    _one("linalg.cross", lambda lib, a, b: lib.linalg.cross(a, b), [(4, 3), (4, 3)], [(2, 1, 3), (1, 4, 3)]),
    _one("cross_dim", lambda lib, a, b: lib.cross(a, b, dim=0), [(3, 4), (3, 4)]),
    _one("linalg.vecdot", lambda lib, a, b: lib.linalg.vecdot(a, b), [(3, 4), (4,)]),
    _one("linalg.multi_dot", lambda lib, a, b, c, d: lib.linalg.multi_dot([a, b, c, d]),
         [(3,), (3, 5), (5, 2), (2, 4)]),
    _one("linalg.tensorinv", lambda lib, a: lib.linalg.tensorinv(a.reshape(2, 3, 6), ind=2),
         [(6, 6)], **_PAIRED),
    _one("trace", lambda lib, a: lib.trace(a), [(3, 4)], [(3, 3)]),
    # ---- statistics
    OpInfo("logcumsumexp", lambda lib, x, d: lib.logcumsumexp(x, d),
           lambda rng: [(randn(rng, 3, 4), d) for d in (0, 1, -1)] + [(randn(rng), 0)]),
    OpInfo("diff", lambda lib, x, n, d, pre, app: lib.diff(x, n, d, prepend=pre, append=app),
           lambda rng: [(randn(rng, 4, 5), 1, -1, None, None), (randn(rng, 4, 5), 2, 0, randn(rng, 1, 5), None),
                        (randn(rng, 4, 5), 1, 1, randn(rng, 4, 2), randn(rng, 4, 1)), (randn(rng, 3), 4, 0, None, None)]),
    OpInfo("cov", lambda lib, x, c: lib.cov(x, correction=c),
           lambda rng: [(randn(rng, 3, 6), c) for c in (0, 1, 2)] + [(randn(rng, 5), 1)]),
    OpInfo("cov_weights", lambda lib, x, fw, aw: lib.cov(x, fweights=(fw * 3).long() + 1, aweights=aw),
           lambda rng: [(randn(rng, 3, 6), positive(rng, 6), positive(rng, 6))]),
    _one("corrcoef", lambda lib, x: lib.corrcoef(x), [(3, 6)]),
    # ---- special functions
    _one("special.polygamma", lambda lib, x: [lib.special.polygamma(n, x) for n in (0, 1, 2)], [(3, 4)],
         gen=positive),
    _one("special.digamma", lambda lib, x: lib.special.digamma(x), [(3, 4)], gen=positive),
    _one("special.multigammaln", lambda lib, x: lib.special.multigammaln(x + 2, 3), [(3, 4)], gen=positive),
    _one("special.xlog1py", lambda lib, x, y: lib.special.xlog1py(x, y), [(3, 4), (3, 4)], gen=positive),
    _one("special.entr", lambda lib, x: lib.special.entr(x), [(3, 4)], gen=positive),
    _one("special.sinc", lambda lib, x: lib.special.sinc(x), [(3, 4)]),
    _one("special.log_softmax", lambda lib, x: lib.special.log_softmax(x, 1), [(3, 4)]),
    _one("special.softmax", lambda lib, x: lib.special.softmax(x, 0), [(3, 4)]),
    _one("special.ndtr", lambda lib, x: lib.special.ndtr(x), [(3, 4)]),
    _one("special.ndtri", lambda lib, x: lib.special.ndtri(x * 0.4 + 0.5), [(3, 4)], gen=unit),
    _one("special.log_ndtr", lambda lib, x: lib.special.log_ndtr(x * 4), [(3, 4)]),
    _one("special.i0", lambda lib, x: lib.special.i0(x * 3), [(3, 4)]),
    _one("special.i1", lambda lib, x: lib.special.i1(x * 3), [(3, 4)]),
    _one("special.i0e_i1e", lambda lib, x: [lib.special.i0e(x * 3), lib.special.i1e(x * 3)], [(3, 4)]),
    _one("special.erfcx", lambda lib, x: lib.special.erfcx(x * 3), [(3, 4)]),
    _one("special.expit", lambda lib, x: lib.special.expit(x), [(3, 4)]),
    _one("special.logit", lambda lib, x: lib.special.logit(x * 0.4 + 0.5), [(3, 4)], gen=unit),
    _one("i0_sinc_methods", lambda lib, x: [x.i0(), x.sinc(), lib.i0(x), lib.sinc(x)], [(3, 4)]),
    _one("polygamma_mvlgamma", lambda lib, x: [lib.polygamma(1, x), x.polygamma(2), lib.mvlgamma(x + 1, 2),
                                                x.mvlgamma(3)], [(3, 4)], gen=lambda rng, *s: positive(rng, *s) + 1),
    OpInfo("triangular_solve", lambda lib, b, a, up, tr: lib.triangular_solve(b, a, up, tr),
           lambda rng: [(randn(rng, 3, 2), well_conditioned(rng, 3, 3), up, tr) for up in (True, False)
                        for tr in (False, True)]),
    _one("special.gammaln", lambda lib, x: lib.special.gammaln(x), [(3, 4)], gen=positive),
]
