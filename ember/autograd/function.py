"""Graph nodes and ``Function``: the one chokepoint through which every differentiable op runs.

A node is the op's context object (``ctx``) and, once recorded, the ``grad_fn`` of its outputs.
``_edges[i]`` names where the gradient of input ``i`` goes: ``(target, output_nr, shape, np_dtype)``
with ``target`` either the producing node or a leaf tensor, or ``None`` when input ``i`` needs none.
"""
import functools

import numpy as np

from .._device import array_module, is_array
from .._dtype import FLOATING_NP
from .grad_mode import _enabled, no_grad

_ND = np.ndarray
_FREED = object()
_BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward.")
_IN, _OUT, _CONST = 0, 1, 2


# Bound by ember._tensor once the class exists (it imports this module first): the op call path
# reads this global instead of importing on every call.
Tensor = None
_new = object.__new__


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


def _tensor_cls():
    return Tensor


class Node:
    """Base of every graph node. Public ``ctx`` API mirrors torch.autograd.function.FunctionCtx."""

    _edges = ()
    _saved = ()
    _to_save = ()
    _non_diff = ()
    _dirty = ()
    _n_out = 1
    _out_meta = None
    _tensor_hooks = None
    _hooks = None
    _prehooks = None
    _hooked = False  # any of the three hook kinds registered: the engine reads one flag, not three
    materialize_grads = True

    # ---- ctx API
    def save_for_backward(self, *items):
        self._to_save = items

    def mark_non_differentiable(self, *items):
        self._non_diff = items

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = value

    @property
    def needs_input_grad(self):
        edges = self._edges
        if not edges:  # not recording: forward may still ask
            return _NOTHING_NEEDED
        if len(edges) == 2:  # binary ops, spelled out: a generator costs more than the answer
            return (edges[0] is not None, edges[1] is not None)
        return tuple([e is not None for e in edges])

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(_BACKWARD_TWICE)
        n = len(saved)
        if n == 2:  # the common counts spelled out (no generator)
            return (self._unpack(saved[0]), self._unpack(saved[1]))
        if n == 1:
            return (self._unpack(saved[0]),)
        return tuple([self._unpack(entry) for entry in saved])

    saved_variables = saved_tensors

    def _saved_arrays(self):
        """The saved values as raw arrays, version-checked as ``saved_tensors`` checks them: what a
        backward that records nothing (``create_graph=False``) reads, without a tensor per value."""
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(_BACKWARD_TWICE)
        if len(saved) == 1:
            return (self._unpack_array(saved[0]),)
        return tuple([self._unpack_array(entry) for entry in saved])

    def _unpack_array(self, entry):
        if entry is None:
            return None
        kind, obj, version, nr = entry
        if kind == _IN:
            vc = obj._vc
            if (vc[0] if vc is not None else 0) != version:
                self._raise_modified(obj, version, obj._out_nr, obj._version)
            return obj._data
        if kind == _OUT:
            array, vc = obj
            if vc[0] != version:
                self._raise_modified(self._wrap_output(array, nr, vc), version, nr, vc[0])
            return array
        return obj._data if isinstance(obj, Tensor) else obj

    def _unpack(self, entry):
        if entry is None:
            return None
        kind, obj, version, nr = entry
        if kind == _CONST:
            return obj
        if kind == _IN:  # the input tensor itself; its output number is only needed for the message
            vc = obj._vc  # (Tensor._version, without the property call)
            if (vc[0] if vc is not None else 0) != version:
                self._raise_modified(obj, version, obj._out_nr, obj._version)
            return obj
        array, vc = obj
        if vc[0] != version:
            self._raise_modified(self._wrap_output(array, nr, vc), version, nr, vc[0])
        return self._wrap_output(array, nr, vc)

    def _wrap_output(self, array, nr, vc):
        t = Tensor._make(array)
        t.requires_grad = True
        t.grad_fn = self
        t._out_nr = nr
        t._vc = vc
        return t

    def _raise_modified(self, tensor, version, nr, now):
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{tensor.type()} {list(tensor.shape)}], which is output {nr} of {self.name()}, is at version {now}; "
            f"expected version {version} instead. Hint: enable anomaly detection to find the operation that "
            "failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).")

    def _resolve_saved(self, inputs, outputs):
        """Turn what forward saved into entries that check versions and break output cycles."""
        entries = []
        for item in self._to_save:
            entries.append(self._entry(item, inputs, outputs))
        self._saved = tuple(entries)
        self._to_save = ()

    def _entry(self, item, inputs, outputs):
        if item is None:
            return None
        data = item._data if isinstance(item, Tensor) else item
        for i, out in enumerate(outputs):
            if isinstance(out, Tensor) and out._data is data and out.grad_fn is self:
                vc = out._version_counter()
                return (_OUT, (data, vc), vc[0], i)
        for inp in inputs:
            if isinstance(inp, Tensor) and inp._data is data:
                vc = inp._vc
                return (_IN, inp, vc[0] if vc is not None else 0, 0)
        if is_array(item):
            item = Tensor._make(item)
        return (_CONST, item, 0, 0)

    # ---- graph introspection, as in torch
    def name(self):
        return type(self).__name__ + "Backward0"

    @property
    def next_functions(self):
        out = []
        for e in self._edges:
            if e is None:
                out.append((None, 0))
            elif isinstance(e[0], Node):
                out.append((e[0], e[1]))
            else:
                out.append((AccumulateGrad(e[0]), 0))
        return tuple(out)

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node's backward."""
        if self._hooks is None:
            self._hooks = []
        self._hooked = True
        self._hooks.append(fn)
        return _RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        if self._prehooks is None:
            self._prehooks = []
        self._hooked = True
        self._prehooks.append(fn)
        return _RemovableHandle(self._prehooks, fn)

    def _add_tensor_hook(self, nr, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        self._hooked = True
        hooks = self._tensor_hooks.setdefault(nr, [])
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    # ---- engine entry point
    def _run_backward(self, grads):
        return type(self).backward(self, *grads)


class _NothingNeeded(tuple):
    def __getitem__(self, i):
        return False


_NOTHING_NEEDED = _NothingNeeded()


class AccumulateGrad:
    """Shown in ``next_functions`` for leaves; the engine accumulates into the leaf directly."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)


class _RemovableHandle:
    def __init__(self, container, item):
        self._container, self._item = container, item

    def remove(self):
        try:
            self._container.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _as_array(x):
    if isinstance(x, (np.generic, int, float, complex, bool)):
        return np.asarray(x)
    return x  # an ndarray subclass or a CuPy array


def edge_of(t):
    """The graph edge of a tensor that requires grad: where its gradient goes."""
    d = t._data
    fn = t.grad_fn
    return (fn, t._out_nr, d.shape, d.dtype) if fn is not None else (t, 0, d.shape, d.dtype)


def saved_input(t):
    """The saved entry ``_resolve_saved`` makes for an input tensor that forward saved."""
    vc = t._vc
    return (_IN, t, vc[0] if vc is not None else 0, 0)


def save_output(t):
    """Save the recorded output ``t`` (single output) for its own node's backward, as ``_resolve_saved``
    does: its array and version counter, not the tensor (no reference cycle)."""
    vc = t._version_counter()
    t.grad_fn._saved = ((_OUT, (t._data, vc), vc[0], 0),)


def _edge(t):
    return edge_of(t) if t.requires_grad else None


class _FunctionMeta(type):
    """Gives each Function subclass a ``_backward_cls``-free identity; kept for torch compatibility."""


class Function(Node, metaclass=_FunctionMeta):
    """User-defined differentiable functions, exactly as ``torch.autograd.Function``.

    >>> class Exp(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp(); ctx.save_for_backward(y); return y
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         y, = ctx.saved_tensors; return g * y
    """

    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = _tensor_cls()
        ctx = cls.__new__(cls)
        recording = _enabled[0] and any(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx._edges = tuple(_edge(a) if isinstance(a, Tensor) else None for a in args)
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(out, tuple)
        outs = out if is_tuple else (out,)
        if not recording:
            return out
        ctx._n_out = len(outs)
        ctx._out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outs)
        dirty = {id(t) for t in ctx._dirty}
        non_diff = {id(t) for t in ctx._non_diff}
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        wrapped = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                continue
            if id(o) in dirty:
                if o.requires_grad and o.grad_fn is None:
                    raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            elif id(o) in input_ids:
                o = Tensor._make(o._data)
            if id(outs[i]) not in non_diff and o._data.dtype in FLOATING_NP:
                o.requires_grad = True
                o.grad_fn = ctx
                o._out_nr = i
            wrapped.append(o)
        ctx._resolve_saved(args, wrapped)
        ctx._dirty = ctx._non_diff = ()
        return tuple(wrapped) if is_tuple else wrapped[0]

    def _run_backward(self, grads):
        if self.materialize_grads and any(g is None for g in grads):
            grads = _materialize(self, grads)
        out = type(self).backward(self, *grads)
        return out if isinstance(out, tuple) else (out,)


def _materialize(node, grads):
    """``grads`` with zeros for the outputs that received no gradient, on the device of those that did."""
    like = next(g._data for g in grads if g is not None)
    zeros = np.zeros if like.__class__ is _ND else array_module(like).zeros
    return tuple(Tensor._make(zeros(*node._out_meta[i])) if g is None else g for i, g in enumerate(grads))


def _on_one_device(args):
    """The arguments of an op whose forward failed with a TypeError, once their tensors share a device.

    A 0-d CPU tensor next to tensors on a device is moved there (torch treats it as a scalar); tensors on
    two devices otherwise raise torch's error. None when every tensor is on one device (the op failed
    for another reason)."""
    devices = {}
    movable = True  # every CPU tensor is a 0-d argument of its own (not inside a list)
    for a in args:
        nested = isinstance(a, (list, tuple))
        for t in (a if nested else (a,)):
            if isinstance(t, Tensor):
                d = t.device
                devices.setdefault(d, None)
                if d.type == "cpu" and (nested or t._data.ndim != 0):
                    movable = False
    if len(devices) < 2:
        return None
    cpu = [d for d in devices if d.type == "cpu"]
    others = [d for d in devices if d.type != "cpu"]
    if not (movable and cpu and len(others) == 1):
        first, second = (others[0], cpu[0]) if cpu else (others[0], others[1])
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"{first} and {second}!") from None
    target = others[0]
    return tuple(a.to(target) if isinstance(a, Tensor) and a.device != target else a for a in args)


class Op(Node):
    """Base of ember's own ops: ``forward`` works on raw arrays, ``backward`` on tensors.

    Writing backward with ember ops makes it differentiable in turn, which is what gives
    ``create_graph=True`` higher-order gradients for free. ``is_view`` ops share storage and the
    version counter with their first input.
    """

    is_view = False

    @classmethod
    def apply(cls, *args):
        if _enabled[0]:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    return cls._apply_recording(args)
        # Not recording: no node metadata, no saved tensors; ctx only carries forward's own state.
        try:
            out = cls.forward(_new(cls), *[a._data if isinstance(a, Tensor) else a for a in args])
        except TypeError:  # CuPy refuses NumPy operands: tensors on two devices?
            moved = _on_one_device(args)
            if moved is None:
                raise
            return cls.apply(*moved)
        if out.__class__ is tuple:
            out = tuple(Tensor._wrap(o) for o in out)
            if cls.is_view:
                for o in out:
                    o._become_view_of(args[0], cls, args[1:])
            return out
        t = _new(Tensor)
        t._data = out if out.__class__ is _ND else _as_array(out)
        t.requires_grad = False  # stored on the instance: see Tensor._wrap
        if cls.is_view:
            t._become_view_of(args[0], cls, args[1:])
        return t

    @classmethod
    def _apply_recording(cls, args):
        ctx = _new(cls)
        raw = []
        edges = []
        for a in args:
            if isinstance(a, Tensor):
                raw.append(a._data)
                if a.requires_grad:
                    d = a._data
                    edges.append((a.grad_fn or a, a._out_nr, d.shape, d.dtype))
                else:
                    edges.append(None)
            else:
                raw.append(a)
                edges.append(None)
        ctx._edges = tuple(edges)
        try:
            out = cls.forward(ctx, *raw)
        except TypeError:  # CuPy refuses NumPy operands: tensors on two devices?
            moved = _on_one_device(args)
            if moved is None:
                raise
            return cls._apply_recording(moved)
        non_diff = ctx._non_diff
        if out.__class__ is tuple:
            ctx._n_out = len(out)
            ctx._out_meta = tuple((o.shape, o.dtype) for o in out)
            outs = []
            for i, o in enumerate(out):
                t = Tensor._wrap(o)
                if o.dtype in FLOATING_NP and not any(o is n for n in non_diff):
                    t.requires_grad = True
                    t.grad_fn = ctx
                    t._out_nr = i
                if cls.is_view:
                    t._become_view_of(args[0], cls, args[1:])
                outs.append(t)
            if ctx._to_save:
                ctx._resolve_saved(args, outs)
            return tuple(outs)
        t = _new(Tensor)
        t._data = out if out.__class__ is _ND else _as_array(out)
        if out.dtype in FLOATING_NP and not non_diff:
            t.requires_grad = True
            t.grad_fn = ctx
        if cls.is_view:
            t._become_view_of(args[0], cls, args[1:])
        if ctx._to_save:
            ctx._resolve_saved(args, (t,))
        return t

    @classmethod
    def _record(cls, out, edges, saved=()):
        """The output tensor of a node for ``cls`` whose forward a fast path already ran: ``out`` one
        floating ndarray, ``edges`` one entry per forward argument (``edge_of`` or None, at least one
        edge), ``saved`` entries from ``saved_input`` (an output to save: ``save_output`` after). The
        node is what ``_apply_recording`` builds for that forward; the caller adds forward's ctx state
        on ``out.grad_fn``."""
        ctx = _new(cls)
        ctx._edges = edges
        ctx._saved = saved
        t = _new(Tensor)
        t._data = out
        t.requires_grad = True
        t.grad_fn = ctx
        return t

    def _run_backward(self, grads):
        # (``grads`` holds one entry per output: its length is _n_out without the class-default read)
        if len(grads) > 1 and any(g is None for g in grads):
            grads = _materialize(self, grads)
        out = type(self).backward(self, *grads)
        return out if out.__class__ is tuple else (out,)


def record_binary(cls, a, b, out, save_inputs, a_grad, b_grad):
    """Record the node for ``cls(a, b)`` whose forward a fast path already computed as ``out``.

    ``a`` is a tensor, ``b`` a tensor or a Python scalar, ``out`` a floating ndarray; ``a_grad`` and
    ``b_grad`` are the operands' ``requires_grad`` (the caller has read them). The node is exactly
    what ``_apply_recording`` builds for a forward that saves ``(a, b)`` (``save_inputs``) or
    nothing, without running ``forward`` again. Tensor attributes are read once each: a class
    default read through an instance is an unspecialised lookup on CPython 3.11.
    """
    ctx = _new(cls)
    if a_grad:
        d = a._data
        fn = a.grad_fn
        ea = (fn, a._out_nr, d.shape, d.dtype) if fn is not None else (a, 0, d.shape, d.dtype)
    else:
        ea = None
    if b_grad:
        d = b._data
        fn = b.grad_fn
        ctx._edges = (ea, (fn, b._out_nr, d.shape, d.dtype) if fn is not None else (b, 0, d.shape, d.dtype))
    else:
        ctx._edges = (ea, None)
    if save_inputs:
        # A saved operand gets its version counter now (as _version_counter() would later): stored on the
        # instance, the next save of it and the backward's version check read it specialised.
        va = a._vc
        if va is None:
            va = a._vc = [0]
        if b.__class__ is Tensor or isinstance(b, Tensor):
            vb = b._vc
            if vb is None:
                vb = b._vc = [0]
            ctx._saved = ((_IN, a, va[0], 0), (_IN, b, vb[0], 0))
        else:
            ctx._saved = ((_IN, a, va[0], 0), (_CONST, b, 0, 0))
    t = _new(Tensor)
    t._data = out
    t.requires_grad = True
    t.grad_fn = ctx
    return t


# Fast paths that build an op's result (and node) without calling ``Op.apply`` step aside while something
# has replaced it (the profiler records every op call there): ``OP_ATTRS["apply"] is PLAIN_APPLY``.
OP_ATTRS = Op.__dict__
PLAIN_APPLY = OP_ATTRS["apply"]


def once_differentiable(backward):
    """Run ``backward`` without recording; differentiating its result again raises."""

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        Tensor = _tensor_cls()
        with no_grad():
            out = backward(ctx, *grads)
        if not (_enabled[0] and any(isinstance(g, Tensor) and g.requires_grad for g in grads)):
            return out
        outs = out if isinstance(out, tuple) else (out,)
        anchor = next(g for g in grads if isinstance(g, Tensor) and g.requires_grad)
        guarded = tuple(_DelayedError.apply(o, anchor) if isinstance(o, Tensor) else o for o in outs)
        return guarded if isinstance(out, tuple) else guarded[0]

    return wrapper


class _DelayedError(Op):
    # Tied to a gradient that requires grad so that it is recorded, and raises if reached.
    def forward(ctx, x, anchor):
        return x

    def backward(ctx, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")
