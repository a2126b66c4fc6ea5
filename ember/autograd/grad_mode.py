"""Grad mode: whether ops record the graph. One module-level flag, read on every op call."""
import functools

# A one-element list is the cheapest mutable global to read on the hot path.
_enabled = [True]
_inference = [False]


def is_grad_enabled():
    return _enabled[0]


def is_inference_mode_enabled():
    return _inference[0]


class _GradModeContext:
    """Base for context managers that double as decorators, like torch's."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return fn(*args, **kwargs)
        return wrapper

    _args = ()

    def __exit__(self, exc_type, exc_value, traceback):  # named: no *args tuple per block
        _enabled[0] = self._prev
        return False


class no_grad(_GradModeContext):
    """Disable graph recording inside the block (or the decorated function)."""

    def __enter__(self):
        self._prev = _enabled[0]
        _enabled[0] = False


class enable_grad(_GradModeContext):
    def __enter__(self):
        self._prev = _enabled[0]
        _enabled[0] = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode at once (usable as a function) and restores it when used as a context."""

    def __init__(self, mode):
        self._args = (mode,)
        self._prev = _enabled[0]
        _enabled[0] = bool(mode)

    def __enter__(self):
        pass


class inference_mode(_GradModeContext):
    def __init__(self, mode=True):
        self._args = (mode,)
        self.mode = mode

    def __call__(self, fn=None):
        if fn is None or not callable(fn):
            return self
        return super().__call__(fn)

    def __enter__(self):
        self._prev = _enabled[0]
        self._prev_inf = _inference[0]
        if self.mode:
            _enabled[0] = False
            _inference[0] = True

    def __exit__(self, exc_type, exc_value, traceback):
        _enabled[0] = self._prev
        _inference[0] = self._prev_inf
        return False
