"""Parametrization-based weight_norm and spectral_norm (torch.nn.utils.parametrizations)."""
import numpy as np

from ..._ops.random import default_generator
from ..._tensor import Tensor
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _default_dim, _initial_vector, _normalize
from .weight_norm import norm_except_dim

__all__ = ["weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / norm_except_dim(weight_v, 2, self.dim))

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim).detach().clone(), weight.detach().clone()


def weight_norm(module, name="weight", dim=0):
    """w = g * v / ||v|| as a parametrization: keys ``parametrizations.<name>.original0`` (g) and
    ``original1`` (v).

    >>> m = ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(20, 40))
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            h, w = self._reshape_weight_to_matrix(weight).shape
            self.register_buffer("_u", _initial_vector(h, eps, weight))
            self.register_buffer("_v", _initial_vector(w, eps, weight))
            self._power_method(self._reshape_weight_to_matrix(weight)._data, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.dim()) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, w, n):
        u, v = self._u._data, self._v._data
        for _ in range(n):
            u[...] = _normalize(w @ v, self.eps)
            v[...] = _normalize(w.T @ u, self.eps)
        self._u._bump_version()
        self._v._bump_version()

    def forward(self, weight):
        if weight.dim() == 1:
            return weight / max(float(np.sqrt((weight._data ** 2).sum())), self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat._data, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """w / sigma(w) as a parametrization; the power-iteration vectors are buffers
    ``parametrizations.<name>.0._u`` and ``._v``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_dim(module)
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
