"""DataParallel and SyncBatchNorm on one process: torch's behaviour, state_dict keys and conversion."""
import numpy as np

import ember
from oracle import needs_torch, torch, assert_same


@needs_torch
def test_data_parallel_wraps_the_module_like_torch():
    e = ember.nn.DataParallel(ember.nn.Linear(3, 2))
    t = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    assert list(e.state_dict()) == list(t.state_dict()) == ["module.weight", "module.bias"]
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.ones((4, 3), np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))
    assert repr(e) == repr(t)


@needs_torch
def test_convert_sync_batchnorm_keeps_state_and_matches_torch():
    def build(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3), lib.nn.Sequential(lib.nn.BatchNorm1d(4)))
        return model
    e, t = build(ember), build(torch)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    e[1].eval()
    t[1].eval()
    es, ts = ember.nn.SyncBatchNorm.convert_sync_batchnorm(e), torch.nn.SyncBatchNorm.convert_sync_batchnorm(t)
    assert repr(es) == repr(ts)
    assert type(es[1]).__name__ == "SyncBatchNorm" and not es[1].training and es[2][0].training
    assert es[1].weight is e[1].weight
    assert list(es.state_dict()) == list(ts.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 2, 3, 3)).astype(np.float32)
    assert_same(es[:2](ember.tensor(x)), ts[:2](torch.tensor(x)))


def test_sync_batchnorm_trains_on_the_local_batch():
    m = ember.nn.SyncBatchNorm(3)
    x = ember.randn(8, 3, 5) * 4 + 2
    y = m(x)
    np.testing.assert_allclose(y.detach().numpy().mean((0, 2)), 0, atol=1e-5)
    assert m.num_batches_tracked.item() == 1
