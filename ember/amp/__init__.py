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
