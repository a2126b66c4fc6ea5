"""Flatten parameters into one vector and back."""
from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _typename(obj):
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, in order.

    >>> vec = ember.nn.utils.parameters_to_vector(model.parameters())
    """
    from ..._ops.shape import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into ``parameters`` (their data is replaced)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    data = vec._data
    for param in parameters:
        n = param.numel()
        param._data = data[pointer:pointer + n].reshape(param._data.shape).astype(param._data.dtype, copy=False)
        param._bump_version()
        pointer += n
