"""torch.amp: GradScaler's dynamic loss scaling against torch's (skipped steps, backoff, growth, state
dict, errors) and autocast's recorded state."""
import warnings

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same


def _train(lib, steps=8, **scaler_kwargs):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        model.bias.zero_()
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", **scaler_kwargs)
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3).astype(np.float32))
    scales, skipped = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = (model(x) ** 2).mean() * 100
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        grads_finite = all(bool(lib.isfinite(p.grad).all()) for p in model.parameters())
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        skipped.append(not grads_finite)
    return model, scales, skipped, scaler.state_dict()


@needs_torch
def test_grad_scaler_matches_torch_through_overflow_backoff_and_growth():
    # a loss of ~30 scaled by 2**127 overflows float32: steps are skipped and the scale backs off until
    # it fits, then grows every 2 clean steps until it overflows again
    kwargs = dict(init_scale=2.0 ** 127, growth_interval=2, backoff_factor=0.25)
    e_model, e_scales, e_skipped, e_state = _train(ember, **kwargs)
    t_model, t_scales, t_skipped, t_state = _train(torch, **kwargs)
    assert e_scales == t_scales
    assert e_skipped == t_skipped and any(e_skipped) and not all(e_skipped)
    assert e_state == t_state
    assert_same(e_model.weight, t_model.weight)
    assert_same(e_model.bias, t_model.bias)


@needs_torch
def test_grad_scaler_errors_match_torch():
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        scaler = lib.amp.GradScaler("cpu")
        scaler.scale((p * 2).sum()).backward()
        scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
            scaler.unscale_(opt)


@needs_torch
def test_state_dict_round_trip_and_disabled_scaler():
    scaler = ember.amp.GradScaler("cpu", init_scale=8.0, growth_interval=3)
    other = ember.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.get_scale() == 8.0 and other.get_growth_interval() == 3
    off = ember.amp.GradScaler("cpu", enabled=False)
    loss = ember.ones(()) * 3
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    with pytest.raises(RuntimeError, match="empty"):
        ember.amp.GradScaler("cpu").load_state_dict({})


def test_cuda_scaler_without_cuda_warns_and_disables_itself():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = ember.cuda.amp.GradScaler()
    assert not scaler.is_enabled()
    assert any("CUDA is not available" in str(w.message) for w in caught)


def test_autocast_records_state_and_nests():
    assert not ember.is_autocast_enabled("cpu")
    with ember.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu") and ember.get_autocast_dtype("cpu") is ember.bfloat16
        with ember.cpu.amp.autocast(enabled=False):
            assert not ember.is_autocast_enabled("cpu")
        assert ember.is_autocast_enabled("cpu")
    assert not ember.is_autocast_enabled("cpu")

    @ember.amp.autocast("cpu", dtype=ember.float16)
    def inside():
        return ember.get_autocast_dtype("cpu")
    assert inside() is ember.float16
    with pytest.raises(TypeError):
        ember.autocast()
