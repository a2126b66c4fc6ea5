"""``repr(tensor)`` in PyTorch's format (precision 4, summarised past 1000 elements)."""
import math

import numpy as np

from . import _dtype as D
from ._device import to_host

PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH
    if profile == "default":
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80
    PRECISION = precision if precision is not None else PRECISION
    THRESHOLD = threshold if threshold is not None else THRESHOLD
    EDGEITEMS = edgeitems if edgeitems is not None else EDGEITEMS
    LINEWIDTH = linewidth if linewidth is not None else LINEWIDTH


class _Formatter:
    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for v in values:
                self.max_width = max(self.max_width, len(str(v)))
            return
        finite = [v for v in values if math.isfinite(v) and v != 0]
        if not finite:
            return
        lo, hi = min(abs(v) for v in finite), max(abs(v) for v in finite)
        self.int_mode = all(v == math.ceil(v) for v in finite)
        if self.int_mode:
            if hi / lo > 1000.0 or hi > 1.0e8:
                self.sci_mode = True
                strs = [f"{v:.{PRECISION}e}" for v in finite]
            else:
                strs = [f"{v:.0f}." for v in finite]
        else:
            if hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
                self.sci_mode = True
                strs = [f"{v:.{PRECISION}e}" for v in finite]
            else:
                strs = [f"{v:.{PRECISION}f}" for v in finite]
        self.max_width = max(len(s) for s in strs)

    def width(self):
        return self.max_width

    def format(self, v):
        if self.floating:
            if self.sci_mode:
                s = f"{v:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if math.isfinite(v):
                    s += "."
            else:
                s = f"{v:.{PRECISION}f}"
        else:
            s = str(v)
        return (self.max_width - len(s)) * " " + s


def _summarized(arr):
    """The values torch shows: edge items only when the tensor is large."""
    if arr.ndim == 0 or arr.size <= THRESHOLD:
        return arr.reshape(-1)
    parts = []
    def walk(a):
        if a.ndim == 1:
            parts.extend(a[:EDGEITEMS] if a.shape[0] > 2 * EDGEITEMS else a)
            if a.shape[0] > 2 * EDGEITEMS:
                parts.extend(a[-EDGEITEMS:])
            return
        rows = list(range(a.shape[0]))
        if a.shape[0] > 2 * EDGEITEMS:
            rows = rows[:EDGEITEMS] + rows[-EDGEITEMS:]
        for r in rows:
            walk(a[r])
    walk(arr)
    return np.array(parts)


class _ComplexFormatter:
    """torch formats the real and imaginary parts with a formatter each, then joins them."""

    def __init__(self, values):
        self.real = _Formatter([v.real for v in values], True)
        self.imag = _Formatter([v.imag for v in values], True)
        self.max_width = self.real.max_width + self.imag.max_width + 2

    def format(self, v):
        real = self.real.format(v.real)
        imag = (self.imag.format(v.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag


def _str(arr, indent, formatter, summarize):
    fmt = formatter.format
    if arr.ndim == 0:
        return fmt(arr.item())
    if arr.ndim == 1:
        n = arr.shape[0]
        if summarize and n > 2 * EDGEITEMS:
            items = [fmt(v) for v in arr[:EDGEITEMS].tolist()] + [" ..."] + [fmt(v) for v in arr[-EDGEITEMS:].tolist()]
        else:
            items = [fmt(v) for v in arr.tolist()]
        per_line = max(math.floor((LINEWIDTH - indent) / (formatter.max_width + 2)), 1)
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"
    n = arr.shape[0]
    if summarize and n > 2 * EDGEITEMS:
        rows = [_str(arr[i], indent + 1, formatter, summarize) for i in range(EDGEITEMS)] + ["..."] + \
               [_str(arr[i], indent + 1, formatter, summarize) for i in range(n - EDGEITEMS, n)]
    else:
        rows = [_str(arr[i], indent + 1, formatter, summarize) for i in range(n)]
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def tensor_repr(t, prefix="tensor("):
    arr = to_host(t._data)
    dt = t.dtype
    if dt is D.bfloat16 or dt is D.float16:
        arr = arr.astype(np.float32)
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        # an empty tensor has no elements to show its dtype, so torch names it unless it is the default
        if dt is not D.get_default_dtype():
            suffixes.append(f"dtype={dt!r}")
    else:
        summarize = arr.size > THRESHOLD
        if dt.is_complex:
            body = _str(arr, indent, _ComplexFormatter(_summarized(arr).tolist()), summarize)
        else:
            body = _str(arr, indent, _Formatter(_summarized(arr).tolist(), dt.is_floating_point), summarize)
        if dt not in (D.get_default_dtype(), D._default_complex(), D.int64, D.bool):
            suffixes.append(f"dtype={dt!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"
