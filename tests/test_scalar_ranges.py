"""Python numbers meeting tensors of a narrower dtype: torch wraps integer arithmetic, range-checks
fills, and rounds half-precision overflow to inf. Compared with torch case by case."""
import pytest

import ember
from oracle import needs_torch, torch, assert_same, check_error

ARITHMETIC = [("int32", "mul", 2 ** 40), ("int8", "add", 300), ("uint8", "sub", 2), ("int16", "mul", 100000),
              ("uint8", "add", -3), ("int64", "add", 2 ** 62), ("float32", "mul", 1e39), ("float16", "mul", 1e6)]
FILLS = [("uint8", -200), ("uint8", -128), ("float16", 60000.0), ("float32", float("inf")),
         ("bool", 5), ("int32", 2.5), ("float64", 1e39), ("int8", -128)]
FILL_ERRORS = [("uint8", 256), ("int32", 2 ** 31), ("int64", 2 ** 63), ("int16", -40000), ("float32", -1e39),
               ("int8", 2.5e10), ("float32", 10 ** 40), ("float16", 70000.0), ("bfloat16", 1e39)]


@needs_torch
@pytest.mark.parametrize("dtype,op,scalar", ARITHMETIC)
def test_integer_arithmetic_with_out_of_range_scalars_wraps_like_torch(dtype, op, scalar):
    def run(lib):
        return getattr(lib.ones(3, dtype=getattr(lib, dtype)) * 5, op)(scalar)
    assert_same(run(ember), run(torch))


@needs_torch
def test_scalar_beyond_int64_raises_like_torch():
    check_error(lambda lib: lib.ones(1, dtype=lib.int32) * 2 ** 70)


@needs_torch
@pytest.mark.parametrize("dtype,value", FILLS)
def test_full_and_fill_accept_what_torch_accepts(dtype, value):
    assert_same(ember.full((2,), value, dtype=getattr(ember, dtype)), torch.full((2,), value, dtype=getattr(torch, dtype)))
    assert_same(ember.zeros(2, dtype=getattr(ember, dtype)).fill_(value),
                torch.zeros(2, dtype=getattr(torch, dtype)).fill_(value))


@needs_torch
@pytest.mark.parametrize("dtype,value", FILL_ERRORS)
def test_full_and_fill_reject_what_torch_rejects(dtype, value):
    err, _ = check_error(lambda lib: lib.full((2,), value, dtype=getattr(lib, dtype)))
    check_error(lambda lib: lib.zeros(2, dtype=getattr(lib, dtype)).fill_(value))
    if isinstance(err, RuntimeError):
        assert "without overflow" in str(err)
