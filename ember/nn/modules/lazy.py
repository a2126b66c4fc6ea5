"""Lazy modules: convolutions and norms whose input size (channels / features) is taken from the first
input. Until then their parameters are ``UninitializedParameter``s; the first forward materialises them
with the default initialisation and the module becomes the plain class (``LazyConv2d`` -> ``Conv2d``),
as in torch. ``load_state_dict`` into an uninitialised lazy module takes the checkpoint's shapes."""
from ..parameter import UninitializedParameter, UninitializedBuffer, is_lazy
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class _LazyMixin:
    cls_to_become = None
    _spatial_dims = 0  # an input with spatial_dims + 1 dims is unbatched: its channels come first

    def has_uninitialized_params(self):
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in tensors if t is not None)

    def _channels_of(self, input):
        return input.shape[0] if input.dim() == self._spatial_dims + 1 else input.shape[1]

    def forward(self, input):
        if self.has_uninitialized_params():
            self.initialize_parameters(input)
        else:  # materialised by load_state_dict
            self._sizes_from_parameters()
        self.__class__ = self.cls_to_become
        return self.forward(input)


class _LazyConv(_LazyMixin):
    def _make_lazy(self, out_channels, bias, device, dtype):
        self.out_channels = out_channels
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        self.in_channels = self._channels_of(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups)
        else:
            shape = (self.out_channels, self.in_channels // self.groups)
        self.weight.materialize(shape + tuple(self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _sizes_from_parameters(self):
        w = self.weight.shape
        self.in_channels = w[0] if self.transposed else w[1] * self.groups


def _lazy_conv(base, transposed):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, *rest, bias=True, device=None, dtype=None,
                 **kwargs):
        if transposed:  # (output_padding, groups, bias, dilation, padding_mode) positionally, as in torch
            names = ["output_padding", "groups", "bias", "dilation", "padding_mode"]
        else:
            names = ["dilation", "groups", "bias", "padding_mode"]
        kwargs.update(zip(names, rest))
        bias = kwargs.pop("bias", bias)
        base.__init__(self, 0, 0, kernel_size, stride, padding, bias=False, device=device, dtype=dtype, **kwargs)
        self._make_lazy(out_channels, bias, device, dtype)

    name = "Lazy" + base.__name__
    return type(name, (_LazyConv, base), {"__init__": __init__, "cls_to_become": base,
                                          "_spatial_dims": base._nd, "__module__": __name__,
                                          "__doc__": f"{base.__name__} with ``in_channels`` from the first input."})


class _LazyNorm(_LazyMixin):
    def _make_lazy(self, affine, track_running_stats, device, dtype):
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        self.num_features = self._channels_of(input)
        for t in (self.weight, self.bias, self.running_mean, self.running_var):
            if t is not None and is_lazy(t):
                t.materialize((self.num_features,))
        self.reset_parameters()

    def _sizes_from_parameters(self):
        source = self.weight if self.weight is not None else self.running_mean
        if source is not None:
            self.num_features = source.shape[0]


def _lazy_norm(base, spatial_dims):
    # torch's lazy norms default to affine and tracked statistics, instance norms included
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        base.__init__(self, 0, eps, momentum, affine, track_running_stats, device=device, dtype=dtype)
        self._make_lazy(affine, track_running_stats, device, dtype)

    return type("Lazy" + base.__name__, (_LazyNorm, base),
                {"__init__": __init__, "cls_to_become": base, "_spatial_dims": spatial_dims, "__module__": __name__,
                 "__doc__": f"{base.__name__} with ``num_features`` from the first input."})


LazyConv1d = _lazy_conv(Conv1d, False)
LazyConv2d = _lazy_conv(Conv2d, False)
LazyConv3d = _lazy_conv(Conv3d, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, True)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, True)
# batch norms always have a batch dim (channels at 1); instance norms accept unbatched input
LazyBatchNorm1d = _lazy_norm(BatchNorm1d, -1)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, -1)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, -1)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, 1)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, 2)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, 3)
