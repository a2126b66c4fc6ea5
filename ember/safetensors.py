"""Read and write the safetensors format (the API of ``safetensors.torch``), without the package.

A file is an 8-byte little-endian header length, a JSON header ``{name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__": {str: str}}`` padded with spaces to 8 bytes, then the
tensors' raw little-endian bytes back to back. Nothing in it is executable, so loading is safe.
"""
import json
import os
import struct
import tempfile

import numpy as np

from . import _dtype as D
from ._tensor import Tensor

__all__ = ["save", "save_file", "load", "load_file"]

_CODES = {"bool": "BOOL", "uint8": "U8", "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64",
          "float16": "F16", "bfloat16": "BF16", "float32": "F32", "float64": "F64", "complex64": "C64"}
_FROM_CODE = {code: getattr(D, name) for name, code in _CODES.items()}
_MAX_HEADER = 100_000_000


def _serialize(tensors, metadata):
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, ember.Tensor] but received {type(tensors)}")
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected ember.Tensor but received {type(t)}")
    header, chunks, offset = {}, [], 0
    # largest element size first keeps every tensor aligned within the data section
    for name in sorted(tensors, key=lambda k: (-tensors[k]._data.itemsize, k)):
        t = tensors[name]
        code = _CODES.get(t.dtype.name)
        if code is None:
            raise ValueError(f"safetensors cannot store dtype {t.dtype}")
        arr = t._data if isinstance(t._data, np.ndarray) else t._data.get()
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("metadata must be a dict of str to str")
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, chunks


def save(tensors, metadata=None):
    """The safetensors bytes of a ``{name: tensor}`` dict.

    >>> blob = ember.safetensors.save({"w": ember.ones(2)})
    """
    head, chunks = _serialize(tensors, metadata)
    return head + b"".join(chunks)


def save_file(tensors, filename, metadata=None):
    """Write ``{name: tensor}`` to ``filename`` in safetensors format (atomically: temp file + rename).

    >>> ember.safetensors.save_file(model.state_dict(), "model.safetensors")
    """
    head, chunks = _serialize(tensors, metadata)
    path = os.fspath(filename)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            for chunk in chunks:
                out.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _parse(data, name):
    if len(data) < 8:
        raise RuntimeError(f"safetensors: {name} is truncated (no header)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        raise RuntimeError(f"safetensors: {name} is truncated or corrupt (header of {n} bytes)")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RuntimeError(f"safetensors: {name} has an invalid header ({e})") from None
    header.pop("__metadata__", None)
    body = memoryview(data)[8 + n:]
    out = {}
    for key, info in header.items():
        dtype = _FROM_CODE.get(info.get("dtype"))
        if dtype is None:
            raise RuntimeError(f"safetensors: {name}: tensor {key!r} has unsupported dtype {info.get('dtype')!r}")
        shape = tuple(int(s) for s in info["shape"])
        begin, end = (int(v) for v in info["data_offsets"])
        count = int(np.prod(shape, dtype=np.int64))
        if not 0 <= begin <= end <= len(body) or end - begin != count * dtype.itemsize:
            raise RuntimeError(f"safetensors: {name} is truncated or corrupt (tensor {key!r} spans bytes "
                               f"{begin}..{end} of a {len(body)}-byte buffer)")
        arr = np.frombuffer(body[begin:end], dtype=dtype.np.newbyteorder("<"), count=count)
        out[key] = Tensor._make(arr.astype(dtype.np).reshape(shape))  # a writable native copy
    return out


def load(data):
    """``{name: tensor}`` from safetensors bytes."""
    return _parse(data, "<bytes>")


def load_file(filename, device="cpu"):
    """``{name: tensor}`` from a safetensors file (placed on ``device``).

    >>> model.load_state_dict(ember.safetensors.load_file("model.safetensors"))
    """
    with open(filename, "rb") as fh:
        tensors = _parse(fh.read(), repr(os.fspath(filename)))
    if str(device) != "cpu":
        tensors = {k: v.to(device) for k, v in tensors.items()}
    return tensors
