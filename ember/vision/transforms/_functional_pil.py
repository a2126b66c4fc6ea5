"""Image ops on PIL images: the PIL path of ember.vision.transforms.functional (Pillow does the pixel work,
as in torchvision/transforms/_functional_pil.py)."""
import numpy as np

from .._extras import pil_image


def get_dimensions(img):
    return [len(img.getbands()), img.height, img.width]


def _from_array(arr, mode):
    Image = pil_image()
    out = Image.fromarray(arr)
    return out if out.mode == mode else out.convert(mode)


def resize(img, size, interpolation):
    h, w = size
    return img.resize((w, h), interpolation)


def crop(img, top, left, height, width):
    return img.crop((left, top, left + width, top + height))


def pad(img, padding, fill=0, padding_mode="constant"):
    left, top, right, bottom = padding
    if padding_mode == "constant" and min(padding) >= 0:
        from PIL import ImageOps
        return ImageOps.expand(img, border=(left, top, right, bottom), fill=_fill(fill, img))
    from . import _functional_tensor as FT
    arr = np.asarray(img)
    if arr.ndim == 2:
        chw = arr[None]
    else:
        chw = arr.transpose(2, 0, 1)
    out = FT.pad(chw, padding, fill if not isinstance(fill, (list, tuple)) else 0, padding_mode)
    out = out[0] if arr.ndim == 2 else out.transpose(1, 2, 0)
    result = _from_array(np.ascontiguousarray(out), img.mode)
    if img.mode == "P":
        result.putpalette(img.getpalette())
    return result


def hflip(img):
    return img.transpose(pil_image().Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    return img.transpose(pil_image().Transpose.FLIP_TOP_BOTTOM)


def _fill(fill, img):
    if fill is None:
        return None
    bands = len(img.getbands())
    if isinstance(fill, (int, float)):
        return fill if bands == 1 else tuple([int(fill)] * bands)
    fill = tuple(int(f) for f in fill)
    if len(fill) == 1:
        fill = fill * bands
    if len(fill) != bands:
        raise ValueError(f"The number of elements in 'fill' does not match the number of bands of the image "
                         f"({len(fill)} != {bands})")
    return fill[0] if bands == 1 else fill


def rotate(img, angle, interpolation, expand, center, fill):
    return img.rotate(angle, interpolation, expand, center, fillcolor=_fill(fill, img))


def affine(img, matrix, interpolation, fill):
    return img.transform(img.size, pil_image().Transform.AFFINE, matrix, interpolation, fillcolor=_fill(fill, img))


def perspective(img, coeffs, interpolation, fill):
    return img.transform(img.size, pil_image().Transform.PERSPECTIVE, coeffs, interpolation,
                         fillcolor=_fill(fill, img))


def _enhance(kind, img, factor):
    from PIL import ImageEnhance
    return getattr(ImageEnhance, kind)(img).enhance(factor)


def adjust_brightness(img, factor):
    return _enhance("Brightness", img, factor)


def adjust_contrast(img, factor):
    return _enhance("Contrast", img, factor)


def adjust_saturation(img, factor):
    return _enhance("Color", img, factor)


def adjust_sharpness(img, factor):
    return _enhance("Sharpness", img, factor)


def adjust_hue(img, factor):
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5].")
    mode = img.mode
    if mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    with np.errstate(over="ignore"):  # uint8 arithmetic wraps around the hue circle on purpose
        hue += np.array(factor * 255).astype(np.uint8)
    Image = pil_image()
    return Image.merge("HSV", (Image.fromarray(hue), s, v)).convert(mode)


def adjust_gamma(img, gamma, gain=1.0):
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    mode = img.mode
    img = img.convert("RGB")
    table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
    return img.point(table).convert(mode)


def to_grayscale(img, num_output_channels):
    gray = img.convert("L")
    if num_output_channels == 3:
        arr = np.asarray(gray)
        return pil_image().fromarray(np.dstack([arr, arr, arr]))
    if num_output_channels != 1:
        raise ValueError("num_output_channels should be either 1 or 3")
    return gray


def _ops(name, img, *args):
    from PIL import ImageOps
    return getattr(ImageOps, name)(img, *args)


def invert(img):
    return _ops("invert", img)


def posterize(img, bits):
    return _ops("posterize", img, bits)


def solarize(img, threshold):
    return _ops("solarize", img, threshold)


def autocontrast(img):
    return _ops("autocontrast", img)


def equalize(img):
    return _ops("equalize", img)
