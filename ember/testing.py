"""ember.testing.assert_close, as torch.testing.assert_close."""
import numpy as np

from . import _dtype as D

_DEFAULT_TOL = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
                "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _host_values(x):
    from ._device import to_host
    from ._tensor import Tensor
    return to_host(x.detach()._data) if isinstance(x, Tensor) else np.asarray(x)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close (torch's default tolerances)."""
    from ._tensor import Tensor
    if isinstance(actual, (list, tuple)):
        assert len(actual) == len(expected), msg or f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict):
        assert actual.keys() == expected.keys(), msg or "The keys of the mappings do not match"
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype)
        return
    if not isinstance(actual, Tensor) and not isinstance(expected, Tensor):
        a, e = np.asarray(actual), np.asarray(expected)
        dt_name = D.scalar_dtype(actual).name if np.ndim(actual) == 0 else "float64"
    else:
        if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and actual.dtype != expected.dtype:
            raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.")
        if tuple(np.shape(actual)) != tuple(np.shape(expected)):
            raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                                 f"{tuple(np.shape(actual))} != {tuple(np.shape(expected))}.")
        if check_device and isinstance(actual, Tensor) and isinstance(expected, Tensor) \
                and actual.device != expected.device:
            raise AssertionError(msg or f"The values for attribute 'device' do not match: "
                                 f"{actual.device} != {expected.device}.")
        a, e = _host_values(actual), _host_values(expected)
        dt_name = (actual if isinstance(actual, Tensor) else expected).dtype.name
    default_rtol, default_atol = _DEFAULT_TOL.get(dt_name, (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    e64 = e.astype(np.complex128 if e.dtype.kind == "c" else np.float64)
    ok = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not ok.all():
        bad = int((~ok).sum())
        diff = np.abs(a64 - e64)
        diff = np.where(np.isnan(diff), np.inf, diff)
        raise AssertionError(msg or (f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {ok.size} "
                                     f"({100.0 * bad / ok.size:.1f}%)\nGreatest absolute difference: {diff.max()} "
                                     f"(up to {atol} allowed)"))


assert_allclose = assert_close


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    from ._ops.random import rand, randint
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    dt = D.to_dtype(dtype)
    if dt.is_floating_point or dt.is_complex:
        lo, hi = (-9 if low is None else low), (9 if high is None else high)
        t = rand(*shape, dtype=dt) * (hi - lo) + lo
    elif dt is D.bool:
        t = randint(0, 2, tuple(shape)).bool()
    else:
        t = randint(-9 if low is None else low, 10 if high is None else high, tuple(shape), dtype=dt)
    if requires_grad:
        t.requires_grad_()
    return t
