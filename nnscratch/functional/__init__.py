"""The functional API, ``import nnscratch.functional as F``: every differentiable operation as a
function of tensors.

- ``ops``: arithmetic, elementwise math, reductions, shapes, indexing, comparisons
- ``activations``: step, sigmoid, tanh, ReLU, leaky ReLU, softmax, log-softmax, GELU, ELU, SiLU
- ``losses``: *Deep Learning from Scratch*'s sum_squares_error / cross_entropy_error and PyTorch's losses
- ``layers``: linear, dropout, batch/layer/group normalisation, embedding, pad, one_hot, attention
- ``conv``: conv2d, conv_transpose2d (im2col); ``pooling``: max/average/adaptive pooling, channel
  dropout, interpolate; ``window``: the window geometry (output sizes, padding) that both share
- ``recurrent``: RNN, LSTM, GRU over sequences and as cells
- ``reference``: readable op-by-op conv2d, max_pool2d and lstm_cell, the reading path to the fast
  kernels above and the oracle their tests compare with

``nnscratch.nn.functional`` is the same set of operations with PyTorch's exact signatures.

Importing this package also gives ``Tensor`` its operators and methods (``a + b``, ``x.sum()``).
"""

import numpy as np

from ..tensor import Tensor
from .activations import (elu, erf, gelu, hardtanh, identity, leaky_relu, log_softmax, logsigmoid, relu,
                          relu6, sigmoid, silu, softmax, softplus, step_function, tanh)
from . import reference
from .conv import conv2d, conv_transpose2d
from .layers import (attention, batch_norm, cosine_similarity, dropout, embedding, group_norm, layer_norm,
                     linear, normalize, one_hot, pad, scaled_dot_product_attention)
from .pooling import adaptive_avg_pool2d, avg_pool2d, dropout2d, interpolate, max_pool2d
from .recurrent import gru, gru_cell, lstm, lstm_cell, rnn, rnn_cell
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     cross_entropy_error, huber_loss, kl_div, l1_loss, l1_penalty, l2_penalty, mse_loss,
                     nll_loss, smooth_l1_loss, sum_squares_error)
from .ops import (abs, add, all, allclose, amax, amin, any, argmax, argmin, argsort, as_tensor, astype, bmm,
                  broadcast_to, cat, chunk, clamp, clip, clone, concat, cos, cumsum, div, einsum, eq, equal, exp,
                  expand, flatten, floor_divide, gather, ge, getitem, gt, isfinite, isinf, isnan, le, log,
                  logical_and, logical_not, logical_or, logical_xor, lt, masked_fill, matmul, max, maximum, mean,
                  min, minimum, mm, mul, ne, neg, norm, permute, pow, remainder, repeat, reshape, return_types,
                  sin, sort, split, sqrt, square, squeeze, stack, std, sub, sum, sum_to, swapaxes, t, topk,
                  transpose, unsqueeze, var, where)


def _install_tensor_methods():
    T = Tensor
    T.__add__ = add
    T.__radd__ = lambda self, other: add(other, self)
    T.__sub__ = sub
    T.__rsub__ = lambda self, other: sub(other, self)
    T.__mul__ = mul
    T.__rmul__ = lambda self, other: mul(other, self)
    T.__truediv__ = div
    T.__rtruediv__ = lambda self, other: div(other, self)
    T.__floordiv__ = floor_divide
    T.__rfloordiv__ = lambda self, other: floor_divide(other, self)
    T.__mod__ = remainder
    T.__rmod__ = lambda self, other: remainder(other, self)
    T.__pow__ = pow
    T.__rpow__ = lambda self, other: pow(as_tensor(other, like=self), self)
    T.__neg__ = neg
    T.__abs__ = abs
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__getitem__ = getitem
    T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__, T.__ge__ = eq, ne, lt, le, gt, ge
    T.__and__, T.__or__, T.__xor__, T.__invert__ = logical_and, logical_or, logical_xor, logical_not
    T.__rand__, T.__ror__, T.__rxor__ = logical_and, logical_or, logical_xor
    for f in (exp, log, sqrt, abs, clip, maximum, minimum, sum, mean, max, min, amax, amin, argmax, argmin,
              var, std, norm, reshape, permute, transpose, swapaxes, flatten, squeeze, unsqueeze, broadcast_to,
              sum_to, astype, sigmoid, tanh, relu, softmax, log_softmax, split, chunk, gather, expand, repeat,
              masked_fill, matmul, mm, bmm, t, clone, sin, cos, square, cumsum, sort, argsort, topk, all, any,
              add, sub, mul, div, pow, neg, isnan, isinf, isfinite, allclose, equal,
              floor_divide, remainder, logical_and, logical_or, logical_xor, logical_not):
        setattr(T, f.__name__, f)
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = eq, ne, lt, le, gt, ge
    T.clamp = clip
    T.view = reshape
    T.multiply, T.subtract, T.divide, T.true_divide = mul, sub, div, div
    T.absolute, T.negative = abs, neg
    T.greater, T.greater_equal, T.less, T.less_equal, T.not_equal = gt, ge, lt, le, ne
    T.view_as = lambda self, other: reshape(self, other.shape)
    T.reshape_as = T.view_as
    T.expand_as = lambda self, other: expand(self, other.shape)


_install_tensor_methods()
