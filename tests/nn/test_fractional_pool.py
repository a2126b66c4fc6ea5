"""Fractional max pooling against torch given the same random samples: values, indices, gradients,
output_ratio, unbatched input, NaN, 3-d, module repr and errors."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same, check_error


def _run(lib, x, samples, nd=2, **kwargs):
    xt = lib.tensor(x, requires_grad=True)
    fn = getattr(lib.nn.functional, f"fractional_max_pool{nd}d")
    out, idx = fn(xt, return_indices=True, _random_samples=lib.tensor(samples), **kwargs)
    (out * lib.arange(out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
    return out, idx, xt.grad


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2, output_size=4), dict(kernel_size=3, output_size=(5, 3)),
                                    dict(kernel_size=(2, 3), output_ratio=(0.5, 0.7)), dict(kernel_size=2, output_size=1),
                                    dict(kernel_size=1, output_size=9)])
def test_fractional_max_pool2d_matches_torch(kwargs, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 10)).astype(dtype)
    x[0, 1, 4, 4] = np.nan
    samples = rng.random((2, 3, 2)).astype(dtype)
    for e, t in zip(_run(ember, x, samples, **kwargs), _run(torch, x, samples, **kwargs)):
        assert_same(e, t)


@needs_torch
def test_fractional_max_pool3d_and_unbatched_match_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 7, 5))
    samples = rng.random((1, 2, 3))
    for e, t in zip(_run(ember, x, samples, nd=3, kernel_size=2, output_size=(3, 4, 2)),
                    _run(torch, x, samples, nd=3, kernel_size=2, output_size=(3, 4, 2))):
        assert_same(e, t)
    x2 = rng.standard_normal((3, 8, 8))
    s2 = rng.random((1, 3, 2))
    e = ember.nn.functional.fractional_max_pool2d(ember.tensor(x2), 2, output_size=5, _random_samples=ember.tensor(s2))
    assert e.shape == (3, 5, 5)


@needs_torch
def test_module_and_errors_match_torch():
    assert repr(ember.nn.FractionalMaxPool2d(3, output_ratio=0.5)) == repr(torch.nn.FractionalMaxPool2d(3, output_ratio=0.5))
    m = ember.nn.FractionalMaxPool2d(2, output_size=3)
    assert m(ember.randn(1, 2, 8, 8)).shape == (1, 2, 3, 3)
    check_error(lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(1, 1, 5, 5), 2))
    check_error(lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(1, 1, 5, 5), 2, output_size=5))
    check_error(lambda lib: lib.nn.functional.fractional_max_pool2d(lib.randn(1, 1, 5, 5), 2, output_size=3,
                                                                     _random_samples=lib.rand(1, 2, 2)))
    check_error(lambda lib: lib.nn.FractionalMaxPool2d(2))
    check_error(lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5))
