"""The lean per-op paths (operator recording, Tensor.backward(g), the engine's plain loop) against torch."""
import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same


def both(fn):
    return fn(ember), fn(torch)


def _arrays():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((1, 4)).astype(np.float32)


@needs_torch
@pytest.mark.parametrize("op", ["mul", "add", "sub", "div_scalar", "mul_scalar"])
def test_operator_records_the_same_gradients(op):
    a_np, b_np = _arrays()

    def run(lib):
        a = lib.tensor(a_np, requires_grad=True)
        b = lib.tensor(b_np, requires_grad=True)
        y = {"mul": lambda: a * b, "add": lambda: a + b, "sub": lambda: b - a,
             "div_scalar": lambda: a / 3.0, "mul_scalar": lambda: 2 * a}[op]()
        (y * y).sum().backward()
        return y, a.grad, b.grad
    assert_same(*both(run))


@needs_torch
def test_operator_with_a_parameter_operand_saves_it_as_an_input():
    # a Parameter (a Tensor subclass) must be saved and version-checked like any tensor
    a_np, b_np = _arrays()

    def run(lib):
        w = lib.nn.Parameter(lib.tensor(b_np))
        x = lib.tensor(a_np, requires_grad=True)
        y = x * w
        y.sum().backward()
        return x.grad, w.grad
    assert_same(*both(run))


@needs_torch
def test_backward_with_a_gradient_like_the_output():
    a_np, b_np = _arrays()
    g_np = np.arange(12, dtype=np.float32).reshape(3, 4)

    def run(lib):
        a = lib.tensor(a_np, requires_grad=True)
        y = a * lib.tensor(b_np)
        y.backward(lib.tensor(g_np))
        first = a.grad.clone()
        (a * 2).backward(lib.tensor(g_np, dtype=lib.float64))  # other dtype: the general path casts
        return first, a.grad
    assert_same(*both(run))


@needs_torch
def test_backward_gradient_errors_match_torch():
    for lib in (ember, torch):
        a = lib.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of "
                                               r"torch.Size\(\[3\]\) and output\[0\] has a shape of "
                                               r"torch.Size\(\[2, 3\]\)"):
            (a * 2).backward(lib.ones(3))
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            (a * 2).backward()


@needs_torch
def test_node_hooks_still_run_in_the_engine():
    a_np, b_np = _arrays()

    def run(lib):
        a = lib.tensor(a_np, requires_grad=True)
        y = a * lib.tensor(b_np)
        seen = []
        y.grad_fn.register_prehook(lambda gout: (gout[0] * 3,))
        y.grad_fn.register_hook(lambda gin, gout: seen.append(gin[0].sum().item()))
        y.sum().backward()
        return a.grad, lib.tensor(seen)
    assert_same(*both(run))


@needs_torch
def test_modified_saved_input_message_names_its_output_number():
    msgs = []
    for lib in (ember, torch):
        x = lib.ones(2, 3, requires_grad=True)
        p, q = (x * 1).unbind(0)
        q = q * 1
        y = q * q
        q.mul_(2)
        with pytest.raises(RuntimeError) as err:
            y.sum().backward()
        msgs.append(str(err.value).split(" Hint")[0])
    for msg in msgs:  # (torch names the forward op, "Mul", where ember names the node)
        assert "[torch.FloatTensor [3]], which is output 0 of Mul" in msg
        assert "is at version 1; expected version 0 instead." in msg


@needs_torch
def test_backward_from_several_roots_sums_into_shared_leaves():
    a_np, b_np = _arrays()

    def run(lib):
        a = lib.tensor(a_np, requires_grad=True)
        y = a * lib.tensor(b_np)
        z = y.exp()
        lib.autograd.backward([y.sum(), z.sum(), y.sum()])
        return a.grad
    assert_same(*both(run))
