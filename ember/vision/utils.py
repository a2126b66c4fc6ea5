"""torchvision.utils: make_grid, save_image, draw_bounding_boxes."""
import math

import numpy as np

from .._tensor import Tensor
from . import _extras

__all__ = ["make_grid", "save_image", "draw_bounding_boxes"]


def _as_batch(tensor):
    """A (B, C, H, W) float-or-int NumPy batch from a tensor or a list of (C, H, W) tensors."""
    if isinstance(tensor, (list, tuple)):
        arr = np.stack([t._data if isinstance(t, Tensor) else np.asarray(t) for t in tensor])
    elif isinstance(tensor, Tensor):
        arr = tensor._data
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        arr = arr[None] if arr.shape[0] != 1 else np.repeat(arr, 3, axis=0)[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.repeat(arr, 3, axis=1)  # single-channel images are shown as grey RGB
    return arr


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch (B, C, H, W) into one image, ``nrow`` images per row, ``padding`` pixels between them.

    >>> make_grid(ember.rand(10, 3, 8, 8), nrow=5).shape
    ember.Size([3, 22, 52])
    """
    arr = _as_batch(tensor)
    if normalize:
        arr = arr.astype(np.float32, copy=True)

        def scale(x, lo, hi):
            x = np.clip(x, lo, hi)
            return (x - lo) / max(hi - lo, 1e-5)
        if scale_each:
            arr = np.stack([scale(a, *(value_range or (a.min(), a.max()))) for a in arr])
        else:
            arr = scale(arr, *(value_range or (arr.min(), arr.max())))
    if arr.shape[0] == 1:
        return Tensor._wrap(np.ascontiguousarray(arr[0]))
    b, c, h, w = arr.shape
    xmaps = min(nrow, b)
    ymaps = int(math.ceil(b / xmaps))
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((c, cell_h * ymaps + padding, cell_w * xmaps + padding), pad_value, dtype=arr.dtype)
    for k in range(b):
        y, x = divmod(k, xmaps)
        grid[:, y * cell_h + padding:y * cell_h + padding + h, x * cell_w + padding:x * cell_w + padding + w] = arr[k]
    return Tensor._wrap(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor (or batch, tiled by make_grid with ``kwargs``) with values in [0, 1] as an image file."""
    Image = _extras.pil_image()
    grid = make_grid(tensor, **kwargs)._data
    arr = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(arr)).save(fp, format=format)


def _palette(n):
    base = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
    return [tuple(int(v) for v in (i * base) % 255) for i in range(n)]


def _color(c):
    if isinstance(c, str):
        from PIL import ImageColor
        return ImageColor.getrgb(c)
    return tuple(int(v) for v in c)


def draw_bounding_boxes(image, boxes, labels=None, colors=None, fill=False, width=1, font=None, font_size=None,
                        label_colors=None):
    """Draw (xmin, ymin, xmax, ymax) boxes and optional labels on a uint8 (C, H, W) image; returns a new uint8
    (3, H, W) tensor (greyscale input is drawn on as RGB).

    >>> draw_bounding_boxes(img, ember.tensor([[1, 1, 6, 5]]), labels=["cat"], colors="red")
    """
    Image = _extras.pil_image()
    from PIL import ImageDraw, ImageFont
    if not isinstance(image, Tensor):
        raise TypeError(f"Tensor expected, got {type(image)}")
    if image.dtype.name != "uint8":
        raise ValueError(f"The image dtype must be uint8, got {image.dtype}")
    if image.ndim != 3:
        raise ValueError("Pass individual images, not batches")
    if image.shape[0] not in (1, 3):
        raise ValueError("Only grayscale and RGB images are supported")
    box = np.asarray(boxes._data if isinstance(boxes, Tensor) else boxes, dtype=np.float64).reshape(-1, 4)
    if (box[:, 0] > box[:, 2]).any() or (box[:, 1] > box[:, 3]).any():
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert to "
                         "convert them")
    n = len(box)
    if labels is not None and len(labels) != n:
        raise ValueError(f"Number of boxes ({n}) and labels ({len(labels)}) mismatch. Please specify labels for each "
                         "box.")
    if colors is None:
        colors = _palette(n)
    elif isinstance(colors, list):
        if len(colors) < n:
            raise ValueError(f"Number of colors ({len(colors)}) is less than number of boxes ({n}). ")
        colors = [_color(c) for c in colors]
    else:
        colors = [_color(colors)] * n
    text_colors = colors if label_colors is None else (
        [_color(c) for c in label_colors] if isinstance(label_colors, list) else [_color(label_colors)] * n)
    arr = image._data
    if arr.shape[0] == 1:
        arr = np.repeat(arr, 3, axis=0)
    canvas = Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)))
    draw = ImageDraw.Draw(canvas, "RGBA" if fill else None)
    txt_font = ImageFont.load_default() if font is None else ImageFont.truetype(font, size=font_size or 10)
    for k in range(n):
        xy = [float(v) for v in box[k]]
        if fill:
            draw.rectangle(xy, width=width, outline=colors[k], fill=colors[k] + (100,))
        else:
            draw.rectangle(xy, width=width, outline=colors[k])
        if labels is not None and labels[k] is not None:
            margin = width + 1
            draw.text((xy[0] + margin, xy[1] + margin), labels[k], fill=text_colors[k], font=txt_font)
    return Tensor._wrap(np.ascontiguousarray(np.asarray(canvas).transpose(2, 0, 1)))
