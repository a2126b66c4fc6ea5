"""Modules programs import for switches and deployment: torch.backends.*, torch.nn.attention, torch.jit.
Their flags and enums match torch's; what ember can't do (TorchScript archives) fails with a clear error."""
import importlib

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same


@pytest.mark.parametrize("name", ["cudnn", "cuda", "mps", "mkldnn", "openmp", "opt_einsum"])
def test_backends_are_importable_modules(name):
    module = importlib.import_module(f"ember.backends.{name}")
    assert getattr(ember.backends, name) is module


def test_backend_flags_are_recorded_and_availability_is_false():
    import ember.backends.cudnn as cudnn
    cudnn.benchmark, cudnn.deterministic = True, True
    try:
        assert ember.backends.cudnn.benchmark and ember.backends.cudnn.deterministic
    finally:
        cudnn.benchmark, cudnn.deterministic = False, False
    assert not ember.backends.mps.is_available() and not ember.backends.cudnn.is_available()
    ember.backends.cuda.enable_flash_sdp(False)
    assert not ember.backends.cuda.flash_sdp_enabled()
    ember.backends.cuda.enable_flash_sdp(True)


@needs_torch
def test_sdpa_kernel_enum_matches_torch_and_attention_runs_under_every_choice():
    from ember.nn.attention import SDPBackend, sdpa_kernel
    assert {k: int(v) for k, v in SDPBackend.__members__.items()} == \
        {k: int(v) for k, v in torch.nn.attention.SDPBackend.__members__.items()}
    q = np.random.default_rng(0).standard_normal((1, 2, 5, 4)).astype(np.float32)
    for backend in (SDPBackend.MATH, [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION]):
        with sdpa_kernel(backend):
            out = ember.nn.functional.scaled_dot_product_attention(*(ember.tensor(q),) * 3, is_causal=True)
        assert_same(out, torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(q),) * 3, is_causal=True))
    with pytest.raises(AssertionError, match="SDPBackend"):
        with sdpa_kernel(["math"]):
            pass


def test_jit_runs_eagerly_and_refuses_torchscript_archives(tmp_path):
    model = ember.nn.Linear(3, 2)
    assert ember.jit.script(model) is model
    assert ember.jit.trace(model, ember.zeros(1, 3)) is model

    @ember.jit.ignore
    def helper(x):
        return x + 1

    @ember.jit.unused
    def other(x):
        return x * 2
    assert helper(1) == 2 and other(2) == 4 and not ember.jit.is_scripting() and not ember.jit.is_tracing()
    assert ember.jit.wait(ember.jit.fork(lambda a, b: a + b, 2, 3)) == 5
    with pytest.raises(RuntimeError, match="state_dict"):
        ember.jit.save(model, str(tmp_path / "m.pt"))
    with pytest.raises(RuntimeError, match="TorchScript"):
        ember.jit.load(str(tmp_path / "m.pt"))
