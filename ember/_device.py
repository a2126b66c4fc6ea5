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
    """The array module an op uses for ``array``'s data: NumPy, or CuPy for a device array.

    Op code creates every new array with it (``xp.zeros``, ``xp.asarray``) instead of ``np``, so the same
    op serves both devices; NumPy functions applied to device arrays dispatch to CuPy by themselves."""
    return np if isinstance(array, np.ndarray) else device_of(array).xp


def module_of(*arrays):
    """The array module of the first array among ``arrays`` (scalars and None are skipped)."""
    for a in arrays:
        if isinstance(a, np.ndarray):
            return np
        if is_device_array(a):
            return device_of(a).xp
    return np


_cuda_state = []  # ember.cuda's state dict, looked up once (ember.cuda imports ember modules)


def is_device_array(x):
    """Whether ``x`` is a CuPy array (only possible once CUDA has been used)."""
    if not _cuda_state:
        from . import cuda
        _cuda_state.append(cuda._state)
    cp = _cuda_state[0].get("cupy")
    return cp is not None and isinstance(x, cp.ndarray)


def is_array(x):
    """A NumPy or CuPy array (not a scalar, list or Tensor)."""
    return isinstance(x, np.ndarray) or is_device_array(x)


def as_array(x, dtype=None):
    """An op's raw result as an array of ``dtype``: NumPy returns scalars for 0-d results where CuPy
    returns 0-d arrays, and ``np.asarray`` must never be applied to a device array (it would copy it to
    the host, and CuPy refuses)."""
    if isinstance(x, (np.generic, int, float, complex, bool)):
        return np.asarray(x, dtype)
    return x if dtype is None or x.dtype == dtype else x.astype(dtype)


def to_host(array):
    """A NumPy copy (or the array itself on the CPU): for printing, ``tolist`` and host-side checks."""
    return array if isinstance(array, np.ndarray) else array.get()


def special_module(xp):
    """``scipy.special`` for NumPy data (None without SciPy), ``cupyx.scipy.special`` for CuPy data."""
    if xp is np:
        from ._optional import scipy_module
        return scipy_module("special")
    import importlib
    return importlib.import_module("cupyx.scipy.special")
