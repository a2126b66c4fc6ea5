"""The speed paths (operator fast paths, direct node recording, gradient stealing) behave exactly
like the general paths: same values, dtypes, gradients, errors, and no aliasing of gradients."""
import numpy as np
import pytest

import ember
from oracle import check_op, check_error, needs_torch, torch

RNG = np.random.default_rng(0)
F32 = RNG.standard_normal((3, 4)).astype(np.float32)
F32_ROW = RNG.standard_normal((4,)).astype(np.float32)
F64 = RNG.standard_normal((3, 4))
I64 = RNG.integers(-5, 5, (3, 4))

OPERATORS = {
    "add": lambda a, b: a + b, "radd": lambda a, b: b + a, "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b, "rmul": lambda a, b: b * a, "div": lambda a, b: a / b,
}


@needs_torch
@pytest.mark.parametrize("op", OPERATORS)
@pytest.mark.parametrize("pair", ["f32-f32", "f32-row", "f64-f64", "f32-f64", "i64-i64", "i64-f32", "f32-0d"])
def test_tensor_operators_match_torch(op, pair):
    a, b = {"f32-f32": (F32, F32 * 0.5 + 2), "f32-row": (F32, F32_ROW + 3), "f64-f64": (F64, F64 + 3),
            "f32-f64": (F32, F64 + 3), "i64-i64": (I64, I64 + 7), "i64-f32": (I64, F32 + 3),
            "f32-0d": (F32, np.array(2.5, np.float32))}[pair]
    fn = OPERATORS[op]
    check_op(lambda lib, x, y: fn(x, y), a, b)


@needs_torch
@pytest.mark.parametrize("op", OPERATORS)
@pytest.mark.parametrize("scalar", [2, 2.5, -3.0, 1e-40, 0.0, True])  # bool - : test_bool_subtraction
@pytest.mark.parametrize("arr", ["f32", "f64", "i64", "0d"])
def test_scalar_operators_match_torch(op, scalar, arr):
    a = {"f32": F32, "f64": F64, "i64": I64, "0d": np.array(1.5, np.float32)}[arr]
    fn = OPERATORS[op]
    if op == "sub" and scalar is True:
        return
    if op == "div" and scalar in (0.0, 1e-40) or (arr == "i64" and op == "div" and scalar is True):
        with np.errstate(all="ignore"):
            check_op(lambda lib, x: fn(x, scalar), a, grad=False)
        return
    check_op(lambda lib, x: fn(x, scalar), a)


@needs_torch
@pytest.mark.parametrize("a,b", [(F32, True), (True, F32), (F32, F32 > 0), (F32 > 0, F32), (F32 > 0, F32 < 0),
                                 (F32 > 0, 1)])
def test_bool_subtraction_raises_like_torch(a, b):
    def fn(lib, *xs):
        x, y = _pair(xs, a, b)
        return x - y
    check_error(fn, *[v for v in (a, b) if isinstance(v, np.ndarray)], match="Subtraction, the `-` operator")


def _pair(xs, a, b):
    xs = list(xs)
    return [xs.pop(0) if isinstance(v, np.ndarray) else v for v in (a, b)]


@needs_torch
@pytest.mark.parametrize("op", OPERATORS)
def test_operator_broadcast_error_matches_torch(op):
    fn = OPERATORS[op]
    err, _ = check_error(lambda lib, x, y: fn(x, y), F32, RNG.standard_normal((5,)).astype(np.float32))
    assert "must match the size of tensor" in str(err)


def test_fast_paths_respect_no_grad_and_record_otherwise():
    a = ember.randn(3, requires_grad=True)
    with ember.no_grad():
        assert (a * a).grad_fn is None and not (a + 1.0).requires_grad
    y = a * 2.0
    assert y.grad_fn is not None and y.grad_fn.name() == "MulBackward0"
    assert (a + a).grad_fn.name() == "AddBackward0" and (a - 1).grad_fn.name() == "SubBackward0"


def test_fast_mul_saves_inputs_with_version_check():
    a = ember.randn(3, requires_grad=True)
    b = ember.randn(3)
    y = a * b
    b.add_(1)  # modifies a tensor saved for backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@needs_torch
def test_fast_mul_version_counters_made_at_save_match_torch():
    # the operator gives each saved operand its version counter when it records: versions, the in-place
    # check on either operand (and through a view made afterwards), and a second save all behave as torch's
    for lib in (ember, torch):
        a = lib.tensor([1.0, 2.0, 3.0]).requires_grad_()
        b = lib.tensor([4.0, 5.0, 6.0])
        y1, y2 = a * b, b * a
        assert (a._version, b._version) == (0, 0)
        y1.sum().backward()
        b[:2].add_(1)  # a view made after the save shares b's counter
        assert b._version == 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y2.sum().backward()
    assert a.grad.tolist() == [4.0, 5.0, 6.0]


@needs_torch
def test_operator_takes_float32_dtype_objects_that_are_not_the_canonical_one():
    # the operator tests float32 by identity first: an equal dtype object made separately takes the tuple test
    other = np.dtype(np.float32).newbyteorder("=")
    x = np.arange(6, dtype=np.float32).reshape(2, 3).view(other)
    y = ember.from_numpy(x) * ember.from_numpy(x + 1)
    assert y.dtype == ember.float32
    np.testing.assert_array_equal(y.numpy(), (torch.from_numpy(x) * torch.from_numpy(x + 1)).numpy())


@needs_torch
def test_leaf_hooks_and_identity_survive_requires_grad_():
    # requires_grad_() stores a leaf's autograd attributes on it: hooks, deepcopy, non-leaf grad_fn unchanged
    import copy
    for lib in (ember, torch):
        seen = []
        w = lib.tensor([1.0, 2.0]).requires_grad_()
        w.register_hook(lambda g: g * 2)
        w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        (w * w).sum().backward()
        assert seen == [[4.0, 8.0]] and w.grad.tolist() == [4.0, 8.0]
        assert copy.deepcopy(w).grad_fn is None and copy.deepcopy(w).requires_grad
        y = w * 3.0
        assert y.requires_grad_().grad_fn is y.grad_fn and y.grad_fn is not None
        p = lib.nn.Parameter(lib.ones(2))
        assert p.grad_fn is None and p._version == 0


def test_fast_mul_double_backward():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x * x).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())


# ------------------------------------------------------------------ gradients reaching leaves
def test_shared_gradient_is_not_aliased_between_leaves():
    a = ember.randn(3, requires_grad=True)
    b = ember.randn(3, requires_grad=True)
    (a + b).sum().backward()  # AddBackward hands the same gradient tensor to both leaves
    assert not np.shares_memory(a.grad._data, b.grad._data)
    (a + b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(b.grad.numpy(), [2, 2, 2])


def test_user_gradient_is_never_taken_over():
    a = ember.randn(2, 3, requires_grad=True)
    g = ember.ones(2, 3)
    (a * 1.0).backward(g)
    a.backward(g)  # a leaf: the user's gradient arrives unchanged
    assert not np.shares_memory(a.grad._data, g._data)
    np.testing.assert_array_equal(g.numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(a.grad.numpy(), 2 * np.ones((2, 3)))


def test_gradient_held_by_a_hook_or_retained_graph_is_copied():
    a = ember.randn(3, 3, requires_grad=True)
    w = ember.randn(3, 3, requires_grad=True)
    seen = []
    y = a @ w
    y.register_hook(lambda g: seen.append(g))
    y.sum().backward(retain_graph=True)
    first = w.grad.numpy().copy()
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-6)
    for g in seen:
        np.testing.assert_array_equal(g.numpy(), np.ones((3, 3)))


@needs_torch
def test_accumulated_gradients_match_torch_over_steps():
    def run(lib):
        lib.manual_seed(0)
        w = lib.from_numpy(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)).requires_grad_()
        x = lib.from_numpy(F32.T.copy())
        grads = []
        for _ in range(3):
            ((x @ w).clamp(min=0) * 2.0 - 1).sum().backward()
            grads.append(w.grad.detach().numpy().copy())
            w.grad.mul_(0.5)  # in-place on .grad must not reach any other buffer
        return grads
    for e, t in zip(run(ember), run(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)


def test_two_views_of_one_gradient_buffer_are_not_aliased():
    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            buf = g * 1.0  # fresh buffer, handed out as two whole-buffer views
            return buf.reshape(3, 4), buf.reshape(3, 4)

    a = ember.randn(3, 4, requires_grad=True)
    b = ember.randn(3, 4, requires_grad=True)
    Twice.apply(a, b).sum().backward()
    assert not np.shares_memory(a.grad._data, b.grad._data)
    a.grad.add_(1.0)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones((3, 4)))


def test_linear_weight_gradient_is_taken_without_copy_and_stays_correct():
    lin = ember.nn.Linear(4, 3)
    x = ember.randn(5, 4)
    lin(x).sum().backward()
    first = lin.weight.grad.numpy().copy()
    lin(x).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), 2 * first, rtol=1e-6)
    np.testing.assert_allclose(first, np.broadcast_to(x.numpy().sum(0), (3, 4)), rtol=1e-5)


# ------------------------------------------------------------------ fused logsumexp
@needs_torch
@pytest.mark.parametrize("dim,keepdim", [(1, False), (-1, True), ((0, 1), False), (0, True)])
def test_fused_logsumexp_matches_torch_with_infinities(dim, keepdim):
    x = np.array([[1., -np.inf, 3.], [-np.inf, -np.inf, -np.inf], [np.inf, 1., 2.], [0.5, -1., 2.]], np.float32)
    with np.errstate(all="ignore"):
        check_op(lambda lib, a: lib.logsumexp(a, dim, keepdim=keepdim), x)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_fused_logsumexp_dtypes_and_double_backward(dtype):
    x = RNG.standard_normal((2, 3, 4)).astype(dtype)
    check_op(lambda lib, a: a.logsumexp(-1), x)
    check_op(lambda lib, a: ember_or_torch_grad(lib, a), RNG.standard_normal((3, 4)), grad=False)


def ember_or_torch_grad(lib, a):
    a = a.detach().requires_grad_()
    (g,) = lib.autograd.grad(lib.logsumexp(a * a, 1).sum(), a, create_graph=True)
    (h,) = lib.autograd.grad(g.sum(), a)
    return h


# ------------------------------------------------------------------ matmul's raw backward
@needs_torch
@pytest.mark.parametrize("sa,sb", [((5, 4), (4, 3)), ((2, 5, 4), (4, 3)), ((5, 4), (2, 4, 3)),
                                   ((2, 1, 5, 4), (3, 4, 2)), ((4,), (4, 3)), ((2, 5, 4), (4,))])
def test_matmul_gradients_match_torch(sa, sb):
    a = RNG.standard_normal(sa).astype(np.float32)
    b = RNG.standard_normal(sb).astype(np.float32)
    check_op(lambda lib, x, y: x @ y, a, b)
    if a.ndim > 1 and b.ndim > 1:  # non-contiguous (transposed) operands
        check_op(lambda lib, x, y: x.mT @ y.mT, a.swapaxes(-1, -2).copy(), b.swapaxes(-1, -2).copy())


# ------------------------------------------------------------------ clamp with Python-number bounds
@needs_torch
@pytest.mark.parametrize("lo,hi", [(0, None), (None, 0.5), (-0.5, 0.5), (1.0, -1.0), (0.0, 0.0), (-1, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clamp_scalar_bounds_match_torch(lo, hi, dtype):
    x = np.array([[-2.0, -0.5, 0.0, 0.5], [np.nan, 2.0, -np.inf, np.inf]], dtype)
    check_op(lambda lib, a: a.clamp(min=lo, max=hi), x)
    check_op(lambda lib, a: lib.clamp(a[0, 1], lo, hi), x)  # 0-d


@needs_torch
def test_clamp_nan_bound_and_double_backward_match_torch():
    x = RNG.standard_normal((3, 4))
    check_op(lambda lib, a: a.clamp(min=float("nan")), x, grad=False)
    check_op(lambda lib, a: lib.autograd.grad((a.clamp(min=0) ** 3).sum(), a, create_graph=True)[0].sum()
             .reshape(1) * 1.0, x)
