"""torch.amp: ``autocast`` and ``GradScaler``.

ember computes in the tensors' own dtypes, so ``autocast`` records its state (what
``is_autocast_enabled``/``get_autocast_dtype`` report) but casts nothing: results come out in full
precision. ``GradScaler`` is the real thing: it scales the loss, unscales the gradients, skips the
optimizer step when a gradient is inf/NaN and adapts the scale, exactly as torch's does, so programs
that train in float16 keep their dynamics.
"""
from .autocast_mode import autocast, is_autocast_enabled, get_autocast_dtype  # noqa: F401
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype"]


def _device_classes(device, default_dtype):
    """``torch.<device>.amp``'s autocast and GradScaler: the device fixed, torch's old signatures."""
    class autocast(_autocast_base):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            super().__init__(device, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class GradScaler(_scaler_base):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval, enabled)

    return autocast, GradScaler


_autocast_base, _scaler_base = autocast, GradScaler
