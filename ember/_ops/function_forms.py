"""Top-level function forms torch has for Tensor methods: in-place ``torch.exp_(x)``, the ``*_copy``
variants of view ops (the view's values in fresh storage), and a few small aliases."""
from .._tensor import Tensor
from .shape import split_with_sizes  # noqa: F401 (exported at top level, as torch does)

# torch.<name>_(input, ...) is input.<name>_(...)
_INPLACE = ("abs", "acos", "acosh", "addmv", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "asin",
            "asinh", "atan", "atanh", "ceil", "clamp", "clamp_max", "clamp_min", "clip", "cos", "cosh", "deg2rad",
            "erf", "erfc", "exp", "exp2", "expm1", "fill", "fix", "floor", "frac", "gcd", "i0", "lcm", "ldexp",
            "log", "log10", "log1p", "log2", "logit", "nan_to_num", "neg", "negative", "rad2deg", "reciprocal",
            "round", "rsqrt", "sigmoid", "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "zero",
            "index_put", "detach", "resize_as")

# torch.<name>_copy(input, ...) is input.<name>(...) materialised
_COPIES = ("alias", "as_strided", "detach", "diagonal", "expand", "permute", "select", "slice", "split",
           "split_with_sizes", "squeeze", "t", "transpose", "unbind", "unfold", "unsqueeze", "view",
           "view_as_complex", "view_as_real", "narrow")


def _inplace_form(name):
    method = name + "_"

    def fn(input, *args, **kwargs):
        return getattr(input, method)(*args, **kwargs)
    fn.__name__ = method
    fn.__doc__ = f"``torch.{method}(input, ...)``: ``input.{method}(...)``."
    return fn


def _copy_of(result):
    if isinstance(result, Tensor):
        return result.clone()
    return type(result)(_copy_of(r) for r in result)


def _view_function(name):
    if name == "alias":
        return lambda input: input.view(input.shape)
    if name == "slice":
        return lambda input, dim=0, start=None, end=None, step=1: input[
            (slice(None),) * (dim % max(input.dim(), 1)) + (slice(start, end, step),)]
    if name in ("view_as_complex", "view_as_real"):
        from . import complex as _complex
        return getattr(_complex, name)
    return lambda input, *args, **kwargs: getattr(input, name)(*args, **kwargs)


def _copy_form(name):
    view = _view_function(name)

    def fn(input, *args, out=None, **kwargs):
        result = _copy_of(view(input, *args, **kwargs))
        if out is not None:
            from .inplace import write_out
            return write_out(result, out)
        return result
    fn.__name__ = name + "_copy"
    fn.__doc__ = f"``torch.{name}_copy``: the values of ``{name}`` in new storage (no aliasing)."
    return fn


def detach(input):
    return input.detach()


def fill(input, value):
    """Out-of-place ``torch.fill``: a tensor like ``input`` filled with ``value``, differentiable in value."""
    if isinstance(value, Tensor):  # a 0-d tensor value: new storage, gradient flowing to the value
        return value.to(input.dtype).expand(input.shape).clone()
    return input.clone().fill_(value)


def unsafe_split(input, split_size, dim=0):
    return input.split(split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    return input.chunk(chunks, dim)


def conj_physical(input, *, out=None):
    result = input.conj() if input.is_complex() else input.clone()
    if out is not None:
        from .inplace import write_out
        return write_out(result, out)
    return result


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def is_conj(input):
    return False


def is_neg(input):
    return False


def is_signed(input):
    return input.dtype.is_signed


def is_inference(input):
    return False


__all__ = ["split_with_sizes", "detach", "fill", "unsafe_split", "unsafe_chunk", "conj_physical", "resolve_conj",
           "resolve_neg", "is_conj", "is_neg", "is_signed", "is_inference"]
for _name in _INPLACE:
    globals()[_name + "_"] = _inplace_form(_name)
    __all__.append(_name + "_")
for _name in _COPIES:
    globals()[_name + "_copy"] = _copy_form(_name)
    __all__.append(_name + "_copy")
