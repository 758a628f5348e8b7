"""Recurrent layers with PyTorch's names, shapes and parameters: RNNCell, LSTMCell, GRUCell, RNN,
LSTM, GRU, and SequenceClassifier (an RNN over the rows of an image, then a Linear).

Parameters are named and shaped exactly as in PyTorch (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``; gates stacked i, f, g, o for the LSTM and r, z, n
for the GRU), so ``state_dict()`` moves between nnscratch and torch both ways. Every weight and
bias starts as U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), PyTorch's default.

The equations are in ``nnscratch.functional.recurrent``.
"""

import math

import numpy as np

from .. import backend
from ..functional import recurrent as R
from ..tensor import ShapeError
from . import init
from .layers import Linear
from .module import apply_factory_arguments as _factory
from .module import Module, Parameter


def _param(*shape):
    return Parameter(np.zeros(shape, dtype=backend.get_default_dtype()))


def _reset_uniform(module):
    bound = 1 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class _CellBase(Module):
    def __init__(self, kind, input_size, hidden_size, bias, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self._kind = kind
        gh = R.KINDS[kind].gates * hidden_size
        self.weight_ih = _param(gh, input_size)
        self.weight_hh = _param(gh, hidden_size)
        self.register_parameter("bias_ih", _param(gh) if bias else None)
        self.register_parameter("bias_hh", _param(gh) if bias else None)
        self.reset_parameters()
        _factory(self, device, dtype)

    def reset_parameters(self):
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) (PyTorch's default)."""
        _reset_uniform(self)

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu).

    ``cell(x, h=None)`` with x (N, input_size) or unbatched (input_size,); h defaults to zeros.
    Parameters: weight_ih (H, I), weight_hh (H, H), bias_ih (H,), bias_hh (H,)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(R.rnn_kind(nonlinearity), input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return R.rnn_cell(input, hx, *self._weights(), nonlinearity=self.nonlinearity)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else ", nonlinearity='relu'")


class LSTMCell(_CellBase):
    """One LSTM step: i, f, o = σ(W_i· x + b_i· + W_h· h + b_h·), g = tanh(W_ig x + b_ig + W_hg h + b_hg),
    c' = f * c + i * g,  h' = o * tanh(c').

    ``cell(x, (h, c)=None)`` returns (h', c'). Parameters: weight_ih (4H, I), weight_hh (4H, H),
    bias_ih (4H,), bias_hh (4H,), gates stacked i, f, g, o."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("lstm", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return R.lstm_cell(input, hx, *self._weights())


class GRUCell(_CellBase):
    """One GRU step: r, z = σ(W_i· x + b_i· + W_h· h + b_h·), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h.

    ``cell(x, h=None)`` returns h'. Parameters: weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H,),
    bias_hh (3H,), gates stacked r, z, n."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("gru", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return R.gru_cell(input, hx, *self._weights())


class _RNNBase(Module):
    def __init__(self, kind, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self._kind = kind
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, dropout, bidirectional
        gh = R.KINDS[kind].gates * hidden_size
        directions = 2 if bidirectional else 1
        self._weight_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = [("weight_ih", (gh, layer_input)), ("weight_hh", (gh, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gh,)), ("bias_hh", (gh,))]
                for name, shape in shapes:
                    full = f"{name}_l{layer}{suffix}"
                    setattr(self, full, _param(*shape))
                    self._weight_names.append(full)
        self.reset_parameters()
        _factory(self, device, dtype)

    def reset_parameters(self):
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) (PyTorch's default)."""
        _reset_uniform(self)

    @property
    def _flat_weights(self):
        """The parameters in PyTorch's flat order: per layer, per direction, W_ih, W_hh[, b_ih, b_hh]."""
        return [getattr(self, name) for name in self._weight_names]

    @property
    def all_weights(self):
        """The parameters grouped as in PyTorch: one list [W_ih, W_hh(, b_ih, b_hh)] per layer and direction."""
        flat, per = self._flat_weights, 4 if self.bias else 2
        return [flat[k:k + per] for k in range(0, len(flat), per)]

    def forward(self, input, hx=None):
        return R.recurrent(self._kind, input, self._flat_weights, hx, self.num_layers, self.bidirectional,
                           self.batch_first, self.dropout, self.training)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


class RNN(_RNNBase):
    """Elman RNN over a sequence, each layer h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    (``nonlinearity='relu'``: relu).

    ``rnn(x, h0=None)`` with x (T, N, I) ((N, T, I) with batch_first, or unbatched (T, I)) and h0
    (num_layers·D, N, H) returns (output (T, N, D·H), h_n (num_layers·D, N, H)), D = 2 if
    bidirectional. ``dropout`` acts on the outputs of every layer but the last, in training."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__(R.rnn_kind(nonlinearity), input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Long short-term memory over a sequence, each layer and step:
    i = σ(W_ii x + b_ii + W_hi h + b_hi), f = σ(W_if x + b_if + W_hf h + b_hf),
    g = tanh(W_ig x + b_ig + W_hg h + b_hg), o = σ(W_io x + b_io + W_ho h + b_ho),
    c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t).

    ``lstm(x, (h0, c0)=None)`` returns (output, (h_n, c_n)), shapes as for ``RNN``; c_n has the
    shape of h_n. Parameters weight_ih_l{k}[_reverse] (4H, in), weight_hh_l{k} (4H, H),
    bias_ih_l{k}, bias_hh_l{k} (4H,), gates stacked i, f, g, o."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        if proj_size:
            raise NotImplementedError("LSTM: proj_size > 0 is not supported by nnscratch")
        super().__init__("lstm", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)


class GRU(_RNNBase):
    """Gated recurrent unit over a sequence, each layer and step:
    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h_t = (1 - z) * n + z * h_{t-1}.

    ``gru(x, h0=None)`` returns (output, h_n), shapes as for ``RNN``. Parameters (3H, ·), gates
    stacked r, z, n."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("gru", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)


_LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN, "rnn_tanh": RNN}


class SequenceClassifier(Module):
    """Classify a sequence from the last hidden state: logits = W h_T + b, with h_T the top layer's
    final state of an RNN / LSTM / GRU run over the steps (``cell``: 'lstm', 'gru' or 'rnn').

    Input: (N, T, input_size) sequences, or images (N, 1, rows, cols) read row by row (T = rows,
    input_size = cols; row-by-row MNIST is 28 steps of 28 pixels), or flat (N, T·input_size) rows
    such as ``load_mnist(flatten=True)`` images. With ``num_classes=1`` it is a regressor on the
    last state (examples/adding_problem.py uses it so).

    Row-by-row MNIST: ``SequenceClassifier(28, 128, 10)``, Adam lr 1e-3, batch 100, cross-entropy:
    98.1-98.6 % test accuracy after 6-12 epochs."""

    def __init__(self, input_size, hidden_size, num_classes, num_layers=1, cell="lstm", dropout=0.0):
        super().__init__()
        if cell not in _LAYERS:
            raise ValueError(f"cell must be 'lstm', 'gru' or 'rnn', got {cell!r}")
        self.input_size, self.cell = input_size, cell
        self.rnn = _LAYERS[cell](input_size, hidden_size, num_layers, batch_first=True, dropout=dropout)
        self.fc = Linear(hidden_size, num_classes)

    def forward(self, x):
        if x.ndim == 4 and x.shape[1] == 1:
            x = x.reshape(x.shape[0], x.shape[2], x.shape[3])
        elif x.ndim == 2 and x.shape[1] % self.input_size == 0:
            x = x.reshape(x.shape[0], -1, self.input_size)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ShapeError(f"SequenceClassifier(input_size={self.input_size}) expects (N, T, {self.input_size}) "
                             f"sequences, (N, 1, T, {self.input_size}) images or (N, T·{self.input_size}) rows, "
                             f"got shape {tuple(x.shape)}")
        _, state = self.rnn(x)
        h_n = state[0] if isinstance(state, tuple) else state
        return self.fc(h_n[-1])

    def extra_repr(self):
        return f"cell={self.cell!r}"
