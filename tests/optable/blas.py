from . import OpInfo, randn


def _b(name, fn, *shapes_list, **kw):
    return OpInfo(name, fn, lambda rng: [tuple(randn(rng, *s) for s in shapes) for shapes in shapes_list], **kw)


OPS = [
    _b("matmul", lambda lib, a, b: lib.matmul(a, b), [(3, 4), (4, 5)], [(2, 3, 4), (4, 2)], [(4,), (4, 3)],
       [(3, 4), (4,)], [(4,), (4,)], [(2, 1, 3, 4), (3, 4, 2)]),
    _b("mm", lambda lib, a, b: lib.mm(a, b), [(3, 4), (4, 5)]),
    _b("bmm", lambda lib, a, b: a.bmm(b), [(2, 3, 4), (2, 4, 5)]),
    _b("mv", lambda lib, a, b: lib.mv(a, b), [(3, 4), (4,)]),
    _b("dot", lambda lib, a, b: lib.dot(a, b), [(4,), (4,)]),
    _b("outer", lambda lib, a, b: lib.outer(a, b), [(3,), (4,)]),
    _b("addmm", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0), [(5,), (3, 4), (4, 5)]),
    _b("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b, alpha=0.5), [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    _b("einsum_matmul", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(3, 4), (4, 5)]),
    _b("einsum_batch", lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)]),
    _b("einsum_implicit", lambda lib, a, b: lib.einsum("ij,kj", a, b), [(3, 4), (5, 4)]),
    _b("einsum_trace", lambda lib, a: lib.einsum("ii->", a), [(3, 3)]),
    _b("einsum_diag", lambda lib, a: lib.einsum("ii->i", a), [(3, 3)]),
    _b("einsum_sum", lambda lib, a: lib.einsum("ij->j", a), [(3, 4)]),
    _b("einsum_ellipsis", lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b), [(2, 3, 4), (2, 4, 5)]),
    _b("einsum_outer", lambda lib, a, b: lib.einsum("i,j->ij", a, b), [(3,), (4,)]),
    _b("tensordot", lambda lib, a, b: lib.tensordot(a, b, dims=([1, 2], [0, 1])), [(2, 3, 4), (3, 4, 5)]),
    _b("tensordot_int", lambda lib, a, b: lib.tensordot(a, b, 1), [(2, 3), (3, 4)]),
    _b("rmatmul_operator", lambda lib, a, b: a @ b, [(3, 4), (4,)]),
    _b("inner", lambda lib, a, b: lib.inner(a, b), [(2, 3), (4, 3)]),
    _b("kron", lambda lib, a, b: lib.kron(a, b), [(2, 3), (2, 2)]),
]
