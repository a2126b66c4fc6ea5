"""functional_call: run a module with some parameters/buffers swapped for given tensors."""
import contextlib

__all__ = ["functional_call"]


@contextlib.contextmanager
def _swapped(module, tensors, strict):
    saved = []
    try:
        for name, value in tensors.items():
            prefix, _, leaf = name.rpartition(".")
            owner = module.get_submodule(prefix)
            if leaf in owner._parameters:
                store = owner._parameters
            elif leaf in owner._buffers:
                store = owner._buffers
            elif strict:
                raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                                   f'Unexpected key(s): "{name}".')
            else:
                saved.append((owner.__dict__, leaf, owner.__dict__.get(leaf, _MISSING)))
                owner.__dict__[leaf] = value
                continue
            saved.append((store, leaf, store[leaf]))
            store[leaf] = value  # bypasses the Parameter type check, as torch's reparametrization does
        yield
    finally:
        for store, leaf, old in reversed(saved):
            if old is _MISSING:
                del store[leaf]
            else:
                store[leaf] = old


_MISSING = object()


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the named parameters/buffers replaced by the given tensors.

    >>> out = functional_call(model, {"fc.weight": w}, (x,))
    """
    if isinstance(parameters_and_buffers, (list, tuple)):
        merged = {}
        for d in parameters_and_buffers:
            merged.update(d)
        parameters_and_buffers = merged
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, parameters_and_buffers, strict):
        return module(*args, **(kwargs or {}))
