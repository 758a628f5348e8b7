"""The functional API, ``import nnscratch.functional as F``: every differentiable operation as a
function of tensors.

- ``ops``: arithmetic, elementwise math, reductions, shapes, indexing, comparisons
- ``activations``: step, sigmoid, tanh, ReLU, leaky ReLU, softmax, log-softmax
- ``losses``: the seeds' sum_squares_error / cross_entropy_error and PyTorch's losses
- ``layers``: linear, dropout, batch/layer normalisation, embedding

Importing this package also gives ``Tensor`` its operators and methods (``a + b``, ``x.sum()``).
"""

import numpy as np

from ..tensor import Tensor
from .activations import (identity, leaky_relu, log_softmax, logsigmoid, relu, sigmoid, softmax,
                          softplus, step_function, tanh)
from .conv import conv2d, conv_transpose2d
from .layers import batch_norm, dropout, embedding, layer_norm, linear
from .pooling import adaptive_avg_pool2d, avg_pool2d, dropout2d, max_pool2d
from .recurrent import gru, gru_cell, lstm, lstm_cell, rnn, rnn_cell
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     cross_entropy_error, huber_loss, l1_loss, l1_penalty, l2_penalty, mse_loss,
                     nll_loss, sum_squares_error)
from .ops import (abs, add, as_tensor, astype, broadcast_to, cat, clamp, clip, concat, div, eq, exp,
                  flatten, ge, getitem, gt, le, log, lt, matmul, max, maximum, mean, min, minimum, mul,
                  ne, neg, permute, pow, reshape, split, sqrt, squeeze, stack, sub, sum, sum_to,
                  swapaxes, transpose, unsqueeze, var, where)


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
    T.__pow__ = pow
    T.__rpow__ = lambda self, other: pow(as_tensor(other, like=self), self)
    T.__neg__ = neg
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__getitem__ = getitem
    T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__, T.__ge__ = eq, ne, lt, le, gt, ge
    for f in (exp, log, sqrt, abs, clip, maximum, minimum, sum, mean, max, min, var,
              reshape, permute, transpose, swapaxes, flatten, squeeze, unsqueeze, broadcast_to,
              sum_to, astype, sigmoid, tanh, relu, softmax, log_softmax, split):
        setattr(T, f.__name__, f)
    T.clamp = clip
    T.view = reshape
    T.float = lambda self: astype(self, np.float32)
    T.double = lambda self: astype(self, np.float64)


_install_tensor_methods()
