"""Whole PyTorch programs, written once against the torch API, run on torch and on ember.

Each program gets the framework module (``torch`` or ``ember``), builds its model, receives the same
initial weights (copied from the torch model through ``state_dict``) and the same data, and trains a few
steps. Losses, final weights and eval outputs must agree: this is "change the import and it runs".
"""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch


def _copy_weights(src_torch_model, dst_ember_model):
    state = {k: ember.tensor(v.detach().numpy()) for k, v in src_torch_model.state_dict().items()}
    dst_ember_model.load_state_dict(state)


def mnist_example(torch, init_from=None, steps=4):
    """pytorch/examples mnist: Conv-Conv-MaxPool-Dropout-FC, log_softmax + nll_loss, Adadelta + StepLR."""
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.conv2 = nn.Conv2d(4, 8, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.fc1 = nn.Linear(8 * 5 * 5, 16)
            self.fc2 = nn.Linear(16, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            return F.log_softmax(self.fc2(x), dim=1)

    model = Net()
    if init_from is not None:
        _copy_weights(init_from, model)
    model.dropout1.p = 0.0  # dropout masks come from different RNGs; keep the programs comparable
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.7)
    rng = np.random.default_rng(0)
    data = torch.tensor(rng.standard_normal((16, 1, 14, 14)).astype(np.float32))
    target = torch.tensor(rng.integers(0, 10, 16))
    losses = []
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        pred = model(data).argmax(dim=1, keepdim=True)
        correct = pred.eq(target.view_as(pred)).sum().item()
    return model, losses, correct


def regression_example(torch, init_from=None, steps=6):
    """An MLP regressor: Sequential, BatchNorm1d, GELU, AdamW with weight decay, MSE, gradient clipping."""
    nn = torch.nn
    # BatchNorm after the activation: a bias right before BN has an exactly-zero gradient, which Adam
    # would turn into noise-driven steps
    model = nn.Sequential(nn.Linear(5, 32), nn.GELU(), nn.BatchNorm1d(32), nn.Linear(32, 1))
    if init_from is not None:
        _copy_weights(init_from, model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((64, 5)).astype(np.float32))
    y = (x * torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0])).sum(1, keepdim=True) + 0.1
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        out = model(x[:4])
    return model, losses, out.numpy().tolist()


@needs_torch
@pytest.mark.parametrize("program", [mnist_example, regression_example])
def test_program_trains_like_torch(program):
    torch.manual_seed(0)
    t_model, t_losses, t_result = program(torch)
    torch.manual_seed(0)  # the same seed rebuilds the same initial weights for ember to copy
    init_model = program(torch, steps=0)[0]
    e_model, e_losses, e_result = program(ember, init_from=init_model)
    np.testing.assert_allclose(e_losses, t_losses, rtol=2e-4, atol=1e-5)
    for (k, tv), (ek, ev) in zip(t_model.state_dict().items(), e_model.state_dict().items()):
        assert k == ek
        np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-3, atol=1e-4, err_msg=k)
    np.testing.assert_allclose(np.asarray(e_result), np.asarray(t_result), rtol=1e-3, atol=1e-4)
