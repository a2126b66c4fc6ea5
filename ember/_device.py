"""Devices. Every op is written once against ``device.xp`` (NumPy on the CPU, CuPy on CUDA)."""
import numpy as np


class device:
    """``ember.device('cpu' | 'cuda' | 'cuda:N')`` or ``ember.device('cuda', N)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        elif ":" in type:
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, "
                f"xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device string: {type}")
        self.type = type
        self.index = index

    @property
    def xp(self):
        if self.type == "cpu":
            return np
        from . import cuda
        return cuda._cupy()

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (str(self),))


CPU = device("cpu")


def to_device(obj):
    if obj is None:
        return None
    return obj if isinstance(obj, device) else device(obj)


def device_of(array):
    """The device an array lives on: NumPy arrays on the CPU, CuPy arrays on their GPU."""
    if isinstance(array, np.ndarray):
        return CPU
    return device("cuda", array.device.id)


def array_module(array):
    return np if isinstance(array, np.ndarray) else device_of(array).xp
