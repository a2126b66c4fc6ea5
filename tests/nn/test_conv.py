"""Convolutions vs torch: functional and module forms, forward values, input/weight/bias gradients,
float64 gradcheck and gradgradcheck, and torch's errors."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, check_op, check_error, gradcheck_op, assert_same
from nn.util import check_module, make_pair

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# (id, functional name, x shape, w shape, with bias, kwargs)
CONV_CASES = [
    ("2d_plain", "conv2d", (2, 3, 7, 6), (4, 3, 3, 3), True, {}),
    ("2d_stride_pad", "conv2d", (2, 3, 7, 6), (4, 3, 3, 2), True, dict(stride=2, padding=1)),
    ("2d_dilation", "conv2d", (2, 3, 9, 8), (4, 3, 3, 3), False, dict(dilation=(2, 1), padding=(2, 0))),
    ("2d_groups", "conv2d", (2, 4, 6, 6), (6, 2, 3, 3), True, dict(groups=2, padding=1)),
    ("2d_depthwise", "conv2d", (2, 4, 6, 6), (4, 1, 3, 3), True, dict(groups=4, stride=2)),
    ("2d_depthwise_multiplier", "conv2d", (2, 3, 6, 5), (6, 1, 3, 2), True, dict(groups=3, padding=1, dilation=2)),
    ("1d_depthwise", "conv1d", (2, 3, 7), (3, 1, 3), False, dict(groups=3, padding="same")),
    ("2d_same_even", "conv2d", (2, 3, 7, 6), (4, 3, 4, 2), True, dict(padding="same", dilation=(1, 2))),
    ("2d_valid", "conv2d", (2, 3, 5, 5), (2, 3, 3, 3), True, dict(padding="valid")),
    ("2d_1x1", "conv2d", (2, 3, 5, 5), (4, 3, 1, 1), True, {}),
    ("2d_unbatched", "conv2d", (3, 5, 5), (2, 3, 3, 3), True, dict(padding=1)),
    ("1d", "conv1d", (2, 3, 10), (4, 3, 3), True, dict(stride=2, padding=2, dilation=2)),
    ("1d_same", "conv1d", (2, 3, 9), (4, 3, 4), False, dict(padding="same")),
    ("3d", "conv3d", (2, 2, 5, 4, 5), (3, 2, 2, 3, 2), True, dict(stride=(1, 2, 1), padding=1)),
    # few output channels: the pixel-block GEMM (4 or 2 neighbouring output pixels per row block)
    ("2d_pixel_block4", "conv2d", (2, 3, 8, 9), (6, 3, 5, 2), True, dict(padding=(1, 2))),
    ("2d_pixel_block2_dilated", "conv2d", (2, 3, 9, 8), (5, 3, 3, 3), True, dict(dilation=(2, 1), stride=(2, 1))),
    ("1d_pixel_block", "conv1d", (2, 3, 11), (4, 3, 4), False, {}),
    ("3d_pixel_block", "conv3d", (2, 2, 5, 4, 6), (3, 2, 2, 3, 3), True, dict(stride=(2, 1, 1), padding=(0, 1, 1))),
    # more than 32 output channels: the unit-stride input gradient takes the wide-row col2im
    ("2d_many_out_channels", "conv2d", (2, 2, 5, 6), (33, 2, 3, 3), True, dict(padding=1)),
    ("t2d_plain", "conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 2), True, {}),
    ("t2d_stride_outpad", "conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), True,
     dict(stride=2, padding=1, output_padding=1)),
    ("t2d_groups_dilation", "conv_transpose2d", (2, 4, 4, 5), (4, 3, 3, 2), True,
     dict(groups=2, stride=(2, 3), dilation=2, output_padding=(1, 0))),
    ("t1d", "conv_transpose1d", (2, 4, 7), (4, 2, 3), True, dict(stride=3, padding=1)),
    ("t3d", "conv_transpose3d", (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), False, dict(stride=2)),
]


def _fn(name, bias, kwargs):
    if bias:
        return lambda lib, x, w, b: getattr(lib.nn.functional, name)(x, w, b, **kwargs)
    return lambda lib, x, w: getattr(lib.nn.functional, name)(x, w, **kwargs)


def _inputs(xs, ws, bias, name, kwargs, dtype):
    out_ch = ws[1] * kwargs.get("groups", 1) if name.startswith("conv_transpose") else ws[0]
    arrays = [randn(*xs, dtype=dtype), randn(*ws, dtype=dtype)]
    if bias:
        arrays.append(randn(out_ch, dtype=dtype))
    return arrays


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_matches_torch(case, dtype):
    _, name, xs, ws, bias, kwargs = case
    check_op(_fn(name, bias, kwargs), *_inputs(xs, ws, bias, name, kwargs, dtype))


GRADCHECK_CASES = [
    ("2d_stride_pad", "conv2d", (1, 2, 4, 4), (2, 2, 2, 2), True, dict(stride=2, padding=1)),
    ("2d_groups_dilation", "conv2d", (1, 2, 4, 4), (2, 1, 2, 2), False, dict(groups=2, dilation=2, padding=1)),
    ("2d_same_even", "conv2d", (1, 1, 3, 4), (2, 1, 2, 2), True, dict(padding="same")),
    ("1d", "conv1d", (1, 2, 5), (2, 2, 2), True, dict(stride=2, padding=1)),
    ("2d_pixel_block", "conv2d", (1, 2, 3, 5), (2, 2, 2, 2), True, dict(padding=(0, 1))),
    ("2d_depthwise_multiplier", "conv2d", (1, 2, 3, 4), (4, 1, 2, 2), True, dict(groups=2, padding=1)),
    ("t2d_stride_outpad", "conv_transpose2d", (1, 2, 2, 3), (2, 1, 2, 2), True,
     dict(stride=2, padding=1, output_padding=1)),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_conv_gradcheck(case):
    """First and second derivatives (every pair of the three conv kernels) against finite differences."""
    _, name, xs, ws, bias, kwargs = case
    gradcheck_op(_fn(name, bias, kwargs), *_inputs(xs, ws, bias, name, kwargs, np.float64))


@needs_torch
def test_conv_half_precision_computes_in_float32():
    x, w = randn(2, 3, 6, 6), randn(4, 3, 3, 3)
    e = ember.nn.functional.conv2d(ember.from_numpy(x).half(), ember.from_numpy(w).half(), padding=1)
    t = torch.nn.functional.conv2d(torch.from_numpy(x).half(), torch.from_numpy(w).half(), padding=1)
    assert_same(e, t, atol=1e-2, rtol=1e-2)


MODULES = [
    ("conv2d", lambda nn: nn.Conv2d(3, 4, 3, padding=1), (2, 3, 6, 6)),
    ("conv2d_nobias_stride", lambda nn: nn.Conv2d(3, 4, (3, 2), stride=2, bias=False), (2, 3, 7, 6)),
    ("conv2d_reflect_same", lambda nn: nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect"), (2, 3, 6, 5)),
    ("conv2d_replicate", lambda nn: nn.Conv2d(3, 4, 3, padding=2, padding_mode="replicate"), (2, 3, 6, 5)),
    ("conv2d_circular_groups", lambda nn: nn.Conv2d(4, 6, 3, padding=1, groups=2, padding_mode="circular"),
     (2, 4, 5, 5)),
    ("conv1d_reflect", lambda nn: nn.Conv1d(3, 2, 3, padding=1, padding_mode="reflect"), (2, 3, 8)),
    ("conv3d", lambda nn: nn.Conv3d(2, 3, 2, stride=(1, 2, 1)), (1, 2, 4, 5, 4)),
    ("convT2d", lambda nn: nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), (2, 4, 4, 4)),
    ("convT1d_groups", lambda nn: nn.ConvTranspose1d(4, 6, 3, stride=2, groups=2), (2, 4, 5)),
]


@needs_torch
@pytest.mark.parametrize("build,shape", [m[1:] for m in MODULES], ids=[m[0] for m in MODULES])
def test_conv_modules(build, shape):
    check_module(build, randn(*shape))


@needs_torch
@pytest.mark.parametrize("size", [(11, 11), (12, 12), [1, 2, 12, 11]])
def test_conv_transpose_output_size(size):
    e_mod, t_mod = make_pair(lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2))
    x = randn(1, 4, 5, 5)
    ex, tx = ember.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
    e, t = e_mod(ex, output_size=size), t_mod(tx, output_size=size)
    assert_same(e, t)
    e.sum().backward()
    t.sum().backward()
    assert_same(ex.grad, tx.grad)
    assert_same(e_mod.weight.grad, t_mod.weight.grad)


@needs_torch
def test_conv_transpose_bad_output_size():
    e_mod, t_mod = make_pair(lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2))
    x = randn(1, 4, 5, 5)
    with pytest.raises(ValueError) as t_err:
        t_mod(torch.from_numpy(x), output_size=(14, 14))
    with pytest.raises(ValueError) as e_err:
        e_mod(ember.from_numpy(x), output_size=(14, 14))
    assert str(e_err.value) == str(t_err.value)


@needs_torch
@pytest.mark.parametrize("build", [
    lambda nn: nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect", bias=False),
    lambda nn: nn.Conv2d(4, 6, (3, 1), stride=2, groups=2, dilation=2, padding=(1, 0)),
    lambda nn: nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1),
    lambda nn: nn.Conv1d(2, 2, 1),
])
def test_conv_repr_and_state_dict_keys(build):
    e, t = build(ember.nn), build(torch.nn)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.weight.shape == t.weight.shape


@needs_torch
def test_conv_default_init_distribution():
    # kaiming_uniform(a=sqrt(5)) on the weight: U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same bound
    conv = ember.nn.Conv2d(16, 32, 3)
    bound = 1 / np.sqrt(16 * 9)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound


@needs_torch
@pytest.mark.parametrize("fn,shapes", [
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w), [(2, 4, 5, 5), (6, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w), [(2, 3), (6, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w), [(2, 3, 2, 2), (6, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2, padding="same"), [(2, 3, 5, 5), (6, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding="foo"), [(2, 3, 5, 5), (6, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w, groups=4), [(2, 4, 5, 5), (6, 2, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=0), [(2, 3, 5, 5), (6, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=-1), [(2, 3, 5, 5), (6, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=(1, 1, 1)), [(2, 3, 5, 5), (6, 3, 3, 3)]),
    (lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w, output_padding=1), [(2, 4, 5, 5), (4, 2, 3, 3)]),
])
def test_conv_errors(fn, shapes):
    e, t = check_error(fn, *[randn(*s) for s in shapes])
    assert str(e) == str(t)


@needs_torch
def test_conv_dtype_errors():
    x, w, b = randn(2, 3, 5, 5), randn(4, 3, 3, 3), randn(4)
    e, t = check_error(lambda lib, x, w: lib.nn.functional.conv2d(x.double(), w), x, w)
    assert str(e) == str(t)
    e, t = check_error(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b.double()), x, w, b)
    assert str(e) == str(t)
    e, t = check_error(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b[:3]), x, w, b)
    assert str(e) == str(t)


@needs_torch
@pytest.mark.parametrize("kwargs,exc", [(dict(groups=0), ValueError), (dict(groups=2), ValueError),
                                        (dict(padding="foo"), ValueError), (dict(padding="same", stride=2), ValueError),
                                        (dict(padding_mode="bar"), ValueError)])
def test_conv_module_errors(kwargs, exc):
    with pytest.raises(exc) as t_err:
        torch.nn.Conv2d(3, 4, 3, **kwargs)
    with pytest.raises(exc) as e_err:
        ember.nn.Conv2d(3, 4, 3, **kwargs)
    e, t = str(e_err.value), str(t_err.value)
    if "{" in t:  # a set in the message: its order depends on string hashing
        e, t = e.split("{")[0] + e.split("}")[1], t.split("{")[0] + t.split("}")[1]
    assert e == t


@pytest.mark.parametrize("stride", [2, 1])  # stride 1 with 4 output channels: the pixel-block layout
def test_weight_gradient_reuses_forward_im2col_and_matches_fresh(stride):
    """The weight gradient reads the im2col buffer kept from forward; it must equal a fresh computation."""
    from ember.nn.functional._conv import ConvWeightGrad
    x = ember.from_numpy(randn(2, 3, 6, 6, dtype=np.float64)).requires_grad_()
    w = ember.from_numpy(randn(4, 3, 3, 3, dtype=np.float64)).requires_grad_()
    y = ember.nn.functional.conv2d(x, w, stride=stride, padding=1)
    g = ember.from_numpy(randn(*y.shape, dtype=np.float64))
    geometry = y.grad_fn.geo
    gw, = ember.autograd.grad(y, [w], g)
    fresh = ConvWeightGrad.apply(x.detach(), g, geometry, tuple(w.shape), None)
    np.testing.assert_allclose(gw.numpy(), fresh.numpy(), rtol=1e-12, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.conv2d(x, lib.ones(4, 3, 3, 3), padding=1),
    lambda lib, x: lib.nn.functional.conv2d(x, lib.ones(3, 1, 2, 2), groups=3),
    lambda lib, x: lib.nn.functional.max_pool2d(x, 2),
    lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 1, 1),
    lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True),
    lambda lib, x: lib.nn.functional.layer_norm(x, (x.shape[-1],)),
    lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
    lambda lib, x: lib.nn.functional.pad(x, (1, 2, 3, 1), "reflect"),
    lambda lib, x: lib.nn.functional.unfold(x, 2),
])
def test_strided_and_transposed_inputs(fn):
    """Window ops read their input through its strides: views that are not contiguous give torch's values."""
    base = randn(2, 3, 8, 10, 2)
    for view in (lambda lib, t: t[..., 0], lambda lib, t: t.permute(0, 1, 3, 2, 4)[..., 1]):
        e = view(ember, ember.from_numpy(base.copy()))
        t = view(torch, torch.from_numpy(base.copy()))
        assert_same(fn(ember, e), fn(torch, t), atol=1e-4, rtol=1e-4)


@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.conv2d(x, lib.ones(4, 3, 3, 3, dtype=x.dtype), padding=1),
    lambda lib, x: lib.nn.functional.max_pool2d(-x.abs(), 3, 2, 1),
    lambda lib, x: lib.nn.functional.avg_pool2d(x, 2),
    lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 3),
    lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True),
    lambda lib, x: lib.nn.functional.layer_norm(x, (6,)),
    lambda lib, x: lib.nn.functional.rms_norm(x, (6,)),
    lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
    lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1), "reflect"),
])
def test_reduced_precision(fn, dtype):
    """half and bfloat16 compute in float32 and round once, as torch does (bfloat16 is not kind 'f' in NumPy)."""
    x = randn(2, 3, 6, 6)
    e = fn(ember, ember.from_numpy(x).to(getattr(ember, dtype)))
    t = fn(torch, torch.from_numpy(x).to(getattr(torch, dtype)))
    assert_same(e, t, atol=5e-2, rtol=2e-2)


@needs_torch
@pytest.mark.parametrize("wshape", [(4, 3, 3, 3), (40, 3, 3, 3)])  # pixel-block and plain layouts
def test_conv_empty_batch(wshape):
    check_op(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding=1),
             randn(0, 3, 8, 8), randn(*wshape), randn(wshape[0]))
