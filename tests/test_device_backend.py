"""The CUDA device: every op-table entry on the device gives the CPU's result, forward and backward.

Ops are written once against the array module of their inputs (``device.xp``). On a GPU machine with
CuPy these tests run on the real device; everywhere else on ``fake_cupy``, which keeps CuPy's rules (no
implicit host/device copies, no NumPy arrays mixed with device arrays) with NumPy doing the arithmetic,
so code that would break on a GPU fails here too.
"""
import numpy as np
import pytest

import ember
from device_util import flat_tensors as _flat
from optable import all_ops

pytestmark = pytest.mark.usefixtures("cuda_backend")  # real CuPy, or fake_cupy (tests/conftest.py)


OPS = all_ops()


def _inputs(sample, device):
    out = []
    for a in sample:
        if isinstance(a, np.ndarray):
            a = a.astype(np.float32) if a.dtype.kind == "f" else a
            t = ember.from_numpy(a.copy()).to(device)
            if a.dtype.kind == "f":
                t = t.detach().requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return out


def _run(op, sample, device):
    inputs = _inputs(sample, device)
    outs = _flat(op.fn(ember, *inputs))
    grads = []
    if op.grad:
        diff = [o for o in outs if o.requires_grad and o.dtype.is_floating_point]
        if diff:
            total = sum((o.float() * (k + 1)).sum() for k, o in enumerate(diff))
            total.backward()
        grads = [t.grad for t in inputs if isinstance(t, ember.Tensor) and t.requires_grad]
    return outs, grads


def _host(t):
    return None if t is None else t.detach().cpu().numpy()


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.name)
def test_op_on_cuda_matches_cpu(op):
    rng = np.random.default_rng(1234)
    for sample in op.samples(rng):
        cpu_out, cpu_grads = _run(op, sample, "cpu")
        gpu_out, gpu_grads = _run(op, sample, "cuda")
        assert len(cpu_out) == len(gpu_out)
        for c, g in zip(cpu_out, gpu_out):
            assert g.device.type == "cuda"
            assert c.dtype == g.dtype and c.shape == g.shape
            np.testing.assert_allclose(_host(g), _host(c), rtol=1e-4, atol=1e-5)
        for c, g in zip(cpu_grads, gpu_grads):
            assert (c is None) == (g is None)
            if c is not None:
                assert g.device.type == "cuda"
                np.testing.assert_allclose(_host(g), _host(c), rtol=1e-4, atol=1e-5)


def _train(device, steps=5):
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3, padding=1), ember.nn.ReLU(), ember.nn.MaxPool2d(2),
                                ember.nn.Flatten(), ember.nn.Linear(4 * 4 * 4, 10)).to(device)
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    x = ember.from_numpy(rng.standard_normal((8, 3, 8, 8)).astype(np.float32)).to(device)
    y = ember.from_numpy(rng.integers(0, 10, 8)).to(device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ember.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.device.type for p in model.parameters()]


def test_training_steps_on_cuda_match_cpu():
    cpu_losses, _ = _train("cpu")
    gpu_losses, devices = _train("cuda")
    assert set(devices) == {"cuda"}
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-4)
