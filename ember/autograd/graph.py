"""torch.autograd.graph: the node type users see as ``grad_fn``."""
from .function import Node

__all__ = ["Node"]
