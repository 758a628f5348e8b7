"""Weight initialisation, in place, from the seedable generator (``nnscratch.manual_seed``).

fan_in / fan_out of a weight of shape (out, in, *kernel) are in·k and out·k, k = Π kernel.
Why scale matters: with std 1 the activations of a deep sigmoid network saturate, with 0.01 they
collapse towards 0; Xavier (std = sqrt(2 / (fan_in + fan_out))) keeps sigmoid/tanh activations
spread, He (std = sqrt(2 / fan_in)) does the same for ReLU.
"""

import math

import numpy as np

from .. import backend


def _fans(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan_in and fan_out need a weight with at least 2 axes, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The gain PyTorch recommends for a nonlinearity: 1 (linear, sigmoid), 5/3 (tanh),
    sqrt(2) (relu), sqrt(2 / (1 + slope²)) (leaky_relu)."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


def _fill(tensor, values):
    tensor.data[...] = values
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of U(a, b)."""
    return _fill(tensor, backend.generator().uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std²); the book's ``weight_init_std * randn`` is normal_(w, std=0.01)."""
    return _fill(tensor, backend.generator().normal(mean, std, tensor.shape))


def constant_(tensor, value):
    """Fill with ``value``."""
    return _fill(tensor, value)


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot/Xavier: U(-a, a) with a = gain · sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    """Glorot/Xavier: N(0, std²) with std = gain · sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan_in, fan_out = _fans(tensor)
    fan = {"fan_in": fan_in, "fan_out": fan_out}.get(mode)
    if fan is None:
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', not {mode!r}")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He/Kaiming: U(-b, b) with b = gain · sqrt(3 / fan)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He/Kaiming: N(0, std²) with std = gain / sqrt(fan) (sqrt(2 / fan_in) for ReLU)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def he_normal_(tensor):
    """He initialisation for ReLU networks: N(0, 2 / fan_in)."""
    return kaiming_normal_(tensor, nonlinearity="relu")


def he_uniform_(tensor):
    """He initialisation for ReLU networks: U(-b, b), b = sqrt(6 / fan_in)."""
    return kaiming_uniform_(tensor, nonlinearity="relu")


def default_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: weight ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    (kaiming_uniform_ with a = sqrt(5)), and the bias from the same range."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(_fans(weight)[0])
        uniform_(bias, -bound, bound)


_SCHEMES = {
    "he": he_normal_, "kaiming": he_normal_, "he_normal": he_normal_, "he_uniform": he_uniform_,
    "xavier": xavier_normal_, "glorot": xavier_normal_, "xavier_normal": xavier_normal_,
    "xavier_uniform": xavier_uniform_,
}


def initialize(weight, bias, scheme):
    """Initialise a layer's weight (and bias) by name: 'default' (PyTorch's), 'he' /
    'he_uniform', 'xavier' / 'xavier_uniform', 'normal' (std 0.01, the book's), a number
    (the book's weight_init_std: N(0, std²)), or a callable applied to the weight.
    All but 'default' set the bias to zero, as the book does."""
    if scheme in (None, "default"):
        return default_(weight, bias)
    if callable(scheme):
        scheme(weight)
    elif isinstance(scheme, (int, float)) and not isinstance(scheme, bool):
        normal_(weight, 0.0, float(scheme))
    elif scheme == "normal":
        normal_(weight, 0.0, 0.01)
    elif scheme in _SCHEMES:
        _SCHEMES[scheme](weight)
    else:
        raise ValueError(f"unknown initialisation {scheme!r}: use 'default', 'he', 'he_uniform', 'xavier', "
                         "'xavier_uniform', 'normal', a standard deviation, or a function")
    if bias is not None:
        zeros_(bias)
