"""A classic training loop gives torch's loss curve when started from torch's weights."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch
from nn.util import copy_weights


def _mlp(nn):
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.GELU(), nn.Dropout(0.0),
                         nn.Linear(16, 4))


def _train(L, model, X, y, steps, loss_name):
    opt = L.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    lossf = getattr(L.nn, loss_name)()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        out = model(X)
        loss = lossf(out, y) if loss_name != "MSELoss" else lossf(out.sum(1), y)
        loss.backward()
        L.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


@needs_torch
@pytest.mark.parametrize("loss_name", ["CrossEntropyLoss", "MSELoss"])
def test_loss_curve_matches_torch(loss_name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 20)).astype(np.float32)
    y = rng.integers(0, 4, 32) if loss_name == "CrossEntropyLoss" else rng.standard_normal(32).astype(np.float32)
    t_model = _mlp(torch.nn)
    e_model = copy_weights(t_model, _mlp(ember.nn))
    t_losses = _train(torch, t_model, torch.from_numpy(x), torch.from_numpy(y), 60, loss_name)
    e_losses = _train(ember, e_model, ember.from_numpy(x), ember.from_numpy(y), 60, loss_name)
    np.testing.assert_allclose(e_losses, t_losses, rtol=2e-4, atol=1e-5)
    assert e_losses[-1] < 0.5 * e_losses[0]
