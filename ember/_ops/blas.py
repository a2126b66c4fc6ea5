"""Matrix products: matmul and friends, einsum, tensordot. NumPy's matmul calls the BLAS."""
import numpy as np

from .. import _dtype as D
from .._device import array_module, as_array
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import _enabled
from ._util import install, compute_dtype, type_name
from .inplace import write_out


_REAL_BLAS = frozenset(np.dtype(t) for t in ("float32", "float64"))


class Matmul(Op):
    def forward(ctx, a, b):
        if a.dtype != b.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {type_name(D._BY_NP[a.dtype]).lower()} != "
                               f"{type_name(D._BY_NP[b.dtype]).lower()}")
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
        ctx.save_for_backward(a, b)
        cdt = compute_dtype(a.dtype)
        if cdt != a.dtype:
            return np.matmul(a.astype(cdt), b.astype(cdt)).astype(a.dtype)
        try:
            out = np.matmul(a, b)
        except ValueError:
            raise RuntimeError(_mismatch(a.shape, b.shape)) from None
        return out if out.__class__ is np.ndarray else as_array(out)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if a.is_complex():  # torch's convention: each gradient multiplies by the other operand's conjugate
            a, b = a.conj(), b.conj()
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        ad, bd, gd = a._data, b._data, g._data
        if (not _enabled[0] and ad.ndim >= 2 and bd.ndim >= 2 and ad.dtype in _REAL_BLAS and gd.dtype is ad.dtype
                and bd.dtype is ad.dtype):
            # Nothing records (no create_graph): two bare GEMMs, no transpose or matmul nodes.
            # Broadcast batch dims are summed away by the engine, as on the recorded path.
            if need_a:
                ga = Tensor._wrap(np.matmul(gd, bd.swapaxes(-1, -2)))
            if need_b:
                gb = Tensor._wrap(np.matmul(ad.swapaxes(-1, -2), gd))
            return ga, gb
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if need_a else None), (g * a if need_b else None)
        if a.ndim == 1:
            # (k) @ (..., k, n) -> (..., n)
            if need_a:
                ga = (g.unsqueeze(-2) @ b.mT).squeeze(-2)
            if need_b:
                gb = a.unsqueeze(-1) * g.unsqueeze(-2)
            return ga, gb
        if b.ndim == 1:
            if need_a:
                ga = g.unsqueeze(-1) * b
            if need_b:
                gb = (a.mT @ g.unsqueeze(-1)).squeeze(-1)
            return ga, gb
        if need_a:
            ga = g @ b.mT
        if need_b:
            gb = a.mT @ g
        return ga, gb


def _mismatch(sa, sb):
    if len(sa) == 1 and len(sb) == 1:
        return f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of elements, but got {sa[0]} and {sb[0]} elements respectively"
    if len(sa) <= 2 and len(sb) <= 2:
        a2 = sa if len(sa) == 2 else (1, sa[0])
        b2 = sb if len(sb) == 2 else (sb[0], 1)
        return f"mat1 and mat2 shapes cannot be multiplied ({a2[0]}x{a2[1]} and {b2[0]}x{b2[1]})"
    return f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[-1]}] but got: [{sb[0]}, {sb[-2]}]."


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/torch broadcasting over batch dims."""
    return write_out(Matmul.apply(input, other), out)


def mm(input, mat2, *, out=None):
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return write_out(Matmul.apply(input, mat2), out)


def bmm(input, mat2, *, out=None):
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0] or input._data.shape[2] != mat2._data.shape[1]:
        a, b = input._data.shape, mat2._data.shape
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a[0]}, {a[2]}] but got: [{b[0]}, {b[1]}].")
    return write_out(Matmul.apply(input, mat2), out)


def mv(input, vec, *, out=None):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    return write_out(Matmul.apply(input, vec), out)


def dot(input, other, *, out=None):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {type_name(input.dtype)} and "
                           f"{type_name(other.dtype)}")
    return write_out(Matmul.apply(input, other), out)


def vdot(input, other):
    return dot(input.conj(), other)


def outer(input, vec2):
    return input.unsqueeze(-1) * vec2


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return write_out(prod, out)
    return write_out(prod + (input if beta == 1 else input * beta), out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    prod = mv(mat, vec)
    return write_out((prod * alpha if alpha != 1 else prod) + (input * beta if beta != 1 else input), out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    prod = bmm(batch1, batch2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return write_out(prod, out)
    return write_out(prod + (input if beta == 1 else input * beta), out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    prod = bmm(batch1, batch2).sum(0)
    return write_out((prod * alpha if alpha != 1 else prod) + (input * beta if beta != 1 else input), out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    prod = outer(vec1, vec2)
    return write_out((prod * alpha if alpha != 1 else prod) + (input * beta if beta != 1 else input), out)


def chain_matmul(*matrices):
    out = matrices[0]
    for m in matrices[1:]:
        out = out @ m
    return out


class Einsum(Op):
    def forward(ctx, equation, *operands):
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        dt = D.result_type_raw(*operands).np
        ops = [o.astype(dt) if o.dtype != dt else o for o in operands]
        out = np.einsum(equation, *ops, optimize=len(ops) > 2)
        return out if out.__class__ is np.ndarray and out.dtype is dt else as_array(out, dt)

    def backward(ctx, g):
        ops = ctx.saved_tensors
        lhs, _, out_sub = ctx.equation.partition("->")
        in_subs = lhs.split(",")
        grads = [None]
        for i, sub in enumerate(in_subs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(in_subs) if j != i]
            other_ops = [o for j, o in enumerate(ops) if j != i]
            # letters of this operand that appear nowhere else were summed: broadcast them back
            present = set(out_sub) | set("".join(others))
            missing = [c for c in dict.fromkeys(sub) if c not in present]
            eq = ",".join([out_sub] + others) + "->" + "".join(c for c in dict.fromkeys(sub) if c in present)
            # complex: the adjoint multiplies by the other operands' conjugates
            gi = einsum(eq, g, *[o.conj() if o.is_complex() else o for o in other_ops])
            if missing or len(set(sub)) != len(sub):
                gi = _restore_subscripts(gi, "".join(c for c in dict.fromkeys(sub) if c in present), sub, ops[i].shape)
            grads.append(gi)
        return tuple(grads)


def _restore_subscripts(gi, have, want, shape):
    """Broadcast a gradient over letters that were summed away, and re-embed repeated letters."""
    sizes = dict(zip(want, shape))
    uniq = "".join(dict.fromkeys(want))
    for c in uniq:
        if c not in have:
            gi = gi.unsqueeze(-1).expand(*gi.shape, sizes[c])
            have += c
    if have != uniq:
        gi = einsum(have + "->" + uniq, gi)
    if len(uniq) == len(want):
        return gi
    # a repeated letter read a diagonal: spread the gradient over the full operand, masked to it
    fresh = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in want)
    seen, full = set(), ""
    for c in want:
        full += next(fresh) if c in seen else c
        seen.add(c)
    xp = array_module(gi._data)
    mask = xp.ones(shape, bool)
    for i, c in enumerate(want):
        for j in range(i):
            if want[j] == c:
                ii = xp.arange(shape[i]).reshape([-1 if k == i else 1 for k in range(len(shape))])
                jj = xp.arange(shape[j]).reshape([-1 if k == j else 1 for k in range(len(shape))])
                mask = mask & (ii == jj)
    spread = gi.reshape([sizes[c] if c in uniq else 1 for c in uniq])
    expanded = einsum(uniq + "," + full + "->" + full, spread, Tensor._wrap(mask.astype(gi._data.dtype)))
    return expanded


def einsum(equation, *operands):
    """Einstein summation (explicit or implicit output, ``...`` supported)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    equation = _expand_equation(equation, [o._data.shape for o in operands])
    return Einsum.apply(equation, *operands)


def _expand_equation(eq, shapes):
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    used = set(eq)
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
    n_ell = max((len(s) - len(sub.replace("...", "")) for s, sub in zip(shapes, subs) if "..." in sub), default=0)
    ell = "".join(free[:n_ell])
    new_subs = []
    for s, sub in zip(shapes, subs):
        if "..." in sub:
            k = len(s) - len(sub.replace("...", ""))
            sub = sub.replace("...", ell[n_ell - k:] if k else "")
        new_subs.append(sub)
    if not arrow:
        counts = {}
        for c in "".join(new_subs):
            counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return ",".join(new_subs) + "->" + rhs


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, int):
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    elif isinstance(dims, Tensor):
        da, db = dims.tolist()
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da = [d % a.ndim for d in da]
    db = [d % b.ndim for d in db]
    keep_a = [d for d in range(a.ndim) if d not in da]
    keep_b = [d for d in range(b.ndim) if d not in db]
    m = int(np.prod([a.shape[d] for d in keep_a]))
    n = int(np.prod([b.shape[d] for d in keep_b]))
    k = int(np.prod([a.shape[d] for d in da]))
    am = a.permute(keep_a + da).reshape(m, k)
    bm = b.permute(db + keep_b).reshape(k, n)
    return write_out((am @ bm).reshape([a.shape[d] for d in keep_a] + [b.shape[d] for d in keep_b]), out)


def inner(input, other):
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, ([-1], [-1]))


def kron(input, other):
    a, b = input, other
    nd = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.ndim) + tuple(b.shape))
    sa = [s for d in a.shape for s in (d, 1)]
    sb = [s for d in b.shape for s in (1, d)]
    return (a.reshape(sa) * b.reshape(sb)).reshape([x * y for x, y in zip(a.shape, b.shape)])


install(matmul=matmul, __matmul__=matmul, __rmatmul__=lambda self, other: matmul(other, self), mm=mm, bmm=bmm,
        mv=mv, dot=dot, vdot=vdot, inner=inner, outer=outer, ger=outer, addmm=addmm, addmv=addmv, baddbmm=baddbmm,
        addbmm=addbmm, addr=addr, kron=kron)
for _name in ("addmm", "addmv", "baddbmm", "addbmm", "addr"):
    from .inplace import inplace_method
    setattr(Tensor, _name + "_", inplace_method(globals()[_name]))

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "baddbmm",
           "addbmm", "addr", "chain_matmul", "einsum", "tensordot", "kron"]
