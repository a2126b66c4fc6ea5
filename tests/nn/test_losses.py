"""Every loss x reduction x option vs torch: values, input gradients, stability for large inputs."""
import warnings

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch, check_op, check_error, assert_same, gradcheck_op

rng = np.random.default_rng(0)
REDUCTIONS = ["none", "mean", "sum"]


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def rand(*shape, dtype=np.float32):
    return rng.random(shape).astype(dtype)


def signs(*shape):
    return Const(np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32))


def F(L):
    return L.nn.functional


class Const:
    """An input that must not require grad (class weights): ``c.of(L)`` is the tensor in library L."""

    def __init__(self, array):
        self.array = array

    def of(self, L):
        return L.tensor(self.array)


def C(arr):
    return Const(arr)


# name -> (fn(L, *tensors, reduction), inputs builder)
POINTWISE = {
    "mse": (lambda L, x, t, r: F(L).mse_loss(x, t, reduction=r), lambda: (randn(4, 5), randn(4, 5))),
    "mse_weight": (lambda L, x, t, w, r: F(L).mse_loss(x, t, reduction=r, weight=w.of(L)),
                   lambda: (randn(4, 5), randn(4, 5), C(rand(4, 5)))),
    "l1": (lambda L, x, t, r: F(L).l1_loss(x, t, reduction=r), lambda: (randn(4, 5), randn(4, 5))),
    "l1_weight": (lambda L, x, t, w, r: F(L).l1_loss(x, t, reduction=r, weight=w.of(L)),
                  lambda: (randn(4, 5), randn(4, 5), C(rand(4, 5)))),
    "smooth_l1": (lambda L, x, t, r: F(L).smooth_l1_loss(x, t, reduction=r, beta=0.5),
                  lambda: (randn(4, 5), randn(4, 5))),
    "smooth_l1_beta0": (lambda L, x, t, r: F(L).smooth_l1_loss(x, t, reduction=r, beta=0.0),
                        lambda: (randn(4, 5), randn(4, 5))),
    "huber": (lambda L, x, t, r: F(L).huber_loss(x, t, reduction=r, delta=0.7), lambda: (randn(4, 5), randn(4, 5))),
    "huber_weight": (lambda L, x, t, w, r: F(L).huber_loss(x, t, reduction=r, weight=w.of(L)),
                     lambda: (randn(4, 5), randn(4, 5), C(rand(4, 5)))),
    "bce": (lambda L, x, t, r: F(L).binary_cross_entropy(x, t, reduction=r),
            lambda: (rand(4, 5) * 0.9 + 0.05, rand(4, 5))),
    "bce_weight": (lambda L, x, t, w, r: F(L).binary_cross_entropy(x, t, w.of(L), reduction=r),
                   lambda: (rand(4, 5) * 0.9 + 0.05, rand(4, 5), C(rand(4, 5)))),
    "bce_logits": (lambda L, x, t, r: F(L).binary_cross_entropy_with_logits(x, t, reduction=r),
                   lambda: (randn(4, 5) * 3, rand(4, 5))),
    "bce_logits_pos_weight": (
        lambda L, x, t, w, pw, r: F(L).binary_cross_entropy_with_logits(x, t, w.of(L), reduction=r, pos_weight=pw.of(L)),
        lambda: (randn(4, 5) * 3, rand(4, 5), C(rand(4, 5)), C(rand(5) * 3))),
    "kl_div": (lambda L, x, t, r: F(L).kl_div(x, t, reduction=r), lambda: (np.log(rand(4, 5) + 0.1), rand(4, 5))),
    "kl_div_log_target": (lambda L, x, t, r: F(L).kl_div(x, t, reduction=r, log_target=True),
                          lambda: (np.log(rand(4, 5) + 0.1), np.log(rand(4, 5) + 0.1))),
    "poisson": (lambda L, x, t, r: F(L).poisson_nll_loss(x, t, reduction=r), lambda: (randn(4, 5), rand(4, 5) * 4)),
    "poisson_full": (lambda L, x, t, r: F(L).poisson_nll_loss(x, t, full=True, reduction=r),
                     lambda: (randn(4, 5), rand(4, 5) * 4)),
    "poisson_no_log": (lambda L, x, t, r: F(L).poisson_nll_loss(x, t, log_input=False, reduction=r),
                       lambda: (rand(4, 5) + 0.1, rand(4, 5) * 4)),
    "gaussian": (lambda L, x, t, v, r: F(L).gaussian_nll_loss(x, t, v, reduction=r),
                 lambda: (randn(4, 5), randn(4, 5), rand(4, 5) + 0.1)),
    "gaussian_full_vec_var": (lambda L, x, t, v, r: F(L).gaussian_nll_loss(x, t, v, full=True, reduction=r),
                              lambda: (randn(4, 5), randn(4, 5), rand(4) + 0.1)),
    "margin_ranking": (lambda L, a, b, y, r: F(L).margin_ranking_loss(a, b, y.of(L), margin=0.3, reduction=r),
                       lambda: (randn(6), randn(6), signs(6))),
    "hinge_embedding": (lambda L, x, y, r: F(L).hinge_embedding_loss(x, y.of(L), margin=0.8, reduction=r),
                        lambda: (randn(4, 5), signs(4, 5))),
    "cosine_embedding": (lambda L, a, b, y, r: F(L).cosine_embedding_loss(a, b, y.of(L), margin=0.2, reduction=r),
                         lambda: (randn(6, 4), randn(6, 4), signs(6))),
    "triplet": (lambda L, a, p, n, r: F(L).triplet_margin_loss(a, p, n, reduction=r),
                lambda: (randn(5, 4), randn(5, 4), randn(5, 4))),
    "triplet_p1_swap": (lambda L, a, p, n, r: F(L).triplet_margin_loss(a, p, n, p=1, swap=True, margin=2.0,
                                                                     reduction=r),
                        lambda: (randn(5, 4), randn(5, 4), randn(5, 4))),
    "triplet_p3": (lambda L, a, p, n, r: F(L).triplet_margin_loss(a, p, n, p=3, reduction=r),
                   lambda: (randn(5, 4), randn(5, 4), randn(5, 4))),
    "multilabel_soft_margin": (lambda L, x, t, r: F(L).multilabel_soft_margin_loss(x, t, reduction=r),
                               lambda: (randn(4, 5) * 3, (rand(4, 5) > 0.5).astype(np.float32))),
    "multilabel_soft_margin_w": (lambda L, x, t, w, r: F(L).multilabel_soft_margin_loss(x, t, w.of(L), reduction=r),
                                 lambda: (randn(4, 5), (rand(4, 5) > 0.5).astype(np.float32), C(rand(5)))),
    "soft_margin": (lambda L, x, y, r: F(L).soft_margin_loss(x, y.of(L), reduction=r), lambda: (randn(4, 5) * 3, signs(4, 5))),
}


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_losses(name, reduction):
    fn, build = POINTWISE[name]
    inputs = build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda L, *ts: fn(L, *ts, reduction), *inputs)


@needs_torch
@pytest.mark.parametrize("name", ["mse", "l1", "bce_logits", "soft_margin", "kl_div", "huber", "cosine_embedding"])
def test_pointwise_losses_float64_gradcheck(name):
    fn, build = POINTWISE[name]
    inputs = [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in build()]
    gradcheck_op(lambda L, *ts: fn(L, *ts, "mean"), *inputs, second_order=name in ("mse", "bce_logits"))


@needs_torch
def test_kl_div_batchmean_and_mean_warning():
    x, t = np.log(rand(4, 5) + 0.1), rand(4, 5)
    check_op(lambda L, a, b: F(L).kl_div(a, b, reduction="batchmean"), x, t)
    with pytest.warns(UserWarning, match="batchmean"):
        F(ember).kl_div(ember.from_numpy(x), ember.from_numpy(t))


# ------------------------------------------------------------------ cross entropy and nll
CE_CASES = {
    "2d": lambda: (randn(6, 5), rng.integers(0, 5, 6)),
    "1d_unbatched": lambda: (randn(5), np.array(3)),
    "spatial_4d": lambda: (randn(2, 5, 3, 4), rng.integers(0, 5, (2, 3, 4))),
    "spatial_3d": lambda: (randn(2, 5, 3), rng.integers(0, 5, (2, 3))),
}
CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": "w"},
    "ignore": {"ignore_index": 1},
    "smoothing": {"label_smoothing": 0.2},
    "all": {"weight": "w", "ignore_index": 2, "label_smoothing": 0.1},
}


def _ce_call(L, x, t, w, reduction, opts, fn="cross_entropy"):
    kwargs = {k: (w if v == "w" else v) for k, v in opts.items()}
    return getattr(F(L), fn)(x, t, reduction=reduction, **kwargs)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opt", sorted(CE_OPTIONS))
@pytest.mark.parametrize("case", sorted(CE_CASES))
def test_cross_entropy_class_indices(case, opt, reduction):
    x, t = CE_CASES[case]()
    t = np.asarray(t, dtype=np.int64)
    w = rand(5) + 0.5
    check_op(lambda L, a, b, c: _ce_call(L, a, b, c.of(L), reduction, CE_OPTIONS[opt]), x, t, C(w))
    if opt != "smoothing":
        nll_opts = {k: v for k, v in CE_OPTIONS[opt].items() if k != "label_smoothing"}
        check_op(lambda L, a, b, c: _ce_call(L, F(L).log_softmax(a, 0 if a.dim() == 1 else 1), b, c.of(L), reduction,
                                             nll_opts, "nll_loss"), x, t, C(w))


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(4, 5), (2, 5, 3)])
def test_cross_entropy_probabilities(shape, weighted, smoothing, reduction):
    x = randn(*shape)
    p = rand(*shape)
    p = p / p.sum(axis=1, keepdims=True)
    w = rand(5) + 0.5 if weighted else None

    def f(L, a, b):
        weight = L.tensor(w) if w is not None else None
        return F(L).cross_entropy(a, b, weight=weight, reduction=reduction, label_smoothing=smoothing)
    check_op(f, x, p)  # gradients w.r.t. both logits and target probabilities


@needs_torch
def test_cross_entropy_large_logits_stable():
    x = np.array([[1e4, 0.0, -1e4], [-3e4, 3e4, 0.0], [50.0, 50.0, 50.0]], np.float32)
    t = np.array([2, 0, 1], np.int64)
    check_op(lambda L, a, b: F(L).cross_entropy(a, b), x, t)
    check_op(lambda L, a, b: F(L).cross_entropy(a, b, reduction="none", label_smoothing=0.1), x, t)
    e = F(ember).cross_entropy(ember.from_numpy(x), ember.from_numpy(t), reduction="none")
    assert np.all(np.isfinite(e.numpy()))
    check_op(lambda L, a, b: F(L).binary_cross_entropy_with_logits(a, b), np.array([-1e4, 1e4, 80.0], np.float32),
             np.array([1.0, 0.0, 0.5], np.float32))
    # torch overflows to inf here; ember stays finite and exact (log(1 + e^z) ~ z)
    big = F(ember).soft_margin_loss(ember.tensor([-1e4, 1e4]), ember.tensor([1.0, -1.0]), reduction="none")
    assert big.tolist() == [1e4, 1e4]
    check_op(lambda L, a: F(L).soft_margin_loss(a, L.tensor([1.0, -1.0])), np.array([-60.0, 70.0], np.float32))


@needs_torch
def test_cross_entropy_all_ignored_is_nan_like_torch():
    check_op(lambda L, a, b: F(L).cross_entropy(a, b, ignore_index=0), randn(3, 4), np.zeros(3, np.int64))


@needs_torch
def test_cross_entropy_double_backward():
    gradcheck_op(lambda L, a, b: F(L).cross_entropy(a, b, label_smoothing=0.1), randn(3, 4).astype(np.float64),
                 np.array([0, 3, 1], np.int64))
    x = ember.from_numpy(randn(3, 4)).requires_grad_()
    t = ember.tensor([0, 3, 1])
    g1, = ember.autograd.grad(F(ember).cross_entropy(x, t), x)
    g2, = ember.autograd.grad(F(ember).cross_entropy(x, t), x, create_graph=True)
    np.testing.assert_allclose(g1.numpy(), g2.detach().numpy(), rtol=1e-6)


@needs_torch
def test_cross_entropy_half_precision():
    check_op(lambda L, a, b: F(L).cross_entropy(a, b), randn(4, 5, dtype=np.float16), rng.integers(0, 5, 4),
             atol=2e-3, rtol=2e-3)


@needs_torch
def test_cross_entropy_and_nll_errors():
    x = randn(3, 4)
    for fn in ("cross_entropy", "nll_loss"):
        check_error(lambda L, a, b: getattr(F(L), fn)(a, b), x, np.array([0, 1], np.int64), match="batch_size")
        check_error(lambda L, a, b: getattr(F(L), fn)(a, b), x, np.array([0, 1, 5], np.int64), match="out of bounds")
        check_error(lambda L, a, b: getattr(F(L), fn)(a, b), x, np.array([0, -1, 2], np.int64))
        check_error(lambda L, a, b: getattr(F(L), fn)(a, b), x, np.array([0, 1, 2], np.int32))
        check_error(lambda L, a, b: getattr(F(L), fn)(a, b, L.ones(3)), x, np.array([0, 1, 2], np.int64),
                    match="weight tensor")
    check_error(lambda L, a, b: F(L).cross_entropy(a, b), randn(2, 3, 4), np.zeros((2, 5), np.int64),
                match="Expected target size")
    check_error(lambda L, a: F(L).mse_loss(a, a, reduction="foo"), x, match="not a valid value")
    check_error(lambda L, a, b: F(L).binary_cross_entropy(a, b), rand(3), rand(4), match="target size")


@needs_torch
def test_legacy_size_average_reduce():
    x, t = randn(3, 4), randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sa, red in [(False, None), (None, False), (True, True)]:
            check_op(lambda L, a, b: F(L).mse_loss(a, b, size_average=sa, reduce=red), x, t)
            check_op(lambda L, a, b: L.nn.L1Loss(size_average=sa, reduce=red)(a, b), x, t)


# ------------------------------------------------------------------ margin losses with class targets
@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,weighted", [(1, False), (2, False), (1, True)])
def test_multi_margin(p, weighted, reduction):
    w = rand(5) + 0.5 if weighted else None

    def f(L, x, t):
        return F(L).multi_margin_loss(x, t, p=p, margin=0.7, weight=L.tensor(w) if weighted else None,
                                      reduction=reduction)
    check_op(f, randn(4, 5), rng.integers(0, 5, 4))
    check_op(f, randn(5), np.array(2))


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin(reduction):
    t = np.array([[3, 0, -1, 1, 0], [1, 2, 4, 0, 3], [-1, 1, 1, 1, 1]], np.int64)
    check_op(lambda L, x, y: F(L).multilabel_margin_loss(x, y, reduction=reduction), randn(3, 5), t)
    check_op(lambda L, x, y: F(L).multilabel_margin_loss(x, y, reduction=reduction), randn(4),
             np.array([2, 0, -1, 3], np.int64))


# ------------------------------------------------------------------ CTC
@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("concat", [False, True])
def test_ctc_loss(reduction, concat):
    T, N, C = 8, 3, 5
    lp = np.log(rng.dirichlet(np.ones(C), (T, N))).astype(np.float32)
    targets = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 0]], np.int64)
    t_len = [3, 2, 3]
    in_len = [8, 6, 7]
    if concat:
        targets = np.concatenate([targets[i, :t_len[i]] for i in range(N)])
    check_op(lambda L, x, t: F(L).ctc_loss(x, t, L.tensor(in_len), L.tensor(t_len), reduction=reduction),
             lp, targets)


@needs_torch
def test_ctc_loss_blank_zero_infinity_and_unbatched():
    T, C = 4, 4
    lp = np.log(rng.dirichlet(np.ones(C), (T, 2))).astype(np.float64)
    # second sample impossible: 4 labels with repeats need more frames than 4 -> inf loss
    targets = np.array([[1, 2], [2, 2]], np.int64)
    for zi in (False, True):
        check_op(lambda L, x, t: F(L).ctc_loss(x, t, [4, 3], [2, 2], blank=3, reduction="none", zero_infinity=zi),
                 lp, targets)
        check_op(lambda L, x, t: F(L).ctc_loss(x, t, [4, 3], [2, 2], blank=3, zero_infinity=zi), lp, targets)
    check_op(lambda L, x, t: F(L).ctc_loss(x, t, [4], [2]), lp[:, 0], np.array([1, 2], np.int64))


# ------------------------------------------------------------------ modules
MODULES = [
    ("MSELoss", {}, lambda: (randn(3, 4), randn(3, 4))),
    ("L1Loss", {"reduction": "sum"}, lambda: (randn(3, 4), randn(3, 4))),
    ("SmoothL1Loss", {"beta": 0.3}, lambda: (randn(3, 4), randn(3, 4))),
    ("HuberLoss", {"delta": 0.5}, lambda: (randn(3, 4), randn(3, 4))),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 0}, lambda: (randn(5, 4), rng.integers(0, 4, 5))),
    ("NLLLoss", {"reduction": "none"}, lambda: (randn(5, 4), rng.integers(0, 4, 5))),
    ("BCELoss", {}, lambda: (rand(3, 4) * 0.8 + 0.1, rand(3, 4))),
    ("BCEWithLogitsLoss", {}, lambda: (randn(3, 4), rand(3, 4))),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, lambda: (randn(3, 4), randn(3, 4))),
    ("PoissonNLLLoss", {"full": True}, lambda: (randn(3, 4), rand(3, 4) * 3)),
    ("GaussianNLLLoss", {"full": True}, lambda: (randn(3, 4), randn(3, 4), rand(3, 4) + 0.1)),
    ("MarginRankingLoss", {"margin": 0.1}, lambda: (randn(5), randn(5), signs(5))),
    ("HingeEmbeddingLoss", {}, lambda: (randn(3, 4), signs(3, 4))),
    ("CosineEmbeddingLoss", {}, lambda: (randn(3, 4), randn(3, 4), signs(3))),
    ("TripletMarginLoss", {"margin": 0.5}, lambda: (randn(3, 4), randn(3, 4), randn(3, 4))),
    ("MultiMarginLoss", {"p": 2}, lambda: (randn(5, 4), rng.integers(0, 4, 5))),
    ("MultiLabelMarginLoss", {}, lambda: (randn(2, 4), np.array([[1, -1, 0, 0], [0, 1, 2, 3]], np.int64))),
    ("MultiLabelSoftMarginLoss", {}, lambda: (randn(3, 4), (rand(3, 4) > 0.5).astype(np.float32))),
    ("SoftMarginLoss", {}, lambda: (randn(3, 4), signs(3, 4))),
]


@needs_torch
@pytest.mark.parametrize("cls,kwargs,build", MODULES, ids=[m[0] for m in MODULES])
def test_loss_modules(cls, kwargs, build):
    check_op(lambda L, *ts: getattr(L.nn, cls)(**kwargs)(*[t.of(L) if isinstance(t, Const) else t for t in ts]),
             *build())
    assert repr(getattr(ember.nn, cls)(**kwargs)) == repr(getattr(torch.nn, cls)(**kwargs))


@needs_torch
def test_weighted_loss_buffers_in_state_dict():
    w = np.array([1.0, 2.0, 3.0], np.float32)
    e = ember.nn.CrossEntropyLoss(weight=ember.from_numpy(w))
    t = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w))
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    assert list(ember.nn.BCEWithLogitsLoss(pos_weight=ember.ones(3)).state_dict()) == \
        list(torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3)).state_dict())
    assert list(ember.nn.MSELoss().state_dict()) == []
    check_op(lambda L, x, y: L.nn.CTCLoss(blank=0)(x, y, [3, 3], [1, 2]),
             np.log(rng.dirichlet(np.ones(3), (3, 2))).astype(np.float32), np.array([[1, 0], [2, 1]], np.int64))


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance(reduction, swap):
    def f(L, a, p, n):
        return L.nn.TripletMarginWithDistanceLoss(margin=0.5, swap=swap, reduction=reduction)(a, p, n)

    def g(L, a, p, n):
        cos = lambda x, y: 1 - (x * y).sum(-1) / ((x * x).sum(-1) * (y * y).sum(-1)).sqrt()  # noqa: E731
        return F(L).triplet_margin_with_distance_loss(a, p, n, distance_function=cos, reduction=reduction)
    args = (randn(5, 4), randn(5, 4), randn(5, 4))
    check_op(f, *args)
    check_op(g, *args)
