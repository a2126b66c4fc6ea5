"""Fused recurrent kernels: one op runs a whole RNN/LSTM/GRU layer in one direction.

Forward: one GEMM projects the inputs of every time step at once; each step then adds ``h @ W_hh^T``
and applies the gate math in place. Backward (back-propagation through time) runs the same loop in
reverse on raw arrays, keeping only the per-step gate gradients, and finishes with one GEMM each for
``dW_ih``, ``dW_hh``, ``dW_hr`` and the input gradient. The Python loop is over time steps only, so a
sequence of any length costs no recursion and memory proportional to the saved activations.

Sequences are time-major and flattened to ``(N, input_size)`` rows: step ``t`` owns the
``batch_sizes[t]`` rows starting at ``starts[t]``. A padded batch has every batch size equal; a
``PackedSequence`` has non-increasing ones (sequences sorted by length), so the active rows of a
step are always a prefix of the batch.

Gate layouts follow torch: LSTM ``(i, f, g, o)``, GRU ``(r, z, n)``.

With the compiled layer on (``ember._jit``), an LSTM step's gate math is one kernel call
(``ember/_kernels/rnn.py``: forward in float32, backward in float32/float64), so a step costs one GEMM
and one kernel; the NumPy step functions below are the same computation and run otherwise.
"""
import numpy as np

from ... import _jit
from ..._device import array_module
from ..._kernels import rnn as _kernels
from ..._tensor import Tensor
from ...autograd.function import Op
from ..._ops._util import compute_dtype
from ._recompute import creating_graph, recompute_grads

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _sigmoid_(a):
    """Logistic sigmoid in place (exp of -a may overflow to inf, which still gives the right 0)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    return a


def _lstm_gates_(g, neg_k, H):
    """Gate activations in place with one exp: sigmoid(x) = 1 / (1 + e^-x) for i, f, o and
    tanh(x) = 2 / (1 + e^-2x) - 1 for the cell gate (``neg_k`` holds -1 and -2)."""
    g *= neg_k
    np.exp(g, out=g)
    g += 1
    np.reciprocal(g, out=g)
    cell = g[:, 2 * H:3 * H]
    cell *= 2
    cell -= 1


def _schedule(batch_sizes, reverse):
    """(start row, batch size) of each step, in processing order. ``batch_sizes`` drives the Python loop
    over time, so it is read once as host integers (``tolist`` serves host and device arrays)."""
    steps, start = [], 0
    for b in batch_sizes.tolist():
        steps.append((start, b))
        start += b
    return steps[::-1] if reverse else steps


def _prev_rows(y, h0, steps):
    """The state each step started from, as rows aligned with ``y``: (N, H)."""
    out = np.empty_like(y)
    B = h0.shape[0]
    if all(b == B for _, b in steps):  # padded batch: a shifted copy of y
        forward = steps[0][0] == 0
        first, rest = (slice(0, B), slice(B, None)) if forward else (slice(-B, None), slice(0, -B))
        out[first] = h0
        out[rest] = y[B:] if not forward else y[:-B]
        return out
    prev_s = None
    for s, b in steps:
        if prev_s is None:
            out[s:s + b] = h0[:b]
        else:
            k = min(b, prev_b)
            out[s:s + k] = y[prev_s:prev_s + k]
            if b > k:  # reverse direction of a packed batch: rows that start here begin from h0
                out[s + k:s + b] = h0[k:b]
        prev_s, prev_b = s, b
    return out


class _RecurrentLayer(Op):
    """``(y, h_n[, c_n]) = layer(x, h0[, c0], w_ih, w_hh, b_ih, b_hh[, w_hr])`` over one direction."""

    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse):
        dt = x.dtype
        cdt = compute_dtype(dt)
        train = any(ctx.needs_input_grad)
        if train:  # version-checked, and the inputs of the composite form for double backward
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
        if cdt != dt:
            cast = [a if a is None else a.astype(cdt) for a in (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)]
            x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = cast
        steps = _schedule(batch_sizes, reverse)
        G = np.matmul(x, w_ih.T)
        if b_ih is not None:
            G += b_ih if mode == "GRU" else b_ih + b_hh
        run = {"LSTM": _lstm_forward, "GRU": _gru_forward}.get(mode, _rnn_forward)
        outs, saved = run(G, h0, c0, w_hh, b_hh, w_hr, mode, steps, train)
        if train:
            ctx.saved = saved
            ctx.arrays = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
            ctx.mode, ctx.steps, ctx.dt = mode, steps, dt
            ctx.batch_sizes, ctx.reverse = batch_sizes, reverse
            ctx.y = outs[0]
        if cdt != dt:
            outs = tuple(o.astype(dt) for o in outs)
        return outs

    def backward(ctx, dy, dhn, dcn=None):
        if creating_graph():
            return _double_backward(ctx, dy, dhn, dcn)
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = ctx.arrays
        cdt = x.dtype
        dy, dhn = dy._data.astype(cdt, copy=False), dhn._data.astype(cdt, copy=False)
        dcn = None if dcn is None else dcn._data.astype(cdt, copy=False)
        run = {"LSTM": _lstm_backward, "GRU": _gru_backward}.get(ctx.mode, _rnn_backward)
        dXp, dHp, hprev, dh0, dc0, dw_hr = run(ctx, dy, dhn, dcn)
        need = ctx.needs_input_grad
        dx = np.matmul(dXp, w_ih) if need[0] else None
        dw_ih = np.matmul(dXp.T, x) if need[3] else None
        dw_hh = np.matmul(dHp.T, hprev) if need[4] else None
        db_ih = dXp.sum(0) if b_ih is not None and need[5] else None
        db_hh = None
        if b_hh is not None and need[6]:
            db_hh = db_ih if dHp is dXp and db_ih is not None else dHp.sum(0)
        dt = ctx.dt

        def wrap(a):
            return None if a is None else Tensor._wrap(a.astype(dt, copy=False))
        return (wrap(dx), wrap(dh0), wrap(dc0), wrap(dw_ih), wrap(dw_hh), wrap(db_ih), wrap(db_hh), wrap(dw_hr),
                None, None, None)


# ---------------------------------------------------------------- LSTM
def _lstm_forward(G, h0, c0, w_hh, b_hh, w_hr, mode, steps, train):
    H = c0.shape[1]
    N = G.shape[0]
    B = h0.shape[0]
    dt = G.dtype
    xp = array_module(G)
    h, c = h0.copy(), c0.copy()
    y = xp.empty((N, h0.shape[1]), dtype=dt)
    C = xp.empty((N, H), dtype=dt) if train else None
    TC = xp.empty((N, H), dtype=dt) if train else xp.empty((B, H), dtype=dt)
    HU = xp.empty((N if train else B, H), dtype=dt) if w_hr is not None else None
    rec = xp.empty((B, 4 * H), dtype=dt)
    if dt == np.float32 and _jit.enabled_for(G):
        cell_step = _compiled_lstm_step(H)
    else:
        cell_step = _numpy_lstm_step(B, H, dt, xp)
    # np.dot hands W_hh^T to BLAS as a transpose flag: no transposed copy of the weight per call
    for s, b in steps:
        e = s + b
        cs = c[:b]
        tc = TC[s:e] if train else TC[:b]
        hu = y[s:e] if w_hr is None else (HU[s:e] if train else HU[:b])
        cell_step(G[s:e], np.dot(h[:b], w_hh.T, out=rec[:b]), cs, tc, hu)
        if train:
            C[s:e] = cs
        if w_hr is not None:
            np.dot(hu, w_hr.T, out=y[s:e])
        h[:b] = y[s:e]
    return (y, h, c), (G, C, TC if train else None, HU if train else None)


def _compiled_lstm_step(H):
    """The gate math of one step as one kernel call (float32)."""
    k, a, b = _kernels.gate_constants(H)
    pow2_bits = np.empty(4 * H, np.int32)

    def step(g, rec, c, tc, hu):
        _kernels.lstm_cell_forward(g, rec, k, a, b, c, tc, hu, pow2_bits)
    return step


def _numpy_lstm_step(B, H, dt, xp=np):
    """The gate math of one step in NumPy (or CuPy), in place: g becomes the activations, c the new cell
    state, tc = tanh(c), hu = o * tc."""
    ig = xp.empty((B, H), dtype=dt)
    neg_k = xp.full(4 * H, -1.0, dtype=dt)
    neg_k[2 * H:3 * H] = -2.0

    def step(g, rec, c, tc, hu):
        g += rec
        _lstm_gates_(g, neg_k, H)
        c *= g[:, H:2 * H]
        c += np.multiply(g[:, :H], g[:, 2 * H:3 * H], out=ig[:g.shape[0]])
        np.tanh(c, out=tc)
        np.multiply(g[:, 3 * H:], tc, out=hu)
    return step


def _lstm_backward(ctx, dy, dhn, dcn):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = ctx.arrays
    A, C, TC, HU = ctx.saved
    steps = ctx.steps
    hprev = _prev_rows(ctx.y, h0, steps)
    cprev = _prev_rows(C, c0, steps)
    run = _lstm_backward_compiled if _jit.enabled_for(A) and A.dtype in _FLOATS else _lstm_backward_numpy
    dG, dh, dc, DHT = run(dy, dhn, dcn, A, C, TC, cprev, w_hh, w_hr, steps)
    dw_hr = np.matmul(DHT.T, HU) if w_hr is not None and ctx.needs_input_grad[7] else None
    return dG, dG, hprev, dh, dc, dw_hr


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _lstm_backward_compiled(dy, dhn, dcn, A, C, TC, cprev, w_hh, w_hr, steps):
    """Back through time with one kernel call and one GEMM per step."""
    dy = np.ascontiguousarray(dy)
    dG = np.empty_like(A)
    dh, dc = dhn.copy(), dcn.copy()
    DHT = np.empty_like(dy) if w_hr is not None else None
    no_dh = np.zeros_like(dc) if w_hr is not None else None  # dh is folded into the projected dht
    for s, b in reversed(steps):
        e = s + b
        if w_hr is None:
            _kernels.lstm_cell_backward(dy[s:e], dh[:b], A[s:e], TC[s:e], cprev[s:e], dc[:b], dG[s:e])
        else:
            dht = np.add(dy[s:e], dh[:b], out=DHT[s:e])
            _kernels.lstm_cell_backward(dht @ w_hr, no_dh[:b], A[s:e], TC[s:e], cprev[s:e], dc[:b], dG[s:e])
        np.matmul(dG[s:e], w_hh, out=dh[:b])
    return dG, dh, dc, DHT


def _lstm_backward_numpy(dy, dhn, dcn, A, C, TC, cprev, w_hh, w_hr, steps):
    H = C.shape[1]
    N = A.shape[0]
    i, f, g, o = A[:, :H], A[:, H:2 * H], A[:, 2 * H:3 * H], A[:, 3 * H:]
    # Everything that does not depend on the recurrent gradient, for all steps at once.
    P = array_module(A).empty((N, 3, H), dtype=A.dtype)
    np.multiply(g, i * (1 - i), out=P[:, 0])
    np.multiply(cprev, f * (1 - f), out=P[:, 1])
    np.multiply(i, 1 - g * g, out=P[:, 2])
    Q = o * (1 - TC * TC)
    R = TC * o * (1 - o)
    dG = np.empty_like(A)
    dh, dc = dhn.copy(), dcn.copy()
    DHT = np.empty_like(dy) if w_hr is not None else None
    for s, b in reversed(steps):
        e = s + b
        dht = dy[s:e] + dh[:b]
        if w_hr is not None:
            DHT[s:e] = dht
            dht = np.matmul(dht, w_hr)
        dct = dc[:b]
        dct += dht * Q[s:e]
        np.multiply(P[s:e], dct[:, None, :], out=dG[s:e, :3 * H].reshape(b, 3, H))
        np.multiply(dht, R[s:e], out=dG[s:e, 3 * H:])
        dct *= f[s:e]
        np.matmul(dG[s:e], w_hh, out=dh[:b])
    return dG, dh, dc, DHT


# ---------------------------------------------------------------- GRU
def _gru_forward(G, h0, c0, w_hh, b_hh, w_hr, mode, steps, train):
    H = h0.shape[1]
    N = G.shape[0]
    xp = array_module(G)
    h = h0.copy()
    y = xp.empty((N, H), dtype=G.dtype)
    HN = xp.empty((N, H), dtype=G.dtype) if train else None
    for s, b in steps:
        g = G[s:s + b]
        hp = np.dot(h[:b], w_hh.T)
        if b_hh is not None:
            hp += b_hh
        rz = g[:, :2 * H]
        rz += hp[:, :2 * H]
        _sigmoid_(rz)
        hn = hp[:, 2 * H:]
        if train:
            HN[s:s + b] = hn
        n = g[:, 2 * H:]
        n += rz[:, :H] * hn
        np.tanh(n, out=n)
        hs = h[:b]
        hs -= n
        hs *= rz[:, H:]
        hs += n
        y[s:s + b] = hs
    return (y, h), (G, HN)


def _gru_backward(ctx, dy, dhn, dcn):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = ctx.arrays
    A, HN = ctx.saved
    steps = ctx.steps
    H = h0.shape[1]
    hprev = _prev_rows(ctx.y, h0, steps)
    r, z, n = A[:, :H], A[:, H:2 * H], A[:, 2 * H:]
    Dn = (1 - z) * (1 - n * n)
    Dz = (hprev - n) * z * (1 - z)
    Dr = HN * r * (1 - r)
    dXp = np.empty_like(A)
    dHp = np.empty_like(A)
    dh = dhn.copy()
    for s, b in reversed(steps):
        e = s + b
        dht = dy[s:e] + dh[:b]
        dn = np.multiply(dht, Dn[s:e], out=dXp[s:e, 2 * H:])
        np.multiply(dn, Dr[s:e], out=dXp[s:e, :H])
        np.multiply(dht, Dz[s:e], out=dXp[s:e, H:2 * H])
        dHp[s:e, :2 * H] = dXp[s:e, :2 * H]
        np.multiply(dn, r[s:e], out=dHp[s:e, 2 * H:])
        dht *= z[s:e]
        dht += np.matmul(dHp[s:e], w_hh)
        dh[:b] = dht
    return dXp, dHp, hprev, dh, None, None


# ---------------------------------------------------------------- Elman RNN
def _rnn_forward(G, h0, c0, w_hh, b_hh, w_hr, mode, steps, train):
    h = h0.copy()
    relu = mode == "RNN_RELU"
    for s, b in steps:
        g = G[s:s + b]
        g += np.dot(h[:b], w_hh.T)
        if relu:
            np.maximum(g, 0, out=g)
        else:
            np.tanh(g, out=g)
        h[:b] = g
    return (G, h), ()


def _rnn_backward(ctx, dy, dhn, dcn):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = ctx.arrays
    y = ctx.y
    steps = ctx.steps
    hprev = _prev_rows(y, h0, steps)
    D = (y > 0).astype(y.dtype) if ctx.mode == "RNN_RELU" else 1 - y * y
    dP = np.empty_like(y)
    dh = dhn.copy()
    for s, b in reversed(steps):
        e = s + b
        dp = np.add(dy[s:e], dh[:b], out=dP[s:e])
        dp *= D[s:e]
        np.matmul(dp, w_hh, out=dh[:b])
    return dP, dP, hprev, dh, None, None


# ---------------------------------------------------------------- composite form (double backward)
def _double_backward(ctx, dy, dhn, dcn):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = ctx.saved_tensors
    mode, batch_sizes, reverse = ctx.mode, ctx.batch_sizes, ctx.reverse

    def composite(*args):
        return layer_composite(*args, mode, batch_sizes, reverse)

    grads = recompute_grads(composite, (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr), (dy, dhn, dcn),
                            ctx.needs_input_grad[:8])
    return grads + (None, None, None)


def _cell_composite(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, mode):
    """One time step in plain ember ops: returns (h', c')."""
    gi = x @ w_ih.t()
    gh = h @ w_hh.t()
    if b_ih is not None:
        gi = gi + b_ih
        gh = gh + b_hh
    if mode == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        if w_hr is not None:
            h = h @ w_hr.t()
        return h, c
    if mode == "GRU":
        ir, iz, in_ = gi.chunk(3, 1)
        hr, hz, hn = gh.chunk(3, 1)
        r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
        n = (in_ + r * hn).tanh()
        return n + z * (h - n), None
    pre = gi + gh
    return (pre * (pre > 0) if mode == "RNN_RELU" else pre.tanh()), None


def layer_composite(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse):
    """The fused layer unrolled into ember ops (reference semantics; used for higher-order gradients)."""
    from ... import cat
    steps = _schedule(batch_sizes, reverse)
    h, c = h0, c0
    ys = {}
    for s, b in steps:
        hb, cb = h[:b], (c[:b] if c is not None else None)
        hn, cn = _cell_composite(x[s:s + b], hb, cb, w_ih, w_hh, b_ih, b_hh, w_hr, mode)
        ys[s] = hn
        h = cat([hn, h[b:]]) if b < h.shape[0] else hn
        if c is not None:
            c = cat([cn, c[b:]]) if b < c.shape[0] else cn
    y = cat([ys[s] for s in sorted(ys)])
    return (y, h, c) if mode == "LSTM" else (y, h)


def recurrent_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse=False):
    """Run one direction of one layer over time-major rows ``x`` (N, input_size).

    Returns ``(y, h_n)`` or, for LSTM, ``(y, h_n, c_n)``. ``batch_sizes`` (NumPy ints) gives the number
    of active rows per step.
    """
    return _RecurrentLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse)


def _cell(mode, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
    batched = input.dim() == 2
    if not batched:
        input = input.unsqueeze(0)
        hx = hx.unsqueeze(0)
        cx = cx.unsqueeze(0) if cx is not None else None
    sizes = np.array([input.shape[0]])
    out = _RecurrentLayer.apply(input, hx, cx, w_ih, w_hh, b_ih, b_hh, None, mode, sizes, False)
    h = out[1]
    c = out[2] if mode == "LSTM" else None
    if not batched:
        h = h.squeeze(0)
        c = c.squeeze(0) if c is not None else None
    return h, c


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (``torch.lstm_cell``): ``hx = (h, c)``; returns ``(h', c')``."""
    return _cell("LSTM", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (``torch.gru_cell``)."""
    return _cell("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with tanh (``torch.rnn_tanh_cell``)."""
    return _cell("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with ReLU (``torch.rnn_relu_cell``)."""
    return _cell("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


__all__ = []
