"""linear and bilinear: y = x W^T + b as one fused op (one GEMM forward, two GEMMs backward)."""
import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd.function import Op, OP_ATTRS, PLAIN_APPLY, _edge, saved_input
from ...autograd.grad_mode import _enabled
from ..._ops._util import type_name, compute_dtype

__all__ = ["linear", "bilinear"]


def _check(x, w):
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {type_name(D._BY_NP[x.dtype])} and "
                           f"{type_name(D._BY_NP[w.dtype])}")
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        rows = x.size // x.shape[-1] if x.ndim and x.shape[-1] else 1
        cols = x.shape[-1] if x.ndim else 1
        if x.ndim == 1:
            rows, cols = 1, x.shape[0]
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and "
                           f"{w.shape[-1]}x{w.shape[0] if w.ndim == 2 else 1})")


class Linear(Op):
    def forward(ctx, x, w, b):
        dt = x.dtype
        if dt in _FAST and w.dtype == dt and x.ndim == 2 and w.ndim == 2 and x.shape[1] == w.shape[1]:
            # the common case: one 2-D GEMM in the input's own dtype, no reshapes or casts
            ctx._to_save = (x, w)
            out = np.dot(x, w.T)
            if b is not None:
                out += b if b.dtype == dt else b.astype(dt)
            return out
        if x.dtype != w.dtype or x.ndim == 0 or x.shape[-1] != w.shape[-1]:
            _check(x, w)
        ctx.save_for_backward(x, w)
        cdt = compute_dtype(x.dtype)
        xc, wc = (x, w) if cdt == x.dtype else (x.astype(cdt), w.astype(cdt))
        # Fold leading dims into one GEMM.
        x2 = xc.reshape(-1, xc.shape[-1]) if xc.ndim != 2 else xc
        # np.dot hands the transpose to BLAS as a flag; np.matmul copies F-ordered operands
        out = np.dot(x2, wc.T) if w.ndim == 2 else np.dot(x2, wc)
        if b is not None:
            out += b if b.dtype == cdt else b.astype(cdt)
        out = out.reshape(x.shape[:-1] + w.shape[:-1])
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    def backward(ctx, g):
        # an input's edge is None when it needs no gradient (the bias's also when there is none)
        ex, ew, eb = ctx._edges
        if not _enabled[0]:
            x, w = ctx._saved_arrays()
            return _raw_backward(g._data, x, w, ex is not None, ew is not None, eb is not None)
        x, w = ctx.saved_tensors
        n_out = w.shape[0] if w.ndim == 2 else 1
        g2 = g.reshape(-1, n_out)
        gx = (g2 @ w.reshape(n_out, -1)).reshape(x.shape) if ex is not None else None
        gw = (g2.T @ x.reshape(-1, x.shape[-1])).reshape(w.shape) if ew is not None else None
        gb = g2.sum(0).reshape(w.shape[:-1]) if eb is not None else None
        return gx, gw, gb


def _raw_backward(g, x, w, need_x, need_w, need_b):
    dt = g.dtype
    if g.ndim == 2 and x.ndim == 2 and w.ndim == 2 and dt in _FAST and x.dtype is dt and w.dtype is dt:
        # 2-D, one floating dtype: the three GEMM/sum results need no reshape or cast
        return (Tensor._wrap(np.dot(g, w)) if need_x else None,
                Tensor._wrap(np.dot(g.T, x)) if need_w else None,
                Tensor._wrap(_column_sums(g)) if need_b else None)
    n_out = w.shape[0] if w.ndim == 2 else 1
    cdt = compute_dtype(dt)
    g2 = g.reshape(-1, n_out).astype(cdt, copy=False)
    gx = gw = gb = None
    if need_x:
        gx = Tensor._wrap(np.dot(g2, w.reshape(n_out, -1).astype(cdt, copy=False)).reshape(x.shape)
                          .astype(dt, copy=False))
    if need_w:
        x2 = x.reshape(-1, x.shape[-1]).astype(cdt, copy=False)
        gw = Tensor._wrap(np.dot(g2.T, x2).reshape(w.shape).astype(dt, copy=False))
    if need_b:
        gb = Tensor._wrap(_column_sums(g2).reshape(w.shape[:-1]).astype(dt, copy=False))
    return gx, gw, gb


def _column_sums(g):
    """g.sum(0) for the bias gradient. On the host, in float32/float64, a GEMV with a ones vector: BLAS
    reads g once, 1.5-5x faster than NumPy's axis-0 sum at (64, 10) ... (2048, 384)."""
    if g.__class__ is not np.ndarray or g.dtype not in _FAST:
        return g.sum(0, dtype=compute_dtype(g.dtype))
    key = (g.shape[0], g.dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 32:  # batch sizes seen by a few models; not a growing store
            _ONES.clear()
        ones = _ONES[key] = np.ones(g.shape[0], g.dtype)
        ones.flags.writeable = False
    return np.dot(ones, g)


_ONES = {}  # (rows, dtype) -> read-only ones vector


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, over any leading dims.

    >>> F.linear(ember.ones(2, 3), ember.ones(4, 3)).shape
    torch.Size([2, 4])
    """
    if input.__class__ is Tensor and OP_ATTRS["apply"] is PLAIN_APPLY:
        x, w = input._data, weight._data
        if (x.__class__ is np.ndarray and w.__class__ is np.ndarray and x.ndim == 2 and w.ndim == 2
                and x.dtype in _FAST and w.dtype is x.dtype and x.shape[1] == w.shape[1]):
            # 2-D, one host floating dtype: Linear.forward's GEMM and bias add, and its node, without
            # the op machinery
            if bias is None:
                out = np.dot(x, w.T)
            else:
                b = bias._data
                if b.__class__ is not np.ndarray or b.dtype is not x.dtype or b.shape != w.shape[:1]:
                    return Linear.apply(input, weight, bias)
                out = np.dot(x, w.T)
                out += b
            if _enabled[0]:
                edges = (_edge(input), _edge(weight), None if bias is None else _edge(bias))
                if edges != _NO_EDGES:
                    # saved as _resolve_saved saves them: each by the first argument holding its array
                    return Linear._record(out, edges, (saved_input(input),
                                                       saved_input(input if x is w else weight)))
            t = _new(Tensor)
            t._data = out
            return t
    return Linear.apply(input, weight, bias)


_NO_EDGES = (None, None, None)
_FAST = (np.dtype(np.float32), np.dtype(np.float64))
_new = object.__new__


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = x1 W[o] x2^T + b[o]."""
    from ..._ops.blas import einsum
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
                           f"{list(input2.shape[:-1])}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {weight.shape[2]}")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out
