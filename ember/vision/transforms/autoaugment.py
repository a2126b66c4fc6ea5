"""AutoAugment, RandAugment and TrivialAugmentWide (torchvision.transforms.autoaugment).

Policies are the published ones (Cubuk et al., "AutoAugment", 2019): each sub-policy is two
(op, probability, magnitude bin) steps; magnitudes are read from 10 bins per op.
"""
import math
from enum import Enum

import numpy as np

from ... import nn
from ..._tensor import Tensor
from . import functional as F
from .functional import InterpolationMode
from .transforms import _rng

__all__ = ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide"]


def _apply_op(img, op_name, magnitude, interpolation, fill):
    if op_name == "ShearX":  # shear about the top-left corner, as in the reference implementation
        return F.affine(img, 0.0, [0, 0], 1.0, [math.degrees(math.atan(magnitude)), 0.0], interpolation, fill,
                        center=[0, 0])
    if op_name == "ShearY":
        return F.affine(img, 0.0, [0, 0], 1.0, [0.0, math.degrees(math.atan(magnitude))], interpolation, fill,
                        center=[0, 0])
    if op_name == "TranslateX":
        return F.affine(img, 0.0, [int(magnitude), 0], 1.0, [0.0, 0.0], interpolation, fill)
    if op_name == "TranslateY":
        return F.affine(img, 0.0, [0, int(magnitude)], 1.0, [0.0, 0.0], interpolation, fill)
    if op_name == "Rotate":
        return F.rotate(img, magnitude, interpolation, fill=fill)
    enhance = {"Brightness": F.adjust_brightness, "Color": F.adjust_saturation, "Contrast": F.adjust_contrast,
               "Sharpness": F.adjust_sharpness}
    if op_name in enhance:
        return enhance[op_name](img, 1.0 + magnitude)
    if op_name == "Posterize":
        return F.posterize(img, int(magnitude))
    if op_name == "Solarize":
        return F.solarize(img, magnitude)
    simple = {"AutoContrast": F.autocontrast, "Equalize": F.equalize, "Invert": F.invert}
    if op_name in simple:
        return simple[op_name](img)
    if op_name == "Identity":
        return img
    raise ValueError(f"The provided operator {op_name} is not recognized.")


class AutoAugmentPolicy(Enum):
    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


_POLICIES = {
    "imagenet": """
        Posterize 0.4 8, Rotate 0.6 9; Solarize 0.6 5, AutoContrast 0.6 -; Equalize 0.8 -, Equalize 0.6 -;
        Posterize 0.6 7, Posterize 0.6 6; Equalize 0.4 -, Solarize 0.2 4; Equalize 0.4 -, Rotate 0.8 8;
        Solarize 0.6 3, Equalize 0.6 -; Posterize 0.8 5, Equalize 1.0 -; Rotate 0.2 3, Solarize 0.6 8;
        Equalize 0.6 -, Posterize 0.4 6; Rotate 0.8 8, Color 0.4 0; Rotate 0.4 9, Equalize 0.6 -;
        Equalize 0.0 -, Equalize 0.8 -; Invert 0.6 -, Equalize 1.0 -; Color 0.6 4, Contrast 1.0 8;
        Rotate 0.8 8, Color 1.0 2; Color 0.8 8, Solarize 0.8 7; Sharpness 0.4 7, Invert 0.6 -;
        ShearX 0.6 5, Equalize 1.0 -; Color 0.4 0, Equalize 0.6 -; Equalize 0.4 -, Solarize 0.2 4;
        Solarize 0.6 5, AutoContrast 0.6 -; Invert 0.6 -, Equalize 1.0 -; Color 0.6 4, Contrast 1.0 8;
        Equalize 0.8 -, Equalize 0.6 -""",
    "cifar10": """
        Invert 0.1 -, Contrast 0.2 6; Rotate 0.7 2, TranslateX 0.3 9; Sharpness 0.8 1, Sharpness 0.9 3;
        ShearY 0.5 8, TranslateY 0.7 9; AutoContrast 0.5 -, Equalize 0.9 -; ShearY 0.2 7, Posterize 0.3 7;
        Color 0.4 3, Brightness 0.6 7; Sharpness 0.3 9, Brightness 0.7 9; Equalize 0.6 -, Equalize 0.5 -;
        Contrast 0.6 7, Sharpness 0.6 5; Color 0.7 7, TranslateX 0.5 8; Equalize 0.3 -, AutoContrast 0.4 -;
        TranslateY 0.4 3, Sharpness 0.2 6; Brightness 0.9 6, Color 0.2 8; Solarize 0.5 2, Invert 0.0 -;
        Equalize 0.2 -, AutoContrast 0.6 -; Equalize 0.2 -, Equalize 0.6 -; Color 0.9 9, Equalize 0.6 -;
        AutoContrast 0.8 -, Solarize 0.2 8; Brightness 0.1 3, Color 0.7 0; Solarize 0.4 5, AutoContrast 0.9 -;
        TranslateY 0.9 9, TranslateY 0.7 9; AutoContrast 0.9 -, Solarize 0.8 3; Equalize 0.8 -, Invert 0.1 -;
        TranslateY 0.7 9, AutoContrast 0.9 -""",
    "svhn": """
        ShearX 0.9 4, Invert 0.2 -; ShearY 0.9 8, Invert 0.7 -; Equalize 0.6 -, Solarize 0.6 6;
        Invert 0.9 -, Equalize 0.6 -; Equalize 0.6 -, Rotate 0.9 3; ShearX 0.9 4, AutoContrast 0.8 -;
        ShearY 0.9 8, Invert 0.4 -; ShearY 0.9 5, Solarize 0.2 6; Invert 0.9 -, AutoContrast 0.8 -;
        Equalize 0.6 -, Rotate 0.9 3; ShearX 0.9 4, Solarize 0.3 3; ShearY 0.8 8, Invert 0.7 -;
        Equalize 0.9 -, TranslateY 0.6 6; Invert 0.9 -, Equalize 0.6 -; Contrast 0.3 3, Rotate 0.8 4;
        Invert 0.8 -, TranslateY 0.0 2; ShearY 0.7 6, Solarize 0.4 8; Invert 0.6 -, Rotate 0.8 4;
        ShearY 0.3 7, TranslateX 0.9 3; ShearX 0.1 6, Invert 0.6 -; Solarize 0.7 2, TranslateY 0.6 7;
        ShearY 0.8 4, Invert 0.8 -; ShearX 0.7 9, TranslateY 0.8 3; ShearY 0.8 5, AutoContrast 0.7 -;
        ShearX 0.7 2, Invert 0.1 -""",
}


def _parse_policy(text):
    policy = []
    for sub in text.split(";"):
        steps = []
        for step in sub.split(","):
            name, prob, mag = step.split()
            steps.append((name, float(prob), None if mag == "-" else int(mag)))
        policy.append(tuple(steps))
    return policy


def _linspace(a, b, n):
    return np.linspace(a, b, n)


def _posterize_bins(top, n, span):
    return (top - np.round(np.arange(n) / ((n - 1) / span))).astype(np.int64)


def _standard_space(num_bins, image_size, translate_frac=150.0 / 331.0):
    h, w = image_size
    return {
        "ShearX": (_linspace(0.0, 0.3, num_bins), True),
        "ShearY": (_linspace(0.0, 0.3, num_bins), True),
        "TranslateX": (_linspace(0.0, translate_frac * w, num_bins), True),
        "TranslateY": (_linspace(0.0, translate_frac * h, num_bins), True),
        "Rotate": (_linspace(0.0, 30.0, num_bins), True),
        "Brightness": (_linspace(0.0, 0.9, num_bins), True),
        "Color": (_linspace(0.0, 0.9, num_bins), True),
        "Contrast": (_linspace(0.0, 0.9, num_bins), True),
        "Sharpness": (_linspace(0.0, 0.9, num_bins), True),
        "Posterize": (_posterize_bins(8, num_bins, 4), False),
        "Solarize": (_linspace(255.0, 0.0, num_bins), False),
        "AutoContrast": (np.array(0.0), False),
        "Equalize": (np.array(0.0), False),
    }


def _tensor_fill(img, fill):
    if isinstance(img, Tensor):
        channels = F.get_dimensions(img)[0]
        if isinstance(fill, (int, float)):
            return [float(fill)] * channels
        if fill is not None:
            return [float(f) for f in fill]
    return fill


def _magnitude(magnitudes, index):
    return float(magnitudes[index]) if magnitudes.ndim > 0 else 0.0


class AutoAugment(nn.Module):
    """Apply one randomly chosen sub-policy of a learned AutoAugment policy (uint8 tensors or PIL images)."""

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.policy = AutoAugmentPolicy(policy)
        self.interpolation = interpolation
        self.fill = fill
        self.policies = _parse_policy(_POLICIES[self.policy.value])

    @staticmethod
    def get_params(transform_num):
        rng = _rng()
        return int(rng.integers(transform_num)), rng.random(2), rng.integers(0, 2, 2)

    def _augmentation_space(self, num_bins, image_size):
        space = _standard_space(num_bins, image_size)
        space["Invert"] = (np.array(0.0), False)
        return space

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        _, h, w = F.get_dimensions(img)
        transform_id, probs, signs = self.get_params(len(self.policies))
        space = self._augmentation_space(10, (h, w))
        for i, (op_name, p, mag_id) in enumerate(self.policies[transform_id]):
            if probs[i] <= p:
                magnitudes, signed = space[op_name]
                magnitude = _magnitude(magnitudes, mag_id) if mag_id is not None else 0.0
                if signed and signs[i] == 0:
                    magnitude = -magnitude
                img = _apply_op(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self):
        return f"{self.__class__.__name__}(policy={self.policy}, fill={self.fill})"


class RandAugment(nn.Module):
    """Apply ``num_ops`` ops drawn uniformly, all at the same ``magnitude`` (of ``num_magnitude_bins``)."""

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST,
                 fill=None):
        super().__init__()
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins, image_size):
        return {"Identity": (np.array(0.0), False), **_standard_space(num_bins, image_size)}

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        _, h, w = F.get_dimensions(img)
        space = self._augmentation_space(self.num_magnitude_bins, (h, w))
        names = list(space)
        rng = _rng()
        for _ in range(self.num_ops):
            op_name = names[int(rng.integers(len(names)))]
            magnitudes, signed = space[op_name]
            magnitude = _magnitude(magnitudes, self.magnitude)
            if signed and rng.integers(2):
                magnitude = -magnitude
            img = _apply_op(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self):
        return (f"{self.__class__.__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, "
                f"num_magnitude_bins={self.num_magnitude_bins}, interpolation={self.interpolation}, fill={self.fill})")


class TrivialAugmentWide(nn.Module):
    """Apply one op drawn uniformly at a magnitude drawn uniformly (Müller & Hutter, 2021), wide ranges."""

    def __init__(self, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins):
        return {
            "Identity": (np.array(0.0), False),
            "ShearX": (_linspace(0.0, 0.99, num_bins), True),
            "ShearY": (_linspace(0.0, 0.99, num_bins), True),
            "TranslateX": (_linspace(0.0, 32.0, num_bins), True),
            "TranslateY": (_linspace(0.0, 32.0, num_bins), True),
            "Rotate": (_linspace(0.0, 135.0, num_bins), True),
            "Brightness": (_linspace(0.0, 0.99, num_bins), True),
            "Color": (_linspace(0.0, 0.99, num_bins), True),
            "Contrast": (_linspace(0.0, 0.99, num_bins), True),
            "Sharpness": (_linspace(0.0, 0.99, num_bins), True),
            "Posterize": (_posterize_bins(8, num_bins, 6), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (np.array(0.0), False),
            "Equalize": (np.array(0.0), False),
        }

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        space = self._augmentation_space(self.num_magnitude_bins)
        names = list(space)
        rng = _rng()
        op_name = names[int(rng.integers(len(names)))]
        magnitudes, signed = space[op_name]
        magnitude = _magnitude(magnitudes, int(rng.integers(len(magnitudes)))) if magnitudes.ndim > 0 else 0.0
        if signed and rng.integers(2):
            magnitude = -magnitude
        return _apply_op(img, op_name, magnitude, self.interpolation, fill)

    def __repr__(self):
        return (f"{self.__class__.__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")
