"""torch.cpu.amp."""
from .. import _dtype as D
from ..amp import _device_classes

__all__ = ["autocast", "GradScaler"]

autocast, GradScaler = _device_classes("cpu", D.bfloat16)
