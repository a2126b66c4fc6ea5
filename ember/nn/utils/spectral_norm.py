"""Spectral normalisation (the hook-based torch.nn.utils.spectral_norm): w / sigma(w), with sigma
estimated by power iteration on buffers ``<name>_u`` and ``<name>_v`` (updated in training only)."""
import numpy as np

from ..._tensor import Tensor
from ..._ops.random import default_generator
from ..parameter import Parameter
from .weight_norm import _find_hook, _remove_hook

__all__ = ["spectral_norm", "remove_spectral_norm"]


def _normalize(a, eps):
    return a / max(float(np.sqrt(np.dot(a, a))), eps)


def _initial_vector(n, eps, weight):
    """A random unit vector of length ``n`` for power iteration, drawn on the host (the generator's
    stream), with the weight's dtype and on its device."""
    v = Tensor._wrap(_normalize(default_generator._rng.standard_normal(n), eps).astype(weight._data.dtype))
    return v if weight.device.type == "cpu" else v.to(weight.device)


class SpectralNorm:
    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim, self.n_power_iterations, self.eps = name, dim, n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight):
        mat = weight
        if self.dim != 0:
            mat = mat.permute(self.dim, *[d for d in range(mat.dim()) if d != self.dim])
        return mat.reshape(mat.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            w = weight_mat._data
            uu, vv = u._data, v._data
            for _ in range(self.n_power_iterations):
                vv[...] = _normalize(w.T @ uu, self.eps)  # in place: the buffers are the state
                uu[...] = _normalize(w @ vv, self.eps)
            u._bump_version(), v._bump_version()
            u, v = u.clone(), v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def remove(self, module):
        from ...autograd.grad_mode import no_grad
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        if _find_hook(module, SpectralNorm, name) is not None:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        h, w = fn.reshape_weight_to_matrix(weight).shape
        u = _initial_vector(h, eps, weight)
        v = _initial_vector(w, eps, weight)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        object.__setattr__(module, name, weight.detach())  # a plain attribute, as torch keeps it
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def _default_dim(module):
    names = {c.__name__ for c in type(module).__mro__}
    return 1 if names & {"ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"} else 0


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value before every forward.

    >>> m = ember.nn.utils.spectral_norm(ember.nn.Linear(20, 40))
    """
    SpectralNorm.apply(module, name, n_power_iterations, _default_dim(module) if dim is None else dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Fold the spectral-norm reparametrisation back into a plain parameter."""
    return _remove_hook(module, SpectralNorm, name, "spectral_norm")
