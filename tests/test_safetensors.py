"""ember.safetensors against the safetensors package (its torch API) when installed, plus format checks."""
import json
import struct

import numpy as np
import pytest

import ember
import ember.safetensors as est
from oracle import needs_torch, torch

try:
    import safetensors.torch as st
except ImportError:
    st = None
needs_safetensors = pytest.mark.skipif(st is None or torch is None, reason="safetensors/torch not installed")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


def _tensors(lib):
    rng = np.random.default_rng(0)
    out = {}
    for i, dt in enumerate(DTYPES):
        vals = (rng.standard_normal((2, 3)) * 10).tolist() if dt != "bool" else (rng.random((2, 3)) > 0.5).tolist()
        if dt == "uint8":
            vals = np.abs(np.array(vals)).tolist()
        out[f"t.{dt}"] = lib.tensor(vals, dtype=getattr(lib, dt))
    out["scalar"] = lib.tensor(1.5)
    out["empty"] = lib.zeros(0, 4)
    return out


def _np(t):
    t = t.detach() if hasattr(t, "detach") else t
    if isinstance(t, ember.Tensor):
        return t._data.astype(np.float32) if t.dtype is ember.bfloat16 else t._data
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


@needs_safetensors
def test_ember_writes_safetensors_reads(tmp_path):
    tensors = _tensors(ember)
    tensors["view"] = ember.arange(12.0).reshape(3, 4).t()  # non-contiguous: stored contiguously
    est.save_file(tensors, tmp_path / "a.safetensors", metadata={"format": "pt"})
    out = st.load_file(str(tmp_path / "a.safetensors"))
    assert set(out) == set(tensors)
    for k, v in tensors.items():
        assert str(out[k].dtype) == "torch." + v.dtype.name and tuple(out[k].shape) == tuple(v.shape)
        np.testing.assert_array_equal(_np(out[k]), _np(v))
    assert st.load(est.save(tensors)).keys() == out.keys()


@needs_safetensors
def test_safetensors_writes_ember_reads(tmp_path):
    tensors = _tensors(torch)
    st.save_file(tensors, str(tmp_path / "b.safetensors"), metadata={"k": "v"})
    out = est.load_file(tmp_path / "b.safetensors")
    for k, v in tensors.items():
        assert out[k].dtype.name == str(v.dtype).replace("torch.", "") and tuple(out[k].shape) == tuple(v.shape)
        np.testing.assert_array_equal(_np(out[k]), _np(v))
    out["t.float32"].add_(1.0)  # loaded tensors are writable
    np.testing.assert_array_equal(_np(est.load(st.save(tensors))["t.int64"]), _np(tensors["t.int64"]))


def test_format_layout_and_round_trip(tmp_path):
    tensors = {"w": ember.arange(6.0).reshape(2, 3), "b": ember.tensor([1, 2], dtype=ember.int16)}
    blob = est.save(tensors, metadata={"epoch": "3"})
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0
    header = json.loads(blob[8:8 + n])
    assert header["__metadata__"] == {"epoch": "3"}
    assert header["w"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert header["b"]["data_offsets"] == [24, 28]
    back = est.load(blob)
    np.testing.assert_array_equal(back["w"].numpy(), tensors["w"].numpy())
    assert back["b"].dtype is ember.int16
    path = tmp_path / "t.safetensors"
    path.write_bytes(blob[:-3])
    with pytest.raises(RuntimeError, match="t.safetensors"):
        est.load_file(path)
    with pytest.raises(ValueError, match="expected ember.Tensor"):
        est.save({"x": 1})
