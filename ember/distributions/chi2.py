"""Chi2 lives beside Gamma (gamma.py); this module keeps torch's import path torch.distributions.chi2."""
from .gamma import Chi2

__all__ = ["Chi2"]
