"""FakeData: random images, the same for a given index every time (torchvision.datasets.FakeData)."""
import numpy as np

from ..._tensor import Tensor
from .vision import VisionDataset


class FakeData(VisionDataset):
    """``size`` random images of ``image_size`` (C, H, W) as PIL images with labels in [0, num_classes).

    >>> img, label = FakeData(size=10, image_size=(3, 32, 32))[0]
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        from ..transforms import functional as F
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        rng = np.random.default_rng(index + self.random_offset)  # per-index seed: stable across epochs/workers
        img = Tensor._wrap(rng.standard_normal(self.image_size, dtype=np.float32))
        target = int(rng.integers(0, self.num_classes))
        img = F.to_pil_image(img)
        return self._transform_pair(img, target)

    def __len__(self):
        return self.size
