"""ember dtypes: PyTorch's dtype objects over NumPy dtypes, and PyTorch's promotion rules.

NumPy never chooses a result dtype in ember: every op asks this module which dtype to produce.
"""
import builtins

import numpy as np

try:
    import ml_dtypes
    _BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - ml_dtypes is a core dependency
    _BF16 = None

_CATEGORY_BOOL, _CATEGORY_INT, _CATEGORY_FLOAT, _CATEGORY_COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, named and behaving like ``torch.dtype``."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed", "_category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype) if np_dtype is not None else None
        self.itemsize = self.np.itemsize if self.np is not None else 0
        self._category = category
        self.is_floating_point = category == _CATEGORY_FLOAT
        self.is_complex = category == _CATEGORY_COMPLEX
        self.is_signed = name not in ("uint8", "bool")

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float64": complex128, "complex128": complex128}.get(self.name, complex64)


float16 = half = dtype("float16", np.float16, _CATEGORY_FLOAT)
bfloat16 = dtype("bfloat16", _BF16, _CATEGORY_FLOAT)
float32 = float = dtype("float32", np.float32, _CATEGORY_FLOAT)
float64 = double = dtype("float64", np.float64, _CATEGORY_FLOAT)
int8 = dtype("int8", np.int8, _CATEGORY_INT)
int16 = short = dtype("int16", np.int16, _CATEGORY_INT)
int32 = int = dtype("int32", np.int32, _CATEGORY_INT)
int64 = long = dtype("int64", np.int64, _CATEGORY_INT)
uint8 = dtype("uint8", np.uint8, _CATEGORY_INT)
bool = dtype("bool", np.bool_, _CATEGORY_BOOL)
complex64 = cfloat = dtype("complex64", np.complex64, _CATEGORY_COMPLEX)
complex128 = cdouble = dtype("complex128", np.complex128, _CATEGORY_COMPLEX)

ALL_DTYPES = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, bool, complex64, complex128)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NP = {d.np: d for d in ALL_DTYPES}
# NumPy types that have no torch counterpart map to the nearest one torch would give.
_BY_NP.update({np.dtype(np.uint16): int32, np.dtype(np.uint32): int64, np.dtype(np.uint64): int64,
               np.dtype(np.longlong): int64})

FLOATING_NP = frozenset(d.np for d in ALL_DTYPES if d.is_floating_point or d.is_complex)
REDUCED_NP = frozenset(d.np for d in (float16, bfloat16))


def _dtype_by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
                        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                        "uint8, and bool.") from None


def to_dtype(obj):
    """Accept an ember dtype, a NumPy dtype / type, or a Python type, as torch does for ``dtype=``."""
    if obj.__class__ is dtype:
        return obj
    if obj is builtins.float:
        return _default[0]
    if obj is builtins.int:
        return int64
    if obj is builtins.bool:
        return bool
    if obj is builtins.complex:
        return _default_complex()
    if isinstance(obj, str):
        return _BY_NAME[obj.replace("torch.", "")]
    return from_numpy_dtype(np.dtype(obj))


# ---------------------------------------------------------------- default dtype
_default = [float32]


def set_default_dtype(d):
    d = to_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d


def get_default_dtype():
    return _default[0]


def _default_complex():
    return complex128 if _default[0] is float64 else complex64


# ---------------------------------------------------------------- promotion
def promote_types(a, b):
    """torch.promote_types: the smallest dtype both ``a`` and ``b`` can be cast to."""
    if a is b:
        return a
    ca, cb = a._category, b._category
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if hi.is_complex and lo.is_floating_point and lo is float64:
            return complex128
        return hi
    if ca == _CATEGORY_INT:
        return _BY_NP[np.promote_types(a.np, b.np)]
    if ca == _CATEGORY_FLOAT:
        if {a, b} == {float16, bfloat16}:
            return float32
    return a if a.itemsize >= b.itemsize else b


def _combine_categories(higher, lower):
    # PyTorch's rule for letting a lower-priority operand (0-d tensor or Python scalar) raise the
    # result's category without raising its precision.
    if higher is None:
        return lower
    if lower is None or higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value):
    """The dtype torch gives a Python number taking part in an op."""
    t = type(value)
    if t is builtins.bool or t is np.bool_:
        return bool
    if t is builtins.int or isinstance(value, np.integer):
        return int64
    if t is builtins.float or isinstance(value, np.floating):
        return _default[0]
    if t is builtins.complex or isinstance(value, np.complexfloating):
        return _default_complex()
    raise TypeError(f"unsupported operand type: {t.__name__}")


def result_type_raw(*operands):
    """Result dtype of raw operands: arrays with ndim > 0, 0-d arrays, then Python scalars."""
    dim = zero = wrapped = None
    for x in operands:
        if isinstance(x, np.ndarray) or (x is not None and hasattr(x, "ndim") and not isinstance(x, np.generic)):
            d = _BY_NP[x.dtype]
            if x.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        elif x is not None:
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine_categories(dim, _combine_categories(zero, wrapped))


def can_cast(from_, to):
    """torch.can_cast: casting allowed under PyTorch's same-kind rules."""
    return from_._category <= to._category
