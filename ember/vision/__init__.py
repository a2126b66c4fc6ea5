"""ember.vision: torchvision's API (datasets, transforms, models, utils) for ember.

Pillow and scikit-learn are optional (``pip install ember[vision]``); importing ember.vision never needs them,
only the features that read or make images do.
"""
from . import datasets, models, transforms, utils  # noqa: F401

__all__ = ["datasets", "models", "transforms", "utils"]
