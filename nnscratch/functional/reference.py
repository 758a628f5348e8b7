"""Readable reference versions of the fast kernels: conv2d, max_pool2d and lstm_cell, written the
way one would write them from their formulas, with nothing but basic tensor operations (slicing,
products, sums, ``pad``, ``stack``, ``sigmoid``, ``tanh``), so autograd differentiates them.

Read these first. ``nnscratch.functional.conv``, ``pooling`` and ``recurrent`` compute the same
numbers with hand-written forward and backward passes (im2col and one matrix product, strided
slices over whole arrays, one Function per sequence) that are several times faster and much
longer. These versions are also the test oracle that needs no PyTorch: tests/nn/test_reference.py
checks the fast kernels' outputs and gradients against them (as DeZero keeps a ``*_simple``
version beside each of its fast convolution functions).

All three take PyTorch's argument conventions; inputs are batched (N, C, H, W) images and (N, I)
vectors.
"""

from .activations import sigmoid, tanh
from .layers import pad
from .ops import as_tensor, concat, pair, stack


def _out_size(size, kernel, stride, padding, dilation):
    """floor((size + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1: the number of windows."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _window_slice(offset, count, stride, dilation):
    """The positions kernel tap ``offset`` reads in windows 0 .. count - 1: offset·d, offset·d + s, ..."""
    start = offset * dilation
    return slice(start, start + (count - 1) * stride + 1, stride)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The 2-d convolution (cross-correlation) of x (N, C, H, W) with weight (O, C/groups, kh, kw):

        y[n, o, r, c] = b[o] + Σ_{ch, i, j} W[o, ch, i, j] · x_padded[n, ch, r·s + i·d, c·s + j·d]

    computed as written: for every kernel tap (i, j), the strided slice of the zero-padded input
    that the tap reads in all windows at once, times that tap's weights, summed over channels.
    With ``groups`` g, input channels and filters are split into g independent convolutions."""
    x, weight = as_tensor(x), as_tensor(weight)
    if groups > 1:
        xs, ws = x.chunk(groups, dim=1), weight.chunk(groups, dim=0)
        y = concat([conv2d(xg, wg, None, stride, padding, dilation) for xg, wg in zip(xs, ws)], axis=1)
        return y if bias is None else y + as_tensor(bias).reshape(1, -1, 1, 1)
    (sh, sw), (ph, pw), (dh, dw) = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    OH, OW = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    x_padded = pad(x, (pw, pw, ph, ph))
    y = 0
    for i in range(kh):
        for j in range(kw):
            patch = x_padded[:, :, _window_slice(i, OH, sh, dh), _window_slice(j, OW, sw, dw)]  # (N, C, OH, OW)
            w_ij = weight[:, :, i, j].reshape(1, O, C, 1, 1)
            y = y + (w_ij * patch.reshape(N, 1, C, OH, OW)).sum(axis=2)  # Σ over channels: (N, O, OH, OW)
    return y if bias is None else y + as_tensor(bias).reshape(1, O, 1, 1)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """y[n, c, r, q] = max over the window (i, j) of x_padded[n, c, r·s + i·d, q·s + j·d], the
    input padded with -inf: the kh·kw strided slices of the taps stacked on a new last axis, and the
    maximum over it. The gradient goes to each window's first maximum (in row-major tap order)."""
    x = as_tensor(x)
    (kh, kw) = pair(kernel_size, "kernel_size")
    (sh, sw) = (kh, kw) if stride is None else pair(stride, "stride")
    (ph, pw), (dh, dw) = pair(padding, "padding"), pair(dilation, "dilation")
    N, C, H, W = x.shape
    OH, OW = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    x_padded = pad(x, (pw, pw, ph, ph), value=float("-inf"))
    taps = [x_padded[:, :, _window_slice(i, OH, sh, dh), _window_slice(j, OW, sw, dw)]
            for i in range(kh) for j in range(kw)]
    return stack(taps, axis=-1).max(dim=-1).values


def lstm_cell(x, state, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step, gate by gate: with W_ih = [W_ii; W_if; W_ig; W_io] (4H, I), W_hh likewise,

        i = σ(W_ii x + b_ii + W_hi h + b_hi)        input gate
        f = σ(W_if x + b_if + W_hf h + b_hf)        forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)     candidate cell
        o = σ(W_io x + b_io + W_ho h + b_ho)        output gate
        c' = f * c + i * g,   h' = o * tanh(c')

    for x (N, I) and ``state`` = (h, c), each (N, H). Returns (h', c')."""
    x, h, c = as_tensor(x), as_tensor(state[0]), as_tensor(state[1])
    w_ih, w_hh = as_tensor(w_ih), as_tensor(w_hh)
    H = h.shape[1]

    def pre_activation(k):
        """W_k x + b_k + W_hk h + b_hk for gate k (0: i, 1: f, 2: g, 3: o): rows k·H .. (k+1)·H."""
        rows = slice(k * H, (k + 1) * H)
        a = x @ w_ih[rows].T + h @ w_hh[rows].T
        if b_ih is not None:
            a = a + as_tensor(b_ih)[rows] + as_tensor(b_hh)[rows]
        return a

    i = sigmoid(pre_activation(0))
    f = sigmoid(pre_activation(1))
    g = tanh(pre_activation(2))
    o = sigmoid(pre_activation(3))
    c_new = f * c + i * g
    h_new = o * tanh(c_new)
    return h_new, c_new
