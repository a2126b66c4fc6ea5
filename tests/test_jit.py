"""The optional compiled kernel layer (``ember._jit``): switching, laziness and a compiled loop."""
import os
import subprocess
import sys

import numpy as np
import pytest

from ember import _jit

needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba not installed")


def test_import_ember_does_not_import_numba():
    src = "import sys, ember, ember.nn, ember.optim; assert 'numba' not in sys.modules, 'numba imported'; print('ok')"
    out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_env_flag_turns_the_layer_off():
    src = "from ember import _jit; print(_jit.enabled())"
    env = dict(os.environ, EMBER_JIT="0")
    out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False", out.stderr


@needs_numba
def test_disabled_context_restores_state():
    assert _jit.enabled()
    with _jit.disabled():
        assert not _jit.enabled()
    assert _jit.enabled()


@_jit.kernel
def _axpy(a, x, y):
    for i in range(x.size):
        y[i] += a * x[i]


@needs_numba
def test_kernel_compiles_and_computes():
    x = np.arange(5, dtype=np.float32)
    y = np.ones(5, dtype=np.float32)
    _axpy(np.float32(2), x, y)
    np.testing.assert_array_equal(y, 1 + 2 * np.arange(5, dtype=np.float32))
    assert _axpy.__name__ == "_axpy"


@_jit.inline
def _twice(v):
    return v + v


@_jit.kernel
def _twice_all(x, out):
    for i in range(x.size):
        out[i] = _twice(x[i])


@needs_numba
def test_inline_helpers_are_compiled_into_their_kernels():
    x = np.arange(4, dtype=np.float64)
    out = np.empty_like(x)
    _twice_all(x, out)
    np.testing.assert_array_equal(out, 2 * x)


def test_inline_helpers_refuse_to_run_outside_kernels():
    with pytest.raises(RuntimeError, match="inline kernel helper"):
        _jit._Inline(lambda v: v)(1.0)


def test_load_runtime_starts_numba_only_when_the_layer_is_on():
    src = ("import sys, ember; ember._jit.load_runtime(); print('numba' in sys.modules)")
    on = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True)
    off = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True,
                         env=dict(os.environ, EMBER_JIT="0"))
    assert off.stdout.strip() == "False", off.stderr
    assert on.stdout.strip() == str(_jit.available()), on.stderr
