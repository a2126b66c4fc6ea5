"""Optional dependencies of ember.vision (the ``ember[vision]`` extra), imported only when a feature needs them."""


def _missing(what, package):
    return ImportError(f"{what} needs {package}, part of ember's vision extra: pip install ember[vision]")


def pil_image():
    """PIL.Image, or an ImportError naming the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise _missing("This ember.vision feature", "Pillow") from None
    return Image


def has_pil():
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def is_pil_image(img):
    """True for a PIL image; never imports Pillow (a PIL image exists only if Pillow is already loaded)."""
    import sys
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(img, pil.Image)


def load_digits():
    """scikit-learn's bundled 8x8 digits as (images (N, 8, 8) float64 in 0..16, targets (N,) int64).

    Reads the CSV that sklearn.datasets.load_digits reads, straight from the installed package, so it does not
    import scikit-learn (and SciPy), which takes seconds; falls back to load_digits() if the file moved.
    """
    import importlib.util
    import os
    import sys
    import numpy as np
    spec = importlib.util.find_spec("sklearn") if sys.modules.get("sklearn", False) is not None else None
    if spec is None or not spec.submodule_search_locations:
        raise _missing("ember.vision.datasets.Digits", "scikit-learn")
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")
    if os.path.isfile(path):
        table = np.loadtxt(path, delimiter=",")
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits as _load
    bunch = _load()
    return bunch.images, bunch.target
