"""Activation functions as modules, for use in Sequential."""

from .. import functional as F
from .module import Module


class Step(Module):
    """y = 1 if x > 0 else 0: the perceptron's activation (no gradient)."""

    def forward(self, x):
        return F.step_function(x)


class Sigmoid(Module):
    """y = 1 / (1 + e^-x)."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope · x."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Softplus(Module):
    """y = log(1 + e^x)."""

    def forward(self, x):
        return F.softplus(x)


class Softmax(Module):
    """y = exp(x) / Σ exp(x) along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """y = log softmax(x) along ``dim``."""

    def forward(self, x):
        return F.log_softmax(x, self.dim)


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "step": Step,
               "softplus": Softplus}


def activation(name):
    """An activation module by name: relu, sigmoid, tanh, leaky_relu, softplus, step."""
    try:
        return ACTIVATIONS[name.lower().replace("-", "_")]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
