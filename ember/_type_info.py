"""torch.finfo / torch.iinfo: numeric limits of a dtype."""
import numpy as np

from . import _dtype as D


class finfo:
    """Machine limits of a floating dtype (``ember.finfo(ember.float32).eps``)."""

    def __init__(self, type=None):
        dt = D.to_dtype(type) if type is not None else D.get_default_dtype()
        if not (dt.is_floating_point or dt.is_complex):
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle '{dt!r}'")
        real = dt.to_real()
        if real is D.bfloat16:
            import ml_dtypes
            info = ml_dtypes.finfo(real.np)
        else:
            info = np.finfo(real.np)
        self.dtype = dt.to_real().name
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype."""

    def __init__(self, type):
        dt = D.to_dtype(type)
        if dt.is_floating_point or dt.is_complex:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle '{dt!r}'")
        info = np.iinfo(dt.np) if dt is not D.bool else None
        self.dtype = dt.name
        self.bits = dt.itemsize * 8
        self.max = int(info.max) if info else 1
        self.min = int(info.min) if info else 0

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
