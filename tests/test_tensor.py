"""Tensor creation, attributes, conversions, repr and errors, compared with torch."""
import subprocess
import sys

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same


def test_import_ember_does_not_import_torch():
    for extra in ("", "; import ember.nn, ember.optim, ember.utils.data, ember.vision"):
        src = f"import sys, ember{extra}; assert 'torch' not in sys.modules, 'torch was imported'; print('ok')"
        out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True)
        assert out.returncode == 0 and "ok" in out.stdout, out.stderr


@needs_torch
@pytest.mark.parametrize("data", [[1.0, 2.0], [[1, 2], [3, 4]], [True, False], 3.5, 7, [1 + 2j], [],
                                  [[1.5, 2], [3, 4]], np.arange(3, dtype=np.int32), np.ones(2)])
def test_tensor_infers_dtype_like_torch(data):
    assert_same(ember.tensor(data), torch.tensor(data))


@needs_torch
def test_factories_match_torch():
    for name, args, kwargs in [("zeros", (2, 3), {}), ("ones", ((2,),), {"dtype": "int32"}),
                               ("full", ((2, 2), 1.5), {}), ("full", ((2,), 3), {}), ("arange", (5,), {}),
                               ("arange", (1, 2.5, 0.5), {}), ("arange", (0, -3, -1), {}),
                               ("linspace", (0, 1, 5), {}), ("linspace", (-1, 1, 4), {"dtype": "float64"}),
                               ("logspace", (0, 2, 3), {}), ("eye", (3,), {}), ("eye", (2, 3), {})]:
        kw = {k: (getattr(ember, v) if k == "dtype" else v) for k, v in kwargs.items()}
        tkw = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kwargs.items()}
        assert_same(getattr(ember, name)(*args, **kw), getattr(torch, name)(*args, **tkw))
    x = ember.ones(2, 3, dtype=ember.float64)
    tx = torch.ones(2, 3, dtype=torch.float64)
    for fn in ("zeros_like", "ones_like", "empty_like"):
        e, t = getattr(ember, fn)(x), getattr(torch, fn)(tx)
        assert e.shape == t.shape and e.dtype.name == "float64"
    assert_same(ember.full_like(x, 7), torch.full_like(tx, 7))
    assert_same(x.new_zeros(3), tx.new_zeros(3))
    assert_same(x.new_full((2,), 4.0), tx.new_full((2,), 4.0))


def test_from_numpy_shares_memory():
    a = np.zeros(3, np.float32)
    t = ember.from_numpy(a)
    t[0] = 5
    a[1] = 6
    assert t.tolist() == [5, 6, 0] and t.numpy() is a
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


def test_random_is_reproducible_and_distributed():
    ember.manual_seed(123)
    a = ember.randn(1000)
    ember.manual_seed(123)
    b = ember.randn(1000)
    assert a.tolist() == b.tolist() and a.dtype is ember.float32
    assert abs(a.mean().item()) < 0.15 and abs(a.std().item() - 1) < 0.1
    g = ember.Generator().manual_seed(5)
    u = ember.rand(2000, generator=g)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.05
    r = ember.randint(3, 7, (500,))
    assert r.dtype is ember.int64 and set(r.tolist()) == {3, 4, 5, 6}
    p = ember.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    n = ember.normal(ember.zeros(3) + 10, 0.001)
    assert np.allclose(n.numpy(), 10, atol=0.01)
    bern = ember.bernoulli(ember.full((4000,), 0.3))
    assert abs(bern.mean().item() - 0.3) < 0.05
    m = ember.multinomial(ember.tensor([0.0, 1.0, 3.0]), 2000, replacement=True)
    counts = np.bincount(m.numpy(), minlength=3)
    assert counts[0] == 0 and 0.65 < counts[2] / 2000 < 0.85
    assert sorted(ember.multinomial(ember.tensor([1.0, 1.0, 1.0]), 3).tolist()) == [0, 1, 2]


@needs_torch
def test_attributes_and_conversions():
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        return (tuple(x.shape), x.size(), x.size(-1), x.dim(), x.ndim, x.numel(), x.T.shape, x.mT.shape,
                x.is_contiguous(), x.t().is_contiguous(), x.stride(), x.t().stride(), x.element_size(),
                x.tolist(), x[0, 1].item(), len(x), x.is_floating_point(), x.long().dtype == lib.int64,
                x.int().dtype == lib.int32, x.half().dtype == lib.float16, x.bool().dtype == lib.bool,
                x.double().dtype == lib.float64, x.to(lib.int8).dtype == lib.int8, x.type(), x.long().type(),
                x.is_leaf, x.requires_grad, x.device.type, str(x.device), int(x[1, 2]), float(x[0, 0]),
                x.clone().data_ptr() != x.data_ptr(), x.contiguous().data_ptr() == x.data_ptr())
    e, t = run(ember), run(torch)
    assert e == t


@needs_torch
def test_scalar_conversion_errors():
    for lib in (ember, torch):
        x = lib.ones(2)
        with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
            bool(x)
        with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
            x.item()
        with pytest.raises(TypeError, match="only integer tensors of a single element can be converted to an index"):
            [1, 2, 3][lib.tensor(1.0)]
    assert [1, 2, 3][ember.tensor(2)] == 3
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ember.tensor(1.0))


@needs_torch
@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1.0, 2.0, 3.0]),
    lambda lib: lib.tensor([1.5, -2.25, 3.0]),
    lambda lib: lib.tensor([[1, 2], [30, 4]]),
    lambda lib: lib.tensor([1, 2], dtype=lib.int32),
    lambda lib: lib.tensor([True, False]),
    lambda lib: lib.tensor(3.25),
    lambda lib: lib.tensor([1e-5, 1.0, 1e5]),
    lambda lib: lib.tensor([0.0, 0.0]),
    lambda lib: lib.tensor([float("nan"), float("inf"), 1.5]),
    lambda lib: lib.zeros(0, 3),
    lambda lib: lib.tensor([], dtype=lib.int64),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda lib: lib.arange(2000.0),
    lambda lib: lib.arange(24.0).reshape(2, 3, 4) / 7,
    lambda lib: lib.arange(60.0).reshape(3, 20) * 1000.5,
    lambda lib: lib.tensor([1.5, 2.0], dtype=lib.float16),
    lambda lib: lib.tensor([123456789.0, 1.0]),
    lambda lib: lib.tensor([1 + 2j, -3.5 - 1j]),
    lambda lib: lib.tensor([[1 + 2j, 3 - 4j]]),
    lambda lib: lib.tensor(1.25 + 0.5j),
    lambda lib: lib.tensor([1e-5 + 1j, 100 + 2j], dtype=lib.complex128),
], ids=lambda f: "")
def test_repr_matches_torch(make):
    assert repr(make(ember)) == repr(make(torch))


@needs_torch
def test_errors_match_torch_types_and_messages():
    cases = [
        (lambda lib: lib.ones(2, 3) + lib.ones(4, 3), RuntimeError,
         r"The size of tensor a \(2\) must match the size of tensor b \(4\) at non-singleton dimension 0"),
        (lambda lib: lib.ones(2, 3).sum(2), IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
        (lambda lib: lib.ones(2, 3) @ lib.ones(2, 3), RuntimeError, r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"),
        (lambda lib: lib.ones(2, 3).view(4), RuntimeError, r"shape '\[4\]' is invalid for input of size 6"),
        (lambda lib: lib.ones(3)[5], IndexError, r"index 5 is out of bounds for dimension 0 with size 3"),
        (lambda lib: lib.ones(2, dtype=lib.bool) - lib.ones(2, dtype=lib.bool), RuntimeError, r"Subtraction, the `-` operator, with two bool tensors is not supported"),
        (lambda lib: lib.ones(2, 3).t().view(6), RuntimeError, r"view size is not compatible with input tensor's size and stride"),
        (lambda lib: lib.cat([lib.ones(2, 3), lib.ones(2, 4)]), RuntimeError, r"Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list."),
        (lambda lib: lib.ones(2).expand(3), RuntimeError, r"The expanded size of the tensor \(3\) must match the existing size \(2\) at non-singleton dimension 0"),
        (lambda lib: lib.ones(2, dtype=lib.int64).add_(1.5), RuntimeError, r"result type Float can't be cast to the desired output type Long"),
        (lambda lib: lib.ones(2, 2).mean(dtype=None) if False else lib.ones(2, dtype=lib.int64).mean(), RuntimeError, r"mean\(\): could not infer output dtype"),
        (lambda lib: lib.stack([lib.ones(2), lib.ones(3)]), RuntimeError, r"stack expects each tensor to be equal size"),
        (lambda lib: lib.ones(2, 3).permute(0), RuntimeError, r"number of dimensions in the tensor input does not match"),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fn(torch)
        with pytest.raises(exc, match=msg):
            fn(ember)


def test_devices():
    assert ember.device("cpu") == ember.device("cpu") and str(ember.device("cuda:1")) == "cuda:1"
    assert repr(ember.device("cuda", 0)) == "device(type='cuda', index=0)"
    assert ember.ones(2).device == ember.device("cpu") and ember.ones(2).to("cpu").device.type == "cpu"
    if not ember.cuda.is_available():
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            ember.ones(2).cuda()
    with pytest.raises(RuntimeError):
        ember.device("tpu")


def test_bfloat16_and_half_arithmetic():
    x = ember.tensor([1.0, 2.0, 3.0], dtype=ember.bfloat16)
    y = x * 2.5 + 1
    assert y.dtype is ember.bfloat16 and y.float().tolist() == [3.5, 6.0, 8.5]
    h = ember.tensor([1.0, 2.0], dtype=ember.float16).exp()
    assert h.dtype is ember.float16 and abs(h[1].item() - 7.389) < 0.01
    assert (x.sum()).dtype is ember.bfloat16 and x.sum().item() == 6.0


def test_pickle_and_deepcopy():
    import copy
    import pickle
    x = ember.tensor([[1.0, 2.0]], requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == x.tolist() and y.requires_grad
    z = copy.deepcopy(x)
    z.data[0, 0] = 5
    assert x[0, 0].item() == 1.0
