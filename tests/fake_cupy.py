"""A stand-in for CuPy on machines without a GPU: NumPy does the arithmetic, CuPy's rules are enforced.

A CuPy array lives in GPU memory, so CuPy refuses everything that would silently move data between host
and device, and op code that works on NumPy can still break on a GPU. This module keeps those rules so the
CPU test run catches such code:

- ``np.asarray(device_array)`` raises TypeError (``__array__`` refuses), as CuPy does: op code must not
  pull device data into NumPy;
- a CuPy function, ufunc or operator given a NumPy array raises TypeError: op code must create its arrays
  with the array module of its inputs (``xp.zeros``, not ``np.zeros``);
- a NumPy function called on device arrays dispatches to CuPy (NEP 13/18) only where CuPy has it;
- reductions return 0-d device arrays, never NumPy scalars;
- only the names real CuPy 14.2 exports are there (``cupy_api.json``, read from CuPy's own namespace).

``install(monkeypatch)`` makes ``ember.cuda`` use it; ``tests/test_device_backend.py`` runs the op table on
it. On a GPU machine the same tests run on real CuPy.
"""
import functools
import json
import os
import sys
import types

import numpy as np

_API = {k: set(v) for k, v in json.load(open(os.path.join(os.path.dirname(__file__), "cupy_api.json"))).items()}
_TRANSFER = ("asarray", "array", "ascontiguousarray", "asfortranarray")
# CuPy's ufunc methods exist only for some ufuncs (CuPy's ufunc reference); outer works for all
_METHOD_UFUNCS = {"reduce": {"add", "multiply"}, "accumulate": {"add", "multiply"}, "reduceat": {"add"},
                  "at": {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"}}


def _nan_on_failure(fn):
    """CuPy's inv/cholesky/solve do not raise on singular or non-positive-definite input (its default
    linalg errstate): they return NaN. The stand-in does the same, so ember must check."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except np.linalg.LinAlgError:
            shape = np.broadcast_shapes(*(np.shape(a)[:-2] for a in args[:2])) + np.shape(args[-1])[-2:] \
                if fn is np.linalg.solve else np.shape(args[0])
            return np.full(shape, np.nan, np.result_type(*args))
    return call


_LINALG_NAN = {np.linalg.inv: _nan_on_failure(np.linalg.inv), np.linalg.cholesky: _nan_on_failure(np.linalg.cholesky),
               np.linalg.solve: _nan_on_failure(np.linalg.solve)}


def _check_method(ufunc, method):
    allowed = _METHOD_UFUNCS.get(method)
    if allowed is not None and ufunc.__name__ not in allowed:
        raise NotImplementedError(f"cupy.{ufunc.__name__}.{method} is not supported by CuPy "
                                  f"(only for {', '.join(sorted(allowed))})")


def _refuse(x):
    raise TypeError(f"Unsupported type {type(x)}: a NumPy array given to a CuPy function "
                    "(create it with the array module of the device, or move it with xp.asarray)")


def _unwrap(x):
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        _refuse(x)
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(_unwrap(v) for v in x)
    return x


def _unwrap_kwargs(kwargs):
    return {k: _unwrap(v) for k, v in kwargs.items()}


def _wrap(r):
    if isinstance(r, np.ndarray):
        return ndarray(r)
    if isinstance(r, np.generic) and not isinstance(r, (np.str_, np.bytes_)):
        return ndarray(np.asarray(r))  # CuPy's reductions give 0-d arrays, not scalars
    if hasattr(r, "_fields"):
        return type(r)(*(_wrap(v) for v in r))
    if isinstance(r, (tuple, list)):
        return type(r)(_wrap(v) for v in r)
    return r


class _Device:
    def __init__(self, id=0):
        self.id = int(id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        pass

    def __eq__(self, other):
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self):
        return self.id


def _binary(ufunc):
    return lambda self, other: ufunc(self, other)


def _reflected(ufunc):
    return lambda self, other: ufunc(other, self)


def _inplace(ufunc):
    def op(self, other):
        ufunc(self, other, out=self)
        return self
    return op


class ndarray:
    """A device array: a NumPy array inside, CuPy's interface outside."""

    __slots__ = ("_a",)
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, a):
        self._a = a

    # -- what moves data to the host is explicit, as in CuPy
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def get(self, stream=None, order="C", out=None, blocking=True):
        return np.array(self._a, order=order)

    def item(self, *args):
        return self._a.item(*args)

    def tolist(self):
        return self._a.tolist()

    # -- NumPy calls on device arrays run on the device where CuPy has the function
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc.__name__ not in _API["cupy"] or (method != "__call__" and method not in _API["ufunc_methods"]):
            return NotImplemented
        _check_method(ufunc, method)
        out = kwargs.get("out")
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap_kwargs(kwargs))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return None if method == "at" else _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        module = func.__module__ or ""
        names = _API["linalg"] if "linalg" in module else _API["fft"] if "fft" in module else _API["cupy"]
        if func.__name__ not in names:
            return NotImplemented
        func = _LINALG_NAN.get(func, func)
        return _wrap(func(*_unwrap(args), **_unwrap_kwargs(kwargs)))

    # -- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray(self._a.T))
    mT = property(lambda self: ndarray(self._a.mT))
    real = property(lambda self: ndarray(self._a.real))
    imag = property(lambda self: ndarray(self._a.imag))
    device = property(lambda self: _Device(0))
    base = property(lambda self: None if self._a.base is None else ndarray(self._a.base))

    def __getattr__(self, name):
        if name not in _API["ndarray"]:
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        @functools.wraps(attr)
        def method(*args, **kwargs):
            return _wrap(attr(*_unwrap(args), **_unwrap_kwargs(kwargs)))
        return method

    # -- indexing
    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __bool__(self):
        return bool(self._a)

    def __int__(self):
        return int(self._a)

    def __float__(self):
        return float(self._a)

    def __complex__(self):
        return complex(self._a)

    def __index__(self):
        return self._a.__index__()

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return np.positive(self)

    def __abs__(self):
        return np.absolute(self)

    def __invert__(self):
        return np.invert(self)

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.true_divide),
                      ("floordiv", np.floor_divide), ("mod", np.remainder), ("pow", np.power),
                      ("matmul", np.matmul), ("and", np.bitwise_and), ("or", np.bitwise_or),
                      ("xor", np.bitwise_xor), ("lshift", np.left_shift), ("rshift", np.right_shift)]:
    setattr(ndarray, f"__{_name}__", _binary(_ufunc))
    setattr(ndarray, f"__r{_name}__", _reflected(_ufunc))
    setattr(ndarray, f"__i{_name}__", _inplace(_ufunc))
for _name, _ufunc in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                      ("gt", np.greater), ("ge", np.greater_equal)]:
    setattr(ndarray, f"__{_name}__", _binary(_ufunc))


class _Ufunc:
    """``cupy.exp`` and friends: NumPy's ufunc, refusing host arrays."""

    def __init__(self, ufunc):
        self._u = ufunc
        self.__name__ = ufunc.__name__
        for attr in ("nin", "nout", "nargs", "types", "identity"):
            setattr(self, attr, getattr(ufunc, attr))

    def __call__(self, *args, **kwargs):
        return self._method("__call__", args, kwargs)

    def _method(self, method, args, kwargs):
        _check_method(self._u, method)
        out = kwargs.get("out")
        result = getattr(self._u, method)(*_unwrap(args), **_unwrap_kwargs(kwargs))
        if out is not None:
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return None if method == "at" else _wrap(result)

    def __getattr__(self, method):
        if method not in _API["ufunc_methods"]:
            raise AttributeError(method)
        return lambda *args, **kwargs: self._method(method, args, kwargs)


def _function(fn):
    @functools.wraps(fn)
    def call(*args, **kwargs):
        return _wrap(fn(*_unwrap(args), **_unwrap_kwargs(kwargs)))
    return call


def _transfer(fn):
    """asarray/array: the one door from host data to the device."""
    @functools.wraps(fn)
    def call(obj, dtype=None, *args, **kwargs):
        if isinstance(obj, ndarray):
            if fn is np.asarray and (dtype is None or np.dtype(dtype) == obj.dtype):
                return obj
            obj = obj._a
        elif isinstance(obj, (list, tuple)):
            obj = _unwrap(obj) if not any(isinstance(v, np.ndarray) for v in obj) else obj
        return ndarray(np.array(fn(obj, dtype, *args, **kwargs), copy=fn is np.array or None))
    return call


def _namespace(name, source, names):
    mod = types.ModuleType(name)
    for n in sorted(names):
        obj = getattr(source, n, None)
        if obj is None:
            continue
        if isinstance(obj, np.ufunc):
            obj = _Ufunc(obj)
        elif isinstance(obj, type) or not callable(obj):
            pass  # dtypes, constants and classes are NumPy's own, as in CuPy
        else:
            obj = _function(obj)
        setattr(mod, n, obj)
    return mod


def _build():
    cp = _namespace("cupy", np, _API["cupy"] - {"ndarray", "random", "linalg", "fft", "cuda", "lib"})
    cp.ndarray = ndarray
    for n in _TRANSFER:
        setattr(cp, n, _transfer(getattr(np, n)))
    cp.asnumpy = lambda a, stream=None, order="C", out=None, blocking=True: (
        a.get(order=order) if isinstance(a, ndarray) else np.asarray(a, order=order))
    cp.get_array_module = lambda *args: cp if any(isinstance(a, ndarray) for a in args) else np
    cp.linalg = _namespace("cupy.linalg", np.linalg, _API["linalg"])
    for fn, nan_version in _LINALG_NAN.items():
        setattr(cp.linalg, fn.__name__, _function(nan_version))
    cp.fft = _namespace("cupy.fft", np.fft, _API["fft"])
    cp.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
        as_strided=_function(np.lib.stride_tricks.as_strided),
        sliding_window_view=_function(np.lib.stride_tricks.sliding_window_view)))
    rng = np.random.default_rng(0)
    cp.random = types.SimpleNamespace(
        seed=lambda seed=None: None,
        standard_normal=lambda size=None, dtype=float: ndarray(rng.standard_normal(size).astype(dtype)),
        random=lambda size=None, dtype=float: ndarray(rng.random(size).astype(dtype)))
    runtime = types.SimpleNamespace(getDeviceCount=lambda: 1)
    null_stream = types.SimpleNamespace(synchronize=lambda: None)
    cp.cuda = types.SimpleNamespace(runtime=runtime, Device=_Device, Stream=types.SimpleNamespace(null=null_stream))
    cp.__fake__ = True
    return cp


cupy = _build()


def _cupyx():
    import scipy.special
    special = _namespace("cupyx.scipy.special", scipy.special, _API["special"])
    scipy_ns = types.ModuleType("cupyx.scipy")
    scipy_ns.special = special
    root = types.ModuleType("cupyx")
    root.scipy = scipy_ns
    return {"cupyx": root, "cupyx.scipy": scipy_ns, "cupyx.scipy.special": special}


def install(monkeypatch):
    """Make ``ember.cuda`` run on this module for the rest of the test."""
    import ember.cuda
    monkeypatch.setitem(ember.cuda._state, "cupy", cupy)
    for name, module in _cupyx().items():
        monkeypatch.setitem(sys.modules, name, module)
    return cupy
