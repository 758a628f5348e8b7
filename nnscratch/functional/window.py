"""Where sliding windows fall: the geometry that convolution and pooling share.

Along one spatial axis of ``size`` positions, padded by ``p`` before (and some amount after),
window o of a kernel of ``k`` taps with stride ``s`` and dilation ``d`` covers the padded
positions

    o·s + a·d        for the kernel offsets a = 0 .. k - 1,

so it spans d·(k - 1) + 1 positions, and there are (PyTorch's formula)

    out = floor((size + p + p_after - d·(k - 1) - 1) / s) + 1        (ceil with ceil_mode)

windows. With ceil_mode the last window must still start inside the input or the padding
before it. Seen from one kernel offset a, the windows 0 .. out - 1 read the strided slice
``a·d : a·d + (out - 1)·s + 1 : s`` of the padded axis: convolution and pooling both compute by
looping over kernel offsets and working on such slices of whole arrays.
"""

from .ops import pair


class WindowAxis:
    """How the windows fall along one spatial axis (see the module docstring).

    ``size``: the input's length; ``k``, ``s``, ``d``: kernel size, stride, dilation; ``p``: the
    padding before the input. ``padding_after``: the padding after it; None (pooling) means just
    what the last window needs (``hi``, possibly less than ``p`` in floor mode, more with
    ``ceil_mode``). ``out``: the number of windows, computed unless given (a transposed
    convolution knows it). ``length`` is the padded length, p + size + hi.
    """

    __slots__ = ("size", "k", "s", "p", "d", "out", "hi", "length")

    def __init__(self, size, kernel, stride=1, padding=0, dilation=1, ceil_mode=False, *, padding_after=None,
                 out=None):
        self.size, self.k, self.s, self.p, self.d = size, kernel, stride, padding, dilation
        after = padding if padding_after is None else padding_after
        if out is None:
            out = (size + padding + after - self.span + (stride - 1 if ceil_mode else 0)) // stride + 1
            if ceil_mode and (out - 1) * stride >= size + padding:  # the last window would start in the padding
                out -= 1
        self.out = out
        self.hi = max(0, (out - 1) * stride + self.span - size - padding) if padding_after is None else padding_after
        self.length = padding + size + self.hi

    @property
    def span(self):
        """The positions one window covers: d·(k - 1) + 1 (the effective kernel size)."""
        return self.d * (self.k - 1) + 1

    def offset(self, a):
        """The padded positions seen at kernel offset a by windows 0 .. out - 1 (a strided slice)."""
        start = a * self.d
        return slice(start, start + (self.out - 1) * self.s + 1, self.s)

    @property
    def disjoint(self):
        """No two windows share an input position (stride >= the span)."""
        return self.s >= self.span

    @property
    def padded(self):
        return self.p > 0 or self.hi > 0

    @property
    def exact(self):
        """The windows tile the input exactly: every position is in exactly one window."""
        return self.disjoint and not self.padded and self.out * self.s == self.size and self.s == self.k


def same_padding(kernel, dilation):
    """Padding (before, after) per axis that keeps a stride-1 output as large as its input (``'same'``):
    d·(k - 1) in all, the odd one after (at the bottom / right), as PyTorch does."""
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def conv_padding(padding, kernel, stride, dilation, name):
    """((top, bottom), (left, right)) for a convolution's ``padding``: an int, a (height, width)
    pair, ``'valid'`` (none) or ``'same'`` (see ``same_padding``; stride 1 only)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if tuple(stride) != (1, 1):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride={stride}")
            return same_padding(kernel, dilation)
        raise ValueError(f"{name}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = pair(padding, f"{name}: padding")
    if min(ph, pw) < 0:
        raise ValueError(f"{name}: padding must be non-negative, got {padding!r}")
    return (ph, ph), (pw, pw)


def transposed_size(size, kernel, stride=1, padding=0, dilation=1, output_padding=0):
    """The output length of a transposed convolution, the input length of the convolution it
    is the gradient of: (size - 1)·s - 2·p + d·(k - 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
