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
    """scikit-learn's bundled 8x8 digits (images, targets), or an ImportError naming the extra."""
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError:
        raise _missing("ember.vision.datasets.Digits", "scikit-learn") from None
    bunch = _load()
    return bunch.images, bunch.target
