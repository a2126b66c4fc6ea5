"""Weight normalisation (the hook-based torch.nn.utils.weight_norm): w = g * v / ||v||."""
import warnings

from ..parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm", "norm_except_dim"]


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim`` (keeping dims), or the whole norm if dim == -1."""
    a = v.abs() if pow != 2 else v
    if dim == -1:
        return (a * a).sum().sqrt() if pow == 2 else (a ** pow).sum() ** (1.0 / pow)
    dim = dim % v.dim()
    dims = [d for d in range(v.dim()) if d != dim]
    if not dims:
        return a.abs() if pow != 2 else (a * a).sqrt()
    if pow == 2:
        return (a * a).sum(dims, keepdim=True).sqrt()
    return (a ** pow).sum(dims, keepdim=True) ** (1.0 / pow)


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, 2, self.dim))

    @staticmethod
    def apply(module, name, dim):
        if _find_hook(module, WeightNorm, name) is not None:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if dim is None:
            dim = -1
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, dim).detach().clone()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrise ``module.<name>`` as g * v / ||v|| with new parameters ``<name>_g``, ``<name>_v``.

    >>> m = ember.nn.utils.weight_norm(ember.nn.Linear(20, 40))
    >>> m.weight_g.shape, m.weight_v.shape
    (torch.Size([40, 1]), torch.Size([40, 20]))
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Fold the weight-norm reparametrisation back into a plain parameter."""
    return _remove_hook(module, WeightNorm, name, "weight_norm")


def _find_hook(module, hook_cls, name):
    """The key of ``module``'s forward pre-hook of type ``hook_cls`` acting on ``name``, or None."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_cls) and hook.name == name:
            return key
    return None


def _remove_hook(module, hook_cls, name, label):
    """Undo a hook-based reparametrisation (weight_norm, spectral_norm) of ``module.<name>``."""
    key = _find_hook(module, hook_cls, name)
    if key is None:
        raise ValueError(f"{label} of '{name}' not found in {module}")
    module._forward_pre_hooks[key].remove(module)
    del module._forward_pre_hooks[key]
    return module
