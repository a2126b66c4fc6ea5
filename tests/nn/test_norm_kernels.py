"""The compiled normalization kernels (ember/_kernels/norm.py) against torch, with the kernel layer on and
inside ``_jit.disabled()`` (the NumPy path): batch norm in train and eval mode (running statistics,
momentum None, no affine, no running stats), layer norm, group and instance norm; odd shapes,
non-contiguous inputs, NaN and large-offset inputs, float64 gradcheck. Each test also checks which path
ran, so a dispatch that silently falls back to NumPy fails."""
import contextlib

import numpy as np
import pytest

import ember
from ember import _jit
from oracle import needs_torch, torch, check_op, gradcheck_op, assert_same
from nn.util import make_pair, _input

rng = np.random.default_rng(7)


def randn(*shape, dtype=np.float32, offset=0.0):
    return (rng.standard_normal(shape) + offset).astype(dtype)


@pytest.fixture(params=["jit", "numpy"])
def layer(request):
    """Runs the test body with the kernel layer on ("jit") or off ("numpy")."""
    if request.param == "jit":
        if not _jit.enabled():
            pytest.skip("the kernel layer is off (numba missing or EMBER_JIT=0)")
        yield "jit"
    else:
        with _jit.disabled():
            yield "numpy"


def expected_layout(layer, layout):
    return layout if layer == "jit" else None


def layout_of(out):
    """The path the Normalize node took: "channels"/"rows" for the kernels, None for NumPy."""
    node = out.grad_fn
    while node is not None and type(node).__name__ != "Normalize":
        node = node._edges[0][0] if getattr(node, "_edges", None) else None
    assert node is not None, "no Normalize node in the graph"
    return node.layout


def F(lib):
    return lib.nn.functional


# ---------------------------------------------------------------- batch norm, training statistics

BN_SHAPES = [(4, 3, 5, 6), (5, 3), (33, 17), (3, 2, 7), (2, 3, 2, 3, 4), (1, 4, 1, 3), (7, 1, 13, 1)]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm_train_matches_torch(layer, shape, dtype):
    c = shape[1]
    fn = lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True, eps=1e-3)
    check_op(fn, randn(*shape, dtype=dtype), randn(c, dtype=dtype), randn(c, dtype=dtype))
    y = fn(ember, ember.from_numpy(randn(*shape, dtype=dtype)).requires_grad_(), None, None)
    assert layout_of(y) == expected_layout(layer, "channels")


@needs_torch
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_module_train_then_eval(layer, momentum, affine):
    """Three training steps (running statistics, num_batches_tracked), then eval mode, all vs torch."""
    e_mod, t_mod = make_pair(lambda nn: nn.BatchNorm2d(3, momentum=momentum, affine=affine).double())
    for step in range(3):
        x = randn(4, 3, 5, 6, dtype=np.float64, offset=step)
        e_x, t_x = _input(x, ember), _input(x, torch)
        e_y, t_y = e_mod(e_x), t_mod(t_x)
        assert_same(e_y, t_y)
        assert layout_of(e_y) == expected_layout(layer, "channels")
        g = randn(4, 3, 5, 6, dtype=np.float64)
        e_y.backward(ember.from_numpy(g))
        t_y.backward(torch.from_numpy(g))
        assert_same(e_x.grad, t_x.grad, what="grad of x")
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert_same(getattr(e_mod, name), getattr(t_mod, name), what=name)
    if affine:
        assert_same(e_mod.weight.grad, t_mod.weight.grad, what="grad of weight")
        assert_same(e_mod.bias.grad, t_mod.bias.grad, what="grad of bias")
    e_mod.eval(), t_mod.eval()
    x = randn(2, 3, 5, 6, dtype=np.float64)
    e_x, t_x = _input(x, ember), _input(x, torch)
    e_y, t_y = e_mod(e_x), t_mod(t_x)
    assert_same(e_y, t_y)
    g = randn(2, 3, 5, 6, dtype=np.float64)
    e_y.backward(ember.from_numpy(g)), t_y.backward(torch.from_numpy(g))
    assert_same(e_x.grad, t_x.grad, what="eval grad of x")


@needs_torch
def test_batch_norm_without_running_stats_uses_batch_stats_in_eval(layer):
    e_mod, t_mod = make_pair(lambda nn: nn.BatchNorm1d(4, track_running_stats=False), train=False)
    x = randn(6, 4, 3)
    e_x, t_x = _input(x, ember), _input(x, torch)
    e_y, t_y = e_mod(e_x), t_mod(t_x)
    assert_same(e_y, t_y)
    assert layout_of(e_y) == expected_layout(layer, "channels")


@needs_torch
def test_batch_norm_non_contiguous_input_and_grad(layer):
    x = randn(5, 6, 4, 3)  # permuted to (N, C, H, W) = (4, 3, 5, 6): no contiguous axis order
    fn = lambda lib, x, w, b: F(lib).batch_norm(x.permute(2, 3, 0, 1), None, None, w, b, True)[:, :, ::2]
    check_op(fn, x, randn(3), randn(3))


@needs_torch
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_parameter_grads_without_input_grad(layer, training):
    """Only the weight and bias want gradients (a first layer's input): the backward kernel skips the
    input gradient pass and still sums the parameter gradients as torch does."""
    x, g, w, b = randn(4, 3, 5, 6, offset=1.0), randn(4, 3, 5, 6), randn(3), randn(3)
    grads = []
    for lib in (ember, torch):
        wt, bt = lib.from_numpy(w).requires_grad_(), lib.from_numpy(b).requires_grad_()
        rm, rv = lib.zeros(3), lib.ones(3)
        F(lib).batch_norm(lib.from_numpy(x), rm, rv, wt, bt, training=training).backward(lib.from_numpy(g))
        grads.append((wt.grad, bt.grad))
    for mine, theirs in zip(*grads):
        assert_same(mine, theirs)


@needs_torch
def test_batch_norm_large_mean_keeps_the_variance(layer):
    """Two-pass statistics: a mean of 1e4 does not cancel a unit variance away (float32; the outputs carry
    the input's own rounding, ~1e-3 at 1e4)."""
    x = (np.random.default_rng(1).standard_normal((8, 3, 4, 4)) + 1e4).astype(np.float32)
    rm, rv = (lib.zeros(3) for lib in (ember, torch)), (lib.ones(3) for lib in (ember, torch))
    (e_rm, t_rm), (e_rv, t_rv) = rm, rv
    e_y = F(ember).batch_norm(ember.from_numpy(x), e_rm, e_rv, training=True, momentum=1.0)
    t_y = F(torch).batch_norm(torch.from_numpy(x), t_rm, t_rv, training=True, momentum=1.0)
    assert_same(e_y, t_y, atol=3e-3, rtol=1e-3)
    assert_same(e_rv, t_rv, atol=0, rtol=1e-3, what="running_var")
    assert_same(e_rm, t_rm, atol=2e-3, rtol=0, what="running_mean")
    check_op(lambda lib, x: F(lib).layer_norm(x, (4, 4)), x, atol=3e-3, rtol=1e-3, grad=False)


@needs_torch
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy's inf - inf in the NumPy path
def test_batch_norm_nan_propagates_to_its_channel(layer):
    x = randn(4, 3, 2, 2)
    x[1, 1, 0, 1] = np.nan
    x[2, 2, 1, 0] = np.inf
    fn = lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True)
    check_op(fn, x, randn(3), randn(3))
    y = fn(ember, ember.from_numpy(x), None, None)._data
    assert np.isnan(y[:, 1:]).all() and np.isfinite(y[:, 0]).all()
    features = x.reshape(4, 12)  # (N, C): the kernel along the channel axis
    check_op(fn, features, randn(12), randn(12))
    assert np.isnan(fn(ember, ember.from_numpy(features), None, None)._data[:, [5, 10]]).all()


@needs_torch
def test_batch_norm_running_stats_functional_float32(layer):
    x = randn(6, 5, 7)
    rm, rv = randn(5), np.abs(randn(5)) + 0.5
    e_rm, e_rv, t_rm, t_rv = (lib.from_numpy(a.copy()) for lib, a in ((ember, rm), (ember, rv), (torch, rm),
                                                                       (torch, rv)))
    assert_same(F(ember).batch_norm(ember.from_numpy(x), e_rm, e_rv, training=True, momentum=0.3),
                F(torch).batch_norm(torch.from_numpy(x), t_rm, t_rv, training=True, momentum=0.3))
    assert_same(e_rm, t_rm, what="running_mean")
    assert_same(e_rv, t_rv, what="running_var")


def test_batch_norm_gradcheck_float64(layer):
    gradcheck_op(lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
                 randn(3, 2, 3, 2, dtype=np.float64), randn(2, dtype=np.float64), randn(2, dtype=np.float64))


# ---------------------------------------------------------------- batch norm, running statistics (eval)

def eval_fn(lib, x, w, b, rm, rv):
    return F(lib).batch_norm(x, rm, rv, w, b, training=False, eps=1e-3)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm_eval_matches_torch(layer, shape, dtype):
    c = shape[1]
    rm, rv = randn(c, dtype=dtype), np.abs(randn(c, dtype=dtype)) + 0.1
    fn = lambda lib, x, w, b: eval_fn(lib, x, w, b, lib.from_numpy(rm.copy()), lib.from_numpy(rv.copy()))
    check_op(fn, randn(*shape, dtype=dtype), randn(c, dtype=dtype), randn(c, dtype=dtype))
    check_op(lambda lib, x: fn(lib, x, None, None), randn(*shape, dtype=dtype))
    y = fn(ember, ember.from_numpy(randn(*shape, dtype=dtype)).requires_grad_(), None, None)
    assert type(y.grad_fn).__name__ == "BatchNormEval" and y.grad_fn.kernel == (layer == "jit")


@needs_torch
def test_batch_norm_eval_non_contiguous_nan_and_half(layer):
    rm, rv = randn(3), np.abs(randn(3)) + 0.1
    x = randn(5, 6, 4, 3)
    x[0, 1, 2, 1] = np.nan
    fn = lambda lib, x, w, b: eval_fn(lib, x.permute(2, 3, 0, 1), w, b, lib.from_numpy(rm.copy()),
                                      lib.from_numpy(rv.copy()))
    check_op(fn, x, randn(3), randn(3))
    check_op(lambda lib, x: eval_fn(lib, x, None, None, lib.from_numpy(rm.copy()), lib.from_numpy(rv.copy())),
             randn(4, 3, 5).astype(np.float16))


@needs_torch
def test_batch_norm_running_stats_that_require_grad_are_refused(layer):
    from oracle import check_error
    check_error(lambda lib, x, rm, rv: F(lib).batch_norm(x, rm.requires_grad_(), rv, training=False),
                randn(4, 3), randn(3), np.abs(randn(3)))
    check_error(lambda lib, x, rm, rv: F(lib).batch_norm(x, rm, rv.requires_grad_(), training=True),
                randn(4, 3), randn(3), np.abs(randn(3)))
    with ember.no_grad():  # torch checks this in autograd only
        rm = ember.zeros(3, requires_grad=True)
        assert F(ember).batch_norm(ember.randn(4, 3), rm, ember.ones(3), training=False).shape == (4, 3)


def test_batch_norm_eval_gradcheck_float64(layer):
    rm, rv = ember.from_numpy(randn(2, dtype=np.float64)), ember.from_numpy(np.abs(randn(2, dtype=np.float64)) + .5)
    gradcheck_op(lambda lib, x, w, b: eval_fn(lib, x, w, b, rm, rv),
                 randn(3, 2, 3, dtype=np.float64), randn(2, dtype=np.float64), randn(2, dtype=np.float64))


def test_kernel_and_numpy_paths_agree():
    if not _jit.enabled():
        pytest.skip("the kernel layer is off (numba missing or EMBER_JIT=0)")
    x, w, b, g = randn(6, 4, 9, 5), randn(4), randn(4), randn(6, 4, 9, 5)
    results = []
    for ctx in (contextlib.nullcontext(), _jit.disabled()):
        with ctx:
            ts = [ember.from_numpy(a.copy()).requires_grad_() for a in (x, w, b)]
            y = F(ember).batch_norm(ts[0], None, None, ts[1], ts[2], training=True)
            y.backward(ember.from_numpy(g))
            results.append([y._data] + [t.grad._data for t in ts])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- layer, group and instance norm

@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,normalized", [((4, 3, 6), (6,)), ((2, 3, 5, 6), (5, 6)), ((7,), (7,)),
                                              ((3, 1), (1,)), ((2, 129), (129,)),
                                              ((37, 20), (20,))], ids=str)  # rows across the backward's row blocks
def test_layer_norm_matches_torch(layer, shape, normalized, dtype):
    fn = lambda lib, x, w, b: F(lib).layer_norm(x, normalized, w, b, eps=1e-3)
    check_op(fn, randn(*shape, dtype=dtype), randn(*normalized, dtype=dtype), randn(*normalized, dtype=dtype))
    y = fn(ember, ember.from_numpy(randn(*shape, dtype=dtype)).requires_grad_(), None, None)
    assert layout_of(y) == expected_layout(layer, "rows")


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_module(layer, affine, bias):
    from nn.util import check_module
    x = randn(3, 4, 8, offset=3.0).transpose(1, 0, 2)  # non-contiguous
    check_module(lambda nn: nn.LayerNorm(8, elementwise_affine=affine, bias=bias), x)


@needs_torch
def test_layer_norm_nan_stays_in_its_row(layer):
    x = randn(3, 5)
    x[1, 2] = np.nan
    fn = lambda lib, x, w, b: F(lib).layer_norm(x, (5,), w, b)
    check_op(fn, x, randn(5), randn(5))
    y = fn(ember, ember.from_numpy(x), None, None)._data
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()


def test_layer_norm_gradcheck_float64(layer):
    gradcheck_op(lambda lib, x, w, b: F(lib).layer_norm(x, (2, 3), w, b),
                 randn(3, 2, 3, dtype=np.float64), randn(2, 3, dtype=np.float64), randn(2, 3, dtype=np.float64))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 6, 3, 5), (3, 6), (1, 6, 2, 2, 3)], ids=str)
def test_group_norm_matches_torch(layer, shape, dtype):
    fn = lambda lib, x, w, b: F(lib).group_norm(x, 3, w, b, eps=1e-3)
    check_op(fn, randn(*shape, dtype=dtype, offset=2.0), randn(6, dtype=dtype), randn(6, dtype=dtype))
    y = fn(ember, ember.from_numpy(randn(*shape, dtype=dtype)).requires_grad_(), None, None)
    assert layout_of(y) == expected_layout(layer, "groups")


@needs_torch
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_matches_torch(layer, affine):
    x = randn(2, 4, 3, 5)
    e_mod, t_mod = make_pair(lambda nn: nn.InstanceNorm2d(4, affine=affine, track_running_stats=True))
    e_x, t_x = _input(x, ember), _input(x, torch)
    e_y, t_y = e_mod(e_x), t_mod(t_x)
    assert_same(e_y, t_y)
    assert layout_of(e_y) == expected_layout(layer, "groups")
    g = randn(2, 4, 3, 5)
    e_y.backward(ember.from_numpy(g)), t_y.backward(torch.from_numpy(g))
    assert_same(e_x.grad, t_x.grad, what="grad of x")
    if affine:
        assert_same(e_mod.weight.grad, t_mod.weight.grad, what="grad of weight")
        assert_same(e_mod.bias.grad, t_mod.bias.grad, what="grad of bias")
    assert_same(e_mod.running_mean, t_mod.running_mean, what="running_mean")
    assert_same(e_mod.running_var, t_mod.running_var, what="running_var")


def test_group_norm_gradcheck_float64(layer):
    gradcheck_op(lambda lib, x, w, b: F(lib).group_norm(x, 2, w, b),
                 randn(2, 4, 3, dtype=np.float64), randn(4, dtype=np.float64), randn(4, dtype=np.float64))


# ---------------------------------------------------------------- RMS norm

@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,normalized", [((4, 3, 6), (6,)), ((2, 3, 5, 6), (5, 6)), ((7,), (7,)),
                                              ((2, 129), (129,))], ids=str)
def test_rms_norm_matches_torch(layer, shape, normalized, dtype):
    fn = lambda lib, x, w: F(lib).rms_norm(x, normalized, w, eps=1e-3)
    check_op(fn, randn(*shape, dtype=dtype), randn(*normalized, dtype=dtype))
    check_op(lambda lib, x: F(lib).rms_norm(x, normalized), randn(*shape, dtype=dtype))
    y = fn(ember, ember.from_numpy(randn(*shape, dtype=dtype)).requires_grad_(), None)
    assert (type(y.grad_fn).__name__ == "RMSNormalize") == (layer == "jit")


@needs_torch
def test_rms_norm_module_non_contiguous_and_nan(layer):
    from nn.util import check_module
    check_module(lambda nn: nn.RMSNorm(8), randn(3, 4, 8).transpose(1, 0, 2))
    x = randn(3, 5)
    x[1, 2] = np.nan
    check_op(lambda lib, x, w: F(lib).rms_norm(x, (5,), w), x, randn(5))
    assert np.isfinite(F(ember).rms_norm(ember.from_numpy(x), (5,))._data[[0, 2]]).all()


def test_rms_norm_gradcheck_float64(layer):
    gradcheck_op(lambda lib, x, w: F(lib).rms_norm(x, (2, 3), w), randn(3, 2, 3, dtype=np.float64),
                 randn(2, 3, dtype=np.float64))
    gradcheck_op(lambda lib, x, w: F(lib).rms_norm(x, (3,), w), randn(3, dtype=np.float64), randn(3, dtype=np.float64))


@needs_torch
def test_half_precision_takes_the_numpy_path(layer):
    x = randn(4, 3, 5).astype(np.float16)
    check_op(lambda lib, x: F(lib).batch_norm(x, None, None, training=True), x)
    y = F(ember).batch_norm(ember.from_numpy(x).requires_grad_(), None, None, training=True)
    assert layout_of(y) is None
