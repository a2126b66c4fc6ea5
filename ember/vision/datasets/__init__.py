"""ember.vision.datasets: torchvision's dataset classes, reading the official file formats from disk."""
from .vision import VisionDataset, StandardTransform
from .mnist import MNIST, FashionMNIST, KMNIST, EMNIST, read_idx
from .cifar import CIFAR10, CIFAR100
from .folder import DatasetFolder, ImageFolder, IMG_EXTENSIONS, default_loader, pil_loader, find_classes, \
    make_dataset
from .fakedata import FakeData
from .digits import Digits

__all__ = ["VisionDataset", "MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "DatasetFolder",
           "ImageFolder", "FakeData", "Digits"]
