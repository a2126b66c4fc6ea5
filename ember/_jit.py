"""The optional compiled kernel layer: loops written in Python, compiled by Numba when it is installed.

NumPy runs one whole-array pass per operation, so an op built from several passes (im2col, a pooling
window's max and argmax, a fused optimizer update, an exp-normalise-sum softmax) pays for each pass
and each temporary. A kernel here does the same work in one pass. Every kernel has a NumPy twin at its
call site, and the two are tested against each other and against torch.

Kernels compile on first use (about a second each, cached on disk afterwards), so ``import ember`` does
not import Numba. The layer is on when Numba is importable (``pip install ember[fast]``) and off when
``EMBER_JIT=0`` is set in the environment, or inside ``with disabled():``.

Usage::

    from ember import _jit

    @_jit.kernel
    def _scale(x, a, out):
        for i in range(x.size):
            out[i] = a * x[i]

    if _jit.enabled():
        _scale(x, 2.0, out)
    else:
        np.multiply(x, 2.0, out=out)
"""
import contextlib
import os

import numpy as _np

__all__ = ["kernel", "inline", "enabled", "enabled_for", "disabled", "available", "load_runtime"]

_state = {"numba": None, "on": os.environ.get("EMBER_JIT", "1") != "0"}


def available():
    """True when Numba can be imported (checked once)."""
    if _state["numba"] is None:
        try:
            import numba
            _state["numba"] = numba
        except Exception:  # absent, or broken against this NumPy: the NumPy paths serve
            _state["numba"] = False
    return _state["numba"] is not False


def enabled_for(*arrays):
    """Whether the compiled kernels serve these arrays: the layer is on and every array is in host
    memory. Device (CuPy) arrays take the array-module path."""
    return enabled() and all(isinstance(a, _np.ndarray) for a in arrays)


def enabled():
    """Whether call sites should use the compiled kernels right now."""
    # (Numba loaded: the hot call sites skip available()'s frame)
    numba = _state["numba"]
    return _state["on"] and (numba is not None and numba is not False or available())


@contextlib.contextmanager
def disabled():
    """Run the NumPy paths inside the block (tests compare the two)."""
    previous = _state["on"]
    _state["on"] = False
    try:
        yield
    finally:
        _state["on"] = previous


class _Kernel:
    """A Python function compiled by ``numba.njit`` on its first call."""
    __slots__ = ("py_func", "options", "_compiled", "__name__")

    def __init__(self, fn, options):
        self.py_func, self.options, self._compiled = fn, options, None
        self.__name__ = fn.__name__

    def __call__(self, *args):
        compiled = self._compiled
        if compiled is None:
            if not available():
                raise RuntimeError(f"kernel {self.__name__} needs Numba: pip install ember[fast]")
            _compile_inline_helpers(self.py_func)
            compiled = self._compiled = _state["numba"].njit(cache=True, nogil=True, **self.options)(self.py_func)
        return compiled(*args)


class _Inline:
    """A helper called from kernels (``@inline``), compiled and inlined into each caller."""
    __slots__ = ("py_func",)

    def __init__(self, fn):
        self.py_func = fn

    def __call__(self, *args):
        raise RuntimeError(f"{self.py_func.__name__} is an inline kernel helper: call it from a kernel")


def _compile_inline_helpers(fn):
    """Numba resolves a kernel's globals when it compiles it: the ``@inline`` helpers the kernel names
    become compiled functions in its module first (helpers of helpers too)."""
    numba, names, module = _state["numba"], fn.__code__.co_names, fn.__globals__
    for name in names:
        helper = module.get(name)
        if isinstance(helper, _Inline):
            _compile_inline_helpers(helper.py_func)
            module[name] = numba.njit(inline="always", cache=False)(helper.py_func)


def inline(fn):
    """Decorator for a small function shared by several kernels (a polynomial, an exp): each kernel
    that calls it gets it inlined, so its loops still vectorise. Only kernels may call it."""
    return _Inline(fn)


def kernel(fn=None, **options):
    """Decorator: ``@kernel`` or ``@kernel(fastmath=True)``; options go to ``numba.njit``.

    The kernels default to ``error_model='numpy'`` (division by zero gives inf/nan, as NumPy does,
    instead of raising) and ``boundscheck=False``."""
    options = {"error_model": "numpy", **options}
    if fn is None:
        return lambda f: _Kernel(f, options)
    return _Kernel(fn, options)


@kernel
def _noop(x):
    return x


def load_runtime():
    """Import Numba and start its LLVM runtime now (about 150 MB of resident memory, paid once per
    process, the first time any kernel runs). Benchmarks call it so that a workload's memory figure
    counts the workload, not the runtime, as torch's figure excludes torch's own import."""
    if enabled():
        _noop(0)
