"""Activation functions: step, sigmoid, tanh, ReLU, leaky ReLU, softmax, log-softmax, identity."""

import numpy as np

from .. import backend
from ..tensor import Function, Tensor
from .ops import _pick, as_tensor, exp

def step_function(x):
    """1 where x > 0, else 0: the perceptron's activation. It has no useful gradient (zero
    almost everywhere), so its output does not require grad."""
    x = as_tensor(x)
    return Tensor._wrap((x.data > 0).astype(x.dtype if x.dtype.kind == "f" else backend.get_default_dtype()))


def identity(x):
    """y = x."""
    return as_tensor(x)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y). Stable for any x: where exp(-x) overflows to
    inf (x < -88 in float32) the result is 1 / inf = 0, the correctly rounded value."""

    def forward(self, x):
        y = np.negative(x, out=np.empty_like(x))
        with np.errstate(over="ignore"):
            np.exp(y, out=y)
        y += 1
        return np.reciprocal(y, out=y)

    def backward(self, gy):
        y = self.output()
        return gy * y * (1 - y)


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y²."""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.output()
        return gy * (1 - y * y)


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        return gy * (self.output().data > 0)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x;  dy/dx = 1 or slope."""

    def forward(self, x, slope):
        self.slope = slope
        return np.where(x > 0, x, x * x.dtype.type(slope))

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * np.where(x > 0, 1, self.slope).astype(x.dtype)


class Softmax(Function):
    """y_i = exp(x_i - max x) / Σ_j exp(x_j - max x);  dL/dx = y (g - Σ g y)."""

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, gy):
        y = self.output()
        return y * (gy - (gy * y).sum(self.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - logsumexp(x) with the max subtracted first;  dL/dx = g - softmax(x) Σ g."""

    def forward(self, x, axis):
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(self, gy):
        return gy - exp(self.output()) * gy.sum(self.axis, keepdims=True)


def sigmoid(x):
    """1 / (1 + e^-x), stable for any x."""
    return Sigmoid.apply(as_tensor(x))


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh.apply(as_tensor(x))


def relu(x):
    """max(x, 0)."""
    return ReLU.apply(as_tensor(x))


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    return LeakyReLU.apply(as_tensor(x), slope=negative_slope)


def softmax(x, axis=-1, *, dim=None):
    """exp(x) / Σ exp(x) along ``axis``, with the max subtracted first so exp cannot overflow."""
    return Softmax.apply(as_tensor(x), axis=_pick(axis, dim))


def log_softmax(x, axis=-1, *, dim=None):
    """log(softmax(x)) computed as x - logsumexp(x), exact even where softmax underflows to 0."""
    return LogSoftmax.apply(as_tensor(x), axis=_pick(axis, dim))


class Softplus(Function):
    """y = log(1 + e^x) (computed as logaddexp(0, x), no overflow);  dy/dx = sigmoid(x)."""

    def forward(self, x):
        return np.logaddexp(0, x)

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


def softplus(x):
    """log(1 + e^x), a smooth ReLU; softplus(-x) = -log(sigmoid(x))."""
    return Softplus.apply(as_tensor(x))


def logsigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), exact for large negative x."""
    return -softplus(-as_tensor(x))
