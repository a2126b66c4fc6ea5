"""CIFAR-10 and CIFAR-100 from the official "python version" pickle batches (torchvision.datasets)."""
import os
import pickle

import numpy as np

from .._extras import pil_image
from .utils import download_or_explain, not_found
from .vision import VisionDataset


class _BatchUnpickler(pickle.Unpickler):
    """Reads the CIFAR batch pickles (dicts of lists, bytes and NumPy arrays) and refuses anything else,
    so a tampered batch file cannot run code."""
    _allowed = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self._allowed:
            raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed in a CIFAR batch file")
        return super().find_class(module, name)


def load_batch(path):
    """One CIFAR pickle file as a dict; RuntimeError naming the file when it is damaged."""
    try:
        with open(path, "rb") as f:
            entry = _BatchUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            ImportError) as e:
        raise RuntimeError(f"Could not read {path}: the file is corrupt or truncated ({e})") from None
    if not isinstance(entry, dict):
        raise RuntimeError(f"{path} is not a CIFAR batch (expected a dict, found {type(entry).__name__})")
    return entry


class CIFAR10(VisionDataset):
    """CIFAR-10: ``root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``.

    >>> ds = CIFAR10("data", train=False)
    >>> img, label = ds[0]      # a 32x32 RGB PIL image and an int
    """
    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [[f"data_batch_{i}", None] for i in range(1, 6)]
    test_list = [["test_batch", None]]
    meta = {"filename": "batches.meta", "key": "label_names"}
    labels_key = "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download and not self._check_integrity():
            self.download()
        if not self._check_integrity():
            names = [n for n, _ in self.train_list + self.test_list] + [self.meta["filename"]]
            raise not_found(self.__class__.__name__, os.path.join(self.root, self.base_folder), names)
        data, targets = [], []
        for name, _ in (self.train_list if train else self.test_list):
            path = os.path.join(self.root, self.base_folder, name)
            entry = load_batch(path)
            labels = entry.get(self.labels_key, entry.get("labels"))
            if "data" not in entry or labels is None:
                raise RuntimeError(f"{path} is not a CIFAR batch: it has no 'data' / '{self.labels_key}' entry")
            batch = np.asarray(entry["data"], dtype=np.uint8)
            if batch.ndim != 2 or batch.shape[1] != 3072 or len(batch) != len(labels):
                raise RuntimeError(f"{path}: expected data of shape (N, 3072) with N labels, got {batch.shape} "
                                   f"and {len(labels)} labels")
            data.append(batch)
            targets.extend(int(t) for t in labels)
        # stored as N x (R plane, G plane, B plane) of 32x32: make it N x H x W x C like torchvision
        self.data = np.concatenate(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
        self.targets = targets
        self._load_meta()

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        self.classes = list(load_batch(path)[self.meta["key"]])
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _check_integrity(self):
        names = [n for n, _ in (self.train_list + self.test_list)] + [self.meta["filename"]]
        return all(os.path.isfile(os.path.join(self.root, self.base_folder, n)) for n in names)

    def download(self):
        import tarfile
        download_or_explain(self.__class__.__name__, self.root, [(self.url, self.filename, self.tgz_md5)],
                            timeout=60)
        with tarfile.open(os.path.join(self.root, self.filename), "r:gz") as tar:
            tar.extractall(self.root, filter="data")

    def __getitem__(self, index):
        img, target = pil_image().fromarray(self.data[index]), self.targets[index]
        return self._transform_pair(img, target)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 (fine labels): ``root/cifar-100-python/{train, test, meta}``."""
    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", None]]
    test_list = [["test", None]]
    meta = {"filename": "meta", "key": "fine_label_names"}
    labels_key = "fine_labels"
