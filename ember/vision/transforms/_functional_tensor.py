"""Image ops on NumPy arrays shaped (..., C, H, W): the tensor path of ember.vision.transforms.functional.

Formulas follow torchvision's tensor implementation (torchvision/transforms/_functional_tensor.py):
integer images are computed in float32 and cast back (truncating after a clamp, as ``Tensor.to`` does,
except where torchvision rounds: resize, blur). Every op works on a whole batch at once.
"""
import numpy as np


def max_value(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 1.0
    if dtype == np.bool_:
        return 1
    return np.iinfo(dtype).max


def work_dtype(dtype):
    return dtype if np.dtype(dtype).kind == "f" else np.float32


def cast_back(out, dtype, round_ints=False):
    """Float result -> the image's dtype: clamp to the valid range; integers truncate (or round)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return out.astype(dtype, copy=False)
    if round_ints:
        out = np.rint(out)
    return np.clip(out, 0, max_value(dtype)).astype(dtype)


def check_channels(img, allowed):
    c = img.shape[-3] if img.ndim >= 3 else 1
    if c not in allowed:
        raise TypeError(f"Input image tensor permitted channel values are {list(allowed)}, but found {c}")


def convert_image_dtype(img, dtype):
    """Rescale between integer ranges and [0, 1] floats as torchvision does."""
    dtype = np.dtype(dtype)
    src = img.dtype
    if src == dtype:
        return img
    if src.kind == "f":
        if dtype.kind == "f":
            return img.astype(dtype)
        if (src == np.float32 and dtype in (np.int32, np.int64)) or (src == np.float64 and dtype == np.int64):
            raise RuntimeError(f"The cast from {src} to {dtype} cannot be performed safely.")
        eps = 1e-3
        bound = max_value(dtype)
        return (img * (bound + 1.0 - eps)).astype(dtype)
    if dtype.kind == "f":
        return (img.astype(dtype) / max_value(src)).astype(dtype)
    in_max, out_max = max_value(src), max_value(dtype)
    if in_max > out_max:  # e.g. int32 -> uint8: drop the low bits
        factor = (in_max + 1) // (out_max + 1)
        return (img // factor).astype(dtype)
    factor = (out_max + 1) // (in_max + 1)
    return img.astype(dtype) * factor


def normalize(img, mean, std):
    if img.dtype.kind != "f":
        raise TypeError(f"Input tensor should be a float tensor. Got {img.dtype}.")
    if img.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tuple(img.shape)}")
    mean = np.asarray(mean, dtype=img.dtype)
    std = np.asarray(std, dtype=img.dtype)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {img.dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.reshape(-1, 1, 1)
    if std.ndim == 1:
        std = std.reshape(-1, 1, 1)
    return (img - mean) / std


# --- resampling ---------------------------------------------------------------------------------------------

def _triangle(x):
    return np.clip(1.0 - np.abs(x), 0.0, None)


def _cubic(a):
    def kernel(x):
        x = np.abs(x)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x < 1, near, np.where(x < 2, far, 0.0))
    return kernel


def _resample_matrix(in_size, out_size, mode, antialias):
    """(out_size, in_size) weights: each output sample is a normalised filter over the input (PIL's scheme;
    torch's antialiased interpolate follows it, and without antialias it is plain half-pixel interpolation)."""
    scale = in_size / out_size
    if mode in ("nearest", "nearest-exact"):
        i = np.arange(out_size)
        src = np.floor((i + 0.5) * scale) if mode == "nearest-exact" else np.floor(i * scale)
        m = np.zeros((out_size, in_size))
        m[i, np.minimum(src.astype(np.int64), in_size - 1)] = 1.0
        return m
    kernel, support = (_triangle, 1.0) if mode == "bilinear" else (_cubic(-0.5 if antialias else -0.75), 2.0)
    filterscale = max(scale, 1.0) if antialias else 1.0
    center = (np.arange(out_size) + 0.5) * scale
    reach = support * filterscale
    lo = np.maximum((center - reach + 0.5).astype(np.int64), 0)
    hi = np.minimum((center + reach + 0.5).astype(np.int64), in_size)
    j = np.arange(in_size)
    w = kernel((j[None, :] - center[:, None] + 0.5) / filterscale)
    w = np.where((j[None, :] >= lo[:, None]) & (j[None, :] < hi[:, None]), w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    return w / np.where(total == 0, 1.0, total)


def resize(img, size, mode="bilinear", antialias=True):
    """img (..., C, H, W) resized to size (h, w) by separable filtering (two small matrix products)."""
    h, w = img.shape[-2:]
    out_h, out_w = size
    if (out_h, out_w) == (h, w):
        return img.copy()
    wh = _resample_matrix(h, out_h, mode, antialias).astype(np.float32 if img.dtype != np.float64 else np.float64)
    ww = _resample_matrix(w, out_w, mode, antialias).astype(wh.dtype)
    out = np.matmul(np.matmul(wh, img.astype(wh.dtype, copy=False)), ww.T)
    return cast_back(out, img.dtype, round_ints=True)


# --- geometry -----------------------------------------------------------------------------------------------

def crop(img, top, left, height, width):
    """Crop with zero padding where the box leaves the image (torchvision's behaviour)."""
    h, w = img.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        pads = [max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0)]
        img = pad(img[..., max(top, 0):min(bottom, h), max(left, 0):min(right, w)], pads, 0, "constant")
        return img
    return img[..., top:bottom, left:right].copy()


def pad(img, padding, fill=0, padding_mode="constant"):
    """padding = [left, top, right, bottom]; negative values crop."""
    left, top, right, bottom = padding
    if min(padding) < 0:
        h, w = img.shape[-2:]
        img = img[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(p, 0) for p in padding)
    widths = [(0, 0)] * (img.ndim - 2) + [(top, bottom), (left, right)]
    mode = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric", "constant": "constant"}[padding_mode]
    if mode == "constant":
        return np.pad(img, widths, mode="constant", constant_values=fill)
    return np.pad(img, widths, mode=mode)


def hflip(img):
    return img[..., ::-1].copy()


def vflip(img):
    return img[..., ::-1, :].copy()


def _fill_array(fill, channels, dtype):
    if fill is None:
        fill = 0
    f = np.asarray(fill, dtype=np.float64).reshape(-1)
    if f.size not in (1, channels):
        raise ValueError(f"The number of elements in 'fill' cannot broadcast to match the number of channels of the "
                         f"image ({f.size} != {channels})")
    return np.broadcast_to(f, (channels,)).reshape(channels, 1, 1)


def apply_grid(img, src_x, src_y, mode, fill):
    """Sample img at (src_x, src_y) pixel coordinates (each (H_out, W_out)); outside -> fill."""
    h, w = img.shape[-2:]
    c = img.shape[-3]
    dt = work_dtype(img.dtype)
    x = img.astype(dt, copy=False)
    fill_arr = _fill_array(fill, c, dt).astype(dt)
    if mode == "nearest":
        xi = np.rint(src_x).astype(np.int64)  # round half to even, as grid_sample's nearest mode
        yi = np.rint(src_y).astype(np.int64)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = x[..., np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
        out = np.where(inside, out, fill_arr)
    else:
        x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
        fx, fy = (src_x - x0).astype(dt), (src_y - y0).astype(dt)
        out = 0
        mask_total = 0
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                xx, yy = x0 + dx, y0 + dy
                valid = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
                weight = wx * wy * valid
                out = out + x[..., np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)] * weight
                mask_total = mask_total + weight
        out = out + (1 - mask_total) * fill_arr  # blend towards fill where the footprint leaves the image
    return cast_back(out, img.dtype, round_ints=True)


def _unnormalize(g, size):
    """grid_sample's align_corners=False map from [-1, 1] to pixel coordinates (float32, as torch computes)."""
    return ((g + np.float32(1)) * np.float32(size) - np.float32(1)) / np.float32(2)


def affine_grid(matrix, out_h, out_w, in_h, in_w):
    """Source pixel coordinates for an inverse affine ``matrix`` (2x3, centre-relative coordinates).

    Computed in float32 in torchvision's order (normalised grid, then grid_sample's unnormalisation), so
    nearest-neighbour picks land on the same pixels where a coordinate falls on a .5 boundary."""
    f32 = np.float32
    xs = np.linspace(-out_w * 0.5 + 0.5, out_w * 0.5 - 0.5, out_w, dtype=f32)
    ys = np.linspace(-out_h * 0.5 + 0.5, out_h * 0.5 - 0.5, out_h, dtype=f32)
    theta = np.asarray(matrix, dtype=f32).reshape(2, 3)
    rescaled = theta.T / np.array([0.5 * in_w, 0.5 * in_h], dtype=f32)
    gx = xs[None, :] * rescaled[0, 0] + ys[:, None] * rescaled[1, 0] + rescaled[2, 0]
    gy = xs[None, :] * rescaled[0, 1] + ys[:, None] * rescaled[1, 1] + rescaled[2, 1]
    return _unnormalize(gx, in_w), _unnormalize(gy, in_h)


def perspective_grid(coeffs, out_h, out_w):
    """Source pixel coordinates for PIL-style perspective coefficients (a..h), float32 like torchvision."""
    f32 = np.float32
    a, b, c, d, e, f, g, h = (f32(v) for v in coeffs)
    xs = np.linspace(0.5, out_w + 0.5 - 1.0, out_w, dtype=f32)[None, :]
    ys = np.linspace(0.5, out_h + 0.5 - 1.0, out_h, dtype=f32)[:, None]
    sx, sy = f32(0.5 * out_w), f32(0.5 * out_h)
    num_x = xs * (a / sx) + ys * (b / sx) + c / sx
    num_y = xs * (d / sy) + ys * (e / sy) + f / sy
    den = xs * g + ys * h + f32(1)
    return _unnormalize(num_x / den - f32(1), out_w), _unnormalize(num_y / den - f32(1), out_h)


# --- colour -------------------------------------------------------------------------------------------------

def blend(img1, img2, ratio):
    out = ratio * img1.astype(work_dtype(img1.dtype), copy=False) + (1.0 - ratio) * img2
    return cast_back(np.clip(out, 0, max_value(img1.dtype)), img1.dtype)


def rgb_to_grayscale(img, num_output_channels=1):
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    check_channels(img, (1, 3))
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = (img[..., i, :, :].astype(work_dtype(img.dtype)) for i in range(3))
        gray = cast_back(0.2989 * r + 0.587 * g + 0.114 * b, img.dtype)[..., None, :, :]
    else:
        gray = img.copy()
    if num_output_channels == 3:
        return np.broadcast_to(gray, gray.shape[:-3] + (3,) + gray.shape[-2:]).copy()
    return gray


def adjust_brightness(img, factor):
    return blend(img, np.zeros((), dtype=np.float32), factor)


def adjust_contrast(img, factor):
    dt = work_dtype(img.dtype)
    base = rgb_to_grayscale(img) if img.shape[-3] == 3 else img
    mean = base.astype(dt).mean(axis=(-3, -2, -1), keepdims=True)
    return blend(img, mean, factor)


def adjust_saturation(img, factor):
    if img.shape[-3] == 1:
        return img.copy()
    return blend(img, rgb_to_grayscale(img), factor)


def _rgb2hsv(img):
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    s = cr / np.where(eqc, 1.0, maxc)
    crd = np.where(eqc, 1.0, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return h, s, maxc


def _hsv2rgb(h, s, v):
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0, 1)
    q = np.clip(v * (1.0 - s * f), 0, 1)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0, 1)
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-3)


def adjust_hue(img, factor):
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5].")
    if img.shape[-3] == 1:
        return img.copy()
    x = convert_image_dtype(img, np.float32)
    h, s, v = _rgb2hsv(x)
    out = _hsv2rgb((h + factor) % 1.0, s, v).astype(np.float32)
    return convert_image_dtype(out, img.dtype)


def adjust_gamma(img, gamma, gain=1.0):
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    x = img if img.dtype.kind == "f" else convert_image_dtype(img, np.float32)
    return convert_image_dtype(np.clip(gain * np.power(x, gamma), 0, 1).astype(x.dtype), img.dtype)


def invert(img):
    if img.dtype.kind == "f":
        return 1.0 - img
    return (max_value(img.dtype) - img).astype(img.dtype)


def posterize(img, bits):
    if img.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    return img & np.uint8((0xFF << (8 - bits)) & 0xFF)


def solarize(img, threshold):
    if threshold > max_value(img.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    return np.where(img >= threshold, invert(img), img)


def _conv2d_same(x, kernel):
    """Valid 2-D correlation of (..., H, W) with a small kernel, as a sum of shifted slices."""
    kh, kw = kernel.shape
    h, w = x.shape[-2:]
    out = 0
    for i in range(kh):
        for j in range(kw):
            out = out + kernel[i, j] * x[..., i:h - kh + 1 + i, j:w - kw + 1 + j]
    return out


def adjust_sharpness(img, factor):
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        return img.copy()
    dt = work_dtype(img.dtype)
    kernel = np.ones((3, 3), dtype=dt)
    kernel[1, 1] = 5.0
    kernel /= kernel.sum()
    inner = cast_back(_conv2d_same(img.astype(dt), kernel), img.dtype, round_ints=True)
    degenerate = img.copy()
    degenerate[..., 1:-1, 1:-1] = inner
    return blend(img, degenerate, factor)


def autocontrast(img):
    bound = max_value(img.dtype)
    dt = work_dtype(img.dtype)
    lo = img.min(axis=(-2, -1), keepdims=True).astype(dt)
    hi = img.max(axis=(-2, -1), keepdims=True).astype(dt)
    same = hi == lo
    scale = np.where(same, 1.0, bound / np.where(same, 1.0, hi - lo)).astype(dt)
    lo = np.where(same, 0.0, lo).astype(dt)
    return cast_back(np.clip((img - lo) * scale, 0, bound), img.dtype)


def equalize(img):
    if img.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    flat = img.reshape(-1, img.shape[-2] * img.shape[-1])
    out = np.empty_like(flat)
    for k, chan in enumerate(flat):  # one histogram per channel (256 bins, vectorised inside)
        hist = np.bincount(chan, minlength=256)
        nonzero = hist[hist != 0]
        step = nonzero[:-1].sum() // 255
        if step == 0:
            out[k] = chan
            continue
        lut = (np.cumsum(hist) + step // 2) // step
        lut = np.clip(np.concatenate([[0], lut[:-1]]), 0, 255)
        out[k] = lut[chan]
    return out.reshape(img.shape)


def gaussian_kernel1d(size, sigma):
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma):
    """Separable Gaussian with reflect padding (torchvision's tensor gaussian_blur)."""
    kx = gaussian_kernel1d(kernel_size[0], sigma[0]).astype(np.float32)
    ky = gaussian_kernel1d(kernel_size[1], sigma[1]).astype(np.float32)
    dt = work_dtype(img.dtype)
    x = img.astype(dt)
    pw, ph = kernel_size[0] // 2, kernel_size[1] // 2
    x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)], mode="reflect")
    x = _conv2d_same(x, ky[:, None].astype(dt))
    x = _conv2d_same(x, kx[None, :].astype(dt))
    return cast_back(x, img.dtype, round_ints=True)


def erase(img, i, j, h, w, v):
    out = img.copy()
    out[..., i:i + h, j:j + w] = v
    return out
