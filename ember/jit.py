"""torch.jit. ember runs eagerly: ``script`` and ``trace`` return what they are given (the program runs
the same Python code torch would have compiled), the decorators leave functions unchanged, and TorchScript
archives (``jit.save``/``jit.load``) are not supported: save a ``state_dict`` with ``ember.save``."""
from typing import Final  # noqa: F401  (torch.jit.Final)

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "is_scripting", "is_tracing",
           "annotate", "Final", "save", "load", "freeze", "optimize_for_inference", "script_if_tracing",
           "interface", "fork", "wait"]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs=None, _store_inputs=True):
    return func


def trace_module(mod, inputs, *args, **kwargs):
    return mod


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def script_if_tracing(fn):
    return fn


def interface(obj):
    return obj


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


class _Future:
    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value


def fork(func, *args, **kwargs):
    """Runs ``func`` now (ember has no TorchScript thread pool); ``wait`` returns its result."""
    return _Future(func(*args, **kwargs))


def wait(future):
    return future.wait()


def save(m, f, _extra_files=None):
    raise RuntimeError("ember does not write TorchScript archives (ember runs eagerly): save the model's "
                       "state_dict with ember.save(model.state_dict(), f) instead")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    raise RuntimeError("ember cannot load TorchScript archives (they hold TorchScript code, which ember does not "
                       "run): load a state_dict saved with torch.save / ember.save into the Python model instead")
