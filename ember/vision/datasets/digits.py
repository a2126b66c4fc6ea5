"""Digits: the 1,797 real 8x8 handwritten digits that ship inside scikit-learn (UCI optdigits), no download."""
import numpy as np

from ..._tensor import Tensor
from .._extras import load_digits, pil_image
from .vision import VisionDataset


class Digits(VisionDataset):
    """scikit-learn's bundled 8x8 digits, split into train/test by a fixed seed.

    Pixel counts 0..16 are scaled to uint8 0..255 (``round(v * 255 / 16)``) so the images behave like MNIST's:
    ``data`` is an (N, 8, 8) uint8 tensor, ``targets`` an (N,) int64 tensor, and samples are PIL 'L' images.

    >>> train = Digits(train=True, transform=transforms.ToTensor())   # 1437 images
    >>> test = Digits(train=False)                                     # 360 images
    """
    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False,
                 test_fraction=0.2, split_seed=0):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        images, targets = load_digits()
        order = np.random.default_rng(split_seed).permutation(len(images))
        n_test = int(round(len(images) * test_fraction))
        keep = order[n_test:] if train else order[:n_test]
        keep.sort()
        pixels = np.rint(images[keep] * (255.0 / 16.0)).astype(np.uint8)
        self.data = Tensor._wrap(pixels)
        self.targets = Tensor._wrap(targets[keep].astype(np.int64))

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index):
        img, target = self.data._data[index], int(self.targets._data[index])
        img = pil_image().fromarray(img)
        return self._transform_pair(img, target)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"
