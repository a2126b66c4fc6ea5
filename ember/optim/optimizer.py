"""The Optimizer base class: parameter groups, per-parameter state, hooks and state_dict.

Each algorithm subclasses it for the bookkeeping (collecting raw arrays from its groups and lazily
creating state) and hands those arrays to a pure update function that works in place on NumPy
arrays. Steps never record autograd graphs and allocate no per-element Python objects.
"""
import functools
import itertools
from collections import OrderedDict, defaultdict
from copy import deepcopy

import numpy as np

from .. import _dtype as D
from .._device import array_module, device_of
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad


class _RequiredParameter:
    """Singleton marking an option that every parameter group must specify."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_handle_ids = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    def __init__(self, hooks_dict):
        self._hooks = hooks_dict
        self.id = next(_handle_ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_global_pre_hooks = OrderedDict()
_global_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``."""
    handle = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    handle = RemovableHandle(_global_post_hooks)
    _global_post_hooks[handle.id] = hook
    return handle


def _hooked_step(step):
    """Wrap a subclass's ``step`` so step hooks run; with no hooks it is one extra call."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if not (_global_pre_hooks or self._optimizer_step_pre_hooks or _global_post_hooks
                or self._optimizer_step_post_hooks):
            return step(self, *args, **kwargs)
        for hook in itertools.chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result}.")
        out = step(self, *args, **kwargs)
        for hook in itertools.chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
            hook(self, args, kwargs)
        return out
    wrapper._hooked = True
    return wrapper


def _scalar_state(value=0.0, like=None):
    """A 0-d float32 tensor, the type torch keeps ``state['step']`` (and similar counters) in: on the CPU,
    or on the device of parameter ``like`` for the counters torch keeps there (ASGD's)."""
    if like is None or like._data.__class__ is np.ndarray:
        return Tensor._make(np.array(value, dtype=np.float32))
    return Tensor._make(array_module(like._data).full((), value, dtype=np.float32))


def _as_real(arr):
    """Complex parameters are optimised as interleaved real pairs, like torch.view_as_real."""
    return arr.view(arr.real.dtype) if arr.dtype.kind == "c" else arr


def _lerp_(a, b, weight, tmp):
    """a.lerp_(b, weight) in place with torch's formula choice (stable for weights near 1)."""
    np.subtract(b, a, out=tmp)
    if weight < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1 - weight
        np.subtract(b, tmp, out=a)


# Elements per block for the blocked updates: the handful of arrays an update streams through stay
# in a core's L2 cache between its passes (measured ~20% faster than whole-array passes on 1M floats).
_BLOCK = 1 << 17


def _blocks(arrays, buf):
    """Yield same-shaped ``arrays`` and the scratch ``buf`` as matching blocks of ``_BLOCK`` elements.

    Small or non-contiguous arrays come back whole, in one block."""
    n = arrays[0].size
    if n <= _BLOCK or not all(a.flags.c_contiguous for a in arrays):
        yield arrays, buf
        return
    flats = [a.reshape(-1) for a in arrays]
    flat_buf = buf.reshape(-1)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        yield [f[start:stop] for f in flats], flat_buf[:stop - start]


_KERNEL_DTYPES = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def _kernel_views(*arrays):
    """Flat views of ``arrays`` for a fused update in ``ember._kernels.optim``, or None when the NumPy path
    serves: the arrays are not all C-contiguous float32 or all float64. Callers check ``_jit.enabled()``
    once per step and that the parameter is a host array (``_jit.enabled_for`` inlined: device arrays
    take the array-module path)."""
    dtype = arrays[0].dtype
    if dtype not in _KERNEL_DTYPES:
        return None
    for a in arrays:
        if a.dtype != dtype or not a.flags.c_contiguous:
            return None
    return [a.ravel() for a in arrays]  # views: every array is C-contiguous


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    >>> w = ember.zeros(3, requires_grad=True)
    >>> opt = ember.optim.SGD([w], lr=0.1)
    >>> (w - 1).pow(2).sum().backward(); opt.step(); opt.zero_grad()
    """

    # State entries kept as 0-d float32 tensors (converted on load if a checkpoint stored floats).
    _scalar_state_keys = ("step",)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._scratch = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + params.type())
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _hooked_step(step)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, OrderedDict())
        self.__dict__.setdefault("_scratch", {})
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (missing options take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(p).__name__)
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(params) != len(set(params)):
            import warnings
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ stepping helpers
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimised tensors (to None by default, else to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad = False
                    g._data.fill(0)
                    g._bump_version()

    def step(self, closure=None):
        raise NotImplementedError

    def _eval_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _gather(self, group, init_state, keys):
        """Collect raw arrays for the parameters of ``group`` that have a gradient.

        Creates missing state with ``init_state(p, state, group)`` and returns
        ``(params, grads, [one list per state key])``; complex arrays come as real views."""
        params, grads = [], []
        columns = [[] for _ in keys]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                init_state(p, state, group)
            p._bump_version()
            params.append(_as_real(p._data))
            grads.append(_as_real(p.grad._data))
            for column, key in zip(columns, keys):
                column.append(_as_real(state[key]._data))
        return params, grads, columns

    def _tmp(self, like):
        """A scratch array shaped like ``like``, carved from one reused flat buffer per dtype.

        Reusing the buffer avoids a fresh allocation (and its page faults) for every temporary."""
        key = like.dtype if like.__class__ is np.ndarray else (like.dtype, device_of(like))
        buf = self._scratch.get(key)
        if buf is None or buf.size < like.size:
            buf = array_module(like).empty(like.size, dtype=like.dtype)
            self._scratch[key] = buf
        return buf[:like.size].reshape(like.shape)

    # ------------------------------------------------------------------ hooks
    def _register(self, hooks, hook, prepend=False):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)`` runs before ``step``."""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after ``step``."""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state_dict
    def state_dict(self):
        """The optimizer state in torch's layout: ``{'state': {int: {...}}, 'param_groups': [...]}``.

        Parameters are replaced by integer ids, numbered in group order.

        >>> sd = opt.state_dict(); sd['param_groups'][0]['params']
        [0]
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a state dict produced by :meth:`state_dict` (ember's or torch's, via ``ember.load``).

        Floating state is cast to its parameter's dtype; ``step`` counters are kept as saved.
        """
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))
        saved_param_groups = state_dict["param_groups"]

        def cast(param, value, param_id, key=None):
            if isinstance(value, Tensor):
                return self._cast_state_tensor(param, value, param_id, saved_param_groups, key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v, k)
            else:
                state[k] = v
        for g, new in zip(groups, saved_groups):
            new["params"] = g["params"]
            if "param_names" in g and "param_names" not in new:
                new["param_names"] = g["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})
        self._upgrade_scalar_state()
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    @staticmethod
    def _cast_state_tensor(param, value, param_id, param_groups, key):
        # State follows the parameter's device, floating state its dtype too; step counters stay as saved
        # (float32 on the CPU) unless fused or capturable, as in torch.
        if key == "step":
            group = next((g for g in param_groups if param_id in g["params"]), {})
            if group.get("fused") or group.get("capturable"):
                return value.to(dtype=D.float32, device=param.device)
            return value
        if param.is_floating_point() and value.dtype is not param.dtype:
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(param.device)

    def _upgrade_scalar_state(self):
        # Old checkpoints (and some hand-written ones) keep counters as Python numbers.
        for s in self.state.values():
            if not isinstance(s, dict):
                continue
            for key in self._scalar_state_keys:
                if key in s and not isinstance(s[key], Tensor):
                    s[key] = _scalar_state(float(s[key]))


def _zeros_state(p):
    """A zero buffer shaped and typed like parameter ``p`` (torch.zeros_like)."""
    return Tensor._make(np.zeros_like(p._data))


def _check_args(lr=None, eps=None, betas=None, weight_decay=None, differentiable=False, **others):
    """The constructor argument checks torch makes, with its ValueError messages."""
    if lr is not None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
    if eps is not None and not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if weight_decay is not None and not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    for name, value in others.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {name} value: {value}")
    if differentiable:
        # Our updates run on raw arrays outside autograd, so a differentiable step cannot be honoured.
        raise RuntimeError("ember optimizers do not support differentiable=True")
