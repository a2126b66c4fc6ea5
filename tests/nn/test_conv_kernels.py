"""The compiled convolution kernels (ember/_kernels/conv.py) against torch, with the kernel layer on and
inside ``_jit.disabled()`` (the NumPy path): forward, input and weight gradients, for the direct kernel
(unit stride, few channels) and the chunked im2col + GEMM one (strides, dilation, many channels, the
pixel-block layout), transposed convolutions, NaN/inf, float64 gradcheck. Each test counts the kernel
calls, so a dispatch that silently falls back to NumPy (or a kernel run with the layer off) fails."""
import numpy as np
import pytest

import ember
from ember import _jit
from ember._kernels import conv as K
from ember.nn.functional import _conv
from kernel_layer import kernel_layer, expect_calls
from oracle import needs_torch, torch, check_op, gradcheck_op, assert_same

rng = np.random.default_rng(5)
KERNELS = ("im2col2d", "im2col_wide", "col2im2d", "block_grad", "direct_conv2d", "direct_weight_grad2d", "im2col_same",
           "col2im_same", "direct_weight_grad_wide")


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


counted_layer = kernel_layer(K, KERNELS)


@pytest.fixture
def layer(counted_layer):
    """(mode, kernel calls); the "jit" mode skips when EMBER_JIT=0 switches the layer off."""
    if counted_layer[0] == "jit" and not _jit.enabled():
        pytest.skip("kernel layer switched off (EMBER_JIT=0)")
    return counted_layer


def conv(bias, **kwargs):
    if bias:
        return lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, **kwargs)
    return lambda lib, x, w: lib.nn.functional.conv2d(x, w, **kwargs)


def inputs(xs, ws, bias, dtype):
    arrays = [randn(*xs, dtype=dtype), randn(*ws, dtype=dtype)]
    return arrays + [randn(ws[0], dtype=dtype)] if bias else arrays


# unit stride, few channels: the direct kernels compute the forward, the input gradient and (up to
# C_in*C_out = 1024) the weight gradient: on wide rows, or on shifted copies of the input where the
# output has over twice the input's channels
DIRECT = ("direct_conv2d", "direct_weight_grad_wide")
DIRECT_SHIFTED = ("direct_conv2d", "direct_weight_grad2d")
DIRECT_CASES = [
    ("lenet_like_k5", (2, 3, 9, 8), (4, 3, 5, 5), True, {}, DIRECT),
    ("k3_pad", (2, 3, 7, 6), (5, 3, 3, 3), True, dict(padding=1), DIRECT),
    # 3-wide kernel, 8 output and 4 input channels: forward and input gradient by direct_conv2d_3x4
    ("k3_four_channel_blocks", (2, 4, 7, 6), (8, 4, 3, 3), True, dict(padding=1), DIRECT),
    ("k2x3_uneven_pad", (3, 2, 5, 7), (4, 2, 2, 3), False, dict(padding=(1, 0)), DIRECT),
    ("same_even_kernel", (2, 3, 6, 5), (3, 3, 4, 2), True, dict(padding="same"), DIRECT),
    ("pixel_block_o6", (2, 3, 8, 12), (6, 3, 5, 5), True, dict(padding=2), DIRECT),
    # padded width 9 is no multiple of the 4-pixel block: columns on exact rows, not wide ones
    ("pixel_block_exact_rows", (2, 3, 5, 9), (4, 3, 3, 2), True, {}, DIRECT),
    ("nine_out_channels", (2, 3, 7, 8), (9, 3, 3, 3), True, dict(padding=1), DIRECT_SHIFTED),
    ("k7_shifted", (2, 2, 9, 10), (5, 2, 3, 7), False, dict(padding=(1, 3)), DIRECT_SHIFTED),
    ("one_by_one", (2, 4, 5, 3), (3, 4, 1, 1), True, {}, DIRECT),
]
# stride, dilation or many channels: the input gradient by chunked GEMMs and col2im2d; output planes
# of the input's size with many channels: im2col_same (the forward's columns, kept for the weight
# gradient) and col2im_same
COL2IM = ("col2im2d", "block_grad")
# strided or unpadded with more output channels than a column's rows: the forward's columns for the whole
# batch by im2col2d (kept for the weight gradient)
COLS_COL2IM = ("im2col2d",) + COL2IM
SAME = ("im2col_same", "col2im_same")
GEMM_CASES = [
    ("stride2_pad", (2, 3, 9, 8), (4, 3, 3, 3), True, dict(stride=2, padding=1), COLS_COL2IM),
    ("dilation", (2, 3, 9, 9), (5, 3, 3, 2), False, dict(dilation=(2, 1), padding=(2, 0)), COL2IM),
    ("pixel_block_stride_h", (2, 3, 9, 8), (5, 3, 3, 3), True, dict(stride=(2, 1)), COL2IM),
    ("many_channels", (2, 48, 4, 5), (48, 48, 3, 3), True, dict(padding=1), SAME),
    ("many_channels_k5x3", (3, 24, 6, 5), (88, 24, 5, 3), False, dict(padding=(2, 1)), SAME),
    ("many_channels_same_even", (2, 48, 5, 6), (48, 48, 2, 4), True, dict(padding="same"), SAME),
    # direct forward allowed, but the weight gradient wants the columns; the input gradient by GEMM
    ("mid_channels", (2, 32, 5, 6), (40, 32, 3, 3), True, dict(padding=1), SAME),
    ("many_channels_no_pad", (2, 48, 5, 6), (48, 48, 3, 3), False, {}, COLS_COL2IM),
    # dilation and stride with more output channels than a pixel block takes: im2col2d's general loop
    ("dilated_strided_columns", (2, 3, 9, 10), (12, 3, 3, 2), True, dict(stride=(2, 1), dilation=(1, 2), padding=1),
     COLS_COL2IM),
    ("wide_kernel", (2, 2, 5, 12), (3, 2, 2, 9), True, {}, COL2IM),
    ("stride_1x1", (3, 4, 7, 7), (6, 4, 1, 1), False, dict(stride=2), COL2IM),
]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", DIRECT_CASES, ids=[c[0] for c in DIRECT_CASES])
def test_direct_conv(layer, case, dtype):
    _, xs, ws, bias, kwargs, kernels = case
    check_op(conv(bias, **kwargs), *inputs(xs, ws, bias, dtype))
    expect_calls(layer, *kernels)


@pytest.mark.skipif(not _jit.available(), reason="numba not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_four_channel_kernel_matches_two_channel_kernel(dtype):
    """direct_conv2d_3x4 adds the same products in the same order as the two-channel kernel: bit-equal,
    inf and NaN inputs included."""
    own = np.random.default_rng(11)  # not the module's generator: the other tests' data stay as they were
    x, w, b = (own.standard_normal(shape).astype(dtype) for shape in ((2, 3, 6, 5), (8, 3, 3, 3), (8,)))
    x[0, 1, 2, 3], x[1, 0, 4, 1] = np.inf, np.nan
    xf, width = _conv._wide_planes(x, ((1, 1), (1, 1)), 3)
    two, four = (np.empty((2, 8, 6, 5), dtype) for _ in range(2))
    K._direct_conv2d(3)(xf, w, b, two, width)
    assert K.direct_conv2d(3, 8) is K.direct_conv2d_3x4
    K.direct_conv2d_3x4(xf, w, b, four, width)
    np.testing.assert_array_equal(four, two)


@pytest.mark.skipif(not _jit.available(), reason="numba not installed")
@pytest.mark.parametrize("pads", [((1, 1), (1, 1)), ((0, 0), (0, 0)), ((2, 1), (0, 3)), ((0, 2), (1, 0))], ids=str)
def test_wide_planes_match_numpy_padding(pads):
    """pad_planes (the direct kernels' padded planes): every element written, borders, the gaps
    between rows and the slack zero, also from a non-contiguous input and over stale memory."""
    own = np.random.default_rng(17)
    x = own.standard_normal((3, 2, 6, 5)).astype(np.float32).transpose(1, 0, 2, 3)  # (2, 3, 6, 5), strided
    flat, width = _conv._wide_planes(x, pads, 3)
    padded = np.pad(x, ((0, 0), (0, 0)) + pads)
    assert width == padded.shape[3]
    expected = np.concatenate([padded.reshape(2, 3, -1), np.zeros((2, 3, 2), np.float32)], axis=2)
    np.testing.assert_array_equal(flat, expected)
    stale = np.full_like(flat, np.nan)
    K.pad_planes(np.ascontiguousarray(x), stale, pads[0][0], pads[1][0], width)
    np.testing.assert_array_equal(stale, expected)


@needs_torch
@pytest.mark.parametrize("x_grad", [True, False])
def test_direct_weight_grad_reuses_padded_planes(layer, monkeypatch, x_grad):
    """Same-size 3x3 layer on the direct kernels: the weight gradient reads the forward's padded input
    planes and the input gradient's padded output-gradient planes (built once each), and still
    matches torch; without an input gradient it widens the output gradient itself."""
    built = []
    monkeypatch.setattr(_conv, "_wide_planes", lambda *a, _f=_conv._wide_planes: built.append(a[0].shape) or _f(*a))
    x, w, g = randn(2, 4, 6, 5), randn(8, 4, 3, 3), randn(2, 8, 6, 5)
    grads = []
    for lib in (ember, torch):
        xt, wt = lib.from_numpy(x).requires_grad_(x_grad), lib.from_numpy(w).requires_grad_()
        lib.nn.functional.conv2d(xt, wt, padding=1).backward(lib.from_numpy(g))
        grads.append([t.grad for t in (xt, wt) if t.requires_grad])
    for mine, theirs in zip(*grads):
        assert_same(mine, theirs)
    if layer[0] == "jit":
        assert built == ([x.shape, g.shape] if x_grad else [x.shape])
    expect_calls(layer, *DIRECT)


@needs_torch
def test_direct_weight_grad_planes_with_retained_graph(layer):
    """A second backward through a retained graph reuses the forward's padded planes and rebuilds the
    shared gradient planes: the accumulated gradients match torch's."""
    x, w, g1, g2 = randn(2, 4, 6, 5), randn(8, 4, 3, 3), randn(2, 8, 6, 5), randn(2, 8, 6, 5)
    grads = []
    for lib in (ember, torch):
        xt, wt = lib.from_numpy(x).requires_grad_(), lib.from_numpy(w).requires_grad_()
        y = lib.nn.functional.conv2d(xt, wt, padding=1)
        y.backward(lib.from_numpy(g1), retain_graph=True)
        y.backward(lib.from_numpy(g2))
        grads.append((xt.grad, wt.grad))
    for mine, theirs in zip(*grads):
        assert_same(mine, theirs)
    expect_calls(layer, *DIRECT)


@needs_torch
def test_direct_weight_grad_up_to_1024_channel_pairs(layer):
    """24 in, 40 out channels (960 pairs): forward, input and weight gradient on the direct kernels."""
    own = np.random.default_rng(12)  # not the module's generator: the other tests' data stay as they were
    x = own.standard_normal((2, 24, 5, 6)).astype(np.float32)
    w = (own.standard_normal((40, 24, 3, 3)) / np.sqrt(24 * 9)).astype(np.float32)
    check_op(conv(False, padding=1), x, w)
    expect_calls(layer, *DIRECT)


@needs_torch
def test_direct_weight_grad_non_finite_input(layer):
    """An inf in the input gives NaN in the wide rows' garbage columns: the weight gradient is redone
    on shifted copies, which match torch."""
    x, w = randn(2, 4, 6, 5), randn(8, 4, 3, 3)
    x[1, 2, 3, 4] = np.inf
    check_op(conv(False, padding=1), x, w)
    expect_calls(layer, "direct_conv2d", "direct_weight_grad_wide", "direct_weight_grad2d")


@needs_torch
def test_direct_forward_without_weight_grad(layer):
    """Without a weight gradient the direct kernel computes every forward it can."""
    x, w = randn(2, 3, 7, 8), randn(9, 3, 3, 3)
    check_op(lambda lib, x_: lib.nn.functional.conv2d(x_, lib.from_numpy(w), padding=1), x)
    mode, calls = layer
    assert calls["direct_conv2d"] == (2 if mode == "jit" else 0)  # forward and input gradient


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GEMM_CASES, ids=[c[0] for c in GEMM_CASES])
def test_gemm_conv(layer, case, dtype):
    _, xs, ws, bias, kwargs, kernels = case
    arrays = inputs(xs, ws, bias, dtype)
    arrays[1] /= np.sqrt(np.prod(ws[1:]))  # outputs of order one, as with torch's init: long sums stay in tolerance
    check_op(conv(bias, **kwargs), *arrays)
    expect_calls(layer, *kernels)


@needs_torch
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_three_wide_stride2_col2im(layer, padding):
    """im2col2d's and col2im2d's passes over pixel pairs for 3-wide kernels at stride 2 (odd and even
    padded widths, the last column reached or not) against torch."""
    own = np.random.default_rng(13)  # not the module's generator: the other tests' data stay as they were
    x = own.standard_normal((2, 3, 7, 9)).astype(np.float32)
    w = (own.standard_normal((5, 3, 3, 3)) / np.sqrt(27)).astype(np.float32)
    check_op(conv(False, stride=2, padding=padding), x, w)
    expect_calls(layer, *COLS_COL2IM)


@needs_torch
@pytest.mark.parametrize("stride", [1, 2])
def test_non_contiguous_input(layer, stride):
    """A permuted input through the padded planes (direct kernels) and the strided columns (im2col2d)."""
    own = np.random.default_rng(19)
    x = own.standard_normal((7, 3, 2, 9)).astype(np.float32)  # permuted to (N, C, H, W) = (2, 3, 7, 9)
    w = (own.standard_normal((12, 3, 3, 3)) / np.sqrt(27)).astype(np.float32)
    check_op(lambda lib, x_, w_: lib.nn.functional.conv2d(x_.permute(2, 1, 0, 3), w_, stride=stride, padding=1), x, w)
    expect_calls(layer, *(DIRECT_SHIFTED if stride == 1 else COLS_COL2IM))


@needs_torch
@pytest.mark.parametrize("stride", [1, 2])
def test_conv_transpose(layer, stride):
    """A transposed convolution is the input gradient: the direct kernel at unit stride, col2im else."""
    x, w, b = randn(2, 4, 5, 6), randn(4, 3, 3, 3), randn(3)
    check_op(lambda lib, x_, w_, b_: lib.nn.functional.conv_transpose2d(x_, w_, b_, stride=stride, padding=1), x, w, b)
    if stride == 1:
        expect_calls(layer, *DIRECT)
    else:
        expect_calls(layer, "col2im2d", "im2col2d", "block_grad")


@needs_torch
def test_batch_spans_several_chunks(layer, monkeypatch):
    """The compiled GEMM paths run the batch in chunks: an uneven last chunk, weight gradients summed
    over chunks (direct forward, pixel-block layout), col2im per chunk (strided)."""
    x, w, b = randn(7, 3, 6, 8), randn(2, 3, 3, 3), randn(2)
    monkeypatch.setattr(_conv, "_DIRECT_WEIGHT_GRAD_MAX_CHANNEL_PRODUCT", 0)  # the chunked weight gradient
    monkeypatch.setattr(_conv, "_CHUNK_BYTES", 3 * (3 * 3 * 6 * 6 * 2 * 4))  # three samples per chunk
    check_op(conv(True, padding=1), x, w, b)
    monkeypatch.setattr(_conv, "_CHUNK_BYTES", 3 * (3 * 3 * 3 * 3 * 4 * 4))
    check_op(conv(True, stride=2, padding=1), x, w, b)
    mode, calls = layer
    jit = mode == "jit"
    # im2col2d: three chunks of the first weight gradient, then the strided forward's whole batch
    assert (calls["im2col2d"], calls["col2im2d"]) == ((4, 3) if jit else (0, 0))


@needs_torch
def test_same_size_columns_with_nan_and_inf_at_row_ends(layer):
    """im2col_same / col2im_same: non-finite inputs in the first and last column of a row, where the
    shifted planes wrap round into the neighbouring row, stay out of the neighbours' results."""
    x, w = randn(2, 48, 4, 5), randn(48, 48, 3, 3) / np.float32(np.sqrt(48 * 9))
    x[0, 1, 1, 0], x[0, 2, 2, 4], x[1, 0, 3, 4], x[1, 5, 0, 0] = np.inf, np.nan, -np.inf, np.nan
    check_op(conv(False, padding=1), x, w)
    expect_calls(layer, *SAME)


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=2)], ids=["direct", "gemm"])
def test_nan_and_inf(layer, kwargs):
    """Direct: a pixel-block weight gradient whose wide rows would multiply inf by a zero gradient."""
    x, w, b = randn(2, 3, 8, 10), randn(4, 3, 3, 3), randn(4)
    x[0, 1, 2, 3], x[1, 0, 5, 6], x[1, 2, 0, 0] = np.nan, np.inf, -np.inf
    check_op(conv(True, **kwargs), x, w, b)
    assert layer[1]["im2col_wide"] == 0


@needs_torch
@pytest.mark.parametrize("channels,padding,kernels", [(3, 0, ("direct_conv2d",) + COL2IM), (48, 1, SAME)],
                         ids=["few_channels", "same_size"])
def test_non_finite_weight_input_grad_off_the_direct_kernel(layer, channels, padding, kernels):
    """The direct input gradient multiplies the weight by a zero border (NaN for an infinite weight): a
    non-finite weight takes col2im, which matches torch (no NaN), on both paths. col2im_same drops
    the columns that wrapped round the plane edge, NaN or not."""
    x, w = randn(2, channels, 6, 7), randn(channels + 1, channels, 3, 3) / np.float32(np.sqrt(channels * 9))
    g = randn(2, channels + 1, 4 + 2 * padding, 5 + 2 * padding)
    w[1, 2, 0, 1] = np.inf  # the weight scaled as torch's init does: long float32 sums stay in tolerance
    ex, tx = ember.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
    ember.nn.functional.conv2d(ex, ember.from_numpy(w), padding=padding).backward(ember.from_numpy(g))
    torch.nn.functional.conv2d(tx, torch.from_numpy(w), padding=padding).backward(torch.from_numpy(g))
    assert_same(ex.grad, tx.grad)
    expect_calls(layer, *kernels)


@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=2, dilation=(1, 2))], ids=["direct", "gemm"])
def test_gradcheck(layer, kwargs):
    """First and second derivatives against finite differences, float64."""
    gradcheck_op(conv(True, **kwargs), *inputs((2, 2, 5, 6), (3, 2, 3, 3), True, np.float64))


@needs_torch
def test_half_computes_in_float32(layer):
    x, w = randn(2, 3, 6, 6), randn(4, 3, 3, 3)
    e = ember.nn.functional.conv2d(ember.from_numpy(x).half(), ember.from_numpy(w).half(), padding=1)
    t = torch.nn.functional.conv2d(torch.from_numpy(x).half(), torch.from_numpy(w).half(), padding=1)
    assert_same(e, t, atol=1e-2, rtol=1e-2)
    expect_calls(layer, "direct_conv2d")


@needs_torch
def test_layer_switched_off_between_forward_and_backward():
    """The path is chosen once per call: a backward run with the layer off still matches the forward."""
    if not _jit.available():
        pytest.skip("numba not installed")
    x, w = randn(2, 3, 7, 7), randn(4, 3, 3, 3)
    ex, ew = ember.from_numpy(x).requires_grad_(), ember.from_numpy(w).requires_grad_()
    tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    e = ember.nn.functional.conv2d(ex, ew, stride=2)
    with _jit.disabled():
        e.sum().backward()
    torch.nn.functional.conv2d(tx, tw, stride=2).sum().backward()
    assert_same(ex.grad, tx.grad)
    assert_same(ew.grad, tw.grad)


def test_other_dims_and_groups_stay_on_numpy(layer):
    """1-d, 3-d and grouped convolutions have no compiled path."""
    x = ember.randn(2, 4, 6, 6, requires_grad=True)
    ember.nn.functional.conv2d(x, ember.randn(4, 2, 3, 3), groups=2).sum().backward()
    ember.nn.functional.conv1d(ember.randn(2, 3, 7), ember.randn(2, 3, 3))
    expect_calls(layer)
