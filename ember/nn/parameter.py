"""Parameter, Buffer and UninitializedParameter: tensors that modules register by type."""
import numpy as np

from .. import _dtype as D
from .._device import array_module, to_device, to_host
from .._tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter when assigned as an attribute.

    >>> p = ember.nn.Parameter(ember.zeros(3)); p.requires_grad
    True
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(np.empty((0,), dtype=D.get_default_dtype().np))
        if requires_grad and data._data.dtype not in D.FLOATING_NP:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        # Share the array (torch shares storage); detach from any graph.
        return Tensor._make_subclass(cls, data, requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        d = self._data
        if isinstance(d, np.ndarray):
            return (_rebuild_parameter, (d, self.requires_grad, type(self)))
        return (_rebuild_parameter, (to_host(d), self.requires_grad, type(self), str(self.device)))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = type(self)(Tensor._make(self._data.copy()), self.requires_grad)
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new


def _rebuild_parameter(array, requires_grad, cls=Parameter, device=None):
    if device is not None:  # a device parameter was pickled through host memory
        array = to_device(device).xp.asarray(array)
    return cls(Tensor._make(array), requires_grad)


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (used by Lazy modules); ``materialize`` gives it one."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Tensor._make_subclass(cls, _empty((0,), dtype or D.get_default_dtype(), None, device), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        """Allocate storage of ``shape`` (on ``device``, by default where the module moved this placeholder)
        and turn into a plain Parameter."""
        self._data = _empty(shape, dtype, self._data, device)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"

    def _raise(self, *args, **kwargs):
        raise ValueError("Attempted to use an uninitialized parameter in <method>. This error happens when "
                         "you are using a `LazyModule` or explicitly manipulating `torch.nn.parameter."
                         "UninitializedParameter` objects. When using LazyModules Call `forward` with a dummy "
                         "batch to initialize the parameters before calling torch functions")

    numel = _raise
    shape = property(_raise)


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (Lazy modules)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        t = Tensor._make_subclass(cls, _empty((0,), dtype or D.get_default_dtype(), None, device), requires_grad)
        t.persistent = persistent
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def materialize(self, shape, device=None, dtype=None):
        self._data = _empty(shape, dtype, self._data, device)
        self.__class__ = self.cls_to_become


def _empty(shape, dtype, placeholder, device):
    """Uninitialized storage of ``shape`` for a lazy tensor: of ``dtype`` (else the placeholder's), on
    ``device`` (else the placeholder's, which Module.to may have moved)."""
    np_dtype = D.to_dtype(dtype).np if dtype is not None else placeholder.dtype
    if device is None:
        xp = np if placeholder is None else array_module(placeholder)
    else:
        device = to_device(device)
        if device.type != "cpu":
            from .. import cuda
            cuda._cupy()  # torch's error without CUDA
        xp = device.xp
    return xp.empty(tuple(shape), dtype=np_dtype)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer on attribute assignment (``persistent`` as in
    ``register_buffer``). Assigning it stores a plain tensor.

    >>> m.running = ember.nn.Buffer(ember.zeros(3), persistent=False)
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(np.empty((0,), dtype=D.get_default_dtype().np))
        t = Tensor._make_subclass(cls, data, data.requires_grad)
        t.persistent = persistent
        return t

    def __init__(self, data=None, *, persistent=True):
        pass


def is_lazy(param):
    """True for uninitialized (lazy) parameters and buffers."""
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
