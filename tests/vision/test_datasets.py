"""ember.vision.datasets on small files written here in the official formats (IDX, CIFAR pickles, image folders)."""
import gzip
import os
import pickle
import struct
import subprocess
import sys
import urllib.error

import numpy as np
import pytest

import ember
from ember.vision import datasets as D, transforms as T
from _tv import torchvision

PIL = pytest.importorskip("PIL.Image")


def write_idx(path, array, gz=False):
    """LeCun's IDX: 0, 0, dtype code (0x08 = uint8), ndim, big-endian int32 dims, then the data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    blob = header + array.astype(np.uint8).tobytes()
    opener = gzip.open if gz else open
    with opener(path + (".gz" if gz else ""), "wb") as f:
        f.write(blob)


def make_mnist(root, name="MNIST", n=5, gz=True, prefix=None):
    raw = os.path.join(root, name, "raw")
    os.makedirs(raw, exist_ok=True)
    rng = np.random.default_rng(0)
    data = {}
    for split, count in (("train", n), ("t10k", n - 2)):
        stem = prefix(split) if prefix else split
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        write_idx(os.path.join(raw, f"{stem}-images-idx3-ubyte"), images, gz)
        write_idx(os.path.join(raw, f"{stem}-labels-idx1-ubyte"), labels, gz)
        data[split] = (images, labels)
    return data


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("cls", [D.MNIST, D.FashionMNIST, D.KMNIST])
def test_mnist_family_reads_idx(tmp_path, cls, gz):
    data = make_mnist(str(tmp_path), cls.__name__, gz=gz)
    for train, split in ((True, "train"), (False, "t10k")):
        ds = cls(str(tmp_path), train=train)
        images, labels = data[split]
        assert len(ds) == len(images) and ds.data.dtype == ember.uint8 and ds.targets.dtype == ember.int64
        np.testing.assert_array_equal(ds.data.numpy(), images)
        img, target = ds[1]
        assert img.mode == "L" and np.array_equal(np.asarray(img), images[1]) and target == int(labels[1])
    ds = cls(str(tmp_path), transform=T.ToTensor(), target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and y == int(data["train"][1][0]) + 100
    assert len(ds.classes) == 10 and ds.class_to_idx[ds.classes[3]] == 3


def test_mnist_matches_torchvision_when_available(tmp_path):
    if torchvision is None:
        pytest.skip("torchvision (optional oracle) is not importable")
    make_mnist(str(tmp_path), gz=False)
    e, t = D.MNIST(str(tmp_path)), torchvision.datasets.MNIST(str(tmp_path))
    np.testing.assert_array_equal(e.data.numpy(), t.data.numpy())
    np.testing.assert_array_equal(e.targets.numpy(), t.targets.numpy())
    assert e.classes == t.classes and repr(e).splitlines()[:2] == repr(t).splitlines()[:2]


def test_emnist_split(tmp_path):
    make_mnist(str(tmp_path), "EMNIST", prefix=lambda s: f"emnist-letters-{'train' if s == 'train' else 'test'}")
    ds = D.EMNIST(str(tmp_path), split="letters", train=False)
    assert len(ds) == 3 and ds.classes[0] == "N/A" and len(ds.classes) == 27
    assert len(D.EMNIST.classes_split_dict["byclass"]) == 62 and len(D.EMNIST.classes_split_dict["balanced"]) == 47
    with pytest.raises(ValueError, match="Unknown value 'nope' for argument split"):
        D.EMNIST(str(tmp_path), split="nope")


def test_mnist_missing_and_corrupt_files_are_named(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="(?s)Dataset not found.*train-images-idx3-ubyte"):
        D.MNIST(str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(RuntimeError) as err:
        D.MNIST(str(tmp_path), download=True)
    msg = str(err.value)
    assert "place these files" in msg and os.path.join(str(tmp_path), "MNIST", "raw", "t10k-labels-idx1-ubyte.gz") in msg

    make_mnist(str(tmp_path), gz=False)
    path = os.path.join(str(tmp_path), "MNIST", "raw", "train-images-idx3-ubyte")
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.raises(RuntimeError, match=rf"{path} is truncated or corrupt"):
        D.MNIST(str(tmp_path))
    with open(path, "wb") as f:
        f.write(b"\x89PNG not idx")
    with pytest.raises(RuntimeError, match=rf"{path} is not an IDX file"):
        D.MNIST(str(tmp_path))
    with open(path + ".gz", "wb") as f:
        f.write(b"\x1f\x8b broken gzip")
    os.remove(path)
    with pytest.raises(RuntimeError, match=rf"Could not read {path}.gz"):
        D.MNIST(str(tmp_path))


def make_cifar(root, hundred=False, n=4):
    rng = np.random.default_rng(1)
    folder = os.path.join(root, "cifar-100-python" if hundred else "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    names = ["train", "test"] if hundred else [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    label_key = "fine_labels" if hundred else "labels"
    batches = {}
    for name in names:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 100 if hundred else 10, n)]
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"batch_label": name, label_key: labels, "data": data, "filenames": ["x.png"] * n}, f,
                        protocol=2)
        batches[name] = (data, labels)
    meta = {"fine_label_names": [f"c{i}" for i in range(100)]} if hundred else \
        {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}
    with open(os.path.join(folder, "meta" if hundred else "batches.meta"), "wb") as f:
        pickle.dump(meta, f, protocol=2)
    return folder, batches


def test_cifar10_layout_and_labels(tmp_path):
    folder, batches = make_cifar(str(tmp_path))
    ds = D.CIFAR10(str(tmp_path), train=True)
    assert len(ds) == 20 and ds.data.shape == (20, 32, 32, 3) and ds.classes[0] == "airplane"
    raw, labels = batches["data_batch_2"]
    img, target = ds[5]  # second sample of the second batch
    expected = raw[1].reshape(3, 32, 32).transpose(1, 2, 0)
    assert img.mode == "RGB" and np.array_equal(np.asarray(img), expected) and target == labels[1]
    test = D.CIFAR10(str(tmp_path), train=False, transform=T.ToTensor())
    assert len(test) == 4 and test[0][0].shape == (3, 32, 32)


def test_cifar100_fine_labels(tmp_path):
    _, batches = make_cifar(str(tmp_path), hundred=True)
    ds = D.CIFAR100(str(tmp_path), train=False)
    assert ds.targets == batches["test"][1] and len(ds.classes) == 100


def test_cifar_damaged_and_malicious_files(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="(?s)Dataset not found.*data_batch_1"):
        D.CIFAR10(str(tmp_path))
    folder, _ = make_cifar(str(tmp_path))
    path = os.path.join(folder, "data_batch_3")
    with open(path, "r+b") as f:
        f.truncate(500)
    with pytest.raises(RuntimeError, match=rf"Could not read {path}"):
        D.CIFAR10(str(tmp_path))

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    with open(path, "wb") as f:
        pickle.dump({"data": Evil()}, f, protocol=2)
    with pytest.raises(RuntimeError, match="is not allowed in a CIFAR batch file"):
        D.CIFAR10(str(tmp_path))


def make_folder(root):
    rng = np.random.default_rng(2)
    for cls, count in (("cat", 2), ("dog", 3)):
        os.makedirs(os.path.join(root, cls, "nested"), exist_ok=True)
        for i in range(count):
            arr = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            sub = "nested" if i == 0 else ""
            PIL.fromarray(arr).save(os.path.join(root, cls, sub, f"{i}.png"))
    with open(os.path.join(root, "dog", "notes.txt"), "w") as f:
        f.write("not an image")


def test_image_folder(tmp_path):
    make_folder(str(tmp_path))
    ds = D.ImageFolder(str(tmp_path))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 5 and ds.targets == [0, 0, 1, 1, 1] and ds.imgs == ds.samples
    img, target = ds[0]
    assert img.mode == "RGB" and img.size == (5, 6) and target == 0
    only_nested = D.ImageFolder(str(tmp_path), is_valid_file=lambda p: "nested" in p)
    assert len(only_nested) == 2
    if torchvision is not None:
        assert [s[1] for s in torchvision.datasets.ImageFolder(str(tmp_path)).samples] == ds.targets
    npy = D.DatasetFolder(str(tmp_path), loader=lambda p: open(p).read(), extensions=(".txt",), allow_empty=True)
    assert len(npy) == 1 and npy[0] == ("not an image", 1)


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        D.ImageFolder(str(tmp_path))
    make_folder(str(tmp_path))
    os.makedirs(os.path.join(str(tmp_path), "empty"))
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        D.ImageFolder(str(tmp_path))
    os.rmdir(os.path.join(str(tmp_path), "empty"))
    bad = os.path.join(str(tmp_path), "cat", "broken.png")
    with open(bad, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n truncated")
    ds = D.ImageFolder(str(tmp_path))
    index = [p for p, _ in ds.samples].index(bad)
    with pytest.raises(RuntimeError, match=rf"Could not read image {bad}"):
        ds[index]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None"):
        D.DatasetFolder(str(tmp_path), loader=open)


def test_fake_data():
    ds = D.FakeData(size=6, image_size=(3, 8, 10), num_classes=4, transform=T.PILToTensor())
    a, ya = ds[2]
    b, yb = ds[2]
    assert a.shape == (3, 8, 10) and a.dtype == ember.uint8 and 0 <= ya < 4
    assert np.array_equal(a.numpy(), b.numpy()) and ya == yb and len(ds) == 6
    assert not np.array_equal(ds[3][0].numpy(), a.numpy())
    with pytest.raises(IndexError):
        ds[6]


def test_digits_is_sklearns_data_split_by_seed():
    from sklearn.datasets import load_digits
    bunch = load_digits()
    train, test = D.Digits(train=True), D.Digits(train=False)
    assert len(train) + len(test) == 1797 and len(test) == 359
    both = np.concatenate([train.data.numpy(), test.data.numpy()]).reshape(len(bunch.images), -1)
    expected = np.rint(bunch.images * 255 / 16).astype(np.uint8).reshape(len(bunch.images), -1)
    assert sorted(map(bytes, both)) == sorted(map(bytes, expected))  # a partition of all the images
    img, label = train[0]
    assert img.size == (8, 8) and img.mode == "L" and 0 <= label <= 9
    again = D.Digits(train=False)
    np.testing.assert_array_equal(again.targets.numpy(), test.targets.numpy())
    other = D.Digits(train=False, split_seed=1)
    assert not np.array_equal(other.targets.numpy(), test.targets.numpy())


def test_missing_extras_name_the_extra():
    code = ("import sys; sys.modules['PIL'] = None; sys.modules['sklearn'] = None\n"
            "import ember.vision as v\n"
            "from ember.vision import transforms as T, datasets as D\n"
            "import ember\n"
            "print(T.Normalize([0.5], [0.5])(ember.ones(1, 2, 2)).sum().item())\n"
            "for make in (lambda: D.Digits(), lambda: T.ToPILImage()(ember.ones(1, 2, 2))):\n"
            "    try:\n"
            "        make()\n"
            "    except ImportError as e:\n"
            "        print(e)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "4.0"
    assert "scikit-learn" in lines[1] and "pip install ember[vision]" in lines[1]
    assert "Pillow" in lines[2] and "pip install ember[vision]" in lines[2]
