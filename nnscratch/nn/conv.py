"""Convolution layers: Conv2d and ConvTranspose2d, with PyTorch's arguments, weight layouts and
default initialisation."""

import numpy as np

from .. import backend
from .. import functional as F
from ..functional.ops import pair as _pair
from ..functional.window import conv_padding
from . import init
from .module import apply_factory_arguments as _factory
from .module import Module, Parameter


def _empty(*shape):
    return Parameter(np.zeros(shape, dtype=backend.get_default_dtype()))


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: arguments, parameters, initialisation and repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 init_scheme, transposed, output_padding=(0, 0), padding_mode="zeros"):
        super().__init__()
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{type(self).__name__}: padding_mode must be 'zeros', 'reflect', 'replicate' or "
                             f"'circular', got {padding_mode!r}")
        if transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        self.padding_mode = padding_mode
        if (not isinstance(groups, (int, np.integer)) or groups < 1
                or in_channels % groups or out_channels % groups):
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        self.output_padding = output_padding
        # PyTorch's layouts: Conv2d (out, in / groups, kh, kw), ConvTranspose2d (in, out / groups, kh, kw)
        if transposed:
            weight_shape = (in_channels, out_channels // groups)
        else:
            weight_shape = (out_channels, in_channels // groups)
        self.weight = _empty(*weight_shape, *self.kernel_size)
        self.register_parameter("bias", _empty(out_channels) if bias else None)
        self.reset_parameters(init_scheme)

    def reset_parameters(self, scheme="default"):
        """Initialise again; 'default' is PyTorch's: W ~ U(±1/sqrt(fan_in)) (kaiming_uniform with
        a = sqrt(5)) and b ~ U(±1/sqrt(fan_in)), fan_in = weight.shape[1]·kh·kw (see nn.init)."""
        init.initialize(self.weight, self.bias, scheme)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) inputs: y = conv2d(x, W, b), W of shape
    (out_channels, in_channels / groups, kh, kw) and b of shape (out_channels,), as in PyTorch.

    Output size: OH = floor((H + 2·p - d·(kh - 1) - 1) / s) + 1, OW likewise. ``padding`` may be
    an int, a pair, 'valid' or 'same' (stride 1). ``init`` picks the initialisation: 'default'
    (PyTorch's), 'he', 'xavier', 'normal', a standard deviation or a function (see nn.init).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, *, init="default"):
        if isinstance(padding, str):  # an unknown name, or 'same' with a stride, fails here rather than in forward
            conv_padding(padding, _pair(kernel_size, "kernel_size"), _pair(stride, "stride"),
                         _pair(dilation, "dilation"), "Conv2d")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, init,
                         transposed=False, padding_mode=padding_mode)
        _factory(self, device, dtype)

    def _explicit_padding(self):
        """(left, right, top, bottom) for F.pad: the padding a non-'zeros' padding_mode adds itself."""
        rows, cols = conv_padding(self.padding, self.kernel_size, self.stride, self.dilation, "Conv2d")
        return cols + rows

    def forward(self, x):
        if self.padding_mode != "zeros":
            x = F.pad(x, self._explicit_padding(), mode=self.padding_mode)
            return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """2-d transposed convolution (the gradient of Conv2d with respect to its input; upsamples
    with stride > 1): W of shape (in_channels, out_channels / groups, kh, kw), as in PyTorch.

    Output size: H_out = (H - 1)·s - 2·p + d·(kh - 1) + output_padding + 1, W_out likewise.
    Arguments in PyTorch's order; ``init`` as for Conv2d (fan_in = out_channels / groups · kh·kw,
    from weight.shape[1], as PyTorch computes it).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None, *, init="default"):
        _pair(padding, "ConvTranspose2d: padding")  # no 'same' / 'valid' here (nor in PyTorch)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, init,
                         transposed=True, output_padding=_pair(output_padding, "output_padding"),
                         padding_mode=padding_mode)
        _factory(self, device, dtype)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)
