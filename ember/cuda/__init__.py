"""ember.cuda: CUDA devices through CuPy. Without CuPy (or without a GPU) ``is_available()`` is False."""
_state = {}


def _cupy():
    if "cupy" not in _state:
        try:
            import cupy
            cupy.cuda.runtime.getDeviceCount()
            _state["cupy"] = cupy
        except Exception:  # no CuPy, no driver or no device: CUDA is simply unavailable
            _state["cupy"] = None
    if _state["cupy"] is None:
        raise AssertionError("Torch not compiled with CUDA enabled")
    return _state["cupy"]


def is_available():
    try:
        _cupy()
        return True
    except AssertionError:
        return False


def device_count():
    return _cupy().cuda.runtime.getDeviceCount() if is_available() else 0


def current_device():
    return _cupy().cuda.Device().id


def synchronize(device=None):
    if is_available():
        _cupy().cuda.Stream.null.synchronize()


def manual_seed(seed):
    if is_available():
        _cupy().random.seed(seed)


def manual_seed_all(seed):
    manual_seed(seed)


from . import amp  # noqa: E402,F401
