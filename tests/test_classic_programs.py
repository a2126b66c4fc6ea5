"""Issue 3's acceptance programs, 100 steps each: written once against the torch API, run on torch and
on ember from the same initial weights (copied through state_dict) and data; loss curves must agree."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch

STEPS = 100


def _same_init(build):
    """(torch model, ember model) with identical weights."""
    torch.manual_seed(0)
    t_model = build(torch)
    e_model = build(ember)
    e_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
    return t_model, e_model


def _data(shape, classes=None, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, classes, shape[0]) if classes else rng.standard_normal((shape[0], 1)).astype(np.float32)
    return x, y


def _curve(lib, model, make_opt, loss_fn, x, y, steps=STEPS, each_step=None):
    X, Y = lib.tensor(x), lib.tensor(y)
    opt = make_opt(lib, model)
    losses = []
    for i in range(steps):
        opt.zero_grad()
        loss = loss_fn(lib, model(X), Y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if each_step:
            each_step(lib, model, i, losses)
    return losses, opt


def _compare(build, make_opt, loss_fn, x, y, rtol=2e-3, each_step=None):
    t_model, e_model = _same_init(build)
    t_losses, _ = _curve(torch, t_model, make_opt, loss_fn, x, y, each_step=each_step)
    e_losses, _ = _curve(ember, e_model, make_opt, loss_fn, x, y, each_step=each_step)
    np.testing.assert_allclose(e_losses, t_losses, rtol=rtol, atol=1e-5)
    assert e_losses[-1] < e_losses[0]
    return t_model, e_model


def lenet(lib):
    nn = lib.nn

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(lib.relu(self.conv1(x)))
            x = self.pool(lib.relu(self.conv2(x)))
            x = lib.flatten(x, 1)
            return self.fc3(lib.relu(self.fc2(lib.relu(self.fc1(x)))))
    return LeNet()


def bn_dropout_cnn(lib):
    nn = lib.nn
    # no bias before BatchNorm (standard practice): it has an exactly-zero gradient that Adam would turn
    # into noise-driven steps, and the running mean would then track that noise
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout(0.3), nn.Flatten(), nn.Linear(8 * 4 * 4, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(),
                         nn.Dropout(0.5), nn.Linear(32, 5))


def _sgd(lr, **kw):
    return lambda lib, model: lib.optim.SGD(model.parameters(), lr=lr, **kw)


def _ce(lib, out, y):
    return lib.nn.CrossEntropyLoss()(out, y)


@needs_torch
def test_linear_regression():
    x, _ = _data((32, 3))
    y = (x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    _compare(lambda lib: lib.nn.Linear(3, 1), _sgd(0.05), lambda lib, o, t: lib.nn.MSELoss()(o, t), x, y)


@needs_torch
def test_mlp_784_128_64_10():
    x, y = _data((32, 784), classes=10)
    _compare(lambda lib: lib.nn.Sequential(lib.nn.Linear(784, 128), lib.nn.ReLU(), lib.nn.Linear(128, 64),
                                           lib.nn.ReLU(), lib.nn.Linear(64, 10)), _sgd(0.05), _ce, x, y)


@needs_torch
def test_cifar_lenet_sgd_momentum():
    x, y = _data((8, 3, 32, 32), classes=10)
    _compare(lenet, _sgd(0.01, momentum=0.9), _ce, x, y)


class _SharedMasks:
    """Both frameworks' F.dropout draw their masks from one NumPy stream, so runs stay comparable."""

    def __init__(self, lib):
        self.lib, self.rng, self.orig = lib, np.random.default_rng(123), lib.nn.functional.dropout

    def __call__(self, input, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return input
        keep = (self.rng.random(tuple(input.shape)) >= p).astype(np.float32) / (1 - p)
        return input * self.lib.tensor(keep)


@needs_torch
def test_cnn_with_batchnorm_and_dropout_switching_train_eval(monkeypatch):
    x, y = _data((16, 1, 8, 8), classes=5)
    xv, _ = _data((6, 1, 8, 8), classes=5, seed=1)
    for lib in (torch, ember):
        monkeypatch.setattr(lib.nn.functional, "dropout", _SharedMasks(lib))
    evals = {}

    def evaluate(lib, model, i, losses):
        if i % 10 == 9:
            model.eval()
            with lib.no_grad():
                evals.setdefault(lib.__name__, []).append(model(lib.tensor(xv)).numpy().copy())
            model.train()

    t_model, e_model = _compare(bn_dropout_cnn, lambda lib, m: lib.optim.Adam(m.parameters(), lr=1e-2), _ce, x, y,
                                each_step=evaluate)
    assert len(evals["ember"]) == len(evals["torch"]) == STEPS // 10
    for e, t in zip(evals["ember"], evals["torch"]):
        np.testing.assert_allclose(e, t, rtol=5e-3, atol=5e-4)
    for (k, tv), ev in zip(t_model.state_dict().items(), e_model.state_dict().values()):
        np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=5e-3, atol=5e-4, err_msg=k)


@needs_torch
def test_save_load_round_trip_resumes_identically(tmp_path):
    """Train 50 steps, checkpoint model + optimizer, resume in fresh objects for 50 more: the curve equals an
    uninterrupted 100-step run (exactly, in ember) and torch's curve (within float tolerance)."""
    x, y = _data((16, 20), classes=4)
    build = lambda lib: lib.nn.Sequential(lib.nn.Linear(20, 32), lib.nn.Tanh(), lib.nn.Linear(32, 4))  # noqa: E731
    make_opt = lambda lib, m: lib.optim.Adam(m.parameters(), lr=1e-2)  # noqa: E731
    t_model, e_model = _same_init(build)
    init_state = {k: v.clone() for k, v in e_model.state_dict().items()}
    t_losses, _ = _curve(torch, t_model, make_opt, _ce, x, y)
    straight, _ = _curve(ember, e_model, make_opt, _ce, x, y)

    first = build(ember)
    first.load_state_dict(init_state)
    part1, opt = _curve(ember, first, make_opt, _ce, x, y, steps=STEPS // 2)
    path = tmp_path / "ckpt.pt"
    ember.save({"model": first.state_dict(), "optim": opt.state_dict(), "step": STEPS // 2}, path)
    ckpt = ember.load(path)
    resumed = build(ember)
    resumed.load_state_dict(ckpt["model"])
    opt2 = make_opt(ember, resumed)
    opt2.load_state_dict(ckpt["optim"])
    X, Y = ember.tensor(x), ember.tensor(y)
    part2 = []
    for _ in range(STEPS - ckpt["step"]):
        opt2.zero_grad()
        loss = _ce(ember, resumed(X), Y)
        loss.backward()
        opt2.step()
        part2.append(loss.item())
    assert part1 + part2 == straight
    np.testing.assert_allclose(straight, t_losses, rtol=2e-3, atol=1e-5)
    # torch reads the same checkpoint
    t_ckpt = torch.load(path, weights_only=True)
    assert set(t_ckpt["model"]) == set(ckpt["model"]) and t_ckpt["optim"]["state"].keys() == ckpt["optim"]["state"].keys()
