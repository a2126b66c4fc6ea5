"""The Tensor: an array, its autograd metadata, and thin methods that call into ops."""
import numpy as np

from . import _dtype as D
from ._device import CPU, array_module, device_of, to_device, to_host
from .autograd import grad_mode
from .autograd.function import _RemovableHandle, _bind_tensor
from .autograd.engine import run_backward as _run_backward


class Size(tuple):
    """torch.Size: a tuple of ints with torch's repr and ``numel``."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


class Tensor:
    """An n-dimensional array with PyTorch's semantics and autograd.

    >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    tensor([2., 4.])
    """

    # Class-level defaults keep construction to one attribute write on the hot path.
    requires_grad = False
    grad = None
    grad_fn = None
    _out_nr = 0
    _vc = None
    _base = None
    _view_chain = None
    _multi_view = None  # (op name, output index) for outputs of split/chunk/unbind: no in-place under autograd
    _hooks = None
    _post_acc_hooks = None
    _retains_grad = False
    __array_ufunc__ = None  # make NumPy defer to our reflected operators

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        # Legacy constructor: Tensor(sizes...) allocates, Tensor(data) copies as float.
        if len(args) == 1 and not isinstance(args[0], int):
            data = args[0]
            arr = data._data.astype(data._data.dtype) if isinstance(data, Tensor) else \
                np.array(data, dtype=D.get_default_dtype().np)
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            arr = np.empty(tuple(shape), dtype=(dtype or D.get_default_dtype()).np)
        if device is not None and to_device(device) != device_of(arr):
            arr = _move_array(arr, to_device(device))
        self._data = arr
        self.requires_grad = requires_grad

    # Tensors made here store requires_grad on the instance (the class default stays for every other
    # construction site): CPython 3.11 specialises reading an instance attribute, not a class default
    # read through an instance (~80 vs ~300 instructions), and every op reads it from its operands.
    @classmethod
    def _make(cls, array):
        t = object.__new__(Tensor)
        t._data = array
        t.requires_grad = False
        return t

    @staticmethod
    def _wrap(array):
        t = object.__new__(Tensor)
        t._data = array if array.__class__ is np.ndarray else _as_array(array)
        t.requires_grad = False
        return t

    @staticmethod
    def _make_subclass(cls, data, require_grad=False):
        t = object.__new__(cls)
        t._data = data._data if isinstance(data, Tensor) else data
        t.requires_grad = require_grad
        if require_grad:
            t._store_leaf_defaults()
        return t

    # A leaf that requires grad (a parameter, an input) has these read by every op that records it and by
    # every backward that reaches it: stored on the instance, those reads are specialised (see _wrap).
    _LEAF_READS = ("grad_fn", "_vc", "_hooks", "_post_acc_hooks")

    def _store_leaf_defaults(self):
        for name in Tensor._LEAF_READS:
            setattr(self, name, getattr(self, name))

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return D._BY_NP[self._data.dtype]

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    @property
    def layout(self):
        return "torch.strided"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self):
        if not isinstance(self._data, np.ndarray):
            return _device_storage_offset(self._data)
        base = self._data
        while base.base is not None and isinstance(base.base, np.ndarray):
            base = base.base
        return (self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // self._data.itemsize

    def data_ptr(self):
        d = self._data
        return d.__array_interface__["data"][0] if isinstance(d, np.ndarray) else d.data.ptr

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def is_floating_point(self):
        return self._data.dtype in D.FLOATING_NP and self._data.dtype.kind != "c"

    def is_complex(self):
        return self._data.dtype.kind == "c"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        return self._vc[0] if self._vc is not None else 0

    def _version_counter(self):
        if self._vc is None:
            self._vc = [0]
        return self._vc

    def _bump_version(self):
        if self._vc is None:
            self._vc = [1]
        else:
            self._vc[0] += 1

    def _become_view_of(self, src, op, args):
        """Share storage identity (version counter, base) with ``src``; remember how to re-derive it."""
        self._vc = src._version_counter()
        self._base = src._base if src._base is not None else src
        self._view_chain = (src._view_chain or ()) + ((op, args),)

    def _is_view(self):
        return self._base is not None

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        self._data = value._data

    @property
    def is_sparse(self):
        return False

    @property
    def is_quantized(self):
        return False

    @property
    def is_meta(self):
        return False

    @property
    def names(self):
        return (None,) * self._data.ndim

    def get_device(self):
        d = self.device
        return -1 if d.type == "cpu" else (d.index or 0)

    def type(self, dtype=None):
        if dtype is None:
            prefix = "torch.cuda." if self.is_cuda else "torch."
            return prefix + _LEGACY_NAMES[self.dtype.name]
        if isinstance(dtype, str):
            on_cuda = dtype.startswith("torch.cuda.")  # t.type('torch.cuda.FloatTensor') moves it, as in torch
            dtype = _LEGACY_BY_NAME[dtype.split(".")[-1]]
            if on_cuda and not self.is_cuda:
                return self.to("cuda", dtype)
        return self.to(dtype)

    # ------------------------------------------------------------------ conversion
    def item(self):
        self._scalar_check()
        return self._data.reshape(()).item() if self.dtype is not D.bfloat16 else float(self._data.reshape(()))

    def tolist(self):
        if self.dtype is D.bfloat16:
            return self._data.astype(np.float32).tolist()
        return self._data.tolist()

    def numpy(self, *, force=False):
        d = self._data
        if d.__class__ is not np.ndarray and not isinstance(d, np.ndarray):
            if not force:  # torch checks the device first
                raise TypeError(_HOST_COPY_NEEDED.format(self.device))
            return d.get()
        if self.requires_grad and not force and grad_mode._enabled[0]:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return d

    def __array__(self, dtype=None, copy=None):
        arr = self._data
        if not isinstance(arr, np.ndarray):  # np.asarray(cuda_tensor) raises, as in torch
            raise TypeError(_HOST_COPY_NEEDED.format(self.device))
        return arr if dtype is None else arr.astype(dtype)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def _scalar_check(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        self._scalar_check()
        return float(self._data.reshape(()).real if self.is_complex() else self._data.reshape(()))

    def __int__(self):
        self._scalar_check()
        return int(self._data.reshape(()))

    def __complex__(self):
        self._scalar_check()
        return complex(self._data.reshape(()))

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    # identity hash in C (the engine keys dicts by leaf tensors); a Python __hash__ costs a frame each
    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        d = self._data
        if isinstance(d, np.ndarray):
            return (_rebuild_tensor, (d, self.requires_grad, type(self)))
        return (_rebuild_tensor, (to_host(d), self.requires_grad, type(self), str(self.device)))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.  If you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("_data", "grad", "_vc", "_base", "_view_chain", "_hooks")})
        new._data = self._data.copy()
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype not in D.FLOATING_NP:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        self.requires_grad = requires_grad
        if requires_grad:
            self._store_leaf_defaults()
        return self

    def detach(self):
        t = Tensor._make(self._data)
        t._vc = self._version_counter()
        return t

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        if self.grad_fn is None:
            return
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._retains_grad:
            return
        self._retains_grad = True
        # The hook holds the tensor weakly-enough: the graph already references its producer only.
        def store(grad, tensor=self):
            tensor.grad = grad.detach().clone() if tensor.grad is None else tensor.grad + grad.detach()
        self.grad_fn._add_tensor_hook(self._out_nr, store)

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_hook(self._out_nr, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        self._post_acc_hooks.append(hook)
        return _RemovableHandle(self._post_acc_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if retain_graph is None and not create_graph and inputs is None and self.requires_grad:
            # loss.backward() or y.backward(g) with g like y: the seed and the engine, without
            # autograd.backward's argument handling
            d = self._data
            if gradient is None:
                if d.size == 1 and d.dtype.kind == "f":
                    ones = np.ones if d.__class__ is np.ndarray else array_module(d).ones
                    _run_backward((self,), (Tensor._wrap(ones(d.shape, d.dtype)),), False, False)
                    return
            elif gradient.__class__ is Tensor and gradient._data.shape == d.shape and gradient._data.dtype is d.dtype:
                _run_backward((self,), (gradient,), False, False)
                return
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, *args, **kwargs):
        dtype, device, copy = _parse_to(args, kwargs)
        out = self
        if dtype is not None and dtype.np != self._data.dtype:
            out = out._to_np_dtype(dtype.np)
        if device is not None and device != self.device:
            from ._ops.conversion import to_device_op as move
            out = move(out, device)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self, memory_format=None):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        return self.to(to_device(device if device is not None else "cuda"))

    def float(self, memory_format=None): return self.to(D.float32)
    def double(self, memory_format=None): return self.to(D.float64)
    def half(self, memory_format=None): return self.to(D.float16)
    def bfloat16(self, memory_format=None): return self.to(D.bfloat16)
    def long(self, memory_format=None): return self.to(D.int64)
    def int(self, memory_format=None): return self.to(D.int32)
    def short(self, memory_format=None): return self.to(D.int16)
    def char(self, memory_format=None): return self.to(D.int8)
    def byte(self, memory_format=None): return self.to(D.uint8)
    def bool(self, memory_format=None): return self.to(D.bool)
    def cfloat(self, memory_format=None): return self.to(D.complex64)
    def cdouble(self, memory_format=None): return self.to(D.complex128)

    def type_as(self, other):
        return self.to(other.dtype)

    def pin_memory(self, device=None):
        return self

    def is_pinned(self, device=None):
        return False

    def share_memory_(self):
        return self

    def is_shared(self):
        return False

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0:  # torch formats a 0-d tensor as its number: f"{loss}" gives 0.25
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)


_bind_tensor(Tensor)


def _rebuild_tensor(array, requires_grad, cls=Tensor, device=None):
    if device is not None:  # a device tensor was pickled through host memory
        array = to_device(device).xp.asarray(array)
    t = Tensor._make_subclass(cls, array, requires_grad) if cls is not Tensor else Tensor._make(array)
    t.requires_grad = requires_grad
    return t


_HOST_COPY_NEEDED = ("can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
                     "memory first.")


def _move_array(array, device):
    """``array`` copied to ``device`` (a host array to the device, or a device array to the host)."""
    if device.type == "cpu":
        return to_host(array)
    from . import cuda
    cuda._cupy()  # torch's error without CUDA
    return device.xp.asarray(array)


def _device_storage_offset(array):
    """Elements between a CuPy array's first element and its memory allocation's start."""
    base = array
    while base.base is not None:
        base = base.base
    return (array.data.ptr - base.data.ptr) // array.itemsize


def _as_array(x):
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (np.generic, int, float, complex, bool)):
        return np.asarray(x)
    return x  # a CuPy array


def _wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


_LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
                 "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
                 "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor"}
_LEGACY_BY_NAME = {v: getattr(D, k) for k, v in _LEGACY_NAMES.items()}


def _parse_to(args, kwargs):
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, (str, int)) or a.__class__.__name__ == "device":
            device = a
        elif a is not None:
            dtype = D.to_dtype(a)
    return (D.to_dtype(dtype) if dtype is not None else None), to_device(device), copy
