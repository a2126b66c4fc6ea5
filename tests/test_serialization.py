"""ember.save / ember.load against torch.save / torch.load: both directions, every dtype, views,
containers, optimizer checkpoints; and corrupt, truncated and malicious files."""
import collections
import io
import os
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
          "complex64", "complex128"]


def _values(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 10
    if dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal(shape)
    if dtype == "bool":
        return x > 0
    if dtype in ("uint8",):
        return np.abs(x).astype(np.uint8)
    return x


def _ember_tensor(dtype, shape, seed=0):
    return ember.tensor(_values(dtype, shape, seed).tolist(), dtype=getattr(ember, dtype))


def _torch_tensor(dtype, shape, seed=0):
    return torch.tensor(_values(dtype, shape, seed).tolist(), dtype=getattr(torch, dtype))


def _np(t):
    if isinstance(t, ember.Tensor):
        return t._data.astype(np.float32) if t.dtype is ember.bfloat16 else t._data
    return (t.float() if t.dtype == torch.bfloat16 else t).detach().numpy()


def _assert_tensor_equal(e, t):
    assert str(t.dtype).replace("torch.", "") == e.dtype.name
    assert tuple(e.shape) == tuple(t.shape)
    assert tuple(e.stride()) == tuple(t.stride())
    np.testing.assert_array_equal(_np(e), _np(t))


def _ember_state_dict():
    sd = collections.OrderedDict()
    for i, dt in enumerate(DTYPES):
        sd[f"t_{dt}"] = _ember_tensor(dt, (3, 4), seed=i)
    sd["scalar"] = ember.tensor(3.5)
    sd["empty"] = ember.zeros(0, 3)
    base = ember.arange(24.0).reshape(4, 6)
    sd["base"] = base
    sd["row_view"] = base[1]            # views share the base's storage
    sd["col_view"] = base[:, 2]
    sd["transposed"] = base.t()
    sd["param"] = ember.nn.Parameter(ember.ones(2, 2))
    sd._metadata = collections.OrderedDict({"": {"version": 1}, "layer": {"version": 2}})
    return sd


@needs_torch
def test_ember_save_torch_load(tmp_path):
    sd = _ember_state_dict()
    obj = {"state_dict": sd, "epoch": 7, "loss": 0.25, "name": "run", "flags": [True, None], "pair": (1, 2.5),
           "nested": {"deep": [sd["scalar"], {"x": sd["t_int64"]}]}, "dtype": ember.bfloat16,
           "device": ember.device("cpu"), "size": ember.Size([2, 3]), "raw": b"\x00\xff", "set": {3, 4}}
    path = tmp_path / "ckpt.pt"
    ember.save(obj, path)
    out = torch.load(path)
    for key, e in sd.items():
        _assert_tensor_equal(e, out["state_dict"][key])
    assert isinstance(out["state_dict"], collections.OrderedDict)
    assert out["state_dict"]._metadata == sd._metadata
    assert isinstance(out["state_dict"]["param"], torch.nn.Parameter)
    tsd = out["state_dict"]
    ptr = tsd["base"].untyped_storage().data_ptr()
    assert all(tsd[k].untyped_storage().data_ptr() == ptr for k in ("row_view", "col_view", "transposed"))
    tsd["base"][1, 0] = -1.0  # views still alias after loading
    assert float(tsd["row_view"][0]) == -1.0
    assert out["epoch"] == 7 and out["loss"] == 0.25 and out["name"] == "run" and out["flags"] == [True, None]
    assert out["pair"] == (1, 2.5) and out["raw"] == b"\x00\xff" and out["set"] == {3, 4}
    assert out["dtype"] is torch.bfloat16 and out["device"] == torch.device("cpu")
    assert out["size"] == torch.Size([2, 3]) and isinstance(out["size"], torch.Size)
    _assert_tensor_equal(obj["nested"]["deep"][1]["x"], out["nested"]["deep"][1]["x"])
    # the storages are 64-byte aligned, so torch can even memory-map our files
    mapped = torch.load(path, mmap=True)
    _assert_tensor_equal(sd["t_float32"], mapped["state_dict"]["t_float32"])


@needs_torch
@pytest.mark.parametrize("legacy", [False, True])
def test_torch_save_ember_load(tmp_path, legacy):
    sd = collections.OrderedDict()
    for i, dt in enumerate(DTYPES):
        sd[f"t_{dt}"] = _torch_tensor(dt, (3, 4), seed=i)
    base = torch.arange(24.0).reshape(4, 6)
    sd.update(base=base, row_view=base[1], col_view=base[:, 2], transposed=base.t(), scalar=torch.tensor(2.0),
              param=torch.nn.Parameter(torch.ones(3)), offset_view=base.view(-1)[5:9])
    sd._metadata = {"": {"version": 1}}
    obj = {"model": sd, "step": 3, "names": ["a", "b"], "dtype": torch.float16, "size": torch.Size([4])}
    path = tmp_path / "torch.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    out = ember.load(path)
    for key, t in sd.items():
        _assert_tensor_equal(out["model"][key], t)
    m = out["model"]
    assert m._metadata == {"": {"version": 1}}
    assert isinstance(m["param"], ember.nn.Parameter) and m["param"].requires_grad
    assert np.shares_memory(m["base"]._data, m["col_view"]._data)
    assert np.shares_memory(m["base"]._data, m["offset_view"]._data)
    m["base"].add_(1.0)  # loaded tensors are writable, and views see the write
    assert float(m["row_view"][0]) == 7.0
    # saving the loaded views again keeps them on one storage
    ember.save({"base": m["base"], "col": m["col_view"]}, tmp_path / "again.pt")
    again = torch.load(tmp_path / "again.pt")
    assert again["col"].untyped_storage().data_ptr() == again["base"].untyped_storage().data_ptr()
    assert out["step"] == 3 and out["names"] == ["a", "b"]
    assert out["dtype"] is ember.float16 and out["size"] == ember.Size([4])


@needs_torch
def test_file_objects_and_path_likes(tmp_path):
    t = _ember_tensor("float32", (2, 3))
    buf = io.BytesIO()
    ember.save({"t": t}, buf)
    buf.seek(0)
    _assert_tensor_equal(t, torch.load(buf)["t"])
    buf.seek(0)
    np.testing.assert_array_equal(ember.load(buf)["t"].numpy(), t.numpy())
    tbuf = io.BytesIO()
    torch.save({"t": torch.ones(2)}, tbuf)
    tbuf.seek(0)
    np.testing.assert_array_equal(ember.load(tbuf)["t"].numpy(), [1.0, 1.0])
    path = str(tmp_path / "s.pt")
    ember.save(t, path)
    with open(path, "rb") as fh:
        np.testing.assert_array_equal(ember.load(fh).numpy(), t.numpy())
    np.testing.assert_array_equal(ember.load(pathlib.Path(path), map_location="cpu").numpy(), t.numpy())
    np.testing.assert_array_equal(ember.load(path, map_location={"cpu": "cpu"}, weights_only=False).numpy(),
                                  t.numpy())
    seen = []
    np.testing.assert_array_equal(ember.load(path, map_location=lambda s, loc: seen.append(loc)).numpy(), t.numpy())
    assert seen == ["cpu"]


@needs_torch
def test_optimizer_checkpoint_round_trip_with_torch(tmp_path):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    grads = [[rng.standard_normal(a.shape) for a in init] for _ in range(6)]
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in init]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    eo, to = ember.optim.Adam(ep, lr=0.1, amsgrad=True), torch.optim.Adam(tp, lr=0.1, amsgrad=True)

    def steps(params, opt, lib, gs):
        for g in gs:
            for p, gi in zip(params, g):
                p.grad = lib.tensor(gi.copy())
            opt.step()
    steps(ep, eo, ember, grads[:3])
    steps(tp, to, torch, grads[:3])
    # ember checkpoint -> torch optimizer, continues like the uninterrupted torch run
    ember.save({"optim": eo.state_dict(), "params": [p.detach() for p in ep]}, tmp_path / "e.pt")
    ck = torch.load(tmp_path / "e.pt")
    tp2 = [p.clone().requires_grad_(True) for p in ck["params"]]
    to2 = torch.optim.Adam(tp2, lr=0.1, amsgrad=True)
    to2.load_state_dict(ck["optim"])
    # torch checkpoint -> ember optimizer
    torch.save({"optim": to.state_dict(), "params": [p.detach() for p in tp]}, tmp_path / "t.pt")
    ck = ember.load(tmp_path / "t.pt")
    ep2 = [p.clone().requires_grad_(True) for p in ck["params"]]
    eo2 = ember.optim.Adam(ep2, lr=0.1, amsgrad=True)
    eo2.load_state_dict(ck["optim"])
    steps(tp, to, torch, grads[3:])
    steps(tp2, to2, torch, grads[3:])
    steps(ep2, eo2, ember, grads[3:])
    for a, b, c in zip(tp, tp2, ep2):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(c.detach().numpy(), a.detach().numpy(), rtol=1e-12)


def test_save_is_atomic(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"w": ember.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(Exception):
        ember.save({"w": ember.zeros(3), "bad": lambda: None}, path)  # fails while pickling
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]  # no temporary left behind
    np.testing.assert_array_equal(ember.load(path)["w"].numpy(), [1, 1, 1])


def _saved_bytes(obj):
    buf = io.BytesIO()
    ember.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("cut", [0, 10, 200, -30])
def test_truncated_file_raises_naming_it(tmp_path, cut):
    data = _saved_bytes({"w": ember.arange(100.0)})
    path = tmp_path / "broken.pt"
    path.write_bytes(data[:cut] if cut else b"")
    with pytest.raises(RuntimeError, match="broken.pt"):
        ember.load(path)


def test_corrupt_file_raises_naming_it(tmp_path):
    data = bytearray(_saved_bytes({"w": ember.arange(100.0)}))
    path = tmp_path / "flipped.pt"
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("archive/data/0")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5] ^= 0xFF  # corrupt the tensor bytes: the CRC check catches it
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="flipped.pt"):
        ember.load(path)
    path.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(RuntimeError, match="flipped.pt"):
        ember.load(path)


def _zip_with_pickle(payload, storages=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        for key, raw in (storages or {}).items():
            zf.writestr(f"archive/data/{key}", raw)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ember_pwned_marker",))


def test_malicious_pickles_are_refused(tmp_path):
    marker = "/tmp/ember_pwned_marker"
    if os.path.exists(marker):
        os.unlink(marker)
    path = tmp_path / "evil.pt"
    path.write_bytes(_zip_with_pickle(pickle.dumps({"x": _Evil()}, protocol=2)))
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system") as err:
        ember.load(path)
    assert "evil.pt" in str(err.value)
    assert not os.path.exists(marker)
    # a class that is not on the allow-list, via the legacy (non-zip) path too
    legacy = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(collections.Counter("ab"), protocol=2)
    path.write_bytes(legacy)
    with pytest.raises((pickle.UnpicklingError, RuntimeError)):
        ember.load(path)
    # an allowed rebuild function with a geometry reaching outside its storage
    payload = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
               b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00K\x10\x85K\x01\x85\x89ccollections\n"
               b"OrderedDict\n)RtR.")
    path.write_bytes(_zip_with_pickle(payload, {"0": b"\0" * 16}))
    with pytest.raises(pickle.UnpicklingError, match="past its storage"):
        ember.load(path)


@needs_torch
def test_torch_pickled_module_is_refused_but_safe_globals_allow_types(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(pickle.UnpicklingError, match="allow-list"):
        ember.load(path)
    ember.save({"c": collections.deque([1, 2])}, tmp_path / "c.pt")
    with pytest.raises(pickle.UnpicklingError, match="collections.deque"):
        ember.load(tmp_path / "c.pt")
    ember.serialization.add_safe_globals([collections.deque])
    try:
        assert ember.load(tmp_path / "c.pt")["c"] == collections.deque([1, 2])
    finally:
        ember.serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        ember.load(tmp_path / "c.pt")
    with ember.serialization.safe_globals([collections.deque]):
        assert ember.load(tmp_path / "c.pt")["c"] == collections.deque([1, 2])
    assert ember.serialization.get_safe_globals() == []


@needs_torch
def test_scheduler_checkpoints_cross_libraries(tmp_path):
    # MultiStepLR keeps a collections.Counter: allowed by both loaders
    opt = ember.optim.SGD([ember.zeros(1, requires_grad=True)], lr=1.0)
    sched = ember.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    ember.save(sched.state_dict(), tmp_path / "s.pt")
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    tsched = torch.optim.lr_scheduler.MultiStepLR(topt, milestones=[9])
    tsched.load_state_dict(torch.load(tmp_path / "s.pt"))
    assert tsched.milestones == collections.Counter([2, 4]) and tsched.last_epoch == 3
    torch.save(tsched.state_dict(), tmp_path / "t.pt")
    assert ember.load(tmp_path / "t.pt") == torch.load(tmp_path / "t.pt")


def _train(lib, model, opt, sched, batches):
    loss_fn = lib.nn.MSELoss()
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(lib.tensor(x)), lib.tensor(y))
        loss.backward()
        opt.step()
        sched.step()


@needs_torch
def test_model_and_optimizer_checkpoint_resumes_identically(tmp_path):
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32))
               for _ in range(10)]

    def build(lib, init=None):
        model = lib.nn.Sequential(lib.nn.Linear(4, 16), lib.nn.ReLU(), lib.nn.Linear(16, 2))
        if init is not None:
            model.load_state_dict(init)
        opt = lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        return model, opt, sched

    t_model, t_opt, t_sched = build(torch)
    init = {k: ember.tensor(v.detach().numpy().copy()) for k, v in t_model.state_dict().items()}
    _train(torch, t_model, t_opt, t_sched, batches)

    full = build(ember, init)
    _train(ember, *full, batches)

    model, opt, sched = build(ember, init)
    _train(ember, model, opt, sched, batches[:5])
    ember.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "epoch": 5}, tmp_path / "ckpt.pt")
    ck = ember.load(tmp_path / "ckpt.pt")
    model2, opt2, sched2 = build(ember)
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optimizer"])
    sched2.load_state_dict(ck["scheduler"])
    _train(ember, model2, opt2, sched2, batches[5:])

    for key, value in full[0].state_dict().items():
        np.testing.assert_array_equal(model2.state_dict()[key].numpy(), value.numpy(), err_msg=key)
        np.testing.assert_allclose(value.numpy(), t_model.state_dict()[key].detach().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=key)
    assert opt2.param_groups[0]["lr"] == t_opt.param_groups[0]["lr"]
    # and torch itself resumes from ember's checkpoint
    tm, to, ts = build(torch)
    ck = torch.load(tmp_path / "ckpt.pt")
    tm.load_state_dict(ck["model"])
    to.load_state_dict(ck["optimizer"])
    ts.load_state_dict(ck["scheduler"])
    _train(torch, tm, to, ts, batches[5:])
    for key, value in t_model.state_dict().items():
        np.testing.assert_allclose(tm.state_dict()[key].numpy(), value.numpy(), rtol=1e-4, atol=1e-5, err_msg=key)


def test_big_endian_checkpoint_is_byteswapped(tmp_path):
    # a file written on a big-endian machine records byteorder 'big' and holds byteswapped storages
    value = ember.tensor([[1.5, -2.0], [3.25, 4.0]], dtype=ember.float64)
    with zipfile.ZipFile(io.BytesIO(_saved_bytes({"w": value}))) as zf:
        pkl, raw = zf.read("archive/data.pkl"), zf.read("archive/data/0")
    swapped = np.frombuffer(raw, dtype="<f8").astype(">f8").tobytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/byteorder", "big")
        zf.writestr("archive/data/0", swapped)
    path = tmp_path / "big.pt"
    path.write_bytes(buf.getvalue())
    out = ember.load(path)["w"]
    assert out.dtype is ember.float64 and out._data.dtype.isnative
    np.testing.assert_array_equal(out.numpy(), value.numpy())


@needs_torch
@pytest.mark.parametrize("writer", ["ember", "torch"])
def test_mmap_load_is_copy_on_write(tmp_path, writer):
    path = tmp_path / "m.pt"
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    if writer == "ember":
        w = ember.tensor(values)
        ember.save({"w": w, "v": w[1], "empty": ember.zeros(0)}, path)
    else:
        base = torch.tensor(values)
        torch.save({"w": base, "v": base[1]}, path)
    before = path.read_bytes()
    out = ember.load(path, mmap=True)
    root = out["w"]._data
    while not isinstance(root, np.memmap) and isinstance(root.base, np.ndarray):
        root = root.base
    assert isinstance(root, np.memmap) and np.shares_memory(out["w"]._data, out["v"]._data)
    np.testing.assert_array_equal(out["w"].numpy(), values)
    out["w"].add_(1.0)  # writable, visible through the view, never written back
    assert float(out["v"][0]) == 5.0
    del out
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="file path"):
        ember.load(io.BytesIO(before), mmap=True)


def test_saved_file_has_default_permissions(tmp_path):
    """The atomic temporary file must not leave the checkpoint readable by its owner only."""
    import os
    import stat
    path = tmp_path / "perm.pt"
    ember.save({"w": ember.ones(2)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
