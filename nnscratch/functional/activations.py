"""Activation functions: step, sigmoid, tanh, ReLU, leaky ReLU, softmax, log-softmax, identity,
softplus, GELU (with erf), ELU, SiLU, hardtanh and ReLU6."""

import numpy as np

from .. import backend
from ..tensor import Function, Tensor, is_grad_enabled
from . import compiled
from .ops import _pick, as_tensor, clip, exp, where

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
        y = compiled.relu(x)
        return np.maximum(x, 0) if y is None else y

    def backward(self, gy):
        if not is_grad_enabled():  # (with create_graph the gradient is built from Tensor ops)
            gx = compiled.relu_grad(gy.data, self.output().data)
            if gx is not None:
                return Tensor._wrap(gx)
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


def softplus(x, beta=1.0, threshold=20.0):
    """(1/β) log(1 + e^(βx)), a smooth ReLU; softplus(-x) = -log(sigmoid(x)). Where βx > threshold
    the result is x itself (as in PyTorch; the difference is below float precision there)."""
    x = as_tensor(x)
    y = Softplus.apply(x) if beta == 1 else Softplus.apply(x * beta) * (1 / beta)
    linear = x.data * beta > threshold
    return where(linear, x, y) if linear.any() else y


def logsigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), exact for large negative x."""
    return -softplus(-as_tensor(x))


# ----------------------------------------------------------------------------- erf, GELU, ELU, SiLU

def _erf_array(x):
    """erf(x) = 2/√π ∫_0^x e^(-t²) dt on an array, to the precision of its dtype.

    |x| <= 2.5: erf(x) = 2/√π · e^(-x²) · Σ_n x (2x²)^n / (1·3·5···(2n+1)) (Abramowitz & Stegun
    7.1.6; every term is positive, so nothing cancels). |x| > 2.5: erf(x) = 1 - erfc(x) with
    erfc(x) = e^(-x²) / √π · 1 / (x + ½ / (x + 1 / (x + (3/2) / (x + ...)))) (A&S 7.1.14, the
    continued fraction, evaluated from a fixed depth up). Computed in float64; 26 terms / depth 14
    reach float32's precision, 40 / 40 float64's (checked against math.erf in the tests).
    """
    double = x.dtype == np.float64
    terms, depth = (40, 40) if double else (26, 14)
    a = np.abs(x.astype(np.float64))
    out = np.empty_like(a)
    small = a <= 2.5
    s = a[small]
    s2 = s * s
    term, total = s.copy(), s.copy()
    for n in range(terms):
        term *= 2 * s2 / (2 * n + 3)
        total += term
    out[small] = 2 / np.sqrt(np.pi) * np.exp(-s2) * total
    big = a[~small]
    f = big.copy()
    for k in range(depth, 0, -1):
        f = big + (k / 2) / f
    with np.errstate(over="ignore", invalid="ignore"):
        out[~small] = 1 - np.exp(-big * big) / (np.sqrt(np.pi) * f)
    out[np.isinf(a)] = 1
    return (np.sign(x) * out).astype(x.dtype, copy=False)


class Erf(Function):
    """y = erf(x) = 2/√π ∫_0^x e^(-t²) dt;  dy/dx = 2/√π · e^(-x²)."""

    def forward(self, x):
        return _erf_array(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * (2 / np.sqrt(np.pi)) * exp(-(x * x))


def erf(x):
    """The error function erf(x) = 2/√π ∫_0^x e^(-t²) dt (Φ(x) = ½ (1 + erf(x / √2)) is the
    standard normal distribution function)."""
    return Erf.apply(as_tensor(x))


def gelu(x, approximate="none"):
    """Gaussian error linear unit, GELU(x) = x · Φ(x) = x · ½ (1 + erf(x / √2)), Φ the standard normal
    distribution function. ``approximate='tanh'``: x · ½ (1 + tanh(√(2/π) (x + 0.044715 x³))).
    dGELU/dx = Φ(x) + x φ(x), φ the normal density (autograd composes it from the terms)."""
    x = as_tensor(x)
    if approximate == "none":
        return x * (0.5 * (1 + erf(x * (1 / np.sqrt(2)))))
    if approximate == "tanh":
        inner = (x + 0.044715 * (x * x * x)) * np.sqrt(2 / np.pi)
        return x * (0.5 * (1 + tanh(inner)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


class ELU(Function):
    """y = x for x > 0, α (e^x - 1) otherwise;  dy/dx = 1 for x > 0, y + α otherwise."""

    def forward(self, x, alpha):
        self.alpha = alpha
        return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))

    def backward(self, gy):
        positive = self.inputs[0].data > 0
        return where(positive, gy, gy * (self.output() + self.alpha))


def elu(x, alpha=1.0):
    """Exponential linear unit: x for x > 0, alpha · (e^x - 1) otherwise (smooth at 0 for alpha = 1,
    negative outputs push the mean activation towards 0)."""
    return ELU.apply(as_tensor(x), alpha=alpha)


def silu(x):
    """Sigmoid linear unit (swish): x · sigmoid(x);  d/dx = σ(x) (1 + x (1 - σ(x)))."""
    x = as_tensor(x)
    return x * sigmoid(x)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """min(max(x, min_val), max_val): tanh's shape with straight lines; gradient 1 inside, 0 outside."""
    return clip(as_tensor(x), min_val, max_val)


def relu6(x):
    """min(max(x, 0), 6)."""
    return hardtanh(x, 0.0, 6.0)
