"""The one backward loop: iterative, dependency-counted, freeing saved tensors as it goes.

Targets of edges are graph nodes or leaf tensors. Gradients arriving at a target are summed in a
buffer; a target runs once every edge into it has delivered. Broadcasting and dtype changes are
undone here, at the edge, so op backwards never repeat that work.
"""
import sys

import numpy as np

from .._device import is_device_array
from .function import _FREED, _BACKWARD_TWICE, Node
from . import function, grad_mode


def _accumulate(buffers, target, nr, n_out, grad):
    slot = buffers.get(target)
    if slot is None:
        slot = buffers[target] = [None] * n_out
    prev = slot[nr]
    slot[nr] = grad if prev is None else prev + grad


def _discover(roots, needed_targets):
    """All nodes reachable from the roots, and dependency counts over the part that matters."""
    if needed_targets is None:
        return _count_deps(roots), None
    seen = set()
    order = []
    stack = [r for r in dict.fromkeys(roots) if isinstance(r, Node)]
    seen.update(stack)
    while stack:
        node = stack.pop()
        order.append(node)
        for e in node._edges:
            if e is not None and isinstance(e[0], Node) and e[0] not in seen:
                seen.add(e[0])
                stack.append(e[0])
    # Only nodes from which a requested input can be reached need to run.
    parents = {}
    for node in order:
        for e in node._edges:
            if e is not None:
                parents.setdefault(e[0], []).append(node)
    useful = set()
    stack = [t for t in needed_targets]
    while stack:
        t = stack.pop()
        for p in parents.get(t, ()):
            if p not in useful:
                useful.add(p)
                stack.append(p)
    deps = {}
    for node in order:
        if node not in useful:
            continue
        for e in node._edges:
            if e is not None:
                deps[e[0]] = deps.get(e[0], 0) + 1
    return deps, useful


def _count_deps(roots):
    """How many edges lead into each target reachable from the roots (every node runs).

    A node's count doubles as its visited mark: it is walked the first time an edge reaches it.
    """
    deps = {}
    if len(roots) == 1:  # loss.backward(): no comprehension, no de-duplication
        r = roots[0]
        if not isinstance(r, Node):
            return deps
        deps[r] = 0
        stack = [r]
    else:
        stack = [r for r in roots if isinstance(r, Node)]
        for r in stack:
            deps.setdefault(r, 0)
        if len(stack) > 1:
            stack = list(dict.fromkeys(stack))
    while stack:
        for e in stack.pop()._edges:
            if e is not None:
                nxt = e[0]
                n = deps.get(nxt)
                if n is None:
                    deps[nxt] = 1
                    if isinstance(nxt, Node):
                        stack.append(nxt)
                else:
                    deps[nxt] = n + 1
    return deps


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None, accumulate=True):
    """Backpropagate ``grad_tensors`` from ``tensors``.

    With ``accumulate`` the leaves' ``.grad`` receive the result (``Tensor.backward``); otherwise the
    gradients of ``inputs`` are returned (``autograd.grad``).
    """
    Tensor = function.Tensor
    if inputs is None:
        captures, results, needed = _NO_CAPTURES, [], None
    else:
        captures = {}
        for i, t in enumerate(inputs):
            key = (t.grad_fn, t._out_nr) if t.grad_fn is not None else (t, 0)
            captures.setdefault(key, []).append(i)
        results = [None] * len(inputs)
        needed = {k[0] for k in captures}

    buffers = {}
    if len(tensors) == 1:  # loss.backward(): one root, one seed, no summing
        t = tensors[0]
        fn = t.grad_fn
        target = fn if fn is not None else t
        roots = (target,)
        slot = buffers[target] = [None] * fn._n_out if fn is not None else [None]
        slot[t._out_nr] = grad_tensors[0]
    else:
        roots = []
        for t, g in zip(tensors, grad_tensors):
            target = t.grad_fn if t.grad_fn is not None else t
            roots.append(target)
            n_out = target._n_out if isinstance(target, Node) else 1
            _accumulate(buffers, target, t._out_nr, n_out, g)

    deps, useful = _discover(roots, needed)
    if len(roots) == 1:
        ready = [roots[0]] if deps.get(roots[0], 0) == 0 else []
    else:
        ready = [r for r in dict.fromkeys(roots) if deps.get(r, 0) == 0]

    plain = not captures and useful is None
    leaf_plain = accumulate and inputs is None
    prev_mode = grad_mode._enabled[0]
    grad_mode._enabled[0] = create_graph
    try:
        while ready:
            target = ready.pop()
            slot = buffers.pop(target, None)
            if not isinstance(target, Node):
                grad = slot[0] if slot else None
                slot = None  # the only engine reference left is ``grad`` (see _exclusive)
                if grad is not None:
                    if leaf_plain and not target._hooks:  # nothing to capture or hook: straight into .grad
                        _accumulate_leaf(target, grad, 1)
                    else:
                        _finish_leaf(target, grad, captures, results, accumulate, inputs)
                    grad = None
                continue
            # (the slot list is sized by the node's output count, so len(slot) == 1 is _n_out == 1)
            if (plain and slot is not None and len(slot) == 1 and slot[0] is not None and not target._hooked
                    and target._saved is not _FREED):
                # the common node (one output with a gradient, no hooks, nothing captured): _run_node inlined
                grads_in = target._run_backward(slot)
                if len(grads_in) != len(target._edges):
                    raise RuntimeError(f"function {target.name()} returned an incorrect number of gradients "
                                       f"(expected {len(target._edges)}, got {len(grads_in)})")
                if not retain_graph:
                    _free(target)
            else:
                grads_in = _run_node(target, slot, captures, results, retain_graph, useful)
            for e, g in zip(target._edges, grads_in):
                if e is None:
                    continue
                nxt = e[0]
                if useful is not None and nxt not in useful and nxt not in needed:
                    continue
                if g is not None:
                    # Undo broadcasting and dtype changes here, once, at the edge.
                    if not isinstance(g, Tensor):
                        g = Tensor._wrap(g)
                    gd = g._data
                    if gd.shape != e[2]:
                        if not create_graph and gd.dtype in _RAW_SUM:
                            g = Tensor._wrap(_sum_to(gd, e[2]))
                        else:
                            g = g.sum_to_size(e[2])
                    if gd.dtype is not e[3] and g._data.dtype != e[3]:
                        g = g._to_np_dtype(e[3])
                    slot = buffers.get(nxt)
                    if slot is None:
                        slot = buffers[nxt] = [None] * nxt._n_out if isinstance(nxt, Node) else [None]
                    prev = slot[e[1]]
                    slot[e[1]] = g if prev is None else prev + g
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    ready.append(nxt)
            grads_in = e = g = gd = slot = None  # drop references so that leaves can take their gradient
    finally:
        grad_mode._enabled[0] = prev_mode
    return results


_NO_CAPTURES = {}  # read-only: run_backward without ``inputs`` captures nothing

# float32/float64 gradients are summed to an input's shape in NumPy when nothing records: the
# arithmetic of SumToSize.forward (same axes, same accumulation dtype) without an op call
_RAW_SUM = frozenset(np.dtype(t) for t in ("float32", "float64"))


def _sum_to(a, shape):
    lead = a.ndim - len(shape)
    if lead and shape and a.shape[lead:] == shape and a.__class__ is np.ndarray:
        # only leading dims to sum (a bias's gradient): one reduce, no axes scan, no reshape
        return _add_reduce(a, axis=0 if lead == 1 else tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1)
    if axes:
        # np.add.reduce is np.sum's arithmetic for an ndarray without its Python wrapper frames
        a = _add_reduce(a, axis=axes, keepdims=True) if a.__class__ is np.ndarray else a.sum(axis=axes, keepdims=True)
    return a.reshape(shape)


_add_reduce = np.add.reduce


def _run_node(node, slot, captures, results, retain_graph, useful):
    grads = slot if slot is not None else [None] * node._n_out
    hooks = node._tensor_hooks
    if hooks:
        for nr, fns in hooks.items():
            for fn in list(fns):
                if grads[nr] is not None:
                    new = fn(grads[nr])
                    if new is not None:
                        grads[nr] = new
    if captures:
        for nr in range(node._n_out):
            for i in captures.get((node, nr), ()):
                results[i] = grads[nr]
    if useful is not None and node not in useful:
        return ()
    if grads[0] is None if len(grads) == 1 else all(g is None for g in grads):
        return [None] * len(node._edges)
    if node._saved is _FREED:
        raise RuntimeError(_BACKWARD_TWICE)
    if node._prehooks:
        for fn in node._prehooks:
            new = fn(tuple(grads))
            if new is not None:
                grads = list(new)
    grads_in = node._run_backward(grads)
    if len(grads_in) != len(node._edges):
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {len(node._edges)}, got {len(grads_in)})")
    if node._hooks:
        for fn in node._hooks:
            new = fn(tuple(grads_in), tuple(grads))
            if new is not None:
                grads_in = tuple(new)
    if not retain_graph:
        _free(node)
    return grads_in


def _free(node):
    d = node.__dict__
    for k in tuple(d):
        if k[0] != "_":
            del d[k]
    node._saved = _FREED


# When nothing but the engine references a fresh gradient it becomes ``.grad`` without a copy, as
# torch's AccumulateGrad steals a gradient whose use_count() is 1. CPython's reference counts tell:
# unshared, the tensor is held by the engine's frames (``engine_refs`` of them: run_backward's local,
# and _finish_leaf's argument when that runs first), _accumulate_leaf's and this function's arguments
# and getrefcount's own; its array by the tensor, ``d`` and getrefcount. Any other holder (another
# leaf, a hook, a saved tensor, the caller, a view) raises a count, and the copy is kept.
_CAN_STEAL = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def _exclusive(grad, engine_refs):
    d = grad._data
    refs = engine_refs + 3
    if d.__class__ is not np.ndarray:  # a device array: stolen only when it owns its memory
        return (_CAN_STEAL and sys.getrefcount(grad) == refs and sys.getrefcount(d) == 3 and is_device_array(d)
                and d.base is None and d.flags.c_contiguous)
    if not (_CAN_STEAL and sys.getrefcount(grad) == refs and sys.getrefcount(d) == 3):
        return False
    flags = d.flags  # (a new flags object on every read)
    if not (flags.c_contiguous and flags.writeable):
        return False
    base = d.base
    # A whole-buffer view (a reshape of a fresh result) counts when nothing else can reach the buffer:
    # NumPy points every view at the owning array, so any other view would raise its count (d, base, arg).
    return base is None or (base.__class__ is np.ndarray and base.base is None and base.size == d.size
                            and sys.getrefcount(base) == 3)


def _finish_leaf(leaf, grad, captures, results, accumulate, inputs):
    if leaf._hooks:
        for fn in list(leaf._hooks):
            new = fn(grad)
            if new is not None:
                grad = new
    hits = captures.get((leaf, 0))
    if hits:
        for i in hits:
            results[i] = grad
    if not accumulate or (inputs is not None and not hits):
        return
    _accumulate_leaf(leaf, grad, 2)


def _accumulate_leaf(leaf, grad, engine_refs):
    """``leaf.grad`` receives ``grad`` (torch's AccumulateGrad): the tensor hooks ran already."""
    if leaf.grad_fn is not None:  # a non-leaf named in backward(inputs=...)
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        return
    prev = leaf.grad
    if prev is None:
        # Own the memory: the same gradient array may reach several leaves or be a broadcast view.
        if not grad.requires_grad and not leaf._hooks and _exclusive(grad, engine_refs):
            leaf.grad = grad._make(grad._data)
        else:
            leaf.grad = grad.detach().clone() if not grad.requires_grad else grad.clone()
    elif grad.requires_grad or prev.requires_grad:
        leaf.grad = prev + grad
    else:
        prev._data += grad._data
    if leaf._post_acc_hooks:
        for fn in list(leaf._post_acc_hooks):
            fn(leaf)
