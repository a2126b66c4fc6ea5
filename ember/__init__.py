"""ember: PyTorch's API on NumPy. ``import ember as torch`` and run PyTorch programs unchanged."""
__version__ = "0.1.0"

from . import _malloc  # noqa: F401  (allocator policy: reuse freed array buffers, as torch's allocator does)

from ._dtype import (dtype, float16, half, bfloat16, float32, float, float64, double, int8, int16, short, int32,
                     int, int64, long, uint8, bool, complex64, cfloat, complex128, cdouble, promote_types, can_cast,
                     set_default_dtype, get_default_dtype)
from ._device import device
from ._tensor import Tensor, Size
from . import autograd, cuda
from .autograd import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, \
    is_inference_mode_enabled
from . import _ops
from ._ops.elementwise import *  # noqa: F401,F403
from ._ops.reduction import *  # noqa: F401,F403
from ._ops.shape import *  # noqa: F401,F403
from ._ops.conversion import *  # noqa: F401,F403
from ._ops.blas import *  # noqa: F401,F403
from ._ops.creation import *  # noqa: F401,F403
from ._ops.random import *  # noqa: F401,F403
from ._ops.indexing import *  # noqa: F401,F403
from ._ops.misc import *  # noqa: F401,F403
from ._ops.extra import *  # noqa: F401,F403
from ._ops.scatter import *  # noqa: F401,F403
from ._ops.sorting import *  # noqa: F401,F403
from ._ops.linalg_ops import *  # noqa: F401,F403
from ._ops.complex import *  # noqa: F401,F403
from ._ops.function_forms import *  # noqa: F401,F403
from ._ops.spectral import *  # noqa: F401,F403
from ._ops.shape import infer_shape as _infer_shape  # noqa: F401
from ._ops.creation import range_ as range  # noqa: F401
from ._ops._util import broadcast_shapes  # noqa: F401
from ._tensor_str import set_printoptions  # noqa: F401
from ._threads import set_num_threads, get_num_threads, get_num_interop_threads, set_num_interop_threads  # noqa: F401
from . import linalg, special, fft, random  # noqa: F401,E402
from .special import i0, sinc, polygamma, mvlgamma  # noqa: F401,E402
from . import _dtype as _D

import math as _math  # noqa: E402
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None
strided = "torch.strided"
contiguous_format = preserve_format = channels_last = channels_last_3d = "torch.contiguous_format"


def result_type(tensor1, tensor2):
    """torch.result_type: the dtype an op on these operands produces."""
    def raw(x):
        return x._data if isinstance(x, Tensor) else x
    return _D.result_type_raw(raw(tensor1), raw(tensor2))


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


def typename(obj):
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


import builtins as _builtins  # noqa: E402
from . import nn  # noqa: E402,F401
from .nn._toplevel import *  # noqa: E402,F401,F403
from . import optim  # noqa: E402,F401
from . import utils  # noqa: E402,F401

from ._type_info import finfo, iinfo  # noqa: E402
from . import backends, testing  # noqa: E402,F401


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """ember runs eagerly: ``compile`` returns the model (or decorator target) unchanged."""
    if model is None:
        return lambda m: m
    return model


def set_float32_matmul_precision(precision):
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision {precision}")


def get_float32_matmul_precision():
    return "highest"


_deterministic = [False]


def use_deterministic_algorithms(mode, *, warn_only=False):
    _deterministic[0] = _builtins.bool(mode)  # ember's CPU ops are deterministic already


def are_deterministic_algorithms_enabled():
    return _deterministic[0]


from . import amp, cpu  # noqa: E402,F401
from .amp import autocast, is_autocast_enabled, get_autocast_dtype  # noqa: E402,F401


def _legacy_tensor_type(dt):
    class _Typed(Tensor):
        def __new__(cls, *args):
            if len(args) == 1 and not isinstance(args[0], _builtins.int):
                return tensor(args[0], dtype=dt)
            return zeros(*args, dtype=dt)
    _Typed.__name__ = _Typed.__qualname__ = _tensor_mod._LEGACY_NAMES[dt.name]
    return _Typed


from . import _tensor as _tensor_mod  # noqa: E402
FloatTensor = _legacy_tensor_type(float32)
DoubleTensor = _legacy_tensor_type(float64)
HalfTensor = _legacy_tensor_type(float16)
LongTensor = _legacy_tensor_type(int64)
IntTensor = _legacy_tensor_type(int32)
ByteTensor = _legacy_tensor_type(uint8)
BoolTensor = _legacy_tensor_type(bool)

# torch exposes many nn.functional ops at top level (torch.relu, torch.conv2d, ...): resolve them lazily
# so that importing ember does not import ember.nn.
_FUNCTIONAL_AT_TOP = {
    "relu", "relu_", "softmax", "log_softmax", "dropout", "dropout_", "alpha_dropout", "feature_alpha_dropout",
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
    "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "batch_norm",
    "layer_norm", "group_norm", "instance_norm", "rms_norm", "embedding", "embedding_bag", "cosine_similarity",
    "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle", "prelu", "selu", "selu_", "celu", "celu_",
    "rrelu", "rrelu_", "threshold", "threshold_", "hardshrink", "bilinear", "binary_cross_entropy_with_logits",
    "kl_div", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "poisson_nll_loss", "ctc_loss", "channel_shuffle", "native_layer_norm", "native_batch_norm",
}


_LAZY_SUBMODULES = {"distributions", "jit", "profiler", "func"}  # imported on first use: ``ember.distributions.Normal`` works as in torch


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    if name in _FUNCTIONAL_AT_TOP:
        from .nn import functional
        if hasattr(functional, name):
            return getattr(functional, name)
        if name.endswith("_") and hasattr(functional, name[:-1]):
            fn = getattr(functional, name[:-1])
            return lambda input, *args, **kwargs: input.copy_(fn(input, *args, **kwargs))
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
from .serialization import save, load  # noqa: E402,F401
from . import serialization  # noqa: E402,F401
