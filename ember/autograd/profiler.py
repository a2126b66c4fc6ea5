"""torch.autograd.profiler: the older names of ``ember.profiler``'s profile and record_function."""
from ..profiler import profile, record_function  # noqa: F401

__all__ = ["profile", "record_function"]
