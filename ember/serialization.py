"""``ember.save`` / ``ember.load`` in PyTorch's checkpoint format, without importing torch.

The file is torch's zip archive: ``<name>/data.pkl`` (a protocol-2 pickle in which every tensor is a
call to ``torch._utils._rebuild_tensor_v2`` over a *persistent id* naming a storage record),
``<name>/data/<key>`` (each storage's raw little-endian bytes, 64-byte aligned), and the small
``version`` / ``byteorder`` records. ``torch.load`` reads what we write and we read what
``torch.save`` writes, in both its zip and its legacy (pre-1.6) formats.

Loading never runs code: the unpickler resolves globals only from an allow-list (containers,
torch's tensor-rebuild functions, storage types, dtypes, ``torch.device``, ``torch.Size``) and raises
``pickle.UnpicklingError`` for anything else. Views that share a storage are saved once and come
back sharing memory, as in torch.
"""
import collections
import io
import os
import pickle
import struct
import tempfile
import zipfile
import zlib

import numpy as np

from . import _dtype as D
from ._device import array_module, device as _device_cls, to_host
from ._tensor import Size, Tensor

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

_ALIGNMENT = 64
_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LEGACY_PROTOCOL = 1001

# torch's storage class name for each dtype (the type recorded in a storage's persistent id)
_STORAGE_NAMES = {"float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
                  "bfloat16": "BFloat16Storage", "int64": "LongStorage", "int32": "IntStorage",
                  "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
                  "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage"}
_STORAGE_DTYPES = {name: getattr(D, dt) for dt, name in _STORAGE_NAMES.items()}


# ---------------------------------------------------------------------------- writing
class _Global:
    """A reference to a global of torch's namespace, written into the pickle as ``GLOBAL module name``."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # the pickler insists that a reduce function be callable
        raise TypeError(f"{self.module}.{self.name} exists only inside torch checkpoints")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_TORCH_DEVICE = _Global("torch", "device")
_TORCH_SIZE = _Global("torch", "Size")
_DTYPE_GLOBALS = {d: _Global("torch", d.name) for d in D.ALL_DTYPES}
_STORAGE_GLOBALS = {d: _Global("torch", _STORAGE_NAMES[d.name]) for d in D.ALL_DTYPES}


class _Storage:
    """One storage to write: a contiguous 1-D array, referenced from the pickle by persistent id."""

    __slots__ = ("key", "array", "location")

    def __init__(self, key, array, location="cpu"):
        self.key, self.array, self.location = key, array, location


def _storage_root(arr):
    """The array owning ``arr``'s memory when ``arr`` can be expressed as torch's (offset, strides) view of
    it, else None. The root is the topmost ancestor of the same dtype (a typed array over a raw byte
    buffer, as loading makes, stops there); it must be C-contiguous, and the strides non-negative."""
    root = arr
    while isinstance(root.base, np.ndarray) and root.base.dtype == arr.dtype:
        root = root.base
    if root is arr:
        return root if arr.flags.c_contiguous else None
    if not root.flags.c_contiguous or any(s < 0 or s % arr.itemsize for s in arr.strides):
        return None
    offset_bytes = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if offset_bytes < 0 or offset_bytes % arr.itemsize:
        return None
    return root


class _Pickler(pickle._Pickler):
    """Pickler writing tensors, dtypes, devices and sizes as torch does (pure-Python pickler, because
    only it lets us emit ``GLOBAL torch ...`` for objects that are not importable here)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages = {}  # id(root array) -> _Storage

    def _save_torch_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = _save_torch_global

    def _save_dtype(self, obj):
        self._save_torch_global(_DTYPE_GLOBALS[obj])  # a bare GLOBAL, as torch pickles torch.float32

    dispatch[D.dtype] = _save_dtype

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            dt = D.from_numpy_dtype(obj.array.dtype)
            return ("storage", _STORAGE_GLOBALS[dt], obj.key, obj.location, obj.array.size)
        return None

    def _storage_for(self, arr, location="cpu"):
        root = _storage_root(arr)
        if root is None:  # a view torch cannot express (negative strides, reinterpreted dtype): own storage
            root = np.ascontiguousarray(arr)
            arr = root
        storage = self.storages.get(id(root))
        if storage is None:
            storage = _Storage(str(len(self.storages)), root, location)
            self.storages[id(root)] = storage
        offset = (arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // arr.itemsize
        strides = tuple(s // arr.itemsize for s in arr.strides)
        return storage, offset, strides

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            if type(obj).__name__ == "Parameter":
                plain = Tensor._make(obj._data)
                return _REBUILD_PARAMETER, (plain, bool(obj.requires_grad), collections.OrderedDict())
            arr = obj._data
            if isinstance(arr, np.ndarray):
                storage, offset, strides = self._storage_for(arr)
            else:  # a device tensor: its host copy is a storage of its own, recorded at the device
                arr = to_host(arr)
                storage, offset, strides = self._storage_for(arr, str(obj.device))
            # like torch, a non-leaf tensor is saved as a leaf that keeps its requires_grad flag
            return _REBUILD_TENSOR, (storage, offset, tuple(arr.shape), strides, bool(obj.requires_grad),
                                     collections.OrderedDict())
        if isinstance(obj, _device_cls):
            return _TORCH_DEVICE, (str(obj),)
        if isinstance(obj, Size):
            return _TORCH_SIZE, (tuple(obj),)
        return NotImplemented


def _atomic_write_target(f):
    """For a path, a temporary file in the same directory (so os.replace is atomic)."""
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    # mkstemp creates the file 0600; give the checkpoint the permissions a plain open() would
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return path, fd, tmp


def _write_zip(obj, fileobj, archive):
    data = io.BytesIO()
    pickler = _Pickler(data)
    pickler.dump(obj)
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        records = [("data.pkl", data.getvalue()), (".format_version", b"1"),
                   (".storage_alignment", str(_ALIGNMENT).encode()),
                   ("byteorder", b"little")]  # storages are always written little-endian
        records += [("data/" + s.key, s.array) for s in pickler.storages.values()]
        records += [("version", b"3\n")]
        for name, payload in records:
            _write_record(zf, f"{archive}/{name}", payload)


def _write_record(zf, name, payload):
    """Write one stored record, padding its local header so the data starts on a 64-byte boundary."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    encoded = name.encode("utf-8")
    start = zf.fp.tell() + 30 + len(encoded) + 4  # local header, name, the padding field's own header
    pad = -start % _ALIGNMENT
    info.extra = b"FB" + struct.pack("<H", pad) + b"\0" * pad
    if isinstance(payload, np.ndarray):
        if payload.dtype.byteorder == ">":
            payload = payload.astype(payload.dtype.newbyteorder("<"))
        payload = memoryview(np.ascontiguousarray(payload).reshape(-1).view(np.uint8))
    with zf.open(info, "w", force_zip64=len(payload) > 0x7FFFFFFF) as out:
        out.write(payload)


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` (tensors, state dicts, nested containers, numbers, strings) to ``f`` in torch's format.

    ``f`` is a path (str or path-like; written atomically through a temporary file and ``os.replace``,
    so a crash mid-save leaves any old file intact) or a writable binary file object.

    >>> ember.save(model.state_dict(), "model.pt")
    >>> ember.save({"epoch": 3, "optimizer": opt.state_dict()}, buffer)
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("ember.save only supports the standard pickle module")
    if not _use_new_zipfile_serialization:
        raise ValueError("ember.save writes only the zip format (torch's default since 1.6)")
    if isinstance(f, (str, bytes, os.PathLike)):
        path, fd, tmp = _atomic_write_target(f)
        archive = os.path.splitext(os.path.basename(path))[0] or "archive"
        try:
            with os.fdopen(fd, "wb") as out:
                _write_zip(obj, out, archive)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return
    if not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' attribute")
    if getattr(f, "seekable", lambda: False)():
        _write_zip(obj, f, "archive")
    else:  # a pipe or socket: build the archive in memory (the zip writer needs to know its offsets)
        buf = io.BytesIO()
        _write_zip(obj, buf, "archive")
        f.write(buf.getvalue())


# ---------------------------------------------------------------------------- reading
class _StorageType:
    """What a ``torch.<X>Storage`` global resolves to: just the element dtype."""

    def __init__(self, dtype):
        self.dtype = dtype


def _validate_view(name, numel, offset, size, stride):
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0 or len(size) != len(stride):
        raise pickle.UnpicklingError(f"ember.load: {name}: invalid tensor geometry (size={size}, stride={stride}, "
                                     f"offset={offset})")
    if all(s > 0 for s in size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= numel:
            raise pickle.UnpicklingError(f"ember.load: {name}: tensor of size {list(size)} with stride "
                                         f"{list(stride)} and offset {offset} reads past its storage of {numel} "
                                         "elements (corrupt file?)")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    name, arr = storage
    _validate_view(name, arr.size, storage_offset, tuple(size), tuple(stride))
    itemsize = arr.itemsize
    if not isinstance(arr, np.ndarray):  # a storage placed on a device
        xp = array_module(arr)
        view = xp.lib.stride_tricks.as_strided(arr[storage_offset:], tuple(size), tuple(s * itemsize for s in stride)) \
            if arr.size else xp.zeros(tuple(size), arr.dtype)
        t = Tensor._make(view)
        t.requires_grad = bool(requires_grad)
        return t
    # an ndarray over the storage buffer: its .base is the storage, so saving it again shares storage too
    view = np.ndarray(tuple(size), dtype=arr.dtype, buffer=arr, offset=storage_offset * itemsize,
                      strides=tuple(s * itemsize for s in stride)) if arr.size else np.zeros(tuple(size), arr.dtype)
    t = Tensor._make(view)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks=None, state=None):
    try:
        from .nn import Parameter
    except ImportError:  # pragma: no cover - nn is part of ember
        data.requires_grad = bool(requires_grad)
        return data
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _rebuild_parameter(data, requires_grad)
    for key, value in (state or {}).items():
        setattr(param, key, value)
    return param


def _encode(text, encoding="latin1"):
    # how protocol-2 pickles carry bytes objects
    return text.encode(encoding)


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "Counter"): collections.Counter,  # MultiStepLR's milestones
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch", "device"): _device_cls,
    ("torch", "Size"): Size,
    ("_codecs", "encode"): _encode,
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset, ("__builtin__", "frozenset"): frozenset,
    ("builtins", "complex"): complex, ("__builtin__", "complex"): complex,
    ("builtins", "slice"): slice, ("__builtin__", "slice"): slice,
    ("builtins", "bytearray"): bytearray, ("__builtin__", "bytearray"): bytearray,
}
_ALLOWED.update({("torch", d.name): d for d in D.ALL_DTYPES})
_ALLOWED.update({("torch", alias): getattr(D, alias) for alias in ("half", "float", "double", "short", "int", "long",
                                                                     "cfloat", "cdouble")})
_ALLOWED.update({("torch", name): _StorageType(dt) for name, dt in _STORAGE_DTYPES.items()})
_ALLOWED.update({("torch.storage", "_LegacyStorage" + name): _StorageType(dt) for name, dt in _STORAGE_DTYPES.items()})

_user_safe_globals = {}


def add_safe_globals(safe_globals):
    """Allow ``ember.load`` to unpickle these classes/functions (torch.serialization.add_safe_globals).

    >>> ember.serialization.add_safe_globals([MyConfig])
    """
    for obj in safe_globals:
        if isinstance(obj, tuple):
            obj, name = obj
            module, _, qualname = name.rpartition(".")
        else:
            module, qualname = obj.__module__, obj.__qualname__
        _user_safe_globals[(module, qualname)] = obj


def get_safe_globals():
    return list(_user_safe_globals.values())


class safe_globals:
    """Context manager allowing extra globals only inside a ``with`` block (torch.serialization.safe_globals).

    >>> with ember.serialization.safe_globals([MyConfig]):
    ...     ckpt = ember.load("run.pt")
    """

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._saved = dict(_user_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _user_safe_globals.clear()
        _user_safe_globals.update(self._saved)


def clear_safe_globals():
    _user_safe_globals.clear()


class _Unpickler(pickle.Unpickler):
    """The allow-list unpickler: storages come from the archive, globals only from ``_ALLOWED``."""

    def __init__(self, file, name, load_storage):
        super().__init__(file, encoding="utf-8")
        self._name = name
        self._load_storage = load_storage

    def find_class(self, module, name):
        obj = _ALLOWED.get((module, name))
        if obj is None:
            obj = _user_safe_globals.get((module, name))
        if obj is None:
            raise pickle.UnpicklingError(
                f"ember.load: refusing to load {self._name}: it references the global {module}.{name}, which is "
                "not on the allow-list of types a checkpoint may contain (loading never runs code). If you trust "
                f"this file, allow it with ember.serialization.add_safe_globals([{name}]).")
        return obj

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage" or len(pid) < 5:
            raise pickle.UnpicklingError(f"ember.load: {self._name}: unsupported persistent id {pid!r}")
        storage_type, key, location, numel = pid[1], pid[2], pid[3], pid[4]
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError(f"ember.load: {self._name}: storage views of the pre-1.0 format are not "
                                         "supported; re-save the file with a recent torch")
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"ember.load: {self._name}: unknown storage type {storage_type!r}")
        return self._name, self._load_storage(str(key), storage_type.dtype, int(numel), location)


def _file_name(f):
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    return repr(getattr(f, "name", "<file object>"))


def _target_device(map_location, location):
    if map_location is None:
        return None
    if isinstance(map_location, dict):
        target = map_location.get(location, location)
    else:
        target = map_location
    return _device_cls(str(target)) if not isinstance(target, _device_cls) else target


def _restore_location(arr, device):
    """A host storage placed on ``device`` (torch's default_restore_location and its CUDA checks)."""
    if device.type == "cpu":
        return arr
    from . import cuda
    if not cuda.is_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
                           "False. If you are running on a CPU-only machine, please use torch.load with "
                           "map_location=torch.device('cpu') to map your storages to the CPU.")
    index = device.index or 0
    if index >= cuda.device_count():
        raise RuntimeError(f"Attempting to deserialize object on CUDA device {index} but "
                           f"torch.cuda.device_count() is {cuda.device_count()}. Please use torch.load with "
                           "map_location to map your storages to an existing device.")
    xp = device.xp
    with xp.cuda.Device(index):
        return xp.asarray(arr)


def _check_size(nbytes, dtype, numel, name, key):
    if nbytes < numel * dtype.itemsize:
        raise RuntimeError(f"ember.load: {name} is truncated or corrupt: storage {key} holds {nbytes} bytes, "
                           f"{numel * dtype.itemsize} expected")


def _native(arr, dtype):
    """``arr`` in the machine's byte order (a storage recorded big-endian is converted once)."""
    return arr if arr.dtype == dtype.np else arr.astype(dtype.np)


def _array_from_bytes(raw, dtype, numel, name, key, order="<"):
    """A storage array owning a private, writable copy of ``raw`` (optimizer states update in place)."""
    _check_size(len(raw), dtype, numel, name, key)
    arr = np.frombuffer(raw, dtype=dtype.np.newbyteorder(order), count=numel)
    return _native(arr, dtype) if order != "<" or arr.dtype != dtype.np else arr.copy()


class _StorageLoader:
    """Reads each storage once (views of one storage share it) and applies a callable ``map_location``.

    ``read_array(key, dtype, numel)`` returns the storage as a 1-D array of ``dtype`` that owns (or
    maps) its memory, so tensors rebuilt over it share it, and saving them again shares it too."""

    def __init__(self, read_array, map_location):
        self.read_array, self.map_location = read_array, map_location
        self.cache = {}

    def __call__(self, key, dtype, numel, location):
        arr = self.cache.get(key)
        if arr is None:
            arr = self.read_array(key, dtype, numel)
            map_location = self.map_location
            moved = map_location(Tensor._make(arr), location) if callable(map_location) else None
            if isinstance(moved, Tensor):
                arr = moved._data
            else:  # restored where it was saved unless map_location says otherwise, as in torch
                target = None if callable(map_location) else _target_device(map_location, location)
                arr = _restore_location(arr, target or _device_cls(str(location)))
            self.cache[key] = arr
        return arr


def _move(obj, device):
    if device is None or device.type == "cpu":
        return obj
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _move(obj[k], device)
        return obj
    if isinstance(obj, list):
        obj[:] = [_move(v, device) for v in obj]
        return obj
    if isinstance(obj, tuple) and not isinstance(obj, Size):
        return type(obj)(_move(v, device) for v in obj)
    return obj


def _data_offset(zf, info, name):
    """Where a stored record's bytes start in the archive file (after its local header)."""
    fp = zf.fp
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise RuntimeError(f"ember.load: {name} is corrupt: bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _load_zip(zf, name, map_location, mmap_path=None):
    names = zf.namelist()
    pkl = next((n for n in names if n.endswith("data.pkl") and n.count("/") == 1), None)
    if pkl is None:
        raise RuntimeError(f"ember.load: {name} is a zip file but not a checkpoint (no data.pkl record)")
    prefix = pkl[: -len("data.pkl")]
    order = "<"
    if prefix + "byteorder" in names:
        recorded = zf.read(prefix + "byteorder")
        if recorded not in (b"little", b"big"):
            raise RuntimeError(f"ember.load: {name} is corrupt: unknown byte order {recorded!r}")
        order = "<" if recorded == b"little" else ">"

    def read_array(key, dtype, numel):
        if numel == 0:
            return np.empty(0, dtype=dtype.np)
        try:
            info = zf.getinfo(f"{prefix}data/{key}")
        except KeyError:
            raise RuntimeError(f"ember.load: {name} is corrupt: storage record data/{key} is missing") from None
        stored_dtype = dtype.np.newbyteorder(order)
        if (info.compress_type != zipfile.ZIP_STORED or info.file_size != numel * stored_dtype.itemsize
                or not hasattr(zf.fp, "readinto")):
            return _array_from_bytes(zf.read(info), dtype, numel, name, key, order)
        start = _data_offset(zf, info, name)
        if mmap_path is not None:  # copy-on-write: writable tensors, the file is never modified
            return _native(np.memmap(mmap_path, dtype=stored_dtype, mode="c", offset=start, shape=(numel,)), dtype)
        # read straight into the storage array: one copy, CRC-checked like zipfile's own reads
        arr = np.empty(numel, dtype=stored_dtype)
        zf.fp.seek(start)
        if zf.fp.readinto(memoryview(arr.view(np.uint8))) != arr.nbytes:
            raise RuntimeError(f"ember.load: {name} is truncated: storage {key} is incomplete")
        if zlib.crc32(arr.view(np.uint8)) != info.CRC:
            raise RuntimeError(f"ember.load: {name} is corrupt: CRC-32 mismatch in storage {key}")
        return _native(arr, dtype)

    loader = _StorageLoader(read_array, map_location)
    return _Unpickler(io.BytesIO(zf.read(pkl)), name, loader).load()


def _load_legacy(f, name, map_location):
    """torch's pre-1.6 format: magic, protocol, sys_info, the object pickle, the storage keys, raw storages."""
    def plain():
        return _Unpickler(f, name, None).load()
    try:
        magic = plain()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
        magic = None
    if magic != _LEGACY_MAGIC:
        raise RuntimeError(f"ember.load: {name} is not a checkpoint: neither torch's zip format nor its legacy "
                           "format (truncated or corrupt file?)")
    if plain() != _LEGACY_PROTOCOL:
        raise RuntimeError(f"ember.load: {name}: unsupported legacy protocol version")
    plain()  # sys_info
    pending = {}  # key -> (dtype, numel, array placeholder filled below)

    def lazy_storage(key, dtype, numel, location):
        if key not in pending:
            pending[key] = (dtype, numel, np.empty(numel, dtype=dtype.np))
        return pending[key][2]

    result = _Unpickler(f, name, lazy_storage).load()
    keys = plain()
    for key in keys:
        if key not in pending:
            raise RuntimeError(f"ember.load: {name} is corrupt: unknown storage key {key!r}")
        dtype, numel, arr = pending[key]
        header = f.read(8)
        if len(header) < 8:
            raise RuntimeError(f"ember.load: {name} is truncated (storage {key} missing)")
        (count,) = struct.unpack("<q", header)
        raw = f.read(count * dtype.itemsize)
        arr[...] = _array_from_bytes(raw, dtype, numel, name, key)
    return result


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load an object saved by ``ember.save`` or ``torch.save`` (zip or legacy format).

    ``f`` is a path or a readable binary file object. Only allow-listed types are unpickled (whatever
    ``weights_only`` says: ember never executes code from a checkpoint); tensors are placed on
    ``map_location`` (a device, string, or ``{saved_location: target}`` dict; CPU by default).
    With ``mmap=True`` (paths only) tensors are copy-on-write views of the memory-mapped file: loading
    reads nothing up front, and writing to a tensor never changes the file.
    A truncated or corrupt file raises an error naming it.

    >>> model.load_state_dict(ember.load("model.pt"))
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("ember.load only supports the standard pickle module")
    name = _file_name(f)
    opened = mmap_path = None
    if isinstance(f, (str, bytes, os.PathLike)):
        mmap_path = f if mmap else None
        opened = f = open(f, "rb")
    elif mmap:
        raise ValueError("f must be a file path in order to use the mmap argument")
    try:
        device = _target_device(map_location, "cpu") if not callable(map_location) else None
        return _move(_load_file(f, name, map_location, mmap_path), device)
    finally:
        if opened is not None:
            opened.close()


def _load_file(f, name, map_location, mmap_path=None):
    if not getattr(f, "seekable", lambda: False)():
        f = io.BytesIO(f.read())  # zip reading needs random access
    start = f.tell()
    head = f.read(4)
    f.seek(start)
    if len(head) == 0:
        raise RuntimeError(f"ember.load: {name} is empty (a truncated or interrupted save?)")
    try:
        if head.startswith(b"PK"):
            try:
                with zipfile.ZipFile(f) as zf:
                    return _load_zip(zf, name, map_location, mmap_path)
            except zipfile.BadZipFile as e:
                raise RuntimeError(f"ember.load: {name} is truncated or corrupt: "
                                   f"PytorchStreamReader failed reading zip archive ({e})") from None
        return _load_legacy(f, name, map_location)
    except (EOFError, struct.error, ValueError, IndexError) as e:
        raise RuntimeError(f"ember.load: {name} is truncated or corrupt ({type(e).__name__}: {e})") from None
    except pickle.UnpicklingError as e:
        if str(e).startswith("ember.load"):
            raise
        raise pickle.UnpicklingError(f"ember.load: {name} is corrupt: {e}") from None
