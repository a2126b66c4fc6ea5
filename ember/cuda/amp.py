"""torch.cuda.amp (deprecated in torch in favour of torch.amp, still widely used)."""
from .. import _dtype as D
from ..amp import _device_classes

__all__ = ["autocast", "GradScaler"]

autocast, GradScaler = _device_classes("cuda", D.float16)
