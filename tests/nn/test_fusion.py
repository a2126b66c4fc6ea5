"""nn.utils.fusion vs torch: conv/linear + eval-mode BatchNorm folded into one layer."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same
from nn.util import make_pair

pytestmark = needs_torch
rng = np.random.default_rng(0)


def _randomize_bn(e_bn, t_bn):
    """Non-trivial running stats and affine parameters, the same in both libraries."""
    c = t_bn.num_features
    values = {"running_mean": rng.standard_normal(c), "running_var": rng.uniform(0.5, 2.0, c),
              "weight": rng.standard_normal(c), "bias": rng.standard_normal(c)}
    for name, v in values.items():
        if getattr(t_bn, name) is None:
            continue
        with torch.no_grad():
            getattr(t_bn, name).copy_(torch.from_numpy(v))
        with ember.no_grad():
            getattr(e_bn, name).copy_(ember.from_numpy(v))


def _pair(build):
    (e_mod, t_mod) = make_pair(build, train=False)
    return e_mod, t_mod


CONVS = [
    (lambda nn: nn.Conv1d(3, 4, 3, bias=False), lambda nn: nn.BatchNorm1d(4), (2, 3, 7), False),
    (lambda nn: nn.Conv2d(3, 4, 3, padding=1), lambda nn: nn.BatchNorm2d(4), (2, 3, 5, 5), False),
    (lambda nn: nn.Conv2d(2, 4, 3, groups=2), lambda nn: nn.BatchNorm2d(4, affine=False), (1, 2, 5, 4), False),
    (lambda nn: nn.Conv3d(2, 3, 2), lambda nn: nn.BatchNorm3d(3, eps=1e-3), (1, 2, 4, 4, 3), False),
    (lambda nn: nn.ConvTranspose2d(3, 4, 3, stride=2), lambda nn: nn.BatchNorm2d(4), (2, 3, 4, 4), True),
]


@pytest.mark.parametrize("conv_build, bn_build, shape, transpose", CONVS)
def test_fuse_conv_bn_eval(conv_build, bn_build, shape, transpose):
    e_conv, t_conv = _pair(conv_build)
    e_bn, t_bn = _pair(bn_build)
    _randomize_bn(e_bn, t_bn)
    e_fused = ember.nn.utils.fuse_conv_bn_eval(e_conv, e_bn, transpose=transpose)
    t_fused = torch.nn.utils.fuse_conv_bn_eval(t_conv, t_bn, transpose=transpose)
    assert e_fused is not e_conv and type(e_fused) is type(e_conv)
    assert isinstance(e_fused.weight, ember.nn.Parameter) and e_fused.weight.requires_grad
    assert e_fused.bias.requires_grad == t_fused.bias.requires_grad
    assert_same(e_fused.weight, t_fused.weight)
    assert_same(e_fused.bias, t_fused.bias)
    x = rng.standard_normal(shape).astype(np.float32)
    # the fused layer computes bn(conv(x)); the originals are untouched
    assert_same(e_fused(ember.from_numpy(x)), t_bn(t_conv(torch.from_numpy(x))), atol=1e-4, rtol=1e-4)
    assert_same(e_conv.weight, t_conv.weight)


@pytest.mark.parametrize("out_features, bn_features, bias", [(4, 4, True), (4, 1, False), (3, 3, False)])
def test_fuse_linear_bn_eval(out_features, bn_features, bias):
    e_lin, t_lin = _pair(lambda nn: nn.Linear(5, out_features, bias=bias))
    e_bn, t_bn = _pair(lambda nn: nn.BatchNorm1d(bn_features))
    _randomize_bn(e_bn, t_bn)
    e_fused = ember.nn.utils.fuse_linear_bn_eval(e_lin, e_bn)
    t_fused = torch.nn.utils.fuse_linear_bn_eval(t_lin, t_bn)
    assert_same(e_fused.weight, t_fused.weight)
    assert_same(e_fused.bias, t_fused.bias)
    assert e_fused.bias.requires_grad == t_fused.bias.requires_grad
    x = rng.standard_normal((6, 5)).astype(np.float32)
    assert_same(e_fused(ember.from_numpy(x)), t_fused(torch.from_numpy(x)), atol=1e-5, rtol=1e-5)


def test_fusion_errors():
    e_lin, t_lin = _pair(lambda nn: nn.Linear(5, 4))
    e_bn, t_bn = _pair(lambda nn: nn.BatchNorm1d(3))
    for lib, lin, bn in ((torch, t_lin, t_bn), (ember, e_lin, e_bn)):
        with pytest.raises(AssertionError, match="linear.out_features=4 and bn.num_features=3"):
            lib.nn.utils.fuse_linear_bn_eval(lin, bn)
        bn.train()
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            lib.nn.utils.fuse_linear_bn_eval(lin, bn)
    for lib in (torch, ember):
        conv, bn = lib.nn.Conv2d(2, 3, 1).eval(), lib.nn.BatchNorm2d(3, track_running_stats=False).eval()
        with pytest.raises(AssertionError, match="running_mean and bn.running_var must not be None"):
            lib.nn.utils.fuse_conv_bn_eval(conv, bn)


def test_fuse_weights_functions_float64_and_defaults():
    w, rm, rv = rng.standard_normal((4, 2, 3)), rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    results = []
    for lib in (ember, torch):
        t = lambda a: lib.tensor(a, requires_grad=True) if a.ndim == 3 else lib.tensor(a)
        results.append(lib.nn.utils.fuse_conv_bn_weights(t(w), None, t(rm), t(rv), 1e-5, None, None))
    (ew, eb), (tw, tb) = results
    assert_same(ew, tw)
    assert_same(eb, tb)
    assert ew.is_leaf and ew.requires_grad and not eb.requires_grad


def test_convert_weight_memory_format_returns_module():
    m = ember.nn.Sequential(ember.nn.Conv2d(2, 3, 1), ember.nn.Conv3d(3, 3, 1))
    w = m[0].weight.detach().clone()
    assert ember.nn.utils.convert_conv2d_weight_memory_format(m, ember.channels_last) is m
    assert ember.nn.utils.convert_conv3d_weight_memory_format(m, ember.channels_last) is m
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), w.numpy())
    assert isinstance(m[0].weight, ember.nn.Parameter)
