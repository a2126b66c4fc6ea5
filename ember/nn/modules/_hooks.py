"""Module hook machinery: removable handles, full backward hooks, and the hooks registered for
every module (``register_module_forward_hook`` and friends)."""
import itertools
import weakref
from collections import OrderedDict

from ..._tensor import Tensor
from ...autograd.function import Function

__all__ = ["RemovableHandle", "register_module_forward_hook", "register_module_forward_pre_hook",
           "register_module_full_backward_hook", "register_module_full_backward_pre_hook"]

_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()


class RemovableHandle:
    """Returned by every ``register_*_hook``; ``remove()`` unregisters the hook (from all dicts)."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)
        extra = extra_dict if isinstance(extra_dict, (list, tuple)) else ([extra_dict] if extra_dict is not None else [])
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def remove(self):
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(r() for r in self.extra_dict_ref))

    def __setstate__(self, state):
        self.hooks_dict_ref = weakref.ref(state[0] if state[0] is not None else OrderedDict())
        self.id = state[1]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in state[2] if d is not None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# ---------------------------------------------------------------------- full backward hooks
class _HookIdentity(Function):
    """Identity on a group of tensors whose backward hands all their gradients to a callback."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(False)
        return tuple(Tensor._make(t._data) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.callback(grads))


class _BackwardHook:
    """Wires a module's full backward hooks: identity nodes on its inputs and outputs see the
    gradients flowing through and call the hooks with torch's (module, grad_input, grad_output)."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_positions = ()
        self.inputs_need_grad = False

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.input_positions = positions
        if not positions:
            return args
        self.inputs_need_grad = True
        wrapped = _HookIdentity.apply(self._on_input_grads, *[args[i] for i in positions])
        args = list(args)
        for i, t in zip(positions, wrapped):
            args[i] = t
        return tuple(args)

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result
        positions = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return result
        self.n_outputs = len(outs)
        self.output_positions = positions
        wrapped = _HookIdentity.apply(self._on_output_grads, *[outs[i] for i in positions])
        outs = list(outs)
        for i, t in zip(positions, wrapped):
            outs[i] = t
        return outs[0] if single else tuple(outs)

    def _on_output_grads(self, grads):
        full = [None] * self.n_outputs
        for i, g in zip(self.output_positions, grads):
            full[i] = g
        full = tuple(full)
        for hook in self.pre_hooks:
            res = hook(self.module, full)
            if res is not None:
                if not isinstance(res, tuple):
                    res = (res,)
                if len(res) != len(full):
                    raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got "
                                       f"{len(res)}, but expected {len(full)}")
                full = tuple(res)
        self.grad_outputs = full
        if not self.inputs_need_grad and self.hooks:
            for hook in self.hooks:
                res = hook(self.module, (None,) * self.n_inputs, full)
                if res is not None and not all(r is None for r in res):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should "
                                       "always return None or None for all gradients.")
        return tuple(full[i] for i in self.output_positions)

    def _on_input_grads(self, grads):
        full = [None] * self.n_inputs
        for i, g in zip(self.input_positions, grads):
            full[i] = g
        full = tuple(full)
        for hook in self.hooks:
            res = hook(self.module, full, self.grad_outputs)
            if res is not None:
                if not isinstance(res, tuple):
                    res = (res,)
                if len(res) != len(full):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(res)}, "
                                       f"but expected {len(full)}")
                full = tuple(res)
        return tuple(full[i] for i in self.input_positions)


# ---------------------------------------------------------------------- global hooks
_any_global_hooks = [False]


def _refresh_global_flag():
    _any_global_hooks[0] = bool(_global_forward_pre_hooks or _global_forward_hooks or _global_backward_hooks
                                or _global_backward_pre_hooks)


class _GlobalHandle(RemovableHandle):
    def remove(self):
        super().remove()
        _refresh_global_flag()


def _register_global(hooks, hook, extra=None):
    handle = _GlobalHandle(hooks, extra_dict=extra)
    hooks[handle.id] = hook
    _refresh_global_flag()
    return handle


def register_module_forward_pre_hook(hook):
    """A forward pre-hook run for every module."""
    return _register_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """A forward hook run for every module."""
    return _register_global(_global_forward_hooks, hook)


def register_module_full_backward_pre_hook(hook):
    return _register_global(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    return _register_global(_global_backward_hooks, hook)
