"""torchvision.transforms.functional: each op takes a PIL image or a tensor (..., C, H, W) and returns the same
kind. PIL images go through Pillow (_functional_pil), tensors through NumPy (_functional_tensor)."""
import math
import numbers
from enum import Enum

import numpy as np

from ..._tensor import Tensor
from .. import _extras
from . import _functional_pil as FP
from . import _functional_tensor as FT


class InterpolationMode(Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


def _interp(mode):
    if isinstance(mode, int):  # a PIL resampling constant, as older torchvision code passes
        return {v: k for k, v in _PIL_FILTERS.items()}[mode]
    return InterpolationMode(mode).value


def _pil_filter(mode):
    return _PIL_FILTERS["nearest" if mode == "nearest-exact" else mode]


def _is_pil(img):
    return _extras.is_pil_image(img)


def _check_image(img):
    if not isinstance(img, Tensor) and not _is_pil(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def _on_array(fn, img, *args):
    if img.ndim < 2:
        raise ValueError(f"Tensor images are expected to have at least 2 dimensions, got {img.ndim}")
    return Tensor._wrap(fn(img._data, *args))


def get_dimensions(img):
    """[channels, height, width] of a PIL image or a tensor (..., C, H, W)."""
    if isinstance(img, Tensor):
        shape = img.shape
        return [1 if len(shape) == 2 else shape[-3], shape[-2], shape[-1]]
    _check_image(img)
    return FP.get_dimensions(img)


def get_image_size(img):
    """[width, height]."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


# --- conversions ------------------------------------------------------------------------------------------

def to_tensor(pic):
    """PIL image or HxWxC ndarray -> CxHxW tensor; uint8 data is scaled to float in [0, 1].

    >>> to_tensor(Image.new("L", (4, 2))).shape
    ember.Size([1, 2, 4])
    """
    from ..._dtype import get_default_dtype
    float_dtype = get_default_dtype().np
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        out = np.ascontiguousarray(arr.transpose(2, 0, 1))
        return Tensor._wrap((out / 255).astype(float_dtype) if out.dtype == np.uint8 else out)
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    arr = _pil_array(pic)
    if pic.mode == "1":
        arr = 255 * arr.astype(np.uint8)
    out = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if out.dtype == np.uint8:
        return Tensor._wrap((out / np.float32(255)).astype(float_dtype))
    return Tensor._wrap(out)


def _pil_array(pic):
    dtypes = {"I": np.int32, "I;16": np.int16 if pic.mode == "I;16" else np.uint16, "F": np.float32}
    arr = np.array(pic, dtype=dtypes.get(pic.mode), copy=True)
    return arr[:, :, None] if arr.ndim == 2 else arr


def pil_to_tensor(pic):
    """PIL image -> CxHxW tensor of the image's own dtype (no scaling)."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    return Tensor._wrap(np.ascontiguousarray(_pil_array(pic).transpose(2, 0, 1)))


def to_pil_image(pic, mode=None):
    """CxHxW tensor or HxWxC ndarray -> PIL image; float data is taken as [0, 1] and scaled to uint8."""
    Image = _extras.pil_image()
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic._data if pic.ndim == 3 else pic._data[None]
        if arr.shape[0] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[0]} channels.")
        if arr.dtype.kind == "f" and mode != "F":
            arr = (arr * 255).astype(np.uint8)  # torch's .mul(255).byte(): truncate
        arr = arr.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        if arr.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-1]} channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if arr.shape[2] == 1:
        arr = arr[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(arr.dtype)
        if mode is not None and mode != expected and not (mode == "F" and arr.dtype.kind == "f"):
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {arr.dtype}. Should be {expected}")
        mode = mode or expected
        if mode is None:
            raise TypeError(f"Input type {arr.dtype} is not supported")
        if mode == "F":
            arr = arr.astype(np.float32)
        if mode == "I;16":
            return Image.frombuffer("I;16", (arr.shape[1], arr.shape[0]), np.ascontiguousarray(arr, "<u2").tobytes(),
                                    "raw", "I;16", 0, 1)
    elif arr.dtype != np.uint8:
        raise TypeError(f"Input type {arr.dtype} is not supported")
    img = Image.fromarray(np.ascontiguousarray(arr))
    if mode is not None and img.mode != mode:
        default = {2: "LA", 3: "RGB", 4: "RGBA"}.get(arr.shape[2] if arr.ndim == 3 else 1)
        if mode in ("HSV", "YCbCr", "CMYK", "RGBX") and arr.ndim == 3:
            return Image.frombytes(mode, (arr.shape[1], arr.shape[0]), np.ascontiguousarray(arr).tobytes())
        if arr.ndim == 3 and mode != default:
            raise ValueError(f"Only modes {[default]} are supported for {arr.shape[2]}D inputs")
        img = img.convert(mode)
    return img


def convert_image_dtype(image, dtype):
    """Convert a tensor image's dtype, rescaling values (uint8 255 <-> float 1.0)."""
    from ... import _dtype as D
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    return Tensor._wrap(FT.convert_image_dtype(image._data, D.to_dtype(dtype).np))


def normalize(tensor, mean, std, inplace=False):
    """(x - mean) / std per channel on a float tensor (..., C, H, W)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    out = FT.normalize(tensor._data, mean, std)
    if inplace:
        tensor._data[...] = out
        return tensor
    return Tensor._wrap(out.astype(tensor._data.dtype, copy=False))


# --- geometry ---------------------------------------------------------------------------------------------

def _resized_size(h, w, size, max_size):
    if isinstance(size, numbers.Number) or len(size) == 1:
        requested = size if isinstance(size, numbers.Number) else size[0]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, i.e. size "
                         "should be an int or a sequence of length 1 in torchscript mode.")
    return tuple(size)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` (h, w), or so the smaller edge is ``size`` (an int), keeping the aspect ratio."""
    _check_image(img)
    mode = _interp(interpolation)
    _, h, w = get_dimensions(img)
    out_h, out_w = _resized_size(h, w, size, max_size)
    if _is_pil(img):
        if (out_h, out_w) == (h, w):
            return img
        return FP.resize(img, (out_h, out_w), _pil_filter(mode))
    if mode not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")
    return _on_array(FT.resize, img, (out_h, out_w), mode, bool(antialias) and mode in ("bilinear", "bicubic"))


def crop(img, top, left, height, width):
    _check_image(img)
    if _is_pil(img):
        return FP.crop(img, top, left, height, width)
    return _on_array(FT.crop, img, top, left, height, width)


def center_crop(img, output_size):
    """Crop the centre; pads with zeros first when the image is smaller than output_size."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, h, w = get_dimensions(img)
    ch, cw = output_size
    if cw > w or ch > h:
        pads = [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0]
        img = pad(img, pads, fill=0)
        _, h, w = get_dimensions(img)
        if cw == w and ch == h:
            return img
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    return crop(img, top, left, ch, cw)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _parse_padding(padding):
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad by ``padding`` (int, (lr, tb) or (l, t, r, b)) with a constant, edge, reflect or symmetric border."""
    _check_image(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    pads = _parse_padding(padding)
    if _is_pil(img):
        return FP.pad(img, pads, fill, padding_mode)
    if isinstance(fill, (list, tuple)):
        fill = fill[0] if len(fill) == 1 else fill
    if isinstance(fill, (list, tuple)):
        raise TypeError("Tensor pad fill must be a number")
    return _on_array(FT.pad, img, pads, 0 if fill is None else fill, padding_mode)


def hflip(img):
    _check_image(img)
    return FP.hflip(img) if _is_pil(img) else _on_array(FT.hflip, img)


def vflip(img):
    _check_image(img)
    return FP.vflip(img) if _is_pil(img) else _on_array(FT.vflip, img)


def _inverse_affine_matrix(center, angle, translate, scale, shear):
    """Output -> input pixel map for rotate/scale/shear about ``center`` then translate (torchvision's
    convention: M = T * C * RSS * C^-1, inverted analytically)."""
    rot = math.radians(angle)
    sx, sy = (math.radians(s) for s in shear)
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def _tensor_center(center, w, h):
    return [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h))]


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (default: the image centre)."""
    _check_image(img)
    mode = _interp(interpolation)
    if _is_pil(img):
        return FP.rotate(img, angle, _pil_filter(mode), expand, center, fill)
    _, h, w = get_dimensions(img)
    m = _inverse_affine_matrix(_tensor_center(center, w, h), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    oh, ow = h, w
    if expand:
        ow, oh = _expanded_size(m, w, h)
    return _on_array(lambda a: FT.apply_grid(a, *FT.affine_grid(m, oh, ow, h, w), mode, fill), img)


def _expanded_size(m, w, h):
    """Size of the box holding the whole rotated image: the corners mapped through m, shifted to [0, w] x [0, h]
    and rounded outwards at a 1e-4 tolerance (torchvision's rule, which matches PIL's expand=True)."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    new = pts @ np.asarray(m, dtype=np.float32).reshape(2, 3).T
    shift = np.array([w * 0.5, h * 0.5], dtype=np.float32)
    lo, hi = new.min(axis=0) + shift, new.max(axis=0) + shift
    tol = 1e-4
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotation + translation + scale + shear, keeping the image size."""
    _check_image(img)
    mode = _interp(interpolation)
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = list(shear) if len(shear) == 2 else [shear[0], 0.0]
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    _, h, w = get_dimensions(img)
    if _is_pil(img):
        c = [w * 0.5, h * 0.5] if center is None else center
        m = _inverse_affine_matrix(c, angle, [float(t) for t in translate], scale, shear)
        return FP.affine(img, m, _pil_filter(mode), fill)
    m = _inverse_affine_matrix(_tensor_center(center, w, h), angle, [float(t) for t in translate], scale, shear)
    return _on_array(lambda a: FT.apply_grid(a, *FT.affine_grid(m, h, w, h, w), mode, fill), img)


def _perspective_coeffs(startpoints, endpoints):
    """The 8 coefficients mapping output points (endpoints) back to input points (startpoints)."""
    a = np.zeros((8, 8))
    for i, ((x, y), (u, v)) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
    b = np.asarray(startpoints, dtype=np.float64).reshape(8)
    return np.linalg.lstsq(a, b, rcond=None)[0].astype(np.float32).tolist()  # float32, as torchvision


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Warp so the four ``startpoints`` corners land on ``endpoints``."""
    _check_image(img)
    coeffs = _perspective_coeffs(startpoints, endpoints)
    mode = _interp(interpolation)
    if _is_pil(img):
        return FP.perspective(img, coeffs, _pil_filter(mode), fill)
    _, h, w = get_dimensions(img)
    return _on_array(lambda a: FT.apply_grid(a, *FT.perspective_grid(coeffs, h, w), mode, fill), img)


# --- colour -----------------------------------------------------------------------------------------------

def _colour(name, img, *args):
    _check_image(img)
    if _is_pil(img):
        return getattr(FP, name)(img, *args)
    FT.check_channels(img._data, (1, 3))
    return _on_array(getattr(FT, name), img, *args)


def _non_negative(name, value):
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img, brightness_factor):
    _non_negative("brightness_factor", brightness_factor)
    return _colour("adjust_brightness", img, brightness_factor)


def adjust_contrast(img, contrast_factor):
    _non_negative("contrast_factor", contrast_factor)
    return _colour("adjust_contrast", img, contrast_factor)


def adjust_saturation(img, saturation_factor):
    _non_negative("saturation_factor", saturation_factor)
    return _colour("adjust_saturation", img, saturation_factor)


def adjust_sharpness(img, sharpness_factor):
    _non_negative("sharpness_factor", sharpness_factor)
    return _colour("adjust_sharpness", img, sharpness_factor)


def adjust_hue(img, hue_factor):
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    return _colour("adjust_hue", img, hue_factor)


def adjust_gamma(img, gamma, gain=1):
    return _colour("adjust_gamma", img, gamma, gain)


def rgb_to_grayscale(img, num_output_channels=1):
    """ITU-R 601-2 luma (0.2989 R + 0.587 G + 0.114 B), as 1 or 3 channels."""
    _check_image(img)
    if _is_pil(img):
        return FP.to_grayscale(img, num_output_channels)
    return _on_array(FT.rgb_to_grayscale, img, num_output_channels)


def to_grayscale(img, num_output_channels=1):
    if not _is_pil(img):
        raise TypeError("Input should be PIL Image")
    return FP.to_grayscale(img, num_output_channels)


def invert(img):
    return _colour("invert", img)


def posterize(img, bits):
    if not 0 <= bits <= 8:
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    return _colour("posterize", img, bits)


def solarize(img, threshold):
    return _colour("solarize", img, threshold)


def autocontrast(img):
    return _colour("autocontrast", img)


def equalize(img):
    return _colour("equalize", img)


def _gaussian_args(kernel_size, sigma):
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for k in kernel_size:
        if k % 2 == 0 or k < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    return list(kernel_size), list(sigma)


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel (odd ``kernel_size`` = (kx, ky)); PIL images are blurred as uint8 tensors."""
    _check_image(img)
    kernel_size, sigma = _gaussian_args(kernel_size, sigma)
    if _is_pil(img):
        out = _on_array(FT.gaussian_blur, pil_to_tensor(img), kernel_size, sigma)
        return to_pil_image(out, mode=img.mode)
    return _on_array(FT.gaussian_blur, img, kernel_size, sigma)


def erase(img, i, j, h, w, v, inplace=False):
    """Set img[..., i:i+h, j:j+w] = v on a tensor image."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    value = v._data if isinstance(v, Tensor) else v
    if inplace:
        img._data[..., i:i + h, j:j + w] = value
        return img
    return Tensor._wrap(FT.erase(img._data, i, j, h, w, value))
