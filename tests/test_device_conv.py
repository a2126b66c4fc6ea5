"""Convolution, pooling and unfold/fold on the CUDA device give the CPU's results, forward and backward.

Each case builds a module (or a functional call) on the CPU with a fixed seed, copies it to the device
with ``.to('cuda')``, and runs the same input through both. The backward pass is the sum of the output
times fixed random weights, so every output element gets a different gradient. Outputs, input
gradients and parameter gradients must agree and the device results must live on 'cuda'.

On a GPU machine with CuPy this runs on the real device, elsewhere on ``fake_cupy`` (see
``tests/test_device_backend.py``).
"""
import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

pytestmark = pytest.mark.usefixtures("cuda_backend")  # real CuPy, or fake_cupy (tests/conftest.py)


class Case:
    """``build()`` makes a module (or any callable taking the input tensor) on the CPU; ``shape`` is
    the input's."""

    def __init__(self, name, build, shape):
        self.name, self.build, self.shape = name, build, shape

    def __repr__(self):
        return self.name


class Functional(nn.Module):
    """A functional op as a module, so that cases are uniform."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class PoolUnpool(nn.Module):
    """MaxUnpool2d needs the indices of a max pooling: pool, then unpool."""

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2)

    def forward(self, x):
        y, idx = self.pool(x)
        return self.unpool(y, idx)


def _fold_of_unfold(x):
    cols = F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    return F.fold(cols * 0.5, x.shape[-2:], (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))


CASES = [
    # convolutions
    Case("conv1d", lambda: nn.Conv1d(3, 4, 3), (2, 3, 11)),
    Case("conv1d_stride_pad_dil", lambda: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2), (2, 4, 13)),
    Case("conv1d_same_groups", lambda: nn.Conv1d(4, 6, 4, padding="same", groups=2), (2, 4, 9)),
    Case("conv1d_circular", lambda: nn.Conv1d(2, 3, 3, padding=2, padding_mode="circular"), (2, 2, 8)),
    Case("conv2d", lambda: nn.Conv2d(3, 5, 3), (2, 3, 8, 9)),
    Case("conv2d_lenet", lambda: nn.Conv2d(3, 6, 5), (4, 3, 16, 16)),
    Case("conv2d_stride_pad", lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2)), (2, 3, 9, 7)),
    Case("conv2d_dilation", lambda: nn.Conv2d(2, 4, 3, dilation=(2, 1), padding=1), (2, 2, 10, 8)),
    Case("conv2d_same", lambda: nn.Conv2d(3, 4, (4, 3), padding="same", dilation=2), (2, 3, 9, 9)),
    Case("conv2d_groups", lambda: nn.Conv2d(4, 6, 3, groups=2, padding=1), (2, 4, 7, 7)),
    Case("conv2d_depthwise", lambda: nn.Conv2d(3, 6, 3, groups=3, padding=1), (2, 3, 7, 8)),
    Case("conv2d_depthwise_strided", lambda: nn.Conv2d(3, 3, 3, groups=3, stride=2), (2, 3, 9, 9)),
    Case("conv2d_no_bias", lambda: nn.Conv2d(3, 4, 3, bias=False), (2, 3, 6, 6)),
    Case("conv2d_1x1", lambda: nn.Conv2d(4, 5, 1), (2, 4, 5, 6)),
    Case("conv2d_reflect", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 6, 7)),
    Case("conv2d_replicate", lambda: nn.Conv2d(2, 3, 3, padding=2, padding_mode="replicate"), (2, 2, 6, 7)),
    Case("conv2d_circular", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), (2, 2, 6, 7)),
    Case("conv2d_unbatched", lambda: nn.Conv2d(2, 3, 3), (2, 6, 6)),
    Case("conv2d_many_channels", lambda: nn.Conv2d(40, 64, 3, padding=1), (2, 40, 6, 6)),
    Case("conv3d", lambda: nn.Conv3d(2, 3, 3, padding=1), (2, 2, 5, 4, 5)),
    Case("conv3d_stride_groups", lambda: nn.Conv3d(4, 4, (2, 3, 2), stride=2, groups=2), (2, 4, 6, 7, 6)),
    # transposed convolutions
    Case("conv_transpose1d", lambda: nn.ConvTranspose1d(3, 4, 3, stride=2, output_padding=1), (2, 3, 7)),
    Case("conv_transpose1d_groups_dil", lambda: nn.ConvTranspose1d(4, 6, 3, groups=2, dilation=2, padding=1),
         (2, 4, 6)),
    Case("conv_transpose2d", lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
         (2, 3, 5, 4)),
    Case("conv_transpose2d_groups", lambda: nn.ConvTranspose2d(4, 6, (2, 3), groups=2, dilation=(2, 1)),
         (2, 4, 5, 5)),
    Case("conv_transpose2d_no_bias", lambda: nn.ConvTranspose2d(2, 3, 3, bias=False), (2, 2, 4, 4)),
    # max pooling
    Case("max_pool1d", lambda: nn.MaxPool1d(3, stride=2, padding=1), (2, 3, 10)),
    Case("max_pool1d_ceil_dil", lambda: nn.MaxPool1d(2, stride=2, dilation=2, ceil_mode=True), (2, 3, 10)),
    Case("max_pool2d", lambda: nn.MaxPool2d(2), (2, 3, 8, 8)),
    Case("max_pool2d_overlap", lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 8)),
    Case("max_pool2d_ceil", lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (2, 3, 8, 8)),
    Case("max_pool2d_dilation", lambda: nn.MaxPool2d(2, stride=1, dilation=2), (2, 3, 7, 7)),
    Case("max_pool2d_indices", lambda: nn.MaxPool2d(3, stride=2, return_indices=True), (2, 3, 9, 9)),
    Case("max_pool3d", lambda: nn.MaxPool3d(2, stride=2, ceil_mode=True), (2, 2, 5, 6, 5)),
    Case("max_pool3d_indices", lambda: nn.MaxPool3d(2, padding=1, return_indices=True), (2, 2, 4, 4, 4)),
    Case("max_unpool2d", PoolUnpool, (2, 3, 6, 8)),
    # average pooling
    Case("avg_pool1d", lambda: nn.AvgPool1d(3, stride=2, padding=1), (2, 3, 10)),
    Case("avg_pool1d_no_pad_count", lambda: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False,
                                                         ceil_mode=True), (2, 3, 10)),
    Case("avg_pool2d", lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
    Case("avg_pool2d_pad", lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 9, 8)),
    Case("avg_pool2d_ceil", lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 8)),
    Case("avg_pool2d_divisor", lambda: nn.AvgPool2d(2, divisor_override=3), (2, 3, 6, 6)),
    Case("avg_pool3d", lambda: nn.AvgPool3d(2, stride=1, padding=1, count_include_pad=False), (2, 2, 4, 5, 4)),
    # adaptive and power-average pooling
    Case("adaptive_avg_pool1d", lambda: nn.AdaptiveAvgPool1d(4), (2, 3, 10)),
    Case("adaptive_avg_pool2d", lambda: nn.AdaptiveAvgPool2d((3, 4)), (2, 3, 7, 9)),
    Case("adaptive_avg_pool2d_global", lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5)),
    Case("adaptive_max_pool1d", lambda: nn.AdaptiveMaxPool1d(4), (2, 3, 10)),
    Case("adaptive_max_pool2d", lambda: nn.AdaptiveMaxPool2d((3, 4)), (2, 3, 7, 9)),
    Case("adaptive_max_pool2d_regular", lambda: nn.AdaptiveMaxPool2d(2, return_indices=True), (2, 3, 6, 6)),
    Case("lp_pool2d", lambda: nn.LPPool2d(2, 2), (2, 3, 6, 6)),
    Case("lp_pool2d_p3", lambda: nn.LPPool2d(3, (2, 3), stride=1), (2, 3, 5, 6)),
    # unfold / fold
    Case("unfold", lambda: Functional(lambda x: F.unfold(x, 3, padding=1, stride=2)), (2, 3, 7, 6)),
    Case("unfold_dilation", lambda: Functional(lambda x: F.unfold(x, (2, 3), dilation=(2, 1))), (2, 2, 6, 6)),
    Case("fold", lambda: Functional(lambda x: F.fold(x, (5, 6), 2, stride=1)), (2, 8, 20)),
    Case("fold_of_unfold", lambda: Functional(_fold_of_unfold), (2, 2, 6, 7)),
]


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _run(module, x_np, weights, device):
    x = ember.from_numpy(x_np.copy()).to(device).requires_grad_(True)
    outs = _outputs(module(x))
    total = sum((out * ember.from_numpy(w).to(device)).sum()
                for out, w in zip(outs, weights) if out.dtype.is_floating_point)
    total.backward()
    return outs, x.grad, {name: p.grad for name, p in module.named_parameters()}


def _host(t):
    return t.detach().cpu().numpy()


def _weights_for(module, x_np, rng):
    """One fixed random array per output, in the output's shape (from a CPU run)."""
    with ember.no_grad():
        outs = _outputs(module(ember.from_numpy(x_np.copy())))
    return [rng.standard_normal(tuple(o.shape)).astype(np.float32) for o in outs]


def _check(cpu, gpu, what):
    assert gpu.device.type == "cuda", what
    assert cpu.dtype == gpu.dtype and cpu.shape == gpu.shape, what
    np.testing.assert_allclose(_host(gpu), _host(cpu), rtol=1e-4, atol=1e-5, err_msg=what)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_cpu_on_cuda(case):
    ember.manual_seed(0)
    cpu_module = case.build()
    gpu_module = copy.deepcopy(cpu_module).to("cuda")
    rng = np.random.default_rng(7)
    x_np = rng.standard_normal(case.shape).astype(np.float32)
    weights = _weights_for(cpu_module, x_np, rng)

    cpu_outs, cpu_gx, cpu_grads = _run(cpu_module, x_np, weights, "cpu")
    gpu_outs, gpu_gx, gpu_grads = _run(gpu_module, x_np, weights, "cuda")

    assert len(cpu_outs) == len(gpu_outs)
    for k, (c, g) in enumerate(zip(cpu_outs, gpu_outs)):
        _check(c, g, f"output {k}")
    _check(cpu_gx, gpu_gx, "input gradient")
    assert cpu_grads.keys() == gpu_grads.keys()
    for name in cpu_grads:
        _check(cpu_grads[name], gpu_grads[name], f"gradient of {name}")


def test_parameters_move_to_cuda():
    conv = nn.Conv2d(2, 3, 3).to("cuda")
    assert conv.weight.device.type == "cuda" and conv.bias.device.type == "cuda"
