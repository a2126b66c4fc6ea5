"""torchvision as an optional oracle: it cannot be installed next to torch 2.13 in CI, so tests that need it skip.

Locally a torchvision wheel unpacked on PYTHONPATH works for the pure-Python parts used here."""
import pytest

try:
    import torchvision
    import torchvision.transforms.functional as TF
    import torchvision.transforms as TT
except Exception:  # ImportError, or a build whose C ops don't load with this torch
    torchvision = TF = TT = None

needs_torchvision = pytest.mark.skipif(torchvision is None, reason="torchvision (optional oracle) is not importable")
