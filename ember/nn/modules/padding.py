"""Padding layers: zero, constant, reflection, replication and circular, 1-d to 3-d."""
from .. import functional as F
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _amounts(padding, nd):
    """An int pads every side; a tuple is F.pad's (last_lo, last_hi, ...) order."""
    return (padding,) * (2 * nd) if isinstance(padding, int) else tuple(padding)


class _ConstantPadNd(Module):
    _nd = 1

    def __init__(self, padding, value):
        super().__init__()
        self.padding = _amounts(padding, self._nd)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant.

    >>> ember.nn.ConstantPad1d(2, 3.5)(ember.zeros(1, 2)).shape
    torch.Size([1, 6])
    """
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with a constant; padding = (left, right, top, bottom)."""
    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with a constant."""
    _nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""
    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros.

    >>> ember.nn.ZeroPad2d((1, 1, 2, 0))(ember.ones(1, 1, 3, 3)).shape
    torch.Size([1, 1, 5, 5])
    """
    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros."""
    _nd = 3


class _ModePadNd(Module):
    _nd = 1
    _mode = "reflect"

    def __init__(self, padding):
        super().__init__()
        self.padding = _amounts(padding, self._nd)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pad the last dim with its reflection (edge not repeated).

    >>> ember.nn.ReflectionPad1d(2)(ember.arange(4.).view(1, 1, 4))
    tensor([[[2., 1., 0., 1., 2., 3., 2., 1.]]])
    """
    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_ModePadNd):
    """Pad the last two dims with their reflection."""
    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_ModePadNd):
    """Pad the last three dims with their reflection."""
    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_ModePadNd):
    """Pad the last dim by repeating its edge values."""
    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_ModePadNd):
    """Pad the last two dims by repeating their edge values."""
    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_ModePadNd):
    """Pad the last three dims by repeating their edge values."""
    _nd, _mode = 3, "replicate"


class CircularPad1d(_ModePadNd):
    """Pad the last dim by wrapping around."""
    _nd, _mode = 1, "circular"


class CircularPad2d(_ModePadNd):
    """Pad the last two dims by wrapping around."""
    _nd, _mode = 2, "circular"


class CircularPad3d(_ModePadNd):
    """Pad the last three dims by wrapping around."""
    _nd, _mode = 3, "circular"
