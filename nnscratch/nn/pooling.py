"""Pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, with PyTorch's arguments (see
``nnscratch.functional.pooling`` for how pooling is computed). BatchNorm2d and Dropout2d, which
lived here once, are in ``normalization`` and ``dropout`` and still importable from here."""

from .. import functional as F
from .dropout import Dropout2d  # noqa: F401  (its old home)
from .module import Module
from .normalization import BatchNorm2d  # noqa: F401  (its old home)


class MaxPool2d(Module):
    """y[n, c, i, j] = max over a, b of x_pad[n, c, i·s + a·d, j·s + b·d] (a, b over the kernel,
    s = stride, default kernel_size; d = dilation; x_pad padded with -inf). The gradient of each
    window goes to its first maximum. Note PyTorch's argument order: return_indices before ceil_mode."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """y[n, c, i, j] = Σ over the window of x_pad / D[i, j] (zero padding; D the window size, or
    its part inside the input with ``count_include_pad=False``, or ``divisor_override``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed (H_out, W_out): y[n, c, i, j] = mean of x[n, c, h_i : h_i', w_j : w_j']
    with h_i = floor(i·H / H_out), h_i' = ceil((i + 1)·H / H_out), likewise for columns.
    ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
