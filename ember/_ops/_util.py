"""Small helpers shared by the op families: dims, dtype casts, method installation."""
import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import _IN, _OUT, _CONST, edge_of  # noqa: F401 (edge_of: used by the fast paths)

_TORCH_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                     "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                     "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def type_name(dt):
    """torch's C++ scalar type name for error messages (Float, Long, ...)."""
    return _TORCH_TYPE_NAMES[dt.name]


def install(**methods):
    """Attach functions to Tensor as methods (operators included)."""
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


def wrap_dim(dim, ndim):
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def wrap_dims(dim, ndim):
    """Normalise ``dim`` (None, int, or sequence) to a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (wrap_dim(dim, ndim),)
    dims = tuple(wrap_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return tuple(sorted(dims))


def as_tensor_arg(x):
    """Raw value of an op argument: a tensor's array, or a Python scalar left weak."""
    return x._data if isinstance(x, Tensor) else x


def cast(arr, np_dtype):
    return arr if arr.dtype == np_dtype else arr.astype(np_dtype)


def compute_dtype(np_dtype):
    """Reduced-precision floats compute in float32 (NumPy has few bfloat16 loops, and torch
    accumulates them in float32 too)."""
    return np.dtype(np.float32) if np_dtype in D.REDUCED_NP else np_dtype


def float_dtype_for(np_dtype):
    """Dtype of a floating op on this input: ints and bools give the default float dtype."""
    return np_dtype if np_dtype in D.FLOATING_NP else D.get_default_dtype().np


def shape_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def broadcast_shapes(*shapes):
    """torch.broadcast_shapes with torch's error message."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s, ndim - len(s)):
            if n != out[i]:
                if out[i] == 1:
                    out[i] = n
                elif n != 1:
                    raise RuntimeError(f"The size of tensor a ({out[i]}) must match the size of tensor b ({n}) "
                                       f"at non-singleton dimension {i}")
    return tuple(out)


# ------------------------------------------------------------------ lean recording
# The fast paths of common ops (neg, clamp, sum, logsumexp, division by a number) compute their NumPy
# result inline and record their node here: exactly the node ``Op._apply_recording`` builds, without
# its generic argument loop and saved-tensor resolution.
_new = object.__new__


def wrap_recorded(out, ctx):
    """``out`` (a floating ndarray) as the output tensor of the node ``ctx``."""
    t = _new(Tensor)
    t._data = out
    t.requires_grad = True
    t.grad_fn = ctx
    return t


def saved_input(t):
    """A saved-tensor entry for an input, checked against its version at backward."""
    vc = t._vc
    return (_IN, t, vc[0] if vc is not None else 0, 0)


def saved_output(t):
    """A saved-tensor entry for a node's (only) output: the array and its version counter, no cycle."""
    vc = t._version_counter()
    return (_OUT, (t._data, vc), vc[0], 0)


def saved_constant(value):
    return (_CONST, value, 0, 0)

