"""Flatten nested tuples/lists/dicts of tensors into a list of leaves and build them back."""

_LEAF = None  # the spec of a leaf


def tree_flatten(tree):
    """``(leaves, spec)``: the leaves left to right, and the structure that ``tree_unflatten`` rebuilds."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves):
    if isinstance(tree, dict):
        keys = list(tree)
        return (dict, keys, [_flatten(tree[k], leaves) for k in keys])
    kind = type(tree)
    if kind is tuple or kind is list or (isinstance(tree, tuple) and hasattr(tree, "_fields")):
        return (kind, len(tree), [_flatten(v, leaves) for v in tree])  # a namedtuple keeps its class
    leaves.append(tree)
    return _LEAF


def tree_unflatten(leaves, spec):
    it = iter(leaves)
    return _build(spec, it)


def _build(spec, it):
    if spec is _LEAF:
        return next(it)
    kind, meta, children = spec
    values = [_build(c, it) for c in children]
    if kind is dict:
        return dict(zip(meta, values))
    if kind in (tuple, list):
        return kind(values)
    return kind(*values)  # a namedtuple


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix, tree, error):
    """Expand ``prefix`` (a structure whose leaves apply to whole subtrees of ``tree``) to one value per leaf.

    ``error()`` builds the exception raised when the structures do not match.
    """
    out = []
    _broadcast(prefix, tree, out, error)
    return out


def _broadcast(prefix, tree, out, error):
    if not isinstance(prefix, (tuple, list, dict)):
        out.extend([prefix] * len(tree_flatten(tree)[0]))
        return
    if isinstance(prefix, dict):
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            raise error()
        for k in tree:
            _broadcast(prefix[k], tree[k], out, error)
        return
    if not isinstance(tree, (tuple, list)) or len(prefix) != len(tree):
        raise error()
    for p, t in zip(prefix, tree):
        _broadcast(p, t, out, error)
