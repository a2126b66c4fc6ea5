"""Distances between vectors: cosine_similarity, pairwise_distance, pdist (composed of ember ops)."""
import numpy as np


__all__ = ["cosine_similarity", "pairwise_distance", "pdist"]


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcasting), each norm clamped to ``eps``.

    >>> F.cosine_similarity(torch.tensor([[1., 0.]]), torch.tensor([[1., 1.]]))
    tensor([0.7071])
    """
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm of ``x1 - x2 + eps`` over the last dim.

    >>> F.pairwise_distance(torch.zeros(2, 3), torch.ones(2, 3))
    tensor([1.7320, 1.7320])
    """
    ndim = max(x1.dim(), x2.dim())
    return (x1 - x2 + eps).norm(p, ndim - 1 if ndim else None, keepdim=keepdim)


def pdist(input, p=2):
    """p-norm distances between all row pairs i < j of an (N, M) input, as a flat vector of N*(N-1)/2.

    >>> F.pdist(torch.tensor([[0., 0.], [3., 4.], [6., 8.]]))
    tensor([ 5., 10.,  5.])
    """
    from ..._tensor import Tensor
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    from ..._device import array_module
    i, j = array_module(input._data).triu_indices(n, 1)
    if len(i) == 0:
        return input.new_zeros((0,))
    diff = input[Tensor._wrap(i)] - input[Tensor._wrap(j)]
    return diff.norm(p, 1)


