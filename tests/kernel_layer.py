"""Test helpers for the compiled kernel layer: run a test body with the layer on and off, counting the
calls of a kernel module's kernels, so a dispatch that silently falls back to NumPy (or a kernel run
with the layer off) fails."""
import pytest

from ember import _jit


def kernel_layer(module, names):
    """A fixture over ("jit", "numpy") that yields (mode, calls), calls: kernel name -> call count."""
    @pytest.fixture(params=["jit", "numpy"])
    def layer(request, monkeypatch):
        calls = dict.fromkeys(names, 0)
        for name in names:
            def spy(*args, _kernel=getattr(module, name), _name=name):
                calls[_name] += 1
                return _kernel(*args)
            monkeypatch.setattr(module, name, spy)
        if request.param == "jit":
            if not _jit.enabled():
                pytest.skip("kernel layer off (numba missing or EMBER_JIT=0)")
            yield "jit", calls
        else:
            with _jit.disabled():
                yield "numpy", calls
    return layer


def expect_calls(layer, *names):
    """Exactly the kernels ``names`` ran (with the layer on); none ran with it off."""
    mode, calls = layer
    for name, count in calls.items():
        assert (count > 0) == (mode == "jit" and name in names), f"{name}: {count} calls in mode {mode}"
