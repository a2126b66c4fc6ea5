"""Random sampling with torch's API over NumPy's PCG64 generators."""
import math

import numpy as np

from .. import _dtype as D
from .._device import array_module, to_host
from .._tensor import Tensor
from ._util import install
from .shape import _sizes
from .creation import _finish, _np_dtype, _device_of_data

# Samples are drawn on the host from the CPU generators (the same values on every device) and moved to
# the device once.


class Generator:
    """``torch.Generator``: a seedable stream of random numbers."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._rng = np.random.Generator(np.random.PCG64(self._seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    # The state travels as plain bytes (it is often saved in checkpoints), never as a pickle: restoring a
    # state from an untrusted file must not run code. Layout: PCG64 state and increment (128-bit each),
    # the buffered-uint32 flag and value, and the seed (64-bit each), little-endian.
    _STATE_BYTES = 56

    def get_state(self):
        st = self._rng.bit_generator.state
        words = [st["state"]["state"], st["state"]["inc"]]
        raw = b"".join(w.to_bytes(16, "little") for w in words)
        raw += b"".join(int(v).to_bytes(8, "little") for v in (st["has_uint32"], st["uinteger"],
                                                                 self._seed & 0xFFFFFFFFFFFFFFFF))
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        data = new_state._data if isinstance(new_state, Tensor) else None
        if data is None or data.dtype != np.uint8 or data.size != self._STATE_BYTES:
            raise RuntimeError(f"RNG state must be a torch.ByteTensor of {self._STATE_BYTES} bytes (as returned by "
                               f"get_rng_state), got {type(new_state).__name__}"
                               + (f" of {data.size} elements of dtype {new_state.dtype}" if data is not None else ""))
        raw = data.tobytes()
        state, inc = int.from_bytes(raw[:16], "little"), int.from_bytes(raw[16:32], "little")
        has_uint32, uinteger, seed = (int.from_bytes(raw[32 + 8 * i:40 + 8 * i], "little") for i in range(3))
        self._rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                                         "has_uint32": has_uint32, "uinteger": uinteger}
        self._seed = seed
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (and CUDA's, where present)."""
    default_generator.manual_seed(seed)
    from .. import cuda
    cuda.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _rng(generator):
    return (generator or default_generator)._rng


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    dt = _np_dtype(dtype)
    arr = _rng(generator).random(_sizes(size), dtype=np.float64 if dt == np.float64 else np.float32)
    return _finish(arr.astype(dt, copy=False), requires_grad, device)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    dt = _np_dtype(dtype)
    arr = _rng(generator).standard_normal(_sizes(size), dtype=np.float64 if dt == np.float64 else np.float32)
    if dt.kind == "c":
        arr = (arr + 1j * _rng(generator).standard_normal(_sizes(size))) / np.sqrt(2)
    return _finish(arr.astype(dt, copy=False), requires_grad, device)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _finish(_uniform_ints(_rng(generator), low, high, tuple(size)).astype(_np_dtype(dtype, D.int64),
                                                                                copy=False), requires_grad, device)


def _uniform_ints(rng, low, high, size):
    """Integers uniform in [low, high) as torch draws them: raw 64-bit words modulo the range (bias below
    range / 2^64). NumPy's ``Generator.integers`` costs ~12 us per call before any work."""
    span = int(high) - int(low)
    if span >= 1 << 63:
        return rng.integers(low, high, size, dtype=np.int64)
    words = rng.bit_generator.random_raw(math.prod(size))
    np.remainder(words, np.uint64(span), out=words)
    out = words.view(np.int64)  # every value is below 2^63
    if len(size) != 1:
        out = out.reshape(size)
    if low:
        out += int(low)
    return out


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    return _finish(_rng(generator).permutation(n).astype(_np_dtype(dtype, D.int64)), requires_grad, device)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                device=device if device is not None else _device_of_data(input))


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                device=device if device is not None else _device_of_data(input))


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype,
                   device=device if device is not None else _device_of_data(input))


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Samples of N(mean, std); ``mean``/``std`` may be tensors (broadcast) or floats with ``size``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if isinstance(std, Tensor) and (std._data < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(getattr(m, "shape", ()), getattr(s, "shape", ()))
        ref = mean if isinstance(mean, Tensor) else std
        z = _rng(generator).standard_normal(shape)
        if ref._data.__class__ is not np.ndarray:
            z = array_module(ref._data).asarray(z)
        return _finish((m + s * z).astype(ref._data.dtype))
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dt = _np_dtype(dtype)
    return _finish((mean + std * _rng(generator).standard_normal(tuple(size))).astype(dt), requires_grad, device)


def bernoulli(input, p=None, *, generator=None, out=None):
    xp = array_module(input._data)
    probs = input._data if p is None else xp.full(input._data.shape, p)
    if ((probs < 0) | (probs > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    u = _rng(generator).random(probs.shape)
    draw = (u if xp is np else xp.asarray(u)) < probs
    return _finish(draw.astype(input._data.dtype))


def poisson(input, generator=None):
    rates = to_host(input._data)
    return _finish(_rng(generator).poisson(rates).astype(rates.dtype), device=_device_of_data(input))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    probs = to_host(input._data).astype(np.float64)  # sampled on the host, one row at a time
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = probs.reshape(-1, probs.shape[-1])
    n = rows.shape[1]
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = _rng(generator)
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for i, row in enumerate(rows):
        total = row.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            out[i] = rng.choice(n, num_samples, replace=True, p=row / total)
        else:
            # Gumbel top-k: sampling without replacement proportionally to the weights
            keys = np.where(row > 0, np.log(row) - np.log(-np.log(rng.random(n))), -np.inf)
            out[i] = np.argsort(-keys, kind="stable")[:num_samples]
    return _finish(out.reshape(probs.shape[:-1] + (num_samples,)), device=_device_of_data(input))


# ---- in-place samplers used by nn.init and by users
def _sampler(fill):
    def method(self, *args, generator=None, **kwargs):
        from ..autograd.grad_mode import no_grad
        with no_grad():
            vals = fill(_rng(generator), self._data.shape, *args, **kwargs)
            if isinstance(vals, np.ndarray):
                vals = vals.astype(self._data.dtype)
                if self._data.__class__ is not np.ndarray:
                    vals = array_module(self._data).asarray(vals)
            self._data[...] = vals
        self._bump_version()
        return self
    return method


install(
    uniform_=_sampler(lambda r, s, a=0.0, b=1.0: r.uniform(a, b, s)),
    normal_=_sampler(lambda r, s, mean=0.0, std=1.0: r.normal(mean, std, s)),
    random_=_sampler(lambda r, s, a=0, b=None: r.integers(0 if b is None else a, 2 ** 24 if b is None and a == 0
                                                          else (a if b is None else b), s)),
    bernoulli_=_sampler(lambda r, s, p=0.5: (r.random(s) < (to_host(p._data) if isinstance(p, Tensor) else p))),
    exponential_=_sampler(lambda r, s, lambd=1.0: r.exponential(1.0 / lambd, s)),
    geometric_=_sampler(lambda r, s, p: r.geometric(p, s)),
    log_normal_=_sampler(lambda r, s, mean=1.0, std=2.0: r.lognormal(mean, std, s)),
    cauchy_=_sampler(lambda r, s, median=0.0, sigma=1.0: median + sigma * r.standard_cauchy(s)),
    bernoulli=lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator),
    multinomial=multinomial,
)

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
           "normal", "bernoulli", "poisson", "multinomial"]
