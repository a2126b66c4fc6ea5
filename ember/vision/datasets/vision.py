"""VisionDataset: the base class of every ember.vision dataset (torchvision.datasets.VisionDataset)."""
import os

from ...utils.data import Dataset


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target."""

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input, target):
        return _apply_pair(self.transform, self.target_transform, input, target)


def _apply_pair(transform, target_transform, input, target):
    if transform is not None:
        input = transform(input)
    if target_transform is not None:
        target = target_transform(target)
    return input, target


class VisionDataset(Dataset):
    """A dataset under ``root`` with an optional ``transform`` (input), ``target_transform`` and ``transforms``
    (both at once; mutually exclusive with the other two)."""
    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        self.root = os.path.expanduser(root) if isinstance(root, (str, os.PathLike)) else root
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform = transform
        self.target_transform = target_transform
        if has_separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def __getitem__(self, index):
        raise NotImplementedError

    def _transform_pair(self, input, target):
        """``transform`` on the input and ``target_transform`` on the target, each where set."""
        return _apply_pair(self.transform, self.target_transform, input, target)

    def __len__(self):
        raise NotImplementedError

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        lines += [ln for ln in self.extra_repr().splitlines() if ln]
        if self.transform is not None:
            lines.append("Transform: " + repr(self.transform).replace("\n", "\n" + " " * self._repr_indent))
        if self.target_transform is not None:
            lines.append("Target transform: " + repr(self.target_transform))
        body = [" " * self._repr_indent + ln for ln in lines]
        return "\n".join([f"Dataset {self.__class__.__name__}"] + body)
