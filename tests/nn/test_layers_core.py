"""Core layers and activations vs torch: same constructor, torch's weights copied into ember,
forward values plus input and parameter gradients."""
import warnings

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, check_op, check_error, assert_same
from nn.util import check_module, make_pair

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# (id, builder(nn), input shapes)
LAYERS = [
    ("linear", lambda nn: nn.Linear(5, 3), [(4, 5)]),
    ("linear_nobias", lambda nn: nn.Linear(5, 3, bias=False), [(4, 5)]),
    ("linear_3d", lambda nn: nn.Linear(5, 3), [(2, 4, 5)]),
    ("linear_1d", lambda nn: nn.Linear(5, 3), [(5,)]),
    ("bilinear", lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    ("identity", lambda nn: nn.Identity(3, foo=1), [(2, 3)]),
    ("flatten", lambda nn: nn.Flatten(), [(2, 3, 4)]),
    ("flatten_0_1", lambda nn: nn.Flatten(0, 1), [(2, 3, 4)]),
    ("unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [(4, 6)]),
    ("sequential", lambda nn: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)), [(3, 4)]),
    ("prelu", lambda nn: nn.PReLU(), [(4, 3)]),
    ("prelu_channels", lambda nn: nn.PReLU(3, 0.1), [(2, 3, 4)]),
]

ACTIVATIONS = [
    ("relu", lambda nn: nn.ReLU()), ("relu6", lambda nn: nn.ReLU6()), ("leaky", lambda nn: nn.LeakyReLU(0.2)),
    ("rrelu_eval", lambda nn: nn.RReLU()), ("elu", lambda nn: nn.ELU(0.7)), ("celu", lambda nn: nn.CELU(1.3)),
    ("selu", lambda nn: nn.SELU()), ("gelu", lambda nn: nn.GELU()), ("gelu_tanh", lambda nn: nn.GELU("tanh")),
    ("silu", lambda nn: nn.SiLU()), ("mish", lambda nn: nn.Mish()), ("sigmoid", lambda nn: nn.Sigmoid()),
    ("tanh", lambda nn: nn.Tanh()), ("hardtanh", lambda nn: nn.Hardtanh(-0.5, 0.7)),
    ("hardsigmoid", lambda nn: nn.Hardsigmoid()), ("hardswish", lambda nn: nn.Hardswish()),
    ("softplus", lambda nn: nn.Softplus()), ("softplus_beta", lambda nn: nn.Softplus(2.0, 1.0)),
    ("softsign", lambda nn: nn.Softsign()), ("softshrink", lambda nn: nn.Softshrink(0.3)),
    ("hardshrink", lambda nn: nn.Hardshrink(0.3)), ("tanhshrink", lambda nn: nn.Tanhshrink()),
    ("threshold", lambda nn: nn.Threshold(0.1, -2.0)), ("glu", lambda nn: nn.GLU()),
    ("glu_dim0", lambda nn: nn.GLU(0)), ("logsigmoid", lambda nn: nn.LogSigmoid()),
    ("softmax", lambda nn: nn.Softmax(dim=1)), ("softmax_neg", lambda nn: nn.Softmax(dim=-1)),
    ("log_softmax", lambda nn: nn.LogSoftmax(dim=1)), ("softmin", lambda nn: nn.Softmin(dim=0)),
    ("softmax2d", lambda nn: nn.Softmax2d()),
]


@needs_torch
@pytest.mark.parametrize("name,build,shapes", LAYERS, ids=[x[0] for x in LAYERS])
def test_layer_matches_torch(name, build, shapes):
    check_module(build, *[randn(*s) for s in shapes])


@needs_torch
@pytest.mark.parametrize("name,build", ACTIVATIONS, ids=[x[0] for x in ACTIVATIONS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_matches_torch(name, build, dtype):
    x = randn(2, 4, 3, 2, dtype=dtype) * 3
    tol = (1e-9, 1e-6) if dtype == np.float64 else (None, None)
    check_module(build, x, train=False, atol=tol[0], rtol=tol[1])


@needs_torch
@pytest.mark.parametrize("name,build", [a for a in ACTIVATIONS if a[0] not in ("softmax2d",)],
                         ids=[a[0] for a in ACTIVATIONS if a[0] not in ("softmax2d",)])
def test_activation_float16(name, build):
    x = randn(4, 6, dtype=np.float16)
    e_mod, t_mod = make_pair(build, False)
    assert_same(e_mod(ember.from_numpy(x)), t_mod(torch.from_numpy(x)), atol=2e-3, rtol=2e-3)


@needs_torch
@pytest.mark.parametrize("fn", ["relu", "gelu", "silu", "elu", "leaky_relu", "softplus", "hardswish", "mish",
                                "logsigmoid", "selu", "celu", "hardsigmoid", "tanhshrink", "softsign"])
def test_activation_gradgrad(fn):
    from oracle import gradcheck_op
    x = randn(3, 4).astype(np.float64) * 2
    x[np.abs(x) < 0.1] += 0.3  # away from kinks
    x[np.abs(np.abs(x) - 3) < 0.1] += 0.3
    gradcheck_op(lambda L, t: getattr(L.nn.functional, fn)(t), x)


@needs_torch
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_gradgrad_and_dtype_arg(fn):
    from oracle import gradcheck_op
    gradcheck_op(lambda L, t: getattr(L.nn.functional, fn)(t, 1), randn(3, 4).astype(np.float64))
    check_op(lambda L, t: getattr(L.nn.functional, fn)(t, 0, dtype=L.float64), randn(3, 4))
    check_op(lambda L, t: getattr(L, fn)(t, -1), randn(2, 5))
    check_op(lambda L, t: getattr(t, fn)(0), randn(2, 5))


@needs_torch
def test_softmax_large_logits_stable():
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]], np.float32)
    check_op(lambda L, t: L.nn.functional.softmax(t, 1), x)
    check_op(lambda L, t: L.nn.functional.log_softmax(t, 1), x)


@needs_torch
def test_inplace_activations():
    for fn in ["relu", "relu6", "elu", "selu", "celu", "leaky_relu", "hardtanh", "silu", "hardswish", "hardsigmoid",
               "mish", "threshold"]:
        args = (0.5, -1.0) if fn == "threshold" else ()
        x = randn(3, 4)
        e, t = ember.from_numpy(x.copy()), torch.from_numpy(x.copy())
        eo = getattr(ember.nn.functional, fn)(e, *args, inplace=True)
        to = getattr(torch.nn.functional, fn)(t, *args, inplace=True)
        assert eo is e
        assert_same(e, t)
    x = randn(3, 4)
    e, t = ember.from_numpy(x.copy()), torch.from_numpy(x.copy())
    ember.relu_(e), torch.relu_(t)
    assert_same(e, t)


@needs_torch
def test_inplace_relu_grad_through_graph():
    def f(L, x):
        y = x * 2
        L.nn.functional.relu(y, inplace=True)
        return y * 3
    check_op(f, randn(3, 4))


@needs_torch
def test_rrelu_training_slopes_in_range():
    x = ember.from_numpy(-np.abs(randn(1000)) - 0.1)
    x.requires_grad_(True)
    y = ember.nn.functional.rrelu(x, 0.1, 0.3, training=True)
    ratio = (y / x).detach().numpy()
    assert ratio.min() >= 0.1 and ratio.max() <= 0.3 and ratio.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ratio, rtol=1e-6)


@needs_torch
def test_prelu_weight_grad_and_init():
    check_op(lambda L, x, w: L.nn.functional.prelu(x, w), randn(2, 3, 4), np.array([0.1, 0.2, -0.3], np.float32))
    assert ember.nn.PReLU(3).weight.tolist() == [0.25] * 3


@needs_torch
def test_activation_errors():
    check_error(lambda L, x: L.nn.functional.glu(x, 1), randn(2, 3))
    check_error(lambda L, x: L.nn.functional.gelu(x, approximate="foo"), randn(2, 3))
    check_error(lambda L, x: L.nn.Softmax2d()(x), randn(2, 3))
    e, t = check_error(lambda L, x: L.nn.functional.linear(x, L.ones(3, 4)), randn(2, 3))
    assert str(e) == str(t)


@needs_torch
def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = ember.nn.functional.softmax(ember.zeros(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(out, torch.nn.functional.softmax(torch.zeros(2, 3)))


@needs_torch
def test_linear_double_backward_and_raw_backward_agree():
    from oracle import gradcheck_op
    gradcheck_op(lambda L, x, w, b: L.nn.functional.linear(x, w, b), randn(2, 3, 4).astype(np.float64),
                 randn(5, 4).astype(np.float64), randn(5).astype(np.float64))
    # create_graph=True (ember-op backward) and the raw NumPy backward give the same gradient
    x = ember.from_numpy(randn(3, 4)).requires_grad_()
    w = ember.from_numpy(randn(2, 4)).requires_grad_()
    g1 = ember.autograd.grad(ember.nn.functional.linear(x, w).sum(), (x, w))
    g2 = ember.autograd.grad(ember.nn.functional.linear(x, w).sum(), (x, w), create_graph=True)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


@needs_torch
def test_linear_half_precision():
    check_op(lambda L, x, w, b: L.nn.functional.linear(x, w, b), randn(3, 4, dtype=np.float16),
             randn(2, 4, dtype=np.float16), randn(2, dtype=np.float16), atol=1e-2, rtol=1e-2)


@needs_torch
@pytest.mark.parametrize("cls,p,shape,channelwise", [
    ("Dropout", 0.3, (200, 50), False), ("Dropout1d", 0.4, (20, 30, 8), True),
    ("Dropout2d", 0.5, (10, 40, 3, 3), True), ("Dropout3d", 0.5, (10, 40, 2, 2, 2), True)])
def test_dropout_statistics_and_grad(cls, p, shape, channelwise):
    ember.manual_seed(0)
    m = getattr(ember.nn, cls)(p)
    x = ember.ones(*shape, requires_grad=True)
    y = m(x)
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(sorted(vals), [0.0, 1 / (1 - p)], rtol=1e-6)
    kept = (y.detach().numpy() != 0)
    assert abs(kept.mean() - (1 - p)) < 0.06
    if channelwise:  # a whole channel is kept or dropped
        per_channel = kept.reshape(shape[0], shape[1], -1)
        assert np.all(per_channel.all(-1) | ~per_channel.any(-1))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())
    m.eval()
    assert m(x) is x
    assert repr(m) == repr(getattr(torch.nn, cls)(p))


@needs_torch
def test_alpha_dropout_keeps_moments():
    ember.manual_seed(0)
    x = ember.randn(200000)
    y = ember.nn.AlphaDropout(0.2)(x)
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1) < 0.02
    y2 = ember.nn.FeatureAlphaDropout(0.2)(ember.randn(400, 50, 10))
    assert abs(float(y2.mean())) < 0.05
    assert ember.nn.AlphaDropout(0.2).eval()(x) is x


@needs_torch
def test_dropout_errors_and_edge_cases():
    check_error(lambda L: L.nn.Dropout(1.5))
    check_error(lambda L, x: L.nn.functional.dropout(x, -0.1), randn(3))
    check_error(lambda L, x: L.nn.functional.dropout1d(x), randn(3))
    assert ember.nn.functional.dropout(ember.ones(5), p=1.0).tolist() == [0.0] * 5


@needs_torch
def test_lazy_linear_materializes():
    ember.manual_seed(0)
    m = ember.nn.LazyLinear(4)
    assert repr(m) == repr(torch.nn.LazyLinear(4))
    y = m(ember.ones(2, 6))
    assert y.shape == (2, 4) and type(m) is ember.nn.Linear and m.in_features == 6
    assert repr(m) == repr(torch.nn.Linear(6, 4))
    bound = 1 / np.sqrt(6)
    assert np.abs(m.weight.detach().numpy()).max() <= bound


@needs_torch
def test_module_reprs_match_torch():
    builders = [b for _, b, _ in LAYERS] + [b for _, b in ACTIVATIONS] + [
        lambda nn: nn.ReLU(inplace=True), lambda nn: nn.LeakyReLU(0.2, True), lambda nn: nn.ELU(0.5, True),
        lambda nn: nn.Hardtanh(-2, 2, True), lambda nn: nn.Softmax(), lambda nn: nn.Dropout(0.2, True),
        lambda nn: nn.AlphaDropout(), lambda nn: nn.Linear(2, 3, bias=False), lambda nn: nn.SiLU(True),
        lambda nn: nn.Bilinear(2, 3, 4, bias=False)]
    for build in builders:
        assert repr(build(ember.nn)) == repr(build(torch.nn))


@needs_torch
def test_default_init_distributions():
    ember.manual_seed(0)
    w = ember.nn.Linear(400, 300).weight.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    b = ember.nn.Bilinear(20, 30, 40).weight.detach().numpy()
    assert np.abs(b).max() <= 1 / np.sqrt(20)
    t = torch.nn.Linear(400, 300).weight.detach().numpy()
    assert abs(w.std() - t.std()) < 0.02 * t.std()


@needs_torch
def test_integer_inputs_rejected_like_torch():
    ints = np.array([1, 2], np.int64)
    for fn in (lambda L, x: L.softmax(x, 0), lambda L, x: L.log_softmax(x, -1), lambda L, x: L.nn.functional.gelu(x),
               lambda L, x: L.nn.Parameter(x)):
        e, t = check_error(fn, ints)
        assert str(e) == str(t)
    check_op(lambda L, x: L.relu(x), ints, grad=False)


def test_gumbel_softmax():
    ember.manual_seed(0)
    x = ember.randn(6, 5, requires_grad=True)
    soft = ember.nn.functional.gumbel_softmax(x, tau=0.5)
    np.testing.assert_allclose(soft.sum(1).detach().numpy(), np.ones(6), rtol=1e-6)
    hard = ember.nn.functional.gumbel_softmax(x, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and np.all(h.sum(1) == 1)
    (hard * ember.arange(5.0)).sum().backward()  # straight-through: the soft sample's gradient
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
