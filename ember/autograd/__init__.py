"""ember.autograd: backward, grad, Function, grad modes and gradient checks."""
from .grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, \
    is_inference_mode_enabled
from .function import Function, once_differentiable, Node
from .engine import run_backward
from . import grad_mode, function, graph
from .gradcheck import gradcheck, gradgradcheck
from . import functional
from .functional import jacobian, hessian, vjp, jvp, hvp, vhp

from .._device import array_module

_anomaly = [False]


def _tensor_cls():
    return function.Tensor  # bound by ember._tensor when the class is created


def _as_list(x):
    if x is None:
        return None
    return [x] if isinstance(x, _tensor_cls()) else list(x)


def _make_grads(outputs, grad_outputs):
    Tensor = _tensor_cls()
    grads = []
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out.requires_grad:
                if out.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not out.is_floating_point() and not out.is_complex():
                    raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            g = Tensor._wrap(array_module(out._data).ones(out._data.shape, out._data.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor._wrap(array_module(out._data).full(out._data.shape, g, out._data.dtype))
        elif g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{len(grads)}] has a shape of {g.shape} and output["
                               f"{len(grads)}] has a shape of {out.shape}.")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate d(tensors)/d(leaves) into the leaves' ``.grad``."""
    tensors = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs")
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_list(inputs)
    if inputs is not None and not inputs:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = _make_grads(tensors, grad_tensors)
    results = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)
    if inputs is not None:
        for t, g in zip(inputs, results):
            if t.grad_fn is not None and g is not None:
                t.grad = g if t.grad is None else t.grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated."""
    Tensor = _tensor_cls()
    single = isinstance(inputs, Tensor)
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    grad_outputs = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_outputs)
    results = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=False)
    out = []
    for t, g in zip(inputs, results):
        if g is None:
            if materialize_grads:
                g = t.new_zeros(t.shape)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return tuple(out)


class detect_anomaly:
    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = _anomaly[0]
        _anomaly[0] = True

    def __exit__(self, *exc):
        _anomaly[0] = self.prev


def set_detect_anomaly(mode, check_nan=True):
    _anomaly[0] = bool(mode)


def is_anomaly_enabled():
    return _anomaly[0]


class Variable:  # torch.autograd.Variable(t) returns t
    def __new__(cls, data, requires_grad=False):
        return data.requires_grad_(requires_grad) if requires_grad else data
