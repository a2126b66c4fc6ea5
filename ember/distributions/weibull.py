"""Weibull lives beside Pareto (pareto.py); this module keeps torch's import path torch.distributions.weibull."""
from .pareto import Weibull

__all__ = ["Weibull"]
