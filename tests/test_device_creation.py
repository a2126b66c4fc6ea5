"""Tensors created on, moved to and indexed on the CUDA device.

Factories, random samplers, ``new_*``/``*_like``, ``tensor``/``as_tensor`` and device moves must give
device tensors with the values the CPU gives (samplers draw from the same generator). Runs on real CuPy
where there is a GPU, on the strict stand-in (``fake_cupy``) elsewhere.
"""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.usefixtures("cuda_backend")  # real CuPy, or fake_cupy (tests/conftest.py)


def _host(t):
    return t.detach().cpu().numpy()


def _same(gpu, cpu, device="cuda"):
    assert gpu.device.type == device
    assert gpu.dtype == cpu.dtype and gpu.shape == cpu.shape
    np.testing.assert_array_equal(_host(gpu), _host(cpu))


# ------------------------------------------------------------------ factories
FACTORIES = {
    "zeros": lambda device: ember.zeros(2, 3, device=device),
    "ones_int": lambda device: ember.ones((4,), dtype=ember.int32, device=device),
    "full_float": lambda device: ember.full((2, 2), 1.5, device=device),
    "full_int": lambda device: ember.full((3,), 7, device=device),
    "full_bool": lambda device: ember.full((2,), True, device=device),
    "full_tensor_value": lambda device: ember.full((2,), ember.tensor(2.5), device=device),
    "arange_int": lambda device: ember.arange(7, device=device),
    "arange_float": lambda device: ember.arange(0.0, 1.0, 0.25, device=device),
    "linspace": lambda device: ember.linspace(-1, 1, 5, device=device),
    "logspace": lambda device: ember.logspace(0, 2, 3, device=device),
    "eye": lambda device: ember.eye(3, device=device),
    "eye_rect": lambda device: ember.eye(2, 4, dtype=ember.float64, device=device),
    "tril_indices": lambda device: ember.tril_indices(3, 4, device=device),
    "triu_indices": lambda device: ember.triu_indices(3, 3, 1, device=device),
    "scalar_tensor": lambda device: ember.scalar_tensor(3.0, device=device),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_factory_on_cuda_matches_cpu(name):
    _same(FACTORIES[name]("cuda"), FACTORIES[name]("cpu"))


def test_empty_on_cuda_has_shape_and_dtype():
    t = ember.empty(2, 5, dtype=ember.float64, device="cuda")
    assert t.device.type == "cuda" and t.shape == (2, 5) and t.dtype == ember.float64


def test_requires_grad_factory_is_a_cuda_leaf():
    t = ember.ones(3, device="cuda", requires_grad=True)
    (t * 2).sum().backward()
    assert t.is_leaf and t.grad.device.type == "cuda"
    np.testing.assert_array_equal(_host(t.grad), [2.0, 2.0, 2.0])


LIKES = {
    "zeros_like": lambda x, **kw: ember.zeros_like(x, **kw),
    "ones_like": lambda x, **kw: ember.ones_like(x, **kw),
    "full_like": lambda x, **kw: ember.full_like(x, 4, **kw),
    "new_zeros": lambda x, **kw: x.new_zeros((2, 2), **kw),
    "new_ones": lambda x, **kw: x.new_ones(3, **kw),
    "new_full": lambda x, **kw: x.new_full((2,), 9.0, **kw),
    "new_tensor": lambda x, **kw: x.new_tensor([1.0, 2.0], **kw),
}


@pytest.mark.parametrize("name", LIKES)
def test_like_and_new_follow_the_device(name):
    fn = LIKES[name]
    cpu = ember.arange(6.0).reshape(2, 3)
    gpu = cpu.cuda()
    _same(fn(gpu), fn(cpu))
    _same(fn(cpu, device="cuda"), fn(cpu))
    _same(fn(gpu, device="cpu"), fn(cpu), device="cpu")
    _same(fn(gpu, dtype=ember.float64), fn(cpu, dtype=ember.float64))


def test_empty_like_and_new_empty_on_cuda():
    gpu = ember.ones(2, 3, device="cuda")
    for t in (ember.empty_like(gpu), gpu.new_empty((2, 3))):
        assert t.device.type == "cuda" and t.shape == (2, 3) and t.dtype == ember.float32


# ------------------------------------------------------------------ random
SAMPLERS = {
    "rand": lambda device: ember.rand(3, 4, device=device),
    "randn": lambda device: ember.randn(5, dtype=ember.float64, device=device),
    "randint": lambda device: ember.randint(0, 10, (6,), device=device),
    "randperm": lambda device: ember.randperm(8, device=device),
    "normal_sized": lambda device: ember.normal(1.0, 2.0, (4,), device=device),
    "normal_tensor_mean": lambda device: ember.normal(ember.arange(4.0, device=device), 0.5),
    "normal_tensor_std": lambda device: ember.normal(0.0, ember.ones(2, 2, device=device)),
    "bernoulli": lambda device: ember.bernoulli(ember.full((8,), 0.5, device=device)),
    "bernoulli_p": lambda device: ember.zeros(6, device=device).bernoulli(0.3),
    "multinomial": lambda device: ember.multinomial(ember.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 1.0]], device=device), 2),
    "multinomial_repl": lambda device: ember.tensor([1.0, 2.0, 3.0], device=device).multinomial(5, replacement=True),
    "poisson": lambda device: ember.poisson(ember.full((5,), 3.0, device=device)),
    "rand_like": lambda device: ember.rand_like(ember.zeros(2, 3, device=device)),
    "randn_like": lambda device: ember.randn_like(ember.zeros(3, dtype=ember.float64, device=device)),
    "randint_like": lambda device: ember.randint_like(ember.zeros(4, dtype=ember.int64, device=device), 5),
    "uniform_": lambda device: ember.empty(4, device=device).uniform_(-1, 1),
    "normal_": lambda device: ember.empty(2, 2, device=device).normal_(),
    "bernoulli_": lambda device: ember.empty(5, device=device).bernoulli_(0.5),
    "exponential_": lambda device: ember.empty(3, device=device).exponential_(),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_sampler_on_cuda_draws_what_the_cpu_draws(name):
    ember.manual_seed(123)
    cpu = SAMPLERS[name]("cpu")
    ember.manual_seed(123)
    gpu = SAMPLERS[name]("cuda")
    _same(gpu, cpu)


# ------------------------------------------------------------------ tensor / as_tensor / moves
@pytest.mark.parametrize("data", [[1, 2, 3], [[1.5, 2.0], [3.0, 4.0]], 2.5, True, [1 + 2j],
                                  np.arange(6, dtype=np.int16).reshape(2, 3)])
def test_tensor_on_cuda_infers_the_cpu_dtype(data):
    _same(ember.tensor(data, device="cuda"), ember.tensor(data))
    _same(ember.tensor(data, dtype=ember.float64, device="cuda"), ember.tensor(data, dtype=ember.float64))


def test_tensor_of_a_cuda_tensor_is_a_cuda_copy():
    src = ember.arange(3.0, device="cuda")
    t = ember.tensor(src)
    src.add_(1)
    assert t.device.type == "cuda"
    np.testing.assert_array_equal(_host(t), [0.0, 1.0, 2.0])
    _same(ember.tensor(src, dtype=ember.int64), ember.tensor([1, 2, 3]))
    _same(ember.tensor(src, device="cpu"), ember.tensor([1.0, 2.0, 3.0]), device="cpu")


def test_tensor_requires_grad_on_cuda():
    t = ember.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (t * t).sum().backward()
    assert t.grad.device.type == "cuda"
    np.testing.assert_array_equal(_host(t.grad), [2.0, 4.0])


def test_as_tensor():
    a = np.arange(4.0)
    _same(ember.as_tensor(a, device="cuda"), ember.as_tensor(a))
    _same(ember.as_tensor([1, 2], device="cuda"), ember.as_tensor([1, 2]))
    gpu = ember.ones(2, device="cuda")
    assert ember.as_tensor(gpu) is gpu and ember.as_tensor(gpu, device="cuda") is gpu
    _same(ember.as_tensor(ember.ones(2), device="cuda"), ember.ones(2))
    _same(ember.as_tensor(gpu, dtype=ember.float64), ember.ones(2, dtype=ember.float64))
    _same(ember.as_tensor(gpu, device="cpu"), ember.ones(2), device="cpu")


def test_to_cuda_cpu_round_trip_keeps_values_and_dtypes():
    for cpu in (ember.arange(6).reshape(2, 3), ember.randn(3, 2), ember.tensor([True, False])):
        gpu = cpu.cuda()
        assert gpu.device.type == "cuda" and gpu.is_cuda and not cpu.is_cuda
        back = gpu.cpu()
        assert back.device.type == "cpu"
        _same(back, cpu, device="cpu")
        _same(gpu.to("cpu"), cpu, device="cpu")
        _same(cpu.to("cuda", ember.float64), cpu.double())
        _same(cpu.to(gpu), cpu)
        assert gpu.to("cuda") is gpu


def test_gradient_flows_back_across_devices():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.cuda() * ember.tensor([2.0, 3.0, 4.0], device="cuda")
    y.cpu().sum().backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_array_equal(_host(x.grad), [2.0, 3.0, 4.0])


def test_copy_between_devices():
    gpu = ember.zeros(2, 3, device="cuda")
    gpu.copy_(ember.arange(3.0))  # broadcast, host to device
    _same(gpu, ember.arange(3.0).expand(2, 3).contiguous())
    cpu = ember.zeros(2, 3, dtype=ember.int64)
    cpu.copy_(ember.full((2, 3), 2.7, device="cuda"))  # device to host, with a cast
    _same(cpu, ember.full((2, 3), 2, dtype=ember.int64), device="cpu")


def test_copy_from_cuda_is_differentiable():
    src = ember.ones(3, device="cuda", requires_grad=True)
    dst = ember.zeros(3)
    dst.copy_(src * 2)
    dst.sum().backward()
    assert src.grad.device.type == "cuda"
    np.testing.assert_array_equal(_host(src.grad), [2.0, 2.0, 2.0])


def test_contiguous_on_cuda():
    cpu = ember.arange(6.0).reshape(2, 3).t()
    gpu = ember.arange(6.0, device="cuda").reshape(2, 3).t()
    assert not gpu.is_contiguous()
    _same(gpu.contiguous(), cpu.contiguous())


# ------------------------------------------------------------------ indexing rules on the device
@pytest.fixture
def wrapping_device(monkeypatch):
    """Make the stand-in wrap out-of-range integer index arrays around as CuPy does (NumPy raises), so
    that only ember's own bounds check can raise."""
    import fake_cupy
    if ember.cuda._cupy() is not fake_cupy.cupy:  # real CuPy wraps by itself
        return

    def wrapped(self, key):
        key = key if isinstance(key, tuple) else (key,)
        out = []
        for dim, k in enumerate(key):
            if isinstance(k, fake_cupy.ndarray) and k.dtype.kind in "iu":
                k = fake_cupy.ndarray(np.mod(k._a, self.shape[dim]))
            out.append(k)
        return tuple(out)

    get, put = fake_cupy.ndarray.__getitem__, fake_cupy.ndarray.__setitem__
    monkeypatch.setattr(fake_cupy.ndarray, "__getitem__", lambda self, key: get(self, wrapped(self, key)))
    monkeypatch.setattr(fake_cupy.ndarray, "__setitem__",
                        lambda self, key, value: put(self, wrapped(self, key), value))


def _index_error(fn, x):
    with pytest.raises(IndexError) as info:
        fn(x)
    return str(info.value)


@pytest.mark.parametrize("fn", [
    lambda x: x[[0, 3]],
    lambda x: x[:, ember.tensor([1, 4])],
    lambda x: x[ember.tensor([-4])],
    lambda x: x[ember.tensor([0, 1]), ember.tensor([0, 5])],
    lambda x: x.index_put_((ember.tensor([3]),), ember.tensor(1.0)),
    lambda x: x.__setitem__(ember.tensor([5]), 1.0),
], ids=["list", "tensor_dim1", "negative", "two_arrays", "index_put", "setitem"])
def test_out_of_range_index_raises_on_cuda_as_on_cpu(wrapping_device, fn):
    cpu = ember.zeros(3, 4)
    assert _index_error(fn, cpu.cuda()) == _index_error(fn, cpu)


def test_index_tensors_on_the_device_or_the_host_index_a_cuda_tensor():
    cpu = ember.arange(12.0).reshape(3, 4)
    gpu = cpu.cuda()
    idx = ember.tensor([2, 0])
    _same(gpu[idx], cpu[idx])
    _same(gpu[idx.cuda()], cpu[idx])
    _same(gpu[cpu > 5], cpu[cpu > 5])
    _same(gpu[gpu > 5], cpu[cpu > 5])
    _same(gpu[1, idx], cpu[1, idx])
    _same(gpu[1, 2], cpu[1, 2])


def test_cuda_index_into_a_cpu_tensor_raises():
    with pytest.raises(RuntimeError, match="indices should be either on cpu or on the same device"):
        ember.zeros(3)[ember.tensor([0], device="cuda")]


def test_setitem_on_cuda():
    cpu, gpu = ember.zeros(3, 4), ember.zeros(3, 4, device="cuda")
    for t, dev in ((cpu, "cpu"), (gpu, "cuda")):
        t[[0, 2]] = 1.0
        t[1, ember.tensor([1, 3])] = ember.tensor([5.0, 6.0], device=dev)
        t[t > 5] = -1.0
        t[2:, :2] = ember.tensor([7.0, 8.0], device=dev)
    _same(gpu, cpu)


def test_integer_scatters_on_cuda_match_cpu():
    # int64 and multiply have no atomic kernel in CuPy: these take the host round trip there
    def run(device):
        base = ember.arange(6, device=device).reshape(2, 3)
        idx = ember.tensor([[0, 0, 2], [1, 1, 1]], device=device)
        src = ember.tensor([[1, 2, 3], [4, 5, 6]], device=device)
        return [base.scatter_add(1, idx, src), base.scatter(1, idx, src, reduce="multiply"),
                base.scatter_reduce(1, idx, src, "amax"),
                base.reshape(-1).index_put((ember.tensor([0, 0], device=device),), ember.tensor([1, 3], device=device),
                               accumulate=True),
                ember.zeros(3, dtype=ember.int64, device=device).index_add(0, ember.tensor([0, 0, 2], device=device),
                                                                          ember.tensor([1, 2, 3], device=device))]
    for g, c in zip(run("cuda"), run("cpu")):
        _same(g, c)


def test_nonzero_of_0d_cuda_tensor():
    _same(ember.tensor(3.0, device="cuda").nonzero(), ember.tensor(3.0).nonzero())
    _same(ember.tensor(0.0, device="cuda").nonzero(), ember.tensor(0.0).nonzero())


def test_setitem_values_from_the_other_device():
    gpu = ember.zeros(4, device="cuda")
    gpu[0] = ember.tensor(5.0)  # a CPU 0-d value, as torch allows
    gpu[1:3] = ember.tensor([1.0, 2.0])  # basic keys copy_ across devices
    gpu[ember.tensor([3])] = ember.tensor(7.0)
    _same(gpu, ember.tensor([5.0, 1.0, 2.0, 7.0]))
    cpu = ember.zeros(3)
    cpu[:2] = ember.ones(2, device="cuda")
    _same(cpu, ember.tensor([1.0, 1.0, 0.0]), device="cpu")
    with pytest.raises(RuntimeError, match="expected device cuda:0 but got device cpu"):
        gpu[ember.tensor([0, 1])] = ember.tensor([1.0, 2.0])
