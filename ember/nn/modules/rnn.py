"""Recurrent layers with torch's parameter names, shapes and initialisation: RNN, LSTM, GRU and cells.

Each layer and direction runs as one fused op (``functional._rnn_cells``) over time-major rows, so a
padded batch and a ``PackedSequence`` take the same path: only the per-step batch sizes differ.
"""
import math
import numbers
import warnings

import numpy as np

from ..._device import array_module
from ..._tensor import Tensor
from ..._ops.random import default_generator
from ..parameter import Parameter
from ..functional._rnn_cells import recurrent_layer, _cell
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _new_param(shape, factory_kwargs):
    import ember
    return Parameter(ember.empty(*shape, **factory_kwargs))


def _dropout_rows(x, p):
    """Inverted dropout between layers (element-wise, as torch)."""
    keep = default_generator._rng.random(x._data.shape, dtype=np.float32) >= p  # drawn on the host
    scale = (keep / (1.0 - p)).astype(x._data.dtype)
    return x * Tensor._wrap(array_module(x._data).asarray(scale))


class RNNBase(Module):
    """Base of RNN, LSTM and GRU: parameters ``weight_ih_l{k}[_reverse]`` etc., as torch."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        factory_kwargs = {"device": device, "dtype": dtype}
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                params = [_new_param((gate_size, layer_input_size), factory_kwargs),
                          _new_param((gate_size, real_hidden_size), factory_kwargs)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    params += [_new_param((gate_size,), factory_kwargs), _new_param((gate_size,), factory_kwargs)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    params.append(_new_param((proj_size, hidden_size), factory_kwargs))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, param in zip(names, params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        """No-op (cuDNN weight packing has no counterpart here)."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            weight.data.uniform_(-stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ------------------------------------------------------------------ forward
    def _layer_weights(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        d = self.__dict__["_parameters"]
        w_ih, w_hh = d[f"weight_ih_l{layer}{suffix}"], d[f"weight_hh_l{layer}{suffix}"]
        b_ih = d.get(f"bias_ih_l{layer}{suffix}")
        b_hh = d.get(f"bias_hh_l{layer}{suffix}")
        w_hr = d.get(f"weight_hr_l{layer}{suffix}")
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run(self, x, batch_sizes, h0, c0):
        """All layers over time-major rows ``x``; returns (rows, h_n, c_n) with h_n/c_n stacked."""
        from ... import cat, stack
        num_directions = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = _dropout_rows(x, self.dropout)
            outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, direction)
                res = recurrent_layer(x, h0[k], None if c0 is None else c0[k], w_ih, w_hh, b_ih, b_hh, w_hr,
                                      self.mode, batch_sizes, direction == 1)
                outs.append(res[0])
                hs.append(res[1])
                if c0 is not None:
                    cs.append(res[2])
            x = outs[0] if num_directions == 1 else cat(outs, 1)
        return x, stack(hs), (stack(cs) if c0 is not None else None)

    def _check_input(self, input, batch_sizes):
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    @staticmethod
    def _check_hidden(hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def _prepare(self, input, hx):
        """Normalise input to time-major rows; returns what forward needs to restore the layout."""
        import ember
        packed = isinstance(input, PackedSequence)
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if packed:
            x, bs_t, sorted_indices, unsorted_indices = input
            batch_sizes = bs_t._data.astype(np.int64)
            B = int(batch_sizes[0])
            T = None
            batched = True
        else:
            name = type(self).__name__
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
            batched = input.dim() == 3
            sorted_indices = unsorted_indices = None
            if not batched:
                input = input.unsqueeze(1)
                if hx is not None:
                    hx = _unsqueeze_hidden(hx, self.mode)
            elif hx is not None:
                _check_batched_hidden(hx, self.mode)
            if self.batch_first and batched:
                input = input.transpose(0, 1)
            T, B = input.shape[0], input.shape[1]
            x = input.reshape(T * B, input.shape[2])
            batch_sizes = np.full(T, B, dtype=np.int64)
        self._check_input(x, np.zeros(1))
        w_dtype = self.__dict__["_parameters"]["weight_ih_l0"].dtype
        if x.dtype != w_dtype and x.is_floating_point():
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype ({w_dtype}). Convert input: "
                             f"input.to({w_dtype}), or convert model: model.to({x.dtype})")
        L = self.num_layers * num_directions
        if hx is None:
            z = ember.zeros(L, B, real_hidden, dtype=x.dtype, device=x.device)
            h0 = z
            c0 = ember.zeros(L, B, self.hidden_size, dtype=x.dtype, device=x.device) if self.mode == "LSTM" else None
        else:
            if self.mode == "LSTM":
                h0, c0 = hx
                if sorted_indices is not None:
                    h0, c0 = h0.index_select(1, sorted_indices), c0.index_select(1, sorted_indices)
                self._check_hidden(h0, (L, B, real_hidden), "Expected hidden[0] size {}, got {}")
                self._check_hidden(c0, (L, B, self.hidden_size), "Expected hidden[1] size {}, got {}")
            else:
                h0, c0 = hx, None
                if sorted_indices is not None:
                    h0 = h0.index_select(1, sorted_indices)
                self._check_hidden(h0, (L, B, real_hidden))
        return x, batch_sizes, h0, c0, (packed, batched, T, B, unsorted_indices, sorted_indices)

    def forward(self, input, hx=None):
        x, batch_sizes, h0, c0, (packed, batched, T, B, unsorted, sorted_idx) = self._prepare(input, hx)
        y, hn, cn = self._run(x, batch_sizes, h0, c0)
        if packed:
            if unsorted is not None:
                hn = hn.index_select(1, unsorted)
                cn = cn.index_select(1, unsorted) if cn is not None else None
            out = PackedSequence(y, input.batch_sizes, sorted_idx, unsorted)
        else:
            out = y.reshape(T, B, y.shape[-1])
            if self.batch_first and batched:
                out = out.transpose(0, 1)
            if not batched:
                out = out.squeeze(1)
                hn = hn.squeeze(1)
                cn = cn.squeeze(1) if cn is not None else None
        return out, ((hn, cn) if self.mode == "LSTM" else hn)


def _unsqueeze_hidden(hx, mode):
    if mode == "LSTM":
        h, c = hx
        if h.dim() != 2 or c.dim() != 2:
            raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                               f"({h.dim()}-D, {c.dim()}-D) tensors")
        return h.unsqueeze(1), c.unsqueeze(1)
    if hx.dim() != 2:
        raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
    return hx.unsqueeze(1)


def _check_batched_hidden(hx, mode):
    if mode == "LSTM":
        h, c = hx
        if h.dim() != 3 or c.dim() != 3:
            raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                               f"({h.dim()}-D, {c.dim()}-D) tensors")
    elif hx.dim() != 3:
        raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")


class RNN(RNNBase):
    """Elman RNN, ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    >>> rnn = nn.RNN(10, 20, 2)
    >>> out, h = rnn(ember.randn(5, 3, 10))
    >>> out.shape, h.shape
    (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, torch's gates (i, f, g, o); ``proj_size`` projects h (LSTMP).

    >>> lstm = nn.LSTM(10, 20, 2, batch_first=True)
    >>> out, (h, c) = lstm(ember.randn(3, 5, 10))
    >>> out.shape
    torch.Size([3, 5, 20])
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, torch's gates (r, z, n) with ``b_hn`` inside the reset product.

    >>> gru = nn.GRU(10, 20)
    >>> out, h = gru(ember.randn(5, 3, 10))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        factory_kwargs = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _new_param((num_chunks * hidden_size, input_size), factory_kwargs)
        self.weight_hh = _new_param((num_chunks * hidden_size, hidden_size), factory_kwargs)
        if bias:
            self.bias_ih = _new_param((num_chunks * hidden_size,), factory_kwargs)
            self.bias_hh = _new_param((num_chunks * hidden_size,), factory_kwargs)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            weight.data.uniform_(-stdv, stdv)

    def _check(self, input):
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.size(-1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(-1)} expected {self.input_size}")

    def _zeros(self, input):
        import ember
        shape = (input.size(0), self.hidden_size) if input.dim() == 2 else (self.hidden_size,)
        return ember.zeros(*shape, dtype=input.dtype, device=input.device)


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check(input)
        if hx is None:
            hx = self._zeros(input)
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return _cell(mode, input, hx, None, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; ``hx = (h, c)``, returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        self._check(input)
        if hx is None:
            z = self._zeros(input)
            hx = (z, z)
        return _cell("LSTM", input, hx[0], hx[1], self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        self._check(input)
        if hx is None:
            hx = self._zeros(input)
        return _cell("GRU", input, hx, None, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)[0]
