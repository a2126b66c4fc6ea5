"""``autocast`` contexts: recorded, not applied (ember keeps every op in its inputs' dtype)."""
import functools

from .. import _dtype as D

_DEFAULT_DTYPE = {"cpu": D.bfloat16, "cuda": D.float16}
_active = []  # (device_type, dtype, enabled), innermost last


class autocast:
    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else _DEFAULT_DTYPE.get(device_type, D.float16)
        self._enabled = bool(enabled)

    def __enter__(self):
        _active.append((self.device, self.fast_dtype, self._enabled))
        return self

    def __exit__(self, *exc):
        _active.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


def _innermost(device_type):
    for device, dtype, enabled in reversed(_active):
        if device == device_type:
            return enabled, dtype
    return False, _DEFAULT_DTYPE.get(device_type, D.float16)


def is_autocast_enabled(device_type="cuda"):
    return _innermost(device_type)[0]


def get_autocast_dtype(device_type):
    return _innermost(device_type)[1]
