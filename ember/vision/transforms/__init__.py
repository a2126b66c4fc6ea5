"""ember.vision.transforms: torchvision.transforms for PIL images and tensors."""
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transform_names
from .autoaugment import AutoAugmentPolicy, AutoAugment, RandAugment, TrivialAugmentWide
from .functional import InterpolationMode
from . import functional  # noqa: F401

__all__ = list(_transform_names) + ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide",
                                    "InterpolationMode", "functional"]
