"""Top-level function forms (in-place ``torch.exp_``, ``*_copy`` views, small aliases) and constants,
compared with torch."""
import math

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, assert_same, check_error
from ember._ops.function_forms import _INPLACE

UNARY_INPLACE = [n for n in _INPLACE if n not in ("addmv", "clamp", "clamp_max", "clamp_min", "clip", "fill", "gcd",
                                                  "lcm", "ldexp", "index_put", "resize_as", "detach", "zero")]


@needs_torch
@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_inplace_function_forms_modify_their_input_like_torch(name):
    values = np.array([0.25, 0.5, 0.75])
    e, t = ember.tensor(values), torch.tensor(values)
    e_out, t_out = getattr(ember, name + "_")(e), getattr(torch, name + "_")(t)
    assert e_out is e and t_out is t
    assert_same(e, t)


@needs_torch
@pytest.mark.parametrize("name,args", [("clamp", (0.3, 0.6)), ("clamp_min", (0.4,)), ("clamp_max", (0.4,)),
                                       ("fill", (2.5,)), ("zero", ())])
def test_inplace_forms_with_arguments(name, args):
    e, t = ember.tensor([0.25, 0.5, 0.75]), torch.tensor([0.25, 0.5, 0.75])
    getattr(ember, name + "_")(e, *args)
    getattr(torch, name + "_")(t, *args)
    assert_same(e, t)


@needs_torch
@pytest.mark.parametrize("name,args", [("diagonal", ()), ("expand", ((2, 3, 4),)), ("permute", ((2, 0, 1),)),
                                       ("select", (1, 2)), ("slice", (2, 1, 4, 2)), ("squeeze", ()),
                                       ("transpose", (0, 2)), ("unsqueeze", (1,)), ("view", ((12,),)),
                                       ("unfold", (2, 2, 1)), ("detach", ()), ("alias", ()), ("narrow", (2, 1, 2)),
                                       ("split", (2, 2)), ("unbind", (2,)), ("split_with_sizes", ([1, 3], 2))])
def test_copy_forms_match_torch_and_do_not_alias(name, args):
    a = np.arange(12.0).reshape(1, 3, 4)
    e, t = ember.tensor(a), torch.tensor(a)
    e_out, t_out = getattr(ember, name + "_copy")(e, *args), getattr(torch, name + "_copy")(t, *args)
    assert_same(e_out, t_out)
    first = e_out[0] if isinstance(e_out, (tuple, list)) else e_out
    first.view(-1)[0] = -100.0
    assert e.min().item() == 0.0  # the copy shares nothing with its input


@needs_torch
def test_t_copy_and_complex_views_copy():
    a = np.arange(6.0).reshape(2, 3)
    assert_same(ember.t_copy(ember.tensor(a)), torch.t_copy(torch.tensor(a)))
    assert_same(ember.view_as_complex_copy(ember.tensor(a[:, :2].copy())),
                torch.view_as_complex_copy(torch.tensor(a[:, :2].copy())))


def test_constants_are_pythons():
    assert ember.pi == math.pi and ember.e == math.e and ember.inf == math.inf and math.isnan(ember.nan)
    assert ember.zeros(3)[ember.newaxis].shape == (1, 3)


@needs_torch
def test_small_aliases_match_torch():
    a = np.arange(6.0)
    for name, args in [("split_with_sizes", ([2, 4],)), ("unsafe_split", (4,)), ("unsafe_chunk", (3,))]:
        for x, y in zip(getattr(ember, name)(ember.tensor(a), *args), getattr(torch, name)(torch.tensor(a), *args)):
            assert_same(x, y)
    assert_same(ember.fill(ember.tensor(a), 1.5), torch.fill(torch.tensor(a), 1.5))
    value = ember.tensor(2.0, requires_grad=True)
    filled = ember.fill(ember.tensor(a), value)
    filled.sum().backward()
    assert value.grad.item() == a.size and filled._data.flags.writeable and filled._data.base is None
    z = np.array([1 + 2j, -1j])
    assert_same(ember.conj_physical(ember.tensor(z)), torch.conj_physical(torch.tensor(z)))
    assert ember.is_signed(ember.ones(1)) and not ember.is_signed(ember.ones(1, dtype=ember.uint8))
    assert ember.detach(ember.ones(2, requires_grad=True)).requires_grad is False


def test_rng_state_round_trips_and_fork_rng_restores_it():
    ember.manual_seed(3)
    state = ember.random.get_rng_state()
    first = ember.randn(4)
    ember.random.set_rng_state(state)
    assert ember.equal(first, ember.randn(4))
    with ember.random.fork_rng():
        ember.rand(10)
    after_fork = ember.randn(2)
    ember.random.set_rng_state(state)
    ember.randn(4)
    assert ember.equal(after_fork, ember.randn(2))
    assert ember.random.initial_seed() == 3


def test_rng_state_is_plain_bytes_not_a_pickle():
    state = ember.get_rng_state()
    assert state.dtype is ember.uint8 and state.dim() == 1
    import pickle
    evil = ember.tensor(list(pickle.dumps({"x": 1})), dtype=ember.uint8)
    with pytest.raises(RuntimeError, match="RNG state must be"):
        ember.set_rng_state(evil)
    with pytest.raises(RuntimeError, match="RNG state must be"):
        ember.set_rng_state(state.float())


def test_distributions_is_reachable_from_the_top_level_lazily():
    import subprocess
    import sys
    src = ("import sys, ember; assert 'ember.distributions' not in sys.modules; "
           "d = ember.distributions.Normal(0.0, 1.0); print(round(float(d.log_prob(ember.tensor(0.0))), 4))")
    out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True)
    assert out.stdout.strip() == "-0.9189", out.stderr


@needs_torch
def test_format_of_tensors_matches_torch():
    for spec in ("", ".3f", ">8", "e"):
        assert format(ember.tensor(1.5), spec) == format(torch.tensor(1.5), spec)
    assert f"{ember.tensor(3)}" == f"{torch.tensor(3)}"
    assert f"{ember.tensor([1.5, 2.0])}" == f"{torch.tensor([1.5, 2.0])}"
    with pytest.raises(TypeError):
        format(ember.tensor([1.5]), ".2f")


@needs_torch
def test_iteration_and_unbind_give_views_that_write_through_like_torch():
    results = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0])
        for t in x:
            t.add_(1)
        y = lib.arange(6.0).reshape(2, 3)
        for column in y.unbind(1):
            column.mul_(2)
        results.append((x, y))
    for e, t in zip(*results):
        assert_same(e, t)


@needs_torch
@pytest.mark.parametrize("name,fn", [("split", lambda z: z.split(2, 1)), ("split_sizes", lambda z: z.split([4, 2], 1)),
                                     ("chunk", lambda z: z.chunk(2, 1)), ("unbind", lambda z: z.unbind(1))])
def test_multi_output_views_refuse_in_place_under_autograd_like_torch(name, fn):
    def run(lib):
        z = lib.ones(2, 6, requires_grad=True) * 1
        fn(z)[1].mul_(5)
    err, terr = check_error(run)
    assert str(err) == str(terr)
    written = []
    for lib in (ember, torch):  # without autograd the write goes through to the base, as in torch
        plain = lib.ones(2, 6)
        fn(plain)[1].mul_(5)
        written.append(plain)
    assert_same(written[0], written[1])
    assert written[0].sum().item() > 12


@needs_torch
def test_split_gradient_is_one_concatenation_matching_torch():
    a = np.arange(24.0).reshape(2, 12)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        q, k, v = (x * 1).split(4, dim=1)
        (q * 2 + v * 3).sum().backward()
        parts = x.detach().split([5, 7], 1)
        results.append((x.grad, parts[1]))
    for e, t in zip(*results):
        assert_same(e, t)
