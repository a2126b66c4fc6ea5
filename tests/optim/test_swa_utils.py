"""swa_utils against torch: AveragedModel (SWA, EMA, custom avg_fn, buffers), SWALR, update_bn."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch


def _models(with_bn=False):
    def build(lib):
        layers = [lib.nn.Linear(3, 4)] + ([lib.nn.BatchNorm1d(4)] if with_bn else []) + [lib.nn.Linear(4, 2)]
        return lib.nn.Sequential(*layers)
    tm = build(torch)
    em = build(ember)
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    return em, tm


def _perturb(em, tm, k):
    rng = np.random.default_rng(k)
    with torch.no_grad():
        for ep, tp in zip(em.parameters(), tm.parameters()):
            delta = rng.standard_normal(tuple(tp.shape)).astype(np.float32)
            tp.add_(torch.tensor(delta))
            ep._data += delta


@needs_torch
@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema", "use_buffers"])
def test_averaged_model_matches_torch(kind):
    em, tm = _models(with_bn=kind == "use_buffers")
    kwargs = {"swa": {}, "use_buffers": {"use_buffers": True}}.get(kind, {})
    if kind == "ema_multi":
        e_avg = ember.optim.swa_utils.AveragedModel(em, multi_avg_fn=ember.optim.swa_utils.get_ema_multi_avg_fn(0.9))
        t_avg = torch.optim.swa_utils.AveragedModel(tm, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.9))
    elif kind == "ema":
        e_avg = ember.optim.swa_utils.AveragedModel(em, avg_fn=ember.optim.swa_utils.get_ema_avg_fn(0.8))
        t_avg = torch.optim.swa_utils.AveragedModel(tm, avg_fn=torch.optim.swa_utils.get_ema_avg_fn(0.8))
    else:
        e_avg = ember.optim.swa_utils.AveragedModel(em, **kwargs)
        t_avg = torch.optim.swa_utils.AveragedModel(tm, **kwargs)
    for k in range(5):
        _perturb(em, tm, k)
        if kind == "use_buffers":
            x = np.random.default_rng(k).standard_normal((8, 3)).astype(np.float32)
            em(ember.tensor(x))
            tm(torch.tensor(x))
        e_avg.update_parameters(em)
        t_avg.update_parameters(tm)
    e_sd, t_sd = e_avg.state_dict(), t_avg.state_dict()
    assert list(e_sd) == list(t_sd)
    for key in t_sd:
        np.testing.assert_allclose(e_sd[key].numpy(), t_sd[key].numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
    e_avg.eval()
    t_avg.eval()
    x = np.random.default_rng(9).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(e_avg(ember.tensor(x)).detach().numpy(), t_avg(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("strategy,anneal_epochs", [("cos", 4), ("linear", 3), ("cos", 0)])
def test_swalr_matches_torch(strategy, anneal_epochs):
    seqs, keys = [], []
    for lib in (ember, torch):
        w = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.5)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
        seq = []
        for _ in range(8):
            opt.step()
            sched.step()
            seq.append(opt.param_groups[0]["lr"])
        seqs.append(seq)
        keys.append(sorted(sched.state_dict()))
    np.testing.assert_allclose(seqs[0], seqs[1], rtol=1e-12)
    assert keys[0] == keys[1]


@needs_torch
def test_update_bn_matches_torch():
    em, tm = _models(with_bn=True)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(3)]
    em.eval()
    tm.eval()
    ember.optim.swa_utils.update_bn([(ember.tensor(b), 0) for b in batches], em)
    torch.optim.swa_utils.update_bn([(torch.tensor(b), 0) for b in batches], tm)
    assert not em.training
    for key, tv in tm.state_dict().items():
        np.testing.assert_allclose(em.state_dict()[key].numpy(), tv.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
