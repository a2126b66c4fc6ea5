"""torch.nn.attention: choosing scaled_dot_product_attention backends.

ember has one implementation of ``F.scaled_dot_product_attention`` (the math one, with compiled softmax
kernels when available), so ``sdpa_kernel`` records the caller's choice and every choice runs it."""
import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_selected = [list(SDPBackend)[1:]]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Inside the block only ``backends`` may serve scaled_dot_product_attention."""
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    if not all(isinstance(b, SDPBackend) for b in chosen):
        raise AssertionError("Backend must be an instance of SDPBackend")
    previous = _selected[0]
    _selected[0] = chosen
    try:
        yield
    finally:
        _selected[0] = previous
