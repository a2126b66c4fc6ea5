"""nn on the CUDA device: every module and functional gives the CPU's result, forward and backward.

Each case builds its module on the CPU under a fixed seed; the same module moved with ``.to('cuda')``
runs the same inputs on the device. Outputs, input gradients, parameter gradients and buffers (running
statistics) must match the CPU run and live on the device. On a GPU machine with CuPy this runs on the
real device; elsewhere on ``fake_cupy`` (see tests/test_device_backend.py).
"""
import numpy as np
import pytest

import ember
from device_util import flat_tensors as _flat
import ember.nn as nn
import ember.nn.functional as F

pytestmark = pytest.mark.usefixtures("cuda_backend")  # real CuPy, or fake_cupy (tests/conftest.py)


# ---------------------------------------------------------------------------------------------- inputs
class Const:
    """A floating input that takes no gradient (targets, masks, variances)."""

    def __init__(self, array):
        self.array = array


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def pos(rng, *shape):
    return rng.uniform(0.1, 1.0, shape).astype(np.float32)


def probs(rng, *shape, axis=-1):
    p = rng.uniform(0.1, 1.0, shape)
    return (p / p.sum(axis, keepdims=True)).astype(np.float32)


def labels(rng, n, classes):
    return rng.integers(0, classes, n).astype(np.int64)


def _to_tensor(a, device, dtype=None):
    """A NumPy input as a tensor on ``device`` (floating ones cast to ``dtype`` when given)."""
    if isinstance(a, (Const, np.ndarray)) and dtype is not None:
        src = a.array if isinstance(a, Const) else a
        if src.dtype.kind == "f":
            src = src.astype(dtype.np)
            a = Const(src) if isinstance(a, Const) else src
    if isinstance(a, Const):
        return ember.from_numpy(a.array.copy()).to(device)
    if isinstance(a, np.ndarray):
        t = ember.from_numpy(a.copy()).to(device)
        return t.requires_grad_(True) if a.dtype.kind == "f" else t
    return a


# ---------------------------------------------------------------------------------------------- cases
class Case:
    """``make()`` gives a module or a function (built on the CPU); ``inputs(rng)`` the NumPy inputs;
    ``call(fn, *inputs)`` runs it (default ``fn(*inputs)``)."""

    def __init__(self, name, make, inputs, call=None, rtol=1e-4, atol=1e-5, grad=True):
        self.name, self.make, self.inputs = name, make, inputs
        self.call = call or (lambda fn, *xs: fn(*xs))
        self.rtol, self.atol, self.grad = rtol, atol, grad


CASES = []


def case(name, make, inputs, **kw):
    CASES.append(Case(name, make, inputs, **kw))


def fn(f, *args, **kwargs):
    """A functional case: ``f(*inputs, *args, **kwargs)``."""
    return lambda: (lambda *xs: f(*xs, *args, **kwargs))


def _with_stats(module, rng_seed=7):
    """A norm module in eval mode with non-trivial running statistics."""
    rng = np.random.default_rng(rng_seed)
    n = module.running_mean.shape[0]
    module.running_mean.copy_(ember.from_numpy(rng.standard_normal(n).astype(np.float32)))
    module.running_var.copy_(ember.from_numpy(rng.uniform(0.5, 2.0, n).astype(np.float32)))
    return module.eval()


# -- linear
case("Linear", lambda: nn.Linear(5, 3), lambda r: [rand(r, 4, 5)])
case("Linear_nobias_3d", lambda: nn.Linear(5, 3, bias=False), lambda r: [rand(r, 2, 4, 5)])
case("Bilinear", lambda: nn.Bilinear(3, 4, 2), lambda r: [rand(r, 5, 3), rand(r, 5, 4)])
case("Identity_Flatten", lambda: nn.Sequential(nn.Identity(), nn.Flatten()), lambda r: [rand(r, 2, 3, 4)])
case("Unflatten", lambda: nn.Unflatten(1, (2, 3)), lambda r: [rand(r, 2, 6)])

# -- activations
for _name, _make in [
    ("ReLU", nn.ReLU), ("ReLU6", nn.ReLU6), ("ELU", lambda: nn.ELU(0.7)), ("CELU", lambda: nn.CELU(1.3)),
    ("SELU", nn.SELU), ("GELU", nn.GELU), ("GELU_tanh", lambda: nn.GELU("tanh")), ("SiLU", nn.SiLU),
    ("Mish", nn.Mish), ("Sigmoid", nn.Sigmoid), ("Tanh", nn.Tanh), ("LogSigmoid", nn.LogSigmoid),
    ("Hardtanh", lambda: nn.Hardtanh(-0.5, 0.8)), ("Hardsigmoid", nn.Hardsigmoid), ("Hardswish", nn.Hardswish),
    ("Hardshrink", lambda: nn.Hardshrink(0.3)), ("Softshrink", lambda: nn.Softshrink(0.3)),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.2)), ("Softplus", lambda: nn.Softplus(2.0, 3.0)),
    ("Softsign", nn.Softsign), ("Tanhshrink", nn.Tanhshrink), ("Threshold", lambda: nn.Threshold(0.1, -2.0)),
    ("PReLU", lambda: nn.PReLU(4, 0.2)), ("RReLU_eval", lambda: nn.RReLU(0.1, 0.3).eval()),
    ("GLU", lambda: nn.GLU(1)), ("Softmax", lambda: nn.Softmax(1)), ("Softmin", lambda: nn.Softmin(1)),
    ("LogSoftmax", lambda: nn.LogSoftmax(1)), ("Softmax2d", nn.Softmax2d),
]:
    case(_name, _make, lambda r: [rand(r, 2, 4, 3, 2) * 2])
case("softmax_dim0_float64", fn(F.softmax, 0, dtype=ember.float64), lambda r: [rand(r, 4, 5)])
case("log_softmax_last", fn(F.log_softmax, -1), lambda r: [rand(r, 3, 7)])
case("gelu_exact_fn", fn(F.gelu), lambda r: [rand(r, 6, 5)])
case("gelu_tanh_fn", fn(F.gelu, approximate="tanh"), lambda r: [rand(r, 6, 5)])
case("relu_large", fn(F.relu), lambda r: [rand(r, 64, 257)])
case("sigmoid_large", fn(F.sigmoid), lambda r: [rand(r, 64, 257)])
for _name, _inplace in [("relu", lambda x: F.relu(x, inplace=True)), ("relu6", lambda x: F.relu6(x, inplace=True)),
                        ("elu", lambda x: F.elu(x, inplace=True)), ("celu", lambda x: F.celu(x, inplace=True)),
                        ("selu", lambda x: F.selu(x, inplace=True)), ("silu", lambda x: F.silu(x, inplace=True)),
                        ("mish", lambda x: F.mish(x, inplace=True)), ("hardswish", lambda x: F.hardswish(x, True)),
                        ("hardsigmoid", lambda x: F.hardsigmoid(x, True)),
                        ("leaky_relu", lambda x: F.leaky_relu(x, 0.3, inplace=True)),
                        ("hardtanh", lambda x: F.hardtanh(x, -0.5, 0.5, inplace=True)),
                        ("threshold", lambda x: F.threshold(x, 0.2, 5.0, inplace=True)),
                        ("rrelu_eval", lambda x: F.rrelu(x, inplace=True))]:
    # on a non-leaf copy: the in-place form rewrites it and the gradient reaches the leaf
    case(f"{_name}_inplace", lambda f=_inplace: (lambda x: f(x * 1.0)), lambda r: [rand(r, 4, 5)])
case("gumbel_softmax_hard_shape", lambda: (lambda x: F.gumbel_softmax(x, hard=True).sum(-1)),
     lambda r: [rand(r, 4, 5)], grad=False)

# -- normalization
case("LayerNorm", lambda: nn.LayerNorm(6), lambda r: [rand(r, 3, 4, 6)])
case("LayerNorm_2d_noaffine", lambda: nn.LayerNorm((4, 6), elementwise_affine=False), lambda r: [rand(r, 3, 4, 6)])
case("LayerNorm_nobias", lambda: nn.LayerNorm(6, bias=False), lambda r: [rand(r, 5, 6)])
case("layer_norm_large", fn(F.layer_norm, (256,)), lambda r: [rand(r, 32, 256)])
case("GroupNorm", lambda: nn.GroupNorm(2, 4), lambda r: [rand(r, 3, 4, 5, 2)])
case("GroupNorm_noaffine", lambda: nn.GroupNorm(4, 4, affine=False), lambda r: [rand(r, 2, 4, 6)])
case("BatchNorm1d_train", lambda: nn.BatchNorm1d(4), lambda r: [rand(r, 6, 4)])
case("BatchNorm1d_train_3d", lambda: nn.BatchNorm1d(4, momentum=None), lambda r: [rand(r, 3, 4, 5)])
case("BatchNorm1d_eval", lambda: _with_stats(nn.BatchNorm1d(4)), lambda r: [rand(r, 6, 4)])
case("BatchNorm2d_train", lambda: nn.BatchNorm2d(3), lambda r: [rand(r, 4, 3, 5, 5)])
case("BatchNorm2d_train_large", lambda: nn.BatchNorm2d(8), lambda r: [rand(r, 8, 8, 16, 16)])
case("BatchNorm2d_eval", lambda: _with_stats(nn.BatchNorm2d(3)), lambda r: [rand(r, 4, 3, 5, 5)])
case("BatchNorm2d_noaffine", lambda: nn.BatchNorm2d(3, affine=False), lambda r: [rand(r, 4, 3, 2, 2)])
case("BatchNorm3d_train", lambda: nn.BatchNorm3d(2), lambda r: [rand(r, 2, 2, 3, 3, 3)])
case("BatchNorm_no_stats", lambda: nn.BatchNorm2d(3, track_running_stats=False).eval(),
     lambda r: [rand(r, 4, 3, 2, 2)])
case("InstanceNorm1d", lambda: nn.InstanceNorm1d(3, affine=True), lambda r: [rand(r, 2, 3, 7)])
case("InstanceNorm2d", lambda: nn.InstanceNorm2d(3), lambda r: [rand(r, 2, 3, 4, 4)])
case("InstanceNorm2d_stats", lambda: nn.InstanceNorm2d(3, track_running_stats=True), lambda r: [rand(r, 2, 3, 4, 4)])
case("RMSNorm", lambda: nn.RMSNorm(6), lambda r: [rand(r, 3, 4, 6)])
case("RMSNorm_eps_noaffine", lambda: nn.RMSNorm((4, 6), eps=1e-3, elementwise_affine=False),
     lambda r: [rand(r, 3, 4, 6)])
case("LocalResponseNorm", lambda: nn.LocalResponseNorm(3), lambda r: [rand(r, 2, 5, 4, 4)])
case("LocalResponseNorm_3d", lambda: nn.LocalResponseNorm(2), lambda r: [rand(r, 2, 5, 7)])
case("normalize", fn(F.normalize, dim=1), lambda r: [rand(r, 4, 5)])
case("normalize_p1", fn(F.normalize, p=1.0, dim=0), lambda r: [rand(r, 4, 5)])

# -- dropout (deterministic forms: p=0 and eval; statistics tested separately)
case("Dropout_p0", lambda: nn.Dropout(0.0), lambda r: [rand(r, 4, 5)])
case("Dropout_eval", lambda: nn.Dropout(0.5).eval(), lambda r: [rand(r, 4, 5)])
case("Dropout2d_eval", lambda: nn.Dropout2d(0.5).eval(), lambda r: [rand(r, 2, 3, 4, 4)])
case("AlphaDropout_eval", lambda: nn.AlphaDropout(0.5).eval(), lambda r: [rand(r, 4, 5)])
case("FeatureAlphaDropout_p0", lambda: nn.FeatureAlphaDropout(0.0), lambda r: [rand(r, 2, 3, 4)])

# -- embedding
case("Embedding", lambda: nn.Embedding(10, 4), lambda r: [r.integers(0, 10, (3, 5))])
case("Embedding_padding_idx", lambda: nn.Embedding(10, 4, padding_idx=2),
     lambda r: [np.array([[2, 1, 2], [5, 2, 9]])])
case("Embedding_max_norm", lambda: nn.Embedding(10, 4, max_norm=1.0), lambda r: [np.array([[0, 1, 1], [5, 3, 9]])])
case("EmbeddingBag_mean", lambda: nn.EmbeddingBag(10, 3), lambda r: [r.integers(0, 10, (4, 3))])
case("EmbeddingBag_sum_offsets", lambda: nn.EmbeddingBag(10, 3, mode="sum"),
     lambda r: [r.integers(0, 10, 8), np.array([0, 3, 3, 6])])
case("EmbeddingBag_max", lambda: nn.EmbeddingBag(10, 3, mode="max"), lambda r: [r.integers(0, 10, (4, 3))])
case("EmbeddingBag_weights", lambda: nn.EmbeddingBag(10, 3, mode="sum", padding_idx=0),
     lambda r: [r.integers(0, 10, 8), np.array([0, 5]), Const(pos(r, 8))])
case("Embedding_scale_grad_by_freq", lambda: nn.Embedding(10, 4, scale_grad_by_freq=True, padding_idx=1),
     lambda r: [np.array([[2, 1, 2], [5, 2, 9], [1, 1, 0]])])
case("EmbeddingBag_freq_last_offset", lambda: nn.EmbeddingBag(10, 3, mode="mean", scale_grad_by_freq=True,
                                                              include_last_offset=True),
     lambda r: [np.array([1, 1, 4, 2, 1, 9, 9]), np.array([0, 2, 2, 7])])
case("EmbeddingBag_max_norm_max", lambda: nn.EmbeddingBag(10, 3, mode="max", max_norm=0.5),
     lambda r: [r.integers(0, 10, (3, 4))])
case("instance_norm_running_eval", lambda: (lambda x: F.instance_norm(
    x, ember.zeros(3, device=x.device) + 0.2, ember.ones(3, device=x.device) * 1.5, use_input_stats=False)),
     lambda r: [rand(r, 2, 3, 5)])
case("mha_forward_unbatched", lambda: nn.MultiheadAttention(6, 3), lambda r: [rand(r, 4, 6), rand(r, 5, 6)],
     call=lambda m, q, kv: m(q, kv, kv, need_weights=False))
case("one_hot", lambda: (lambda i: F.one_hot(i, 6)), lambda r: [r.integers(0, 6, (3, 4))])
case("one_hot_inferred", lambda: (lambda i: F.one_hot(i)), lambda r: [r.integers(0, 6, 7)])

# -- recurrent
for _cell in ("RNN", "LSTM", "GRU"):
    case(_cell, lambda c=_cell: getattr(nn, c)(3, 4), lambda r: [rand(r, 5, 2, 3)])
    case(f"{_cell}_batch_first_bidir_2layer",
         lambda c=_cell: getattr(nn, c)(3, 4, num_layers=2, batch_first=True, bidirectional=True),
         lambda r: [rand(r, 2, 5, 3)])
    case(f"{_cell}Cell", lambda c=_cell: getattr(nn, c + "Cell")(3, 4), lambda r: [rand(r, 2, 3)])
case("RNN_relu_h0", lambda: nn.RNN(3, 4, nonlinearity="relu"), lambda r: [rand(r, 5, 2, 3), rand(r, 1, 2, 4)])
case("LSTM_h0c0_proj", lambda: nn.LSTM(3, 4, proj_size=2),
     lambda r: [rand(r, 5, 2, 3), (rand(r, 1, 2, 2), rand(r, 1, 2, 4))])
case("GRU_unbatched", lambda: nn.GRU(3, 4, num_layers=2), lambda r: [rand(r, 5, 3)])
case("LSTM_packed", lambda: nn.LSTM(3, 4, batch_first=True),
     lambda r: [rand(r, 3, 5, 3)],
     call=lambda m, x: nn.utils.rnn.pad_packed_sequence(
         m(nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2], batch_first=True))[0], batch_first=True)[0])

# -- attention and transformers
case("MultiheadAttention", lambda: nn.MultiheadAttention(8, 2), lambda r: [rand(r, 4, 2, 8)] * 1,
     call=lambda m, x: m(x, x, x))
case("MultiheadAttention_batch_first_kdim", lambda: nn.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=True),
     lambda r: [rand(r, 2, 4, 8), rand(r, 2, 6, 5), rand(r, 2, 6, 3)], call=lambda m, q, k, v: m(q, k, v))
case("MultiheadAttention_masks", lambda: nn.MultiheadAttention(8, 2, bias=False, add_bias_kv=True),
     lambda r: [rand(r, 4, 2, 8), np.array([[False, False, True, False], [False, False, False, False]])],
     call=lambda m, x, kpm: m(x, x, x, key_padding_mask=kpm, attn_mask=ember.triu(
         ember.ones(4, 4, dtype=ember.bool, device=x.device), 1), average_attn_weights=False))
case("TransformerEncoderLayer", lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0),
     lambda r: [rand(r, 5, 2, 8)])
case("TransformerEncoderLayer_gelu_normfirst",
     lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", norm_first=True, batch_first=True),
     lambda r: [rand(r, 2, 5, 8)])
case("TransformerDecoderLayer", lambda: nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0),
     lambda r: [rand(r, 4, 2, 8), rand(r, 5, 2, 8)],
     call=lambda m, t, mem: m(t, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, device=t.device)))
case("Transformer", lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0),
     lambda r: [rand(r, 5, 2, 8), rand(r, 4, 2, 8)])
case("sdpa", fn(F.scaled_dot_product_attention),
     lambda r: [rand(r, 2, 3, 4, 5), rand(r, 2, 3, 6, 5), rand(r, 2, 3, 6, 5)])
case("sdpa_causal", fn(F.scaled_dot_product_attention, is_causal=True),
     lambda r: [rand(r, 2, 3, 4, 5), rand(r, 2, 3, 4, 5), rand(r, 2, 3, 4, 5)])
case("sdpa_causal_blocks", fn(F.scaled_dot_product_attention, is_causal=True),  # long: query blocks
     lambda r: [rand(r, 1, 2, 70, 4), rand(r, 1, 2, 70, 4), rand(r, 1, 2, 70, 4)])
case("sdpa_bool_mask", lambda: (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)),
     lambda r: [rand(r, 2, 4, 5), rand(r, 2, 6, 5), rand(r, 2, 6, 5), r.random((4, 6)) < 0.7])
case("sdpa_float_mask_scale",
     lambda: (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.3)),
     lambda r: [rand(r, 2, 4, 5), rand(r, 2, 6, 5), rand(r, 2, 6, 5), rand(r, 4, 6)])
case("sdpa_gqa", fn(F.scaled_dot_product_attention, enable_gqa=True),
     lambda r: [rand(r, 1, 4, 3, 5), rand(r, 1, 2, 6, 5), rand(r, 1, 2, 6, 5)])

# -- losses
N, C = 6, 5
case("CrossEntropyLoss", nn.CrossEntropyLoss, lambda r: [rand(r, N, C), labels(r, N, C)])
case("CrossEntropyLoss_weight_ignore", lambda: nn.CrossEntropyLoss(
    weight=ember.tensor([1.0, 2.0, 0.5, 1.5, 1.0]), ignore_index=1),
    lambda r: [rand(r, N, C), np.array([0, 1, 2, 1, 4, 3])])
case("CrossEntropyLoss_smoothing", lambda: nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"),
     lambda r: [rand(r, N, C), labels(r, N, C)])
case("CrossEntropyLoss_smoothing_weight", lambda: nn.CrossEntropyLoss(
    weight=ember.tensor([1.0, 2.0, 0.5, 1.5, 1.0]), label_smoothing=0.2, ignore_index=0),
    lambda r: [rand(r, N, C), labels(r, N, C)])
case("CrossEntropyLoss_probs", lambda: nn.CrossEntropyLoss(label_smoothing=0.1),
     lambda r: [rand(r, N, C), Const(probs(r, N, C))])
case("CrossEntropyLoss_2d_none", lambda: nn.CrossEntropyLoss(reduction="none"),
     lambda r: [rand(r, 2, C, 3, 4), r.integers(0, C, (2, 3, 4))])
case("cross_entropy_large", fn(F.cross_entropy), lambda r: [rand(r, 128, 100), labels(r, 128, 100)])
case("NLLLoss", nn.NLLLoss, lambda r: [rand(r, N, C), labels(r, N, C)])
case("NLLLoss_weight_ignore_none", lambda: nn.NLLLoss(weight=ember.tensor([1.0, 2.0, 0.5, 1.5, 1.0]),
                                                    ignore_index=2, reduction="none"),
     lambda r: [rand(r, N, C), np.array([0, 2, 2, 1, 4, 3])])
case("NLLLoss_2d", lambda: nn.NLLLoss(weight=ember.tensor([1.0, 2.0, 0.5, 1.5, 1.0])),
     lambda r: [rand(r, 2, C, 3), r.integers(0, C, (2, 3))])
case("BCELoss", nn.BCELoss, lambda r: [pos(r, N, 3) * 0.9, Const(pos(r, N, 3))])
case("BCELoss_weight", lambda: nn.BCELoss(weight=ember.tensor([1.0, 0.5, 2.0]), reduction="sum"),
     lambda r: [pos(r, N, 3) * 0.9, Const(pos(r, N, 3))])
case("BCEWithLogitsLoss", nn.BCEWithLogitsLoss, lambda r: [rand(r, N, 3), Const(pos(r, N, 3))])
case("BCEWithLogitsLoss_pos_weight", lambda: nn.BCEWithLogitsLoss(
    weight=ember.tensor([1.0, 0.5, 2.0]), pos_weight=ember.tensor([2.0, 1.0, 0.3])),
    lambda r: [rand(r, N, 3), Const(pos(r, N, 3))])
case("KLDivLoss", lambda: nn.KLDivLoss(reduction="batchmean"),
     lambda r: [np.log(probs(r, N, C)), Const(probs(r, N, C))])
case("KLDivLoss_log_target", lambda: nn.KLDivLoss(reduction="sum", log_target=True),
     lambda r: [np.log(probs(r, N, C)), np.log(probs(r, N, C))])
case("MSELoss", nn.MSELoss, lambda r: [rand(r, N, 3), rand(r, N, 3)])
case("L1Loss", nn.L1Loss, lambda r: [rand(r, N, 3), rand(r, N, 3)])
case("SmoothL1Loss", lambda: nn.SmoothL1Loss(beta=0.5), lambda r: [rand(r, N, 3), rand(r, N, 3)])
case("HuberLoss", lambda: nn.HuberLoss(delta=0.7, reduction="sum"), lambda r: [rand(r, N, 3), rand(r, N, 3)])
case("SoftMarginLoss", nn.SoftMarginLoss, lambda r: [rand(r, N, 3), Const(np.sign(rand(r, N, 3)))])
case("PoissonNLLLoss", nn.PoissonNLLLoss, lambda r: [rand(r, N, 3), Const(pos(r, N, 3) * 3)])
case("PoissonNLLLoss_full", lambda: nn.PoissonNLLLoss(log_input=False, full=True),
     lambda r: [pos(r, N, 3), Const(pos(r, N, 3) * 3)])
case("GaussianNLLLoss", lambda: nn.GaussianNLLLoss(full=True), lambda r: [rand(r, N, 3), rand(r, N, 3), pos(r, N, 3)])
case("HingeEmbeddingLoss", lambda: nn.HingeEmbeddingLoss(0.5), lambda r: [rand(r, N, 3), Const(np.sign(rand(r, N, 3)))])
case("MarginRankingLoss", lambda: nn.MarginRankingLoss(0.1),
     lambda r: [rand(r, N), rand(r, N), Const(np.sign(rand(r, N)))])
case("CosineEmbeddingLoss", lambda: nn.CosineEmbeddingLoss(0.1),
     lambda r: [rand(r, N, 4), rand(r, N, 4), np.array([1, -1, 1, 1, -1, -1])])
case("MultiMarginLoss", lambda: nn.MultiMarginLoss(p=2, margin=0.8, weight=ember.tensor([1.0, 2.0, 0.5, 1.5, 1.0])),
     lambda r: [rand(r, N, C), labels(r, N, C)])
case("MultiLabelMarginLoss", nn.MultiLabelMarginLoss,
     lambda r: [rand(r, 3, 4), np.array([[3, 0, -1, 1], [0, 1, 2, 3], [-1, 1, 2, 3]])])
case("MultiLabelSoftMarginLoss", lambda: nn.MultiLabelSoftMarginLoss(weight=ember.tensor([1.0, 2.0, 0.5, 1.5, 1.0])),
     lambda r: [rand(r, N, C), Const((r.random((N, C)) < 0.5).astype(np.float32))])
case("TripletMarginLoss", lambda: nn.TripletMarginLoss(margin=0.5, swap=True),
     lambda r: [rand(r, N, 4), rand(r, N, 4), rand(r, N, 4)])
case("TripletMarginWithDistanceLoss", lambda: nn.TripletMarginWithDistanceLoss(
    distance_function=lambda a, b: 1 - F.cosine_similarity(a, b)),
    lambda r: [rand(r, N, 4), rand(r, N, 4), rand(r, N, 4)])
case("CTCLoss", lambda: nn.CTCLoss(),
     lambda r: [F_log_softmax_np(rand(r, 7, 2, 5)), np.array([[1, 2, 2], [3, 1, 0]]), np.array([7, 6]),
                np.array([3, 2])])
case("CTCLoss_concat_sum_zero_inf", lambda: nn.CTCLoss(blank=4, reduction="sum", zero_infinity=True),
     lambda r: [F_log_softmax_np(rand(r, 6, 3, 5)), np.array([1, 2, 2, 3, 0, 1, 1, 1, 1, 1]),
                np.array([6, 6, 5]), np.array([3, 2, 5])])
case("AdaptiveLogSoftmaxWithLoss_log_prob", lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 7]),
     lambda r: [rand(r, 5, 8)], call=lambda m, x: (m.log_prob(x), m.predict(x)))
case("AdaptiveLogSoftmaxWithLoss", lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 7], div_value=2.0),
     lambda r: [rand(r, 5, 8), labels(r, 5, 10)], call=lambda m, x, y: tuple(m(x, y)))

# -- padding
for _mode in ("constant", "reflect", "replicate", "circular"):
    case(f"pad_{_mode}_1d", fn(F.pad, (2, 1), mode=_mode), lambda r: [rand(r, 2, 3, 5)])
    case(f"pad_{_mode}_2d", fn(F.pad, (1, 2, 2, 1), mode=_mode), lambda r: [rand(r, 2, 3, 4, 5)])
    case(f"pad_{_mode}_3d", fn(F.pad, (1, 1, 0, 2, 1, 0), mode=_mode), lambda r: [rand(r, 1, 2, 3, 4, 3)])
case("pad_constant_value_negative", fn(F.pad, (1, -1, 2, 0), value=1.5), lambda r: [rand(r, 3, 4)])
case("ZeroPad2d", lambda: nn.ZeroPad2d((1, 0, 2, 1)), lambda r: [rand(r, 2, 3, 3, 3)])
case("ReflectionPad2d", lambda: nn.ReflectionPad2d(2), lambda r: [rand(r, 2, 3, 4, 4)])
case("ReplicationPad3d", lambda: nn.ReplicationPad3d(1), lambda r: [rand(r, 1, 2, 3, 3, 3)])
case("CircularPad1d", lambda: nn.CircularPad1d((2, 3)), lambda r: [rand(r, 2, 3, 4)])
case("ConstantPad1d", lambda: nn.ConstantPad1d(2, 3.5), lambda r: [rand(r, 2, 3, 4)])

# -- sampling
for _mode, _shape in [("nearest", (2, 3, 4, 5)), ("nearest-exact", (2, 3, 4, 5)), ("bilinear", (2, 3, 4, 5)),
                      ("bicubic", (2, 3, 4, 5)), ("linear", (2, 3, 5)), ("trilinear", (1, 2, 3, 4, 3)),
                      ("area", (2, 3, 6, 5))]:
    case(f"interpolate_{_mode}_size", fn(F.interpolate, size=tuple(s + 2 for s in _shape[2:]), mode=_mode),
         lambda r, s=_shape: [rand(r, *s)])
    if _mode in ("bilinear", "bicubic", "linear", "trilinear"):
        case(f"interpolate_{_mode}_align_scale", fn(F.interpolate, scale_factor=1.5, mode=_mode, align_corners=True),
             lambda r, s=_shape: [rand(r, *s)])
case("interpolate_bilinear_antialias", fn(F.interpolate, size=(2, 3), mode="bilinear", antialias=True),
     lambda r: [rand(r, 2, 3, 6, 7)])
case("interpolate_lanczos_antialias", fn(F.interpolate, size=(3, 4), mode="lanczos", antialias=True),
     lambda r: [rand(r, 1, 2, 7, 9)])
case("interpolate_uint8_bilinear", fn(F.interpolate, size=(5, 7), mode="bilinear", antialias=True),
     lambda r: [r.integers(0, 256, (1, 3, 8, 6)).astype(np.uint8)])
case("interpolate_nearest_3d", fn(F.interpolate, scale_factor=(2, 1, 0.5), mode="nearest"),
     lambda r: [rand(r, 1, 2, 3, 4, 6)])
case("Upsample", lambda: nn.Upsample(scale_factor=2, mode="nearest"), lambda r: [rand(r, 2, 3, 3, 3)])
case("UpsamplingBilinear2d", lambda: nn.UpsamplingBilinear2d(scale_factor=2), lambda r: [rand(r, 2, 3, 3, 3)])
for _mode in ("bilinear", "nearest", "bicubic"):
    for _pad in ("zeros", "border", "reflection"):
        case(f"grid_sample_{_mode}_{_pad}", fn(F.grid_sample, mode=_mode, padding_mode=_pad, align_corners=False),
             lambda r: [rand(r, 2, 3, 5, 4), rand(r, 2, 3, 6, 2) * 0.9])
case("grid_sample_3d", fn(F.grid_sample, align_corners=True),
     lambda r: [rand(r, 1, 2, 3, 4, 5), rand(r, 1, 2, 3, 2, 3)])
case("affine_grid", fn(F.affine_grid, (2, 3, 4, 5), align_corners=False), lambda r: [rand(r, 2, 2, 3)])
case("affine_grid_3d", fn(F.affine_grid, (1, 2, 3, 4, 2), align_corners=True), lambda r: [rand(r, 1, 3, 4)])
case("affine_grid_then_sample", lambda: (lambda x, th: F.grid_sample(x, F.affine_grid(th, x.shape, align_corners=False),
                                                                     align_corners=False)),
     lambda r: [rand(r, 2, 3, 5, 4), rand(r, 2, 2, 3) * 0.5])
case("FractionalMaxPool2d", lambda: nn.FractionalMaxPool2d(2, output_size=(3, 4)), lambda r: [rand(r, 2, 3, 6, 7)])
case("FractionalMaxPool3d_indices", lambda: nn.FractionalMaxPool3d(2, output_ratio=0.5, return_indices=True),
     lambda r: [rand(r, 1, 2, 5, 6, 4)])
case("PixelShuffle", lambda: nn.PixelShuffle(2), lambda r: [rand(r, 2, 8, 3, 3)])
case("PixelUnshuffle", lambda: nn.PixelUnshuffle(2), lambda r: [rand(r, 2, 2, 4, 6)])
case("ChannelShuffle", lambda: nn.ChannelShuffle(2), lambda r: [rand(r, 2, 6, 3, 3)])

# -- distances and misc
case("cosine_similarity", fn(F.cosine_similarity, dim=1), lambda r: [rand(r, 4, 5), rand(r, 4, 5)])
case("CosineSimilarity_broadcast", lambda: nn.CosineSimilarity(dim=-1), lambda r: [rand(r, 3, 1, 5), rand(r, 4, 5)])
case("pairwise_distance", fn(F.pairwise_distance), lambda r: [rand(r, 4, 5), rand(r, 4, 5)])
case("PairwiseDistance_p1_keepdim", lambda: nn.PairwiseDistance(p=1.0, keepdim=True),
     lambda r: [rand(r, 4, 5), rand(r, 4, 5)])
case("pdist", fn(F.pdist), lambda r: [rand(r, 5, 3)])
case("Fold", lambda: nn.Fold((4, 5), 2), lambda r: [rand(r, 2, 3 * 4, 12)])
case("Unfold", lambda: nn.Unfold(2, dilation=1, padding=1, stride=2), lambda r: [rand(r, 2, 3, 4, 5)])
case("linear_fn", lambda: (lambda x, w, b: F.linear(x, w, b)), lambda r: [rand(r, 3, 4), rand(r, 5, 4), rand(r, 5)])
case("bilinear_fn", lambda: (lambda a, b, w: F.bilinear(a, b, w)),
     lambda r: [rand(r, 3, 2), rand(r, 3, 4), rand(r, 5, 2, 4)])


def F_log_softmax_np(a, axis=-1):
    a = a - a.max(axis, keepdims=True)
    return (a - np.log(np.exp(a).sum(axis, keepdims=True))).astype(np.float32)


# ---------------------------------------------------------------------------------------------- running
def _run(c, device, dtype=None):
    ember.manual_seed(0)
    fn_ = c.make()
    if isinstance(fn_, nn.Module):
        fn_ = fn_.to(device, dtype) if dtype is not None else fn_.to(device)
    rng = np.random.default_rng(1234)
    inputs = [tuple(_to_tensor(b, device, dtype) for b in a) if isinstance(a, tuple) else _to_tensor(a, device, dtype)
              for a in c.inputs(rng)]
    outs = _flat(c.call(fn_, *inputs))
    if c.grad:
        diff = [o for o in outs if o.requires_grad and o.dtype.is_floating_point]
        if diff:  # the gradient of sum(output * w) for fixed random w
            weights = np.random.default_rng(99)
            ws = [ember.from_numpy(weights.standard_normal(tuple(o.shape)).astype(o.dtype.np)).to(device)
                  for o in diff]
            ember.autograd.backward(diff, ws)
    flat_inputs = _flat(inputs)
    grads = [t.grad for t in flat_inputs if t.requires_grad]
    params, buffers = {}, {}
    if isinstance(fn_, nn.Module):
        params = {k: p.grad for k, p in fn_.named_parameters()}
        buffers = dict(fn_.named_buffers())
    return outs, grads, params, buffers


def _host(t):
    return None if t is None else t.detach().cpu().numpy()


def _compare(cpu, gpu, c, what):
    assert (cpu is None) == (gpu is None), what
    if cpu is None:
        return
    assert gpu.device.type == "cuda", what
    assert cpu.dtype == gpu.dtype and cpu.shape == gpu.shape, what
    np.testing.assert_allclose(_host(gpu), _host(cpu), rtol=c.rtol, atol=c.atol, err_msg=what)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_nn_on_cuda_matches_cpu(c):
    cpu_out, cpu_grads, cpu_params, cpu_bufs = _run(c, "cpu")
    gpu_out, gpu_grads, gpu_params, gpu_bufs = _run(c, "cuda")
    assert len(cpu_out) == len(gpu_out)
    for k, (a, b) in enumerate(zip(cpu_out, gpu_out)):
        _compare(a, b, c, f"output {k}")
    assert len(cpu_grads) == len(gpu_grads)
    for k, (a, b) in enumerate(zip(cpu_grads, gpu_grads)):
        _compare(a, b, c, f"grad of input {k}")
    assert cpu_params.keys() == gpu_params.keys()
    for k in cpu_params:
        _compare(cpu_params[k], gpu_params[k], c, f"grad of {k}")
    assert cpu_bufs.keys() == gpu_bufs.keys()
    for k in cpu_bufs:
        _compare(cpu_bufs[k], gpu_bufs[k], c, f"buffer {k}")


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_nn_inference_on_cuda_matches_cpu(c):
    """The no-grad forward (inference fast paths) of every case."""
    with ember.no_grad():
        cpu_out = _run(c, "cpu")[0]
        gpu_out = _run(c, "cuda")[0]
    assert len(cpu_out) == len(gpu_out)
    for k, (a, b) in enumerate(zip(cpu_out, gpu_out)):
        _compare(a, b, c, f"output {k}")


DTYPE_CASES = [c for c in CASES if c.name in {
    "Linear", "GELU", "GELU_tanh", "SiLU", "Mish", "Softmax", "LogSoftmax", "ELU", "LeakyReLU", "Hardswish",
    "LayerNorm", "GroupNorm", "BatchNorm2d_train", "BatchNorm2d_eval", "RMSNorm", "InstanceNorm2d",
    "Embedding", "EmbeddingBag_mean", "LSTM", "GRU", "MultiheadAttention", "sdpa_causal", "CrossEntropyLoss",
    "CrossEntropyLoss_smoothing_weight", "NLLLoss", "MSELoss", "BCEWithLogitsLoss", "CTCLoss",
    "pad_reflect_2d", "pad_constant_2d", "interpolate_bilinear_size", "grid_sample_bilinear_zeros", "Dropout_eval"}]


@pytest.mark.parametrize("dtype", ["float64", "float16"])
@pytest.mark.parametrize("c", DTYPE_CASES, ids=lambda c: c.name)
def test_nn_other_dtypes_on_cuda_match_cpu(c, dtype):
    dt = getattr(ember, dtype)
    if dtype == "float16":  # a few float16 ulp: sums on the device may run in another order
        c = Case(c.name, c.make, c.inputs, c.call, rtol=4e-3, atol=2e-3, grad=c.grad)
    cpu = _run(c, "cpu", dt)
    gpu = _run(c, "cuda", dt)
    for (what, a_list), b_list in zip((("output", cpu[0]), ("input grad", cpu[1])), (gpu[0], gpu[1])):
        assert len(a_list) == len(b_list)
        for k, (a, b) in enumerate(zip(a_list, b_list)):
            _compare(a, b, c, f"{what} {k} ({dtype})")
    for k in cpu[2]:
        _compare(cpu[2][k], gpu[2][k], c, f"grad of {k} ({dtype})")


# ---------------------------------------------------------------------------------------------- random layers
def _cuda_ones(*shape):
    return ember.ones(*shape).to("cuda").requires_grad_(True)


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Dropout(0.3), (64, 32, 16)), (lambda: nn.Dropout1d(0.3), (64, 32, 16)),
    (lambda: nn.Dropout2d(0.3), (64, 32, 4, 4)), (lambda: nn.Dropout3d(0.3), (64, 32, 2, 2, 2)),
], ids=["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"])
def test_dropout_on_cuda_keeps_p_and_scales(make, shape):
    ember.manual_seed(0)
    x = _cuda_ones(*shape)
    y = make().to("cuda")(x)
    assert y.device.type == "cuda"
    values = np.unique(np.round(_host(y), 5))
    np.testing.assert_allclose(values, [0.0, round(1 / 0.7, 5)], rtol=1e-5)
    kept = (_host(y) != 0).mean()
    assert abs(kept - 0.7) < 0.03
    y.sum().backward()
    assert x.grad.device.type == "cuda"
    np.testing.assert_allclose(_host(x.grad), _host(y))  # the gradient is the mask times the scale


def test_alpha_dropout_on_cuda_keeps_mean_and_variance():
    ember.manual_seed(0)
    x = ember.randn(200, 500).to("cuda")
    y = nn.AlphaDropout(0.2)(x)
    assert y.device.type == "cuda"
    h = _host(y)
    assert abs(h.mean()) < 0.03 and abs(h.std() - 1) < 0.03


def test_rrelu_train_on_cuda_slopes_in_range():
    ember.manual_seed(0)
    x = (-ember.ones(50, 40)).to("cuda").requires_grad_(True)
    y = nn.RReLU(0.1, 0.3)(x)
    assert y.device.type == "cuda"
    slopes = -_host(y)
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(_host(x.grad), slopes, rtol=1e-6)


def test_gumbel_softmax_on_cuda_is_a_distribution():
    ember.manual_seed(0)
    logits = ember.randn(20, 6).to("cuda").requires_grad_(True)
    y = F.gumbel_softmax(logits, tau=0.5)
    assert y.device.type == "cuda"
    np.testing.assert_allclose(_host(y).sum(-1), np.ones(20), rtol=1e-5)
    (y * ember.arange(6.0).to("cuda")).sum().backward()
    assert logits.grad.device.type == "cuda"


def test_training_step_of_a_recurrent_model_on_cuda_matches_cpu():
    def losses(device):
        ember.manual_seed(0)
        emb, lstm, head = nn.Embedding(20, 6), nn.LSTM(6, 8, batch_first=True), nn.Linear(8, 20)
        model = nn.ModuleList([emb, lstm, head]).to(device)
        opt = ember.optim.Adam(model.parameters(), lr=0.01)
        rng = np.random.default_rng(0)
        x = ember.from_numpy(rng.integers(0, 20, (4, 7))).to(device)
        out = []
        for _ in range(3):
            opt.zero_grad()
            h, _ = lstm(emb(x))
            loss = F.cross_entropy(head(h).reshape(-1, 20), x.reshape(-1))
            loss.backward()
            opt.step()
            out.append(loss.item())
        return out
    np.testing.assert_allclose(losses("cuda"), losses("cpu"), rtol=1e-4)


# ---------------------------------------------------------------------------------------------- construction
@pytest.mark.parametrize("make, shape", [
    (lambda d: nn.Linear(3, 4, device=d), (2, 3)),
    (lambda d: nn.Bilinear(3, 3, 2, device=d), None),
    (lambda d: nn.LayerNorm(3, device=d), (2, 3)),
    (lambda d: nn.GroupNorm(1, 3, device=d), (2, 3, 4)),
    (lambda d: nn.BatchNorm1d(3, device=d), (4, 3)),
    (lambda d: nn.RMSNorm(3, device=d), (2, 3)),
    (lambda d: nn.PReLU(device=d), (2, 3)),
    (lambda d: nn.Embedding(5, 3, device=d), "indices"),
    (lambda d: nn.LSTM(3, 4, device=d), (5, 2, 3)),
    (lambda d: nn.GRUCell(3, 4, device=d), (2, 3)),
    (lambda d: nn.MultiheadAttention(4, 2, device=d), (3, 2, 4)),
    (lambda d: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, device=d), (3, 2, 4)),
], ids=["Linear", "Bilinear", "LayerNorm", "GroupNorm", "BatchNorm1d", "RMSNorm", "PReLU", "Embedding", "LSTM",
        "GRUCell", "MultiheadAttention", "TransformerEncoderLayer"])
def test_modules_built_on_cuda_keep_everything_there(make, shape):
    m = make("cuda")
    assert {t.device.type for t in list(m.parameters()) + list(m.buffers())} == {"cuda"}
    if shape == "indices":
        inputs = [ember.tensor([[0, 4], [2, 1]], device="cuda")]
    elif shape is None:
        inputs = [ember.randn(2, 3, device="cuda"), ember.randn(2, 3, device="cuda")]
    else:
        inputs = [ember.randn(*shape, device="cuda")]
    if isinstance(m, nn.MultiheadAttention):
        inputs = inputs * 3
    out = _flat(m(*inputs))
    assert out and all(o.device.type == "cuda" for o in out)
    out[0].sum().backward()
    assert all(p.grad is None or p.grad.device.type == "cuda" for p in m.parameters())


def test_lazy_modules_materialize_on_the_device_of_their_parameters():
    m = nn.Sequential(nn.LazyLinear(4), nn.LazyBatchNorm1d()).to("cuda")
    y = m(ember.randn(5, 3, device="cuda"))
    assert y.device.type == "cuda" and m[0].weight.shape == (4, 3)
    assert {t.device.type for t in list(m.parameters()) + list(m.buffers())} == {"cuda"}


def test_state_dict_moves_between_cpu_and_cuda():
    ember.manual_seed(0)
    cpu = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    cpu(ember.randn(6, 3))  # running statistics that differ from their initial values
    gpu = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).to("cuda")
    gpu.load_state_dict(cpu.state_dict())
    for (k, a), (_, b) in zip(cpu.state_dict().items(), gpu.state_dict().items()):
        assert b.device.type == "cuda", k
        np.testing.assert_array_equal(_host(b), _host(a), err_msg=k)
    back = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    back.load_state_dict(gpu.state_dict())
    assert {t.device.type for t in back.state_dict().values()} == {"cpu"}
    x = ember.randn(2, 3)
    np.testing.assert_allclose(_host(gpu.eval()(x.to("cuda"))), _host(cpu.eval()(x)), rtol=1e-5)


def test_module_cuda_and_cpu_round_trip_keeps_parameter_objects():
    m = nn.Linear(3, 2)
    w = m.weight
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    m.cuda()
    assert m.weight is w and w.device.type == "cuda"
    m(ember.randn(4, 3, device="cuda")).sum().backward()
    opt.step()
    assert w.device.type == "cuda"
    m.cpu()
    assert w.device.type == "cpu" and w.grad.device.type == "cpu"


def test_embedding_from_pretrained_cuda_weights():
    w = ember.randn(6, 3).to("cuda")
    emb = nn.Embedding.from_pretrained(w, padding_idx=0)
    out = emb(ember.tensor([0, 5, 2], device="cuda"))
    assert out.device.type == "cuda"
    np.testing.assert_array_equal(_host(out), _host(w)[[0, 5, 2]])


# ---------------------------------------------------------------------------------------------- double backward
DOUBLE = [
    ("softmax", lambda x: F.softmax(x, -1)), ("log_softmax", lambda x: F.log_softmax(x, 1)),
    ("gelu", F.gelu), ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")), ("silu", F.silu),
    ("elu", F.elu), ("layer_norm", lambda x: F.layer_norm(x, (5,))), ("group_norm", lambda x: F.group_norm(x, 2)),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True)),
    ("batch_norm_eval", lambda x: F.batch_norm(x, ember.zeros(4, device=x.device) + 0.5,
                                               ember.ones(4, device=x.device) * 2, training=False)),
    ("rms_norm", lambda x: F.rms_norm(x, (5,))),
    ("cross_entropy", lambda x: F.cross_entropy(x, ember.tensor([1, 0, 3], device=x.device), label_smoothing=0.1)),
    ("cross_entropy_fast", lambda x: F.cross_entropy(x, ember.tensor([1, 0, 3], device=x.device))),
    ("nll", lambda x: F.nll_loss(x, ember.tensor([1, 0, 3], device=x.device))),
    ("mse", lambda x: F.mse_loss(x, x.detach() * 0.5)),
    ("sdpa_causal", lambda x: F.scaled_dot_product_attention(x[None], x[None], x[None], is_causal=True)),
    ("linear", lambda x: F.linear(x, x[:2] * 1.0)),
    ("lstm", lambda x: nn.LSTM(5, 3).to(x.device)(x)[0]), ("gru", lambda x: nn.GRU(5, 3).to(x.device)(x)[0]),
    ("mha", lambda x: nn.MultiheadAttention(5, 1).to(x.device)(x, x, x)[0]),
    ("embedding", lambda x: F.embedding(ember.tensor([[0, 2], [1, 1]], device=x.device), x[0])),
    ("pad_reflect", lambda x: F.pad(x, (2, 1), mode="reflect")),
    ("interpolate_bicubic", lambda x: F.interpolate(x[None], scale_factor=2, mode="bicubic")),
    ("grid_sample", lambda x: F.grid_sample(x[None], x[None, :, :, :2].tanh(), align_corners=False)),
]


@pytest.mark.parametrize("name, f", DOUBLE, ids=[d[0] for d in DOUBLE])
def test_double_backward_on_cuda_matches_cpu(name, f):
    def run(device):
        ember.manual_seed(0)
        rng = np.random.default_rng(5)
        x = ember.from_numpy(rand(rng, 3, 4, 5)).to(device).requires_grad_(True)
        if name in ("layer_norm", "rms_norm", "sdpa_causal"):
            x = ember.from_numpy(rand(rng, 3, 4, 5)).to(device).requires_grad_(True)
        elif name in ("cross_entropy", "cross_entropy_fast", "nll", "linear", "mse"):
            x = ember.from_numpy(rand(rng, 3, 5)).to(device).requires_grad_(True)
        out = f(x)
        w = ember.from_numpy(rng.standard_normal(tuple(out.shape)).astype(np.float32)).to(device)
        # the square term keeps the gradient a function of x for ops that are linear in it
        g, = ember.autograd.grad((out * w).sum() + (out * out * w).sum(), x, create_graph=True)
        v = ember.from_numpy(rng.standard_normal(tuple(g.shape)).astype(np.float32)).to(device)
        gg, = ember.autograd.grad((g * v).sum(), x)
        return g, gg
    (g_cpu, gg_cpu), (g_gpu, gg_gpu) = run("cpu"), run("cuda")
    for a, b in ((g_cpu, g_gpu), (gg_cpu, gg_gpu)):
        assert b.device.type == "cuda"
        np.testing.assert_allclose(_host(b), _host(a), rtol=1e-4, atol=1e-5)


def test_training_steps_of_a_small_transformer_on_cuda_match_cpu():
    def losses(device):
        ember.manual_seed(0)
        emb = nn.Embedding(32, 16)
        block = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True, norm_first=True,
                                           activation="gelu")
        head = nn.Linear(16, 32)
        model = nn.ModuleList([emb, block, head]).to(device)
        opt = ember.optim.AdamW(model.parameters(), lr=0.01)
        x = ember.from_numpy(np.random.default_rng(0).integers(0, 32, (4, 10))).to(device)
        mask = nn.Transformer.generate_square_subsequent_mask(10, device=device)
        out = []
        for _ in range(3):
            opt.zero_grad()
            h = block(emb(x), src_mask=mask, is_causal=True)
            loss = F.cross_entropy(head(h)[:, :-1].reshape(-1, 32), x[:, 1:].reshape(-1), label_smoothing=0.1)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            out.append(loss.item())
        return out
    np.testing.assert_allclose(losses("cuda"), losses("cpu"), rtol=1e-4)
