"""Top-level helpers PyTorch programs use: finfo/iinfo, testing.assert_close, compile, backends flags."""
import pytest

import ember
from oracle import needs_torch, torch


@needs_torch
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo_matches_torch(name):
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ("eps", "max", "min", "tiny", "smallest_normal", "resolution", "bits"):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert e.dtype == t.dtype


@needs_torch
@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8"])
def test_iinfo_matches_torch(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (e.min, e.max, e.bits, e.dtype) == (t.min, t.max, t.bits, t.dtype)
    with pytest.raises(TypeError):
        ember.iinfo(ember.float32)


def test_assert_close():
    ember.testing.assert_close(ember.ones(3), ember.ones(3) + 1e-7)
    with pytest.raises(AssertionError, match="Tensor-likes are not close"):
        ember.testing.assert_close(ember.ones(3), ember.ones(3) * 1.1)
    with pytest.raises(AssertionError, match="dtype"):
        ember.testing.assert_close(ember.ones(3), ember.ones(3, dtype=ember.float64))


def test_compile_and_flags_are_transparent():
    f = lambda x: x * 2  # noqa: E731
    assert ember.compile(f) is f and ember.compile()(f) is f
    ember.backends.cudnn.benchmark = True
    with ember.autocast("cpu", dtype=ember.bfloat16):
        assert (ember.ones(2) @ ember.ones(2)).dtype is ember.float32
    assert isinstance(ember.FloatTensor([1, 2]), ember.Tensor) and ember.LongTensor([1]).dtype is ember.int64
