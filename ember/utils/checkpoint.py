"""torch.utils.checkpoint: trade compute for memory by recomputing a segment in the backward pass.

The forward keeps only the segment's inputs (and the random generator's state); the backward runs the
segment again with grad enabled, from the same random state so that dropout draws the same masks, and
backpropagates through that recomputed graph.

``use_reentrant=True`` is torch's ``CheckpointFunction``: the forward runs under ``no_grad`` and the
backward calls ``backward()`` on the recomputed outputs, so parameters captured by the function get
their ``.grad`` accumulated from inside the backward pass.

``use_reentrant=False`` (ember has no saved-tensor hooks) runs the forward once with grad enabled to
find the tensors the graph depends on: the positional tensor inputs and every leaf requiring grad that
the function captured (module parameters, tensor kwargs). The graph is then dropped and one node whose
inputs are exactly those tensors stands for the segment, so ``autograd.grad`` and ``backward(inputs=)``
work. A function that uses an intermediate (non-leaf) tensor from outside is run without
checkpointing: its gradients stay exact, only the memory is not saved.
"""
import contextlib
import warnings
import weakref

from .. import random as _random
from ..autograd import grad_mode
from ..autograd.function import Function, Node
from .._tensor import Tensor
from ..func._pytree import tree_flatten, tree_unflatten

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn", "detach_variable", "check_backward_validity"]

_DETERMINISM_CHECKS = ["default", "none"]


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    if not isinstance(inputs, tuple):
        raise RuntimeError(
            f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    return tuple(_detached(x) for x in inputs)


def _detached(x):
    if not isinstance(x, Tensor):
        return x
    d = x.detach()
    d.requires_grad = x.requires_grad
    return d


def check_backward_validity(inputs):
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


@contextlib.contextmanager
def _rng_as_in_forward(state):
    """Run the block from the generator state the forward started from; restore the caller's after."""
    if state is None:
        yield
        return
    with _random.fork_rng():
        _random.set_rng_state(state)
        yield


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)``, keeping only the inputs and recomputing the rest in backward."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
            "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False "
            "is recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return _ReentrantCheckpoint.apply(function, preserve, *args)
    if debug and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {_DETERMINISM_CHECKS}, but got {determinism_check}")
    return _checkpoint_non_reentrant(function, preserve, context_fn, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` in order, checkpointing all of ``segments`` equal chunks but the last."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
            "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
            "use_reentrant=False is recommended, but if you need to preserve the current default behavior, you "
            "can pass use_reentrant=True. Refer to docs for more details on the differences between the two "
            "variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1  # the last chunk keeps its graph
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)


# ---- use_reentrant=True

class _ReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng_state = _random.get_rng_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[args[i] for i in ctx.tensor_indices])
        with grad_mode.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _rng_as_in_forward(ctx.rng_state):
            detached = detach_variable(tuple(inputs))
            with grad_mode.enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        from .. import autograd
        autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


# ---- use_reentrant=False

def _checkpoint_non_reentrant(function, preserve, context_fn, args, kwargs):
    forward_context, recompute_context = context_fn()
    if not grad_mode.is_grad_enabled():
        with forward_context:
            return function(*args, **kwargs)
    rng_state = _random.get_rng_state() if preserve else None
    fresh = tuple(_detached(a) for a in args)
    with forward_context:
        leaves, spec = tree_flatten(function(*fresh, **kwargs))
    # Keep the outputs' values, not their graph: the graph dies with the last reference to it.
    outputs = [(x._data, x.requires_grad) for x in leaves if isinstance(x, Tensor)]
    roots = [x.grad_fn or x for x in leaves if isinstance(x, Tensor) and x.requires_grad]
    leaves = [None if isinstance(x, Tensor) else x for x in leaves]
    captured = _captured_leaves(roots, {id(t) for t in fresh})
    if captured is None:  # the graph reaches a non-leaf tensor from outside: keep the graph, run it again
        with _rng_as_in_forward(rng_state), forward_context:
            return function(*args, **kwargs)
    segment = _Segment(function, kwargs, rng_state, recompute_context, args, captured, outputs)
    results = iter(_NonReentrantCheckpoint.apply(segment, *segment.differentiable_inputs()))
    return tree_unflatten([next(results) if x is None else x for x in leaves], spec)


def _captured_leaves(roots, fresh_ids):
    """The leaves requiring grad that the graph from ``roots`` uses, other than the fresh inputs; ``None``
    when it also uses a non-leaf tensor from outside. ``roots`` is emptied.

    Nodes built by the forward die with its graph once ``roots`` lets go; a node that outlives it
    came from outside. Edges are kept as ids so that this bookkeeping keeps no node alive.
    """
    captured = {}
    stack = []
    for r in roots:
        if isinstance(r, Node):
            stack.append(r)
        elif id(r) not in fresh_ids:  # an output that is a captured leaf
            captured[id(r)] = r
    roots.clear()
    r = None
    seen = set(map(id, stack))
    nodes = []  # (weak reference to a node, ids of the nodes it feeds, leaves it feeds)
    while stack:
        node = stack.pop()
        node_ids, leaf_targets = [], []
        for e in node._edges:
            if e is None:
                continue
            if isinstance(e[0], Node):
                node_ids.append(id(e[0]))
                if id(e[0]) not in seen:
                    seen.add(id(e[0]))
                    stack.append(e[0])
            elif id(e[0]) not in fresh_ids:
                leaf_targets.append(e[0])
        nodes.append((weakref.ref(node), node_ids, leaf_targets))
        node = e = None
    alive = {id(n): n for n in (ref() for ref, _, _ in nodes) if n is not None}
    for ref, node_ids, leaf_targets in nodes:
        if ref() is not None:
            continue  # an outside node: what it feeds is not the segment's business
        if any(i in alive for i in node_ids):
            return None
        for leaf in leaf_targets:
            captured.setdefault(id(leaf), leaf)
    return list(captured.values())


class _Segment:
    """What the backward needs to run the segment again."""

    def __init__(self, function, kwargs, rng_state, recompute_context, args, captured, outputs):
        self.function, self.kwargs, self.rng_state = function, kwargs, rng_state
        self.recompute_context = recompute_context
        self.args = [None if isinstance(a, Tensor) else a for a in args]
        self.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.tensors = [args[i] for i in self.tensor_indices]
        self.captured = captured
        self.output_arrays = [a for a, _ in outputs]
        self.output_differentiable = [d for _, d in outputs]

    def differentiable_inputs(self):
        return self.tensors + self.captured

    def recompute(self, saved):
        """The recomputed output tensors and the fresh input leaves standing for ``saved``."""
        inputs = list(self.args)
        fresh = [_detached(t) for t in saved]
        for i, t in zip(self.tensor_indices, fresh):
            inputs[i] = t
        with _rng_as_in_forward(self.rng_state), grad_mode.enable_grad(), self.recompute_context:
            out = self.function(*inputs, **self.kwargs)
        return [x for x in tree_flatten(out)[0] if isinstance(x, Tensor)], fresh


class _NonReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx, segment, *tensors):
        ctx.segment = segment
        ctx.save_for_backward(*tensors[:len(segment.tensors)])
        outs = tuple(Tensor._make(a) for a in segment.output_arrays)
        ctx.mark_non_differentiable(*[o for o, d in zip(outs, segment.output_differentiable) if not d])
        segment.output_arrays = None
        return outs

    @staticmethod
    def backward(ctx, *grads):
        if grad_mode.is_grad_enabled():
            raise RuntimeError("ember's checkpoint(use_reentrant=False) does not support double backward "
                               "(create_graph=True)")
        segment = ctx.segment
        needs = ctx.needs_input_grad[1:]
        outputs, fresh = segment.recompute(ctx.saved_tensors)
        wrt = [t for t, need in zip(fresh + segment.captured, needs) if need]
        pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad and g is not None]
        result = [None] * len(needs)
        if pairs and wrt:
            from .. import autograd
            got = iter(autograd.grad([o for o, _ in pairs], wrt, [g for _, g in pairs], allow_unused=True))
            result = [next(got) if need else None for need in needs]
        return (None,) + tuple(result)
