"""Recurrent layers, cells, embeddings and nn.utils.rnn against torch.

Each case builds the same module in both libraries, copies torch's weights into ember through
``load_state_dict`` and compares outputs, final states and the gradients of inputs, initial states
and every parameter.
"""
import itertools
import math
import warnings

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, check_op, check_error, assert_same, as_numpy
from nn.util import copy_weights

pytestmark = needs_torch
if torch is not None:
    torch.set_num_threads(1)  # tiny ops: OpenMP start-up and spinning cost more than they save
rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def _flat(x):
    if isinstance(x, (tuple, list)):
        return [y for item in x for y in _flat(item)]
    return [x]


def _leaf(a, lib):
    t = (torch.from_numpy(a.copy()) if lib is torch else ember.from_numpy(a.copy()))
    return t.requires_grad_(True)


def compare_module(build, x, hx=None, dtype=np.float32, tol=None, train=False):
    """Same module on both sides: outputs, final states, and grads of x, hx and all parameters."""
    tm, em = build(torch.nn), build(ember.nn)
    copy_weights(tm, em)
    if dtype == np.float64:
        tm.double(), em.double()
    tm.train(train), em.train(train)
    tx, ex = _leaf(x.astype(dtype), torch), _leaf(x.astype(dtype), ember)
    th = eh = None
    if hx is not None:
        th = tuple(_leaf(h.astype(dtype), torch) for h in hx) if isinstance(hx, tuple) else _leaf(hx.astype(dtype), torch)
        eh = tuple(_leaf(h.astype(dtype), ember) for h in hx) if isinstance(hx, tuple) else _leaf(hx.astype(dtype), ember)
    t_out, e_out = tm(tx, th), em(ex, eh)
    assert_same(e_out, t_out, tol, tol)
    t_flat, e_flat = _flat(t_out), _flat(e_out)
    ws = [rng.standard_normal(tuple(o.shape)) for o in t_flat]
    sum(((o * torch.from_numpy(w).to(o.dtype)).sum() for o, w in zip(t_flat, ws))).backward()
    sum(((o * ember.from_numpy(w).to(o.dtype)).sum() for o, w in zip(e_flat, ws))).backward()
    assert_same(ex.grad, tx.grad, tol, tol, "grad of input")
    for i, (a, b) in enumerate(zip(_flat(eh), _flat(th))):
        if b is not None:
            assert_same(a.grad, b.grad, tol, tol, f"grad of hx[{i}]")
    t_params = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        assert_same(p.grad, t_params[name].grad, tol, tol, f"grad of {name}")
    return em, tm


KINDS = ["LSTM", "GRU", "RNN"]
OPTIONS = list(itertools.product([1, 2], [True, False], [False, True], [False, True]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers,bias,batch_first,bidirectional", OPTIONS)
def test_recurrent_options(kind, num_layers, bias, batch_first, bidirectional):
    x = randn(3, 5, 4) if batch_first else randn(5, 3, 4)
    compare_module(lambda nn: getattr(nn, kind)(4, 6, num_layers=num_layers, bias=bias, batch_first=batch_first,
                                                bidirectional=bidirectional), x)


@pytest.mark.parametrize("kind", KINDS)
def test_initial_states_float64_and_unbatched(kind):
    L = 4  # 2 layers x 2 directions
    h0 = randn(L, 3, 6)
    hx = (h0, randn(L, 3, 6)) if kind == "LSTM" else h0
    build = lambda nn: getattr(nn, kind)(4, 6, num_layers=2, bidirectional=True)  # noqa: E731
    compare_module(build, randn(5, 3, 4), hx)
    compare_module(build, randn(5, 3, 4), hx, dtype=np.float64)
    hx1 = tuple(h[:, 0] for h in hx) if kind == "LSTM" else hx[:, 0]
    compare_module(build, randn(5, 4), hx1)
    compare_module(build, randn(5, 4))


def test_rnn_relu():
    compare_module(lambda nn: nn.RNN(4, 6, num_layers=2, nonlinearity="relu", bidirectional=True), randn(5, 3, 4))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_proj_size(bidirectional):
    build = lambda nn: nn.LSTM(4, 6, num_layers=2, proj_size=3, bidirectional=bidirectional)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_module(build, randn(5, 3, 4))
        L = 2 * (2 if bidirectional else 1)
        compare_module(build, randn(5, 3, 4), (randn(L, 3, 3), randn(L, 3, 6)))


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_between_layers(kind):
    # p=0 in training mode is exact; p>0 differs between train and eval, and eval is deterministic.
    compare_module(lambda nn: getattr(nn, kind)(4, 6, num_layers=2, dropout=0.0), randn(5, 3, 4), train=True)
    m = getattr(ember.nn, kind)(4, 6, num_layers=3, dropout=0.5)
    x = ember.from_numpy(randn(5, 3, 4))
    m.eval()
    a, b = m(x)[0], m(x)[0]
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    c, d = m(x)[0], m(x)[0]
    assert not np.allclose(c.detach().numpy(), a.detach().numpy()) and not np.allclose(c.detach().numpy(), d.detach().numpy())
    # only between layers: a single layer ignores dropout (and warns, as torch)
    with pytest.warns(UserWarning, match="dropout option adds dropout after all but last recurrent layer"):
        one = getattr(ember.nn, kind)(4, 6, num_layers=1, dropout=0.5)
    assert np.array_equal(one(x)[0].detach().numpy(), one(x)[0].detach().numpy())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_first,bidirectional,enforce_sorted", [(False, False, True), (False, True, False),
                                                                       (True, True, False)])
def test_packed_sequence_input(kind, batch_first, bidirectional, enforce_sorted):
    lengths = [6, 4, 2, 1] if enforce_sorted else [2, 6, 1, 4]
    tm = getattr(torch.nn, kind)(3, 5, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    em = copy_weights(tm, getattr(ember.nn, kind)(3, 5, num_layers=2, batch_first=batch_first,
                                                  bidirectional=bidirectional))
    L = 2 * (2 if bidirectional else 1)

    def run(lib, x, h):
        U = lib.nn.utils.rnn
        m = em if lib is ember else tm
        packed = U.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
        out, hn = m(packed, (h, h * 0.5) if kind == "LSTM" else h)
        padded, lens = U.pad_packed_sequence(out, batch_first=batch_first)
        return padded, lens, hn, out.data

    x = randn(4, 6, 3) if batch_first else randn(6, 4, 3)
    check_op(run, x, randn(L, 4, 5))


@pytest.mark.parametrize("kind", KINDS)
def test_inference_path_matches(kind):
    # under no_grad the kernels keep no activations; results are the same
    kw = {"proj_size": 3} if kind == "LSTM" else {}
    tm = getattr(torch.nn, kind)(4, 6, num_layers=2, bidirectional=True, **kw)
    em = copy_weights(tm, getattr(ember.nn, kind)(4, 6, num_layers=2, bidirectional=True, **kw))
    x = randn(5, 3, 4)
    with torch.no_grad(), ember.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(em(ember.from_numpy(x)), tm(torch.from_numpy(x)))


def test_packed_gives_same_as_individual_sequences():
    # each sequence of a packed batch equals running it alone
    m = ember.nn.LSTM(3, 4, bidirectional=True)
    seqs = [ember.from_numpy(randn(n, 3)) for n in (5, 2, 4)]
    out, (h, c) = m(ember.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False))
    padded, lengths = ember.nn.utils.rnn.pad_packed_sequence(out)
    for i, s in enumerate(seqs):
        o1, (h1, _) = m(s)
        np.testing.assert_allclose(padded[:len(s), i].detach().numpy(), o1.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h[:, i].detach().numpy(), h1.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert lengths.tolist() == [5, 2, 4]


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells(kind, bias):
    extra = [{"nonlinearity": "relu"}] if kind == "RNNCell" else []
    for kw in [{}] + extra:
        tm = getattr(torch.nn, kind)(3, 5, bias=bias, **kw)
        em = copy_weights(tm, getattr(ember.nn, kind)(3, 5, bias=bias, **kw))
        for shape in [(4, 3), (3,)]:
            def run(lib, x, h):
                m = em if lib is ember else tm
                return m(x, (h, h * 2) if kind == "LSTMCell" else h), m(x)
            check_op(run, randn(*shape), randn(*shape[:-1], 5))


def test_cell_loop_matches_layer():
    # unrolling LSTMCell by hand gives the LSTM layer (same weights)
    layer = ember.nn.LSTM(3, 4)
    cell = ember.nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = ember.from_numpy(randn(6, 2, 3))
    h = c = ember.zeros(2, 4)
    for t in range(6):
        h, c = cell(x[t], (h, c))
    out, (hn, cn) = layer(x)
    np.testing.assert_allclose(h.detach().numpy(), hn[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.detach().numpy(), cn[0].detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_names_shapes_and_init(kind):
    kw = dict(num_layers=2, bidirectional=True, **({"proj_size": 3} if kind == "LSTM" else {}))
    tm, em = getattr(torch.nn, kind)(4, 6, **kw), getattr(ember.nn, kind)(4, 6, **kw)
    t_shapes = [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == t_shapes
    assert repr(em) == repr(tm)
    bound = 1 / math.sqrt(6)
    a = np.concatenate([p.detach().numpy().ravel() for p in em.parameters()])
    assert a.min() >= -bound and a.max() <= bound
    assert abs(a.std() - bound / math.sqrt(3)) < 0.02  # U(-b, b) has std b / sqrt(3)


def test_reprs_and_errors():
    for build in [lambda nn: nn.RNN(3, 4, nonlinearity="relu", num_layers=2, bias=False, batch_first=True,
                                     dropout=0.1, bidirectional=True),
                  lambda nn: nn.GRUCell(3, 4, bias=False), lambda nn: nn.RNNCell(3, 4, nonlinearity="relu")]:
        assert repr(build(ember.nn)) == repr(build(torch.nn))
    lstm = lambda lib: copy_weights(torch.nn.LSTM(3, 4), ember.nn.LSTM(3, 4)) if lib is ember else torch.nn.LSTM(3, 4)  # noqa: E731
    check_error(lambda lib, x: lstm(lib)(x), randn(2, 3, 5), match="input.size\\(-1\\) must be equal to input_size")
    check_error(lambda lib, x: lstm(lib)(x), randn(2, 3, 3, 3), match="Expected input to be 2D or 3D")
    check_error(lambda lib, x, h, c: lstm(lib)(x, (h, c)), randn(2, 3, 3), randn(1, 3, 4), randn(1, 2, 4),
                match="Expected hidden\\[1\\] size")
    check_error(lambda lib, x, h: (lib.nn.GRU(3, 4))(x, h), randn(2, 3, 3), randn(2, 3, 4),
                match="Expected hidden size")
    check_error(lambda lib, x: lib.nn.LSTMCell(3, 4)(x), randn(2, 5), match="input has inconsistent input_size")
    check_error(lambda lib: lib.nn.GRU(3, 4, proj_size=2), match="proj_size argument is only supported for LSTM")
    check_error(lambda lib: lib.nn.LSTM(3, 4, proj_size=4), match="proj_size has to be smaller than hidden_size")
    check_error(lambda lib: lib.nn.RNN(3, 4, nonlinearity="gelu"), match="Unknown nonlinearity")


def test_long_sequence_no_recursion_and_bounded_memory():
    # 1000 steps: backward runs without recursion; the graph holds one node per layer and direction.
    m = ember.nn.LSTM(8, 16, num_layers=2)
    x = ember.randn(1000, 2, 8, requires_grad=True)
    out, _ = m(x)
    node, depth, seen = out.grad_fn, 0, set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        stack.extend(f for f, _ in n.next_functions if f is not None and hasattr(f, "next_functions"))
    assert len(seen) < 20
    out.sum().backward()
    assert x.grad.shape == (1000, 2, 8) and np.isfinite(x.grad.detach().numpy()).all()
    for p in m.parameters():
        assert p.grad is not None and np.isfinite(p.grad.detach().numpy()).all()


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_TANH"])
def test_double_backward_through_fused_layer(kind):
    # create_graph=True re-runs the layer's composite form: second derivatives are exact.
    from ember.nn.functional._rnn_cells import recurrent_layer
    G = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1}[kind]
    H, I, B = 2, 2, 2
    sizes = np.array([2, 1])  # packed: lengths 2 and 1
    t = lambda *s: ember.from_numpy(randn(*s).astype(np.float64))  # noqa: E731
    c0 = t(B, H) if kind == "LSTM" else None
    w_ih, b_ih, b_hh = t(G * H, I), t(G * H), t(G * H)

    def f(x, h, w_hh):
        return tuple(recurrent_layer(x, h, c0, w_ih, w_hh, b_ih, b_hh, None, kind, sizes, False))
    inputs = [t(3, I).requires_grad_(True), t(B, H).requires_grad_(True), t(G * H, H).requires_grad_(True)]
    assert ember.autograd.gradcheck(f, inputs)
    assert ember.autograd.gradgradcheck(f, inputs)


# ---------------------------------------------------------------- embeddings
def test_embedding_module():
    idx = np.array([[1, 2, 2, 9], [0, 3, 2, 1]])
    for kw in [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True}, {"max_norm": 1.0}]:
        tm = torch.nn.Embedding(10, 4, **kw)
        em = copy_weights(tm, ember.nn.Embedding(10, 4, **kw))
        out_t, out_e = tm(torch.from_numpy(idx)), em(ember.from_numpy(idx))
        assert_same(out_e, out_t)
        g = randn(2, 4, 4)
        out_t.backward(torch.from_numpy(g))
        out_e.backward(ember.from_numpy(g))
        assert_same(em.weight.grad, tm.weight.grad)
        assert_same(em.weight, tm.weight)  # max_norm renormalises in place
        assert repr(em) == repr(tm)
    w = randn(5, 3)
    pre_t = torch.nn.Embedding.from_pretrained(torch.from_numpy(w), padding_idx=1)
    pre_e = ember.nn.Embedding.from_pretrained(ember.from_numpy(w), padding_idx=1)
    assert not pre_e.weight.requires_grad and repr(pre_e) == repr(pre_t)
    assert ember.nn.Embedding(10, 3, padding_idx=0).weight[0].abs().sum().item() == 0
    check_error(lambda lib, i: lib.nn.functional.embedding(i, lib.ones(3, 2)), np.array([1, 5]))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    w = randn(10, 4)
    flat, offsets = np.array([1, 2, 4, 5, 4, 3, 7]), np.array([0, 2, 2, 6])

    def bag(lib, w, idx, off=None, psw=None, **kw):
        return lib.nn.functional.embedding_bag(lib.from_numpy(idx), w, None if off is None else lib.from_numpy(off),
                                               per_sample_weights=psw, mode=mode, **kw)
    check_op(lambda lib, w: bag(lib, w, flat, offsets), w)
    check_op(lambda lib, w: bag(lib, w, np.array([[1, 2, 2, 9], [0, 3, 2, 1]])), w)
    check_op(lambda lib, w: bag(lib, w, flat, offsets, padding_idx=4), w)
    check_op(lambda lib, w: bag(lib, w, flat, np.array([0, 2, 2, 6, 7]), include_last_offset=True), w)
    if mode == "sum":
        check_op(lambda lib, w, p: bag(lib, w, flat, offsets, psw=p), w, randn(7))
        check_op(lambda lib, w, p: bag(lib, w, flat, offsets, psw=p, padding_idx=4), w, randn(7))
    else:
        check_error(lambda lib, w, p: bag(lib, w, flat, offsets, psw=p), w, randn(7))
    tm = torch.nn.EmbeddingBag(10, 4, mode=mode)
    em = copy_weights(tm, ember.nn.EmbeddingBag(10, 4, mode=mode))
    assert_same(em(ember.from_numpy(flat), ember.from_numpy(offsets)), tm(torch.from_numpy(flat),
                                                                          torch.from_numpy(offsets)))
    assert repr(em) == repr(tm)


# ---------------------------------------------------------------- nn.utils.rnn
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[6, 4, 4, 1], [2, 6, 1, 4]])
def test_pack_pad_roundtrip(batch_first, lengths):
    enforce = lengths == sorted(lengths, reverse=True)

    def run(lib, x):
        U = lib.nn.utils.rnn
        p = U.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce)
        padded, lens = U.pad_packed_sequence(p, batch_first=batch_first, padding_value=-1.0, total_length=7)
        return p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices, padded, lens
    check_op(run, randn(4, 6, 3) if batch_first else randn(6, 4, 3))


def test_pad_pack_unpad_sequence():
    seqs = [randn(n, 3) for n in (3, 5, 1)]
    for batch_first, side in itertools.product([False, True], ["left", "right"]):
        check_op(lambda lib, a, b, c: lib.nn.utils.rnn.pad_sequence([a, b, c], batch_first=batch_first,
                                                                    padding_value=-1.0, padding_side=side), *seqs)
    check_op(lambda lib, a, b, c: lib.nn.utils.rnn.unpack_sequence(
        lib.nn.utils.rnn.pack_sequence([a, b, c], enforce_sorted=False)), *seqs)
    check_op(lambda lib, a, b, c: lib.nn.utils.rnn.unpad_sequence(
        lib.nn.utils.rnn.pad_sequence([a, b, c]), lib.tensor([3, 5, 1])), *seqs)
    check_error(lambda lib, x: lib.nn.utils.rnn.pack_padded_sequence(x, [2, 5, 1]), randn(5, 3, 2),
                match="must be sorted in decreasing order")
    check_error(lambda lib, x: lib.nn.utils.rnn.pack_padded_sequence(x, [5, 2, 0]), randn(5, 3, 2),
                match="Length of all samples has to be greater than 0")
