"""MNIST-style datasets stored as IDX files: MNIST, FashionMNIST, KMNIST, EMNIST (torchvision.datasets)."""
import os
import string
import zipfile

import numpy as np

from ..._tensor import Tensor
from .._extras import pil_image
from .utils import download_or_explain, find_file, not_found, open_maybe_gz
from .vision import VisionDataset

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"),
               0x0E: np.dtype(">f8")}


def read_idx(path):
    """An IDX file (optionally .gz) as a NumPy array; RuntimeError naming the file if it is not valid IDX.

    Layout (LeCun's format): 2 zero bytes, a dtype code, the number of dims, one big-endian int32 per dim,
    then the values in C order.
    """
    raw = open_maybe_gz(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise RuntimeError(f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"{path} is truncated: the header is incomplete")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise RuntimeError(f"{path} is truncated or corrupt: expected {expected} bytes for shape {shape}, "
                           f"found {len(raw)}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=False)


class MNIST(VisionDataset):
    """The MNIST digits: ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``.

    >>> ds = MNIST("data", train=True, transform=transforms.ToTensor())
    >>> img, label = ds[0]      # img: 1x28x28 float tensor, label: int
    """
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download and not self._check_exists():
            self.download()
        if not self._check_exists():
            raise not_found(self.__class__.__name__, self.raw_folder, self._file_names())
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _split_prefix(self):
        return "train" if self.train else "t10k"

    def _file_names(self):
        p = self._split_prefix()
        return [f"{p}-images-idx3-ubyte", f"{p}-labels-idx1-ubyte"]

    def _check_exists(self):
        return all(find_file(self.raw_folder, n) for n in self._file_names())

    def _load_data(self):
        image_file, label_file = (find_file(self.raw_folder, n) for n in self._file_names())
        images, labels = read_idx(image_file), read_idx(label_file)
        if images.ndim != 3 or labels.ndim != 1:
            raise RuntimeError(f"{image_file} / {label_file}: expected images (N, H, W) and labels (N,), got "
                               f"{images.shape} and {labels.shape}")
        if len(images) != len(labels):
            raise RuntimeError(f"{image_file} has {len(images)} images but {label_file} has {len(labels)} labels")
        return Tensor._wrap(np.ascontiguousarray(images, dtype=np.uint8)), Tensor._wrap(labels.astype(np.int64))

    def download(self):
        resources = [(self.mirrors[0] + name, name, None) for name in self.resources]
        download_or_explain(self.__class__.__name__, self.raw_folder, resources)

    def __getitem__(self, index):
        img, target = self.data._data[index], int(self.targets._data[index])
        img = pil_image().fromarray(img)  # uint8 (H, W): mode "L"
        return self._transform_pair(img, target)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST, in MNIST's file layout under ``root/FashionMNIST/raw``."""
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST, in MNIST's file layout under ``root/KMNIST/raw``."""
    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """Extended MNIST: ``split`` in byclass, bymerge, balanced, letters, digits, mnist; files
    ``root/EMNIST/raw/emnist-{split}-{train,test}-{images-idx3,labels-idx1}-ubyte[.gz]``."""
    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    _all_classes = set(string.digits + string.ascii_letters)
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split, **kwargs):
        if split not in self.splits:
            raise ValueError(f"Unknown value '{split}' for argument split. Valid values are "
                             f"{{{', '.join(repr(s) for s in self.splits)}}}.")
        self.split = split
        self.classes = self.classes_split_dict[split]
        super().__init__(root, **kwargs)

    def _file_names(self):
        p = "train" if self.train else "test"
        return [f"emnist-{self.split}-{p}-images-idx3-ubyte", f"emnist-{self.split}-{p}-labels-idx1-ubyte"]

    def download(self):
        folder = self.raw_folder
        download_or_explain("EMNIST", folder, [(self.url, "gzip.zip", None)], timeout=60)
        with zipfile.ZipFile(os.path.join(folder, "gzip.zip")) as z:
            for member in z.namelist():
                if os.path.basename(member).startswith(f"emnist-{self.split}-"):
                    with z.open(member) as src, open(os.path.join(folder, os.path.basename(member)), "wb") as dst:
                        dst.write(src.read())
