"""2-d convolution and transposed convolution, by im2col and one matrix product.

Shapes are PyTorch's. conv2d: input (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,),
output (N, O, OH, OW) with

    OH = floor((H + 2·p - d·(kh - 1) - 1) / s) + 1        (OW likewise from W, kw)

for stride s, zero padding p and dilation d (the window geometry, shared with pooling, is in
``window``):  y[n, o, r, c] = b[o] + Σ_{ch, i, j} W[o, ch, i, j] · x_padded[n, ch, r·s + i·d, c·s + j·d]
(ch over o's group).

With numba installed, stride-1 convolutions of one group take a faster path with the same
numbers: a direct convolution in compiled kernels (``conv_direct``, ``compiled``), or for 3x3
kernels with channels enough, Winograd's algorithm (``conv_winograd``).

For reading first: ``nnscratch.functional.reference.conv2d`` computes the same sum as it is
written, a loop over the kernel offsets (i, j) with basic tensor operations only, so that autograd
differentiates it; the fast kernel below gives the same numbers (tests/nn/test_reference.py checks
both passes against it).

How it is computed (the ``_im2col``, ``_apply_weights``, ``_weight_grad`` and ``_col2im`` below):

1. im2col.  A strided *view* of the zero-padded input (``as_strided``) lists, for every output
   pixel, the C·kh·kw values its window covers; copying it (one copy per kernel offset) gives
   the column matrix ``col`` of shape (C·kh·kw, N·OH·OW). With a bias, a row of ones is
   appended, so that the bias is one more column of the weight matrix.
2. forward:  y = [W | b] @ col, one matrix product (one per group, batched).
3. backward: dL/d[W | b] = dL/dy @ colᵀ, with the ``col`` saved by the forward pass (the bias
   gradient is its last column: the sum of dL/dy over images and pixels); and
   dL/dx = col2im(Wᵀ @ dL/dy): for each kernel offset (i, j), Wᵀ[:, :, i, j] @ dL/dy is added onto
   the input pixels that offset read. The input gradient is skipped when the input needs none
   (the first layer of a network: its input is the data).

The transposed convolution is the input gradient of a convolution, so conv_transpose2d uses the
same pieces the other way round: its forward is ``_col2im`` and its backward ``_im2col`` plus
``_apply_weights`` (dL/dx) and ``_weight_grad`` (dL/dW).

Layout, chosen by measuring (benchmarks/bench_conv.py): rows of ``col`` are (group, channel,
i, j), PyTorch's weight order, and columns (image, row, col), channels first ("CNHW"). Each
product is then one large matrix product whose result (O, N·OH·OW) becomes NCHW by one copy
of whole OH·OW planes (0.15 ms for 100x30x24x24), and dL/dy goes the other way for dL/dW.
(Measured alternatives: per-image batched products on NCHW columns avoid both copies but run
no faster on two threads; columns (N·OH·OW, C·kh·kw) make im2col 6x slower, their rows being
kw values long.) The input gradient is accumulated per kernel offset: with stride 1 in flat
padded coordinates, where offset (i, j) is one constant shift of the flat index, so that each
addition runs over long contiguous rows (7x faster than adding OW-long pieces); the products
there are (C x O) @ (O x N·Hp·Wp), so the full Wᵀ @ dL/dy matrix is never stored.

Memory: ``col`` is large (45 MB for 16 channels, 3x3, 28x28, batch 100) and is made afresh at
every step. That is cheap only when malloc keeps freed memory in the process
(``nnscratch.backend.keep_freed_memory()``, done at the first backward()); without it each
new ``col`` is page-faulted in again, measured 27 ms instead of 16 ms for that layer's step.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..backend import give_arrays
from ..tensor import Function, ShapeError, Tensor, is_grad_enabled
from . import conv_direct, conv_winograd
from .ops import as_tensor
from .ops import pair as _pair
from .window import WindowAxis, conv_padding, transposed_size

# ----------------------------------------------------------------------------- helpers


def _view(array, shape):
    """``array`` reshaped without copying (an error, not a silent copy, if that is impossible)."""
    return np.reshape(array, shape, copy=False)


# ----------------------------------------------------------------------------- geometry


class _Geometry:
    """Where the windows of a convolution lie, for an input (N, C, H, W) and weight
    (O, C/groups, kh, kw): one ``WindowAxis`` per spatial axis (``rows``, ``cols``), and their
    numbers under short names: stride, dilation, padding (top, bottom, left, right), the padded
    size (Hp, Wp) and the output size (OH, OW)."""

    def __init__(self, x_shape, w_shape, stride, padding, dilation, groups, output_size=None):
        self.N, self.C, self.H, self.W = x_shape
        self.O, self.Cg, self.kh, self.kw = w_shape
        self.g = groups
        self.Og = self.O // groups
        (self.sh, self.sw), (self.dh, self.dw) = stride, dilation
        self.pt, self.pb, self.pl, self.pr = padding
        # conv_transpose2d gives output_size: rows added by output_padding are read by no window
        oh, ow = (None, None) if output_size is None else output_size
        self.rows = WindowAxis(self.H, self.kh, self.sh, self.pt, self.dh, padding_after=self.pb, out=oh)
        self.cols = WindowAxis(self.W, self.kw, self.sw, self.pl, self.dw, padding_after=self.pr, out=ow)
        self.Hp, self.Wp = self.rows.length, self.cols.length
        self.OH, self.OW = self.rows.out, self.cols.out
        self.Kg = self.Cg * self.kh * self.kw  # rows of col per group (without the ones row)
        self.L = self.N * self.OH * self.OW  # columns of col


# ----------------------------------------------------------------------------- the computation


def _pad(x, geo):
    """x zero-padded to (N, C, Hp, Wp) (x itself when there is no padding)."""
    if geo.Hp == geo.H and geo.Wp == geo.W:
        return x
    xp = np.empty((geo.N, geo.C, geo.Hp, geo.Wp), x.dtype)
    H, W, pt, pl = geo.H, geo.W, geo.pt, geo.pl
    xp[:, :, :pt] = 0
    xp[:, :, pt + H:] = 0
    xp[:, :, pt:pt + H, :pl] = 0
    xp[:, :, pt:pt + H, pl + W:] = 0
    xp[:, :, pt:pt + H, pl:pl + W] = x
    return xp


def _im2col(x, geo, ones_row):
    """The column matrix of x, shape (groups, C/groups·kh·kw [+ 1], N·OH·OW):
    col[g, (ch, i, j), (n, r, c)] = x_padded[n, g·C/groups + ch, r·s + i·d, c·s + j·d],
    plus a last row of ones per group when ``ones_row`` (for the bias)."""
    g, Cg, kh, kw = geo.g, geo.Cg, geo.kh, geo.kw
    xp = _pad(x, geo)
    sn, sc, sh, sw = xp.strides
    windows = as_strided(xp, shape=(g, Cg, kh, kw, geo.N, geo.OH, geo.OW),
                         strides=(Cg * sc, sc, geo.dh * sh, geo.dw * sw, sn, geo.sh * sh, geo.sw * sw),
                         writeable=False)
    col = np.empty((g, geo.Kg + ones_row, geo.L), x.dtype)
    rows = _view(col[:, :geo.Kg], windows.shape)
    for i in range(kh):  # one copy per kernel offset: faster than copying the 7-d view at once
        for j in range(kw):
            rows[:, :, i, j] = windows[:, :, i, j]
    if ones_row:
        col[:, geo.Kg] = 1
    return col


def _apply_weights(col, w, b, geo):
    """y = [W | b] @ col per group, returned as (N, O, OH, OW)."""
    wb = np.empty((geo.g, geo.Og, col.shape[1]), w.dtype)
    wb[:, :, :geo.Kg] = w.reshape(geo.g, geo.Og, geo.Kg)
    if b is not None:
        wb[:, :, geo.Kg] = b.reshape(geo.g, geo.Og)
    y_cn = np.matmul(wb, col)
    return np.ascontiguousarray(y_cn.reshape(geo.O, geo.N, geo.OH, geo.OW).transpose(1, 0, 2, 3))


def _channels_first(gy, geo):
    """dL/dy (N, O, OH, OW) rearranged to (groups, O/groups, N·OH·OW), the layout of W @ col."""
    gy_cn = np.empty((geo.g, geo.Og, geo.L), gy.dtype)
    np.copyto(_view(gy_cn, (geo.O, geo.N, geo.OH, geo.OW)), gy.transpose(1, 0, 2, 3))
    return gy_cn


def _weight_grad(gy_cn, col, geo):
    """dL/dW = dL/dy @ colᵀ as (O, C/groups, kh, kw), and dL/db (the column of the ones row,
    None without one)."""
    if col.shape[1] >= geo.Og:
        # the same product transposed, (dL/dW)ᵀ = col @ dL/dyᵀ: faster in OpenBLAS when col has
        # more rows than dL/dy (``benchmarks/bench_conv.py --weight-grad``)
        gwb = np.matmul(col, gy_cn.transpose(0, 2, 1)).transpose(0, 2, 1)
    else:
        gwb = np.matmul(gy_cn, col.transpose(0, 2, 1))
    gw = np.ascontiguousarray(gwb[:, :, :geo.Kg]).reshape(geo.O, geo.Cg, geo.kh, geo.kw)
    gb = gwb[:, :, geo.Kg].reshape(geo.O) if col.shape[1] > geo.Kg else None
    return gw, gb


def _col2im(gy, w, geo, bias=None, gy_cn=None):
    """dL/dx (N, C, H, W) of the convolution for dL/dy ``gy`` (N, O, OH, OW), plus ``bias`` per
    channel (the transposed convolution's output):  for each kernel offset (i, j),
    dL/dx_padded[:, :, r·s + i·d, c·s + j·d] += Wᵀ[:, :, i, j] @ dL/dy[:, :, r, c].
    ``gy_cn`` is gy already in the (groups, O/groups, N·OH·OW) layout, if the caller has it."""
    g, Cg, Og, N = geo.g, geo.Cg, geo.Og, geo.N
    Hp, Wp = geo.Hp, geo.Wp
    # wt[i·kw + j] = W[:, :, i, j]ᵀ per group: (kh·kw, groups, C/groups, O/groups)
    wt = np.ascontiguousarray(w.reshape(g, Og, Cg, geo.kh * geo.kw).transpose(3, 0, 2, 1))
    acc = np.empty((g, Cg, N * Hp * Wp), gy.dtype)  # dL/dx_padded, channels first (C, N, Hp, Wp)
    offsets = [(i, j) for i in range(geo.kh) for j in range(geo.kw)]
    if geo.sh == geo.sw == 1:
        # dL/dy placed on the padded grid (zero elsewhere): offset (i, j) is then the constant
        # shift i·d·Wp + j·d of the flat index, and each addition runs over whole rows.
        src = np.empty((g, Og, N, Hp, Wp), gy.dtype)
        src[:, :, :, geo.OH:] = 0
        src[:, :, :, :geo.OH, geo.OW:] = 0
        # (from gy_cn when the caller made it: it is in the cache then)
        gy_o_first = gy.transpose(1, 0, 2, 3) if gy_cn is None else gy_cn.reshape(geo.O, N, geo.OH, geo.OW)
        np.copyto(_view(src, (geo.O, N, Hp, Wp))[:, :, :geo.OH, :geo.OW], gy_o_first)
        src = src.reshape(g, Og, N * Hp * Wp)
        term = np.empty(acc.shape, gy.dtype)
        np.matmul(wt[0], src, out=acc)  # offset (0, 0): shift 0
        for k, (i, j) in enumerate(offsets[1:], 1):
            np.matmul(wt[k], src, out=term)
            shift = i * geo.dh * Wp + j * geo.dw
            acc[:, :, shift:] += term[:, :, :term.shape[2] - shift]
    else:
        if gy_cn is None:
            gy_cn = _channels_first(gy, geo)
        term = np.empty((g, Cg, geo.L), gy.dtype)
        acc[...] = 0
        acc_4d = acc.reshape(geo.C, N, Hp, Wp)
        term_4d = term.reshape(geo.C, N, geo.OH, geo.OW)
        for k, (i, j) in enumerate(offsets):
            np.matmul(wt[k], gy_cn, out=term)
            acc_4d[:, :, geo.rows.offset(i), geo.cols.offset(j)] += term_4d
    inner = acc.reshape(geo.C, N, Hp, Wp)[:, :, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W]
    gx = np.empty((N, geo.C, geo.H, geo.W), gy.dtype)
    if bias is None:
        np.copyto(gx, inner.transpose(1, 0, 2, 3))
    else:
        np.add(inner.transpose(1, 0, 2, 3), bias.reshape(1, -1, 1, 1), out=gx)
    return gx


def _bias_grad(gy):
    """dL/db = Σ_{n, r, c} dL/dy[n, :, r, c]."""
    return gy.sum(axis=(0, 2, 3))


# ----------------------------------------------------------------------------- the Functions


class Conv2d(Function):
    """y = conv2d(x, W, b) (see the module docstring);  dL/dW = dL/dy @ colᵀ,
    dL/db = Σ_{n, r, c} dL/dy,  dL/dx = col2im(Wᵀ @ dL/dy)."""

    once_differentiable = True

    def forward(self, x, w, b=None, geo=None):
        self.geo = geo
        self.grid = conv_winograd.winograd_for(geo, x.dtype) or conv_direct.grid_for(geo, x.dtype)
        if self.grid is not None:  # compiled: Winograd's algorithm or the direct convolution
            x_grid = self.grid.image(x)
            y = self.grid.forward(x_grid, w, b)
            if is_grad_enabled() and self.needs_input_grad[1]:
                self.x_grid = x_grid  # reused by the weight gradient, given back in release()
            else:
                give_arrays(x_grid)
            return y
        col = _im2col(x, geo, ones_row=b is not None)
        y = _apply_weights(col, w, b, geo)
        if is_grad_enabled() and self.needs_input_grad[1]:
            self.col = col  # reused by the weight gradient
        return y

    def backward(self, gy):
        need, geo, gy, w = self.needs_input_grad, self.geo, gy.data, self.inputs[1].data
        gx = gw = gb = None
        if self.grid is not None:
            gb = np.empty(gy.shape[1], gy.dtype) if len(need) == 3 and need[2] else None
            g = self.grid.gradient(gy, sums=gb)
            if need[1]:
                gw = self.grid.weight_grad(g, self.x_grid)
            gx = self.grid.input_grad(g, w) if need[0] else None
            give_arrays(g)
        else:
            gy_cn = None
            if need[1]:
                gy_cn = _channels_first(gy, geo)
                gw, gb = _weight_grad(gy_cn, self.col, geo)
            if need[0]:
                gx = _col2im(gy, w, geo, gy_cn=gy_cn)
        if len(need) == 3 and need[2] and gb is None:
            gb = _bias_grad(gy)
        grads = tuple(None if g is None else Tensor._wrap(g) for g in (gx, gw, gb))
        return grads[:len(need)]

    def release(self):
        if "x_grid" in self.__dict__:
            give_arrays(self.x_grid)
        super().release()


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, W, b): the input gradient of the convolution ``geo`` describes
    (whose input is y and output x);  dL/dx = conv2d(dL/dy, W),  dL/dW = x @ im2col(dL/dy)ᵀ,
    dL/db = Σ_{n, r, c} dL/dy."""

    once_differentiable = True

    def forward(self, x, w, b=None, geo=None):
        self.geo = geo
        self.grid = conv_direct.grid_for(geo, x.dtype)
        if self.grid is not None:
            g = self.grid.gradient(x)
            y = self.grid.input_grad(g, w, bias=b)
            give_arrays(g)
            return y
        return _col2im(x, w, geo, bias=b)

    def backward(self, gy):
        need, geo, gy = self.needs_input_grad, self.geo, gy.data
        x, w = self.inputs[0].data, self.inputs[1].data
        gx = gw = gb = None
        if self.grid is not None and (need[0] or need[1]):
            gb = np.empty(gy.shape[1], gy.dtype) if len(need) == 3 and need[2] else None
            gy_grid = self.grid.image(gy, sums=gb)
            gx = self.grid.forward(gy_grid, w, None) if need[0] else None
            if need[1]:  # x plays the part of the convolution's dL/dy
                x_on_grid = self.grid.gradient(x)
                gw = self.grid.weight_grad(x_on_grid, gy_grid)
                give_arrays(x_on_grid)
            give_arrays(gy_grid)
        elif need[0] or need[1]:
            col = _im2col(gy, geo, ones_row=False)
            if need[0]:
                gx = _apply_weights(col, w, None, geo)
            if need[1]:
                x_cn = _channels_first(x, geo)
                gw = _weight_grad(x_cn, col, geo)[0]
        if len(need) == 3 and need[2] and gb is None:
            gb = _bias_grad(gy)
        grads = tuple(None if g is None else Tensor._wrap(g) for g in (gx, gw, gb))
        return grads[:len(need)]


# ----------------------------------------------------------------------------- public functions


def _check_arguments(name, x, weight, bias, groups, stride, dilation):
    if x.ndim not in (3, 4):
        raise ShapeError(f"{name}: expected input of shape (N, C, H, W) or (C, H, W), got shape {tuple(x.shape)}")
    if weight.ndim != 4:
        raise ShapeError(f"{name}: expected a weight of 4 axes, got shape {tuple(weight.shape)}")
    if x.dtype.kind != "f" or weight.dtype.kind != "f":
        raise TypeError(f"{name}: input and weight must be floating point, got {x.dtype} and {weight.dtype}; "
                        "convert with .float()")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{name}: stride and dilation must be at least 1, got stride={stride}, "
                         f"dilation={dilation}")
    expected = weight.shape[0] if name == "conv2d" else weight.shape[1] * groups
    if bias is not None and bias.shape != (expected,):
        raise ShapeError(f"{name}: bias has shape {tuple(bias.shape)} but the layer has {expected} output channels "
                         f"(weight shape {tuple(weight.shape)}{f', groups={groups}' if groups > 1 else ''}); "
                         f"expected bias shape ({expected},)")


def _same_dtype(x, weight, bias):
    """The three in their common floating-point type (float32 unless one of them is float64)."""
    dtype = np.result_type(*[t.dtype for t in (x, weight, bias) if t is not None])
    return tuple(None if t is None else t.astype(dtype) for t in (x, weight, bias))


def _channels_message(name, x_shape, weight_shape, expected, groups):
    grouped = f", groups={groups}" if groups > 1 else ""
    return (f"{name}: input has {x_shape[1]} channels (shape {tuple(x_shape)}) but the weight expects {expected} "
            f"(weight shape {tuple(weight_shape)}{grouped})")


def _too_small(name, geo, kernel, dilation):
    return ShapeError(f"{name}: the padded input is {geo.Hp}x{geo.Wp} but the kernel {kernel} with dilation "
                      f"{dilation} spans {geo.rows.span}x{geo.cols.span}; the output would be empty "
                      f"(OH = floor((H + 2p - d(k-1) - 1)/s) + 1 = {geo.OH}, OW = {geo.OW}); "
                      "use a larger input or more padding")


def _batched(x, function):
    """Run ``function`` on a (N, C, H, W) tensor; a (C, H, W) input gets a batch axis of 1 and loses it."""
    if x.ndim == 4:
        return function(x)
    y = function(x.reshape((1,) + x.shape))
    return y.reshape(y.shape[1:])


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as in PyTorch) of x (N, C, H, W) or (C, H, W) with
    weight (O, C/groups, kh, kw) and optional bias (O,):

        y[n, o, r, c] = b[o] + Σ_{ch, i, j} W[o, ch, i, j] · x_padded[n, ch', r·s + i·d, c·s + j·d]

    (ch' = g·C/groups + ch, g = o // (O/groups) the group of output channel o) with output size

        OH = floor((H + 2·p - d·(kh - 1) - 1) / s) + 1,   OW likewise.

    ``stride`` s, ``padding`` p and ``dilation`` d are ints or (height, width) pairs; padding may
    also be 'valid' (no padding) or 'same' (output as large as the input, stride 1 only; an odd
    total padding puts the extra row/column at the bottom/right, as PyTorch does). ``groups``
    splits the channels into independent convolutions. Computed by im2col and one matrix
    product (see the module docstring); ``reference.conv2d`` computes the sum as written.
    """
    x, weight = as_tensor(x), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    stride, dilation = _pair(stride, "conv2d: stride"), _pair(dilation, "conv2d: dilation")
    _check_arguments("conv2d", x, weight, bias, groups, stride, dilation)
    x, weight, bias = _same_dtype(x, weight, bias)
    kernel = weight.shape[2:]
    (pt, pb), (pl, pr) = conv_padding(padding, kernel, stride, dilation, "conv2d")
    pads = (pt, pb, pl, pr)
    x_shape = x.shape if x.ndim == 4 else (1,) + x.shape
    if x_shape[1] != weight.shape[1] * groups:
        raise ShapeError(_channels_message("conv2d", x.shape, weight.shape, weight.shape[1] * groups, groups))
    if weight.shape[0] % groups:
        raise ShapeError(f"conv2d: {weight.shape[0]} output channels (weight shape {tuple(weight.shape)}) do not "
                         f"split into groups={groups}")
    geo = _Geometry(x_shape, weight.shape, stride, pads, dilation, groups)
    if geo.OH < 1 or geo.OW < 1:
        raise _too_small("conv2d", geo, kernel, dilation)
    params = (weight,) if bias is None else (weight, bias)
    return _batched(x, lambda x4: Conv2d.apply(x4, *params, geo=geo))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution ("deconvolution") of x (N, C_in, H, W) or (C_in, H, W) with
    weight (C_in, C_out/groups, kh, kw) and optional bias (C_out,): the gradient of conv2d with
    respect to its input, so that each input pixel spreads W-weighted copies of itself over a
    kh x kw window of the output:

        y_padded[n, g·C_out/groups + o, r·s + i·d, c·s + j·d] += Σ_ch x[n, ch, r, c] · W[ch, o, i, j]
        y = y_padded without its p-wide border, + b[o]     (ch over group g's input channels)

    with output size (``padding`` p crops the border, ``output_padding`` adds rows/columns at the
    bottom/right, smaller than the stride or the dilation)

        H_out = (H - 1)·s - 2·p + d·(kh - 1) + output_padding + 1,   W_out likewise.

    Arguments are ints or (height, width) pairs, in PyTorch's order. Shares its computation with
    conv2d: the forward pass is conv2d's col2im, the backward pass conv2d's im2col and products.
    """
    x, weight = as_tensor(x), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    stride = _pair(stride, "conv_transpose2d: stride")
    dilation = _pair(dilation, "conv_transpose2d: dilation")
    ph, pw = _pair(padding, "conv_transpose2d: padding")
    oph, opw = _pair(output_padding, "conv_transpose2d: output_padding")
    _check_arguments("conv_transpose2d", x, weight, bias, groups, stride, dilation)
    x, weight, bias = _same_dtype(x, weight, bias)
    if min(ph, pw, oph, opw) < 0:
        raise ValueError(f"conv_transpose2d: padding and output_padding must be non-negative, got "
                         f"padding={padding!r}, output_padding={output_padding!r}")
    if oph >= max(stride[0], dilation[0]) or opw >= max(stride[1], dilation[1]):
        raise ValueError(f"conv_transpose2d: output_padding {(oph, opw)} must be smaller than the stride "
                         f"{stride} or the dilation {dilation} in each dimension")
    x_shape = x.shape if x.ndim == 4 else (1,) + x.shape
    if x_shape[1] != weight.shape[0]:
        raise ShapeError(_channels_message("conv_transpose2d", x.shape, weight.shape, weight.shape[0], groups))
    if weight.shape[0] % groups:
        raise ShapeError(f"conv_transpose2d: {weight.shape[0]} input channels (weight shape {tuple(weight.shape)}) "
                         f"do not split into groups={groups}")
    N, _, H, W = x_shape
    kh, kw = weight.shape[2:]
    H_out = transposed_size(H, kh, stride[0], ph, dilation[0], oph)
    W_out = transposed_size(W, kw, stride[1], pw, dilation[1], opw)
    if H_out < 1 or W_out < 1:
        raise ShapeError(f"conv_transpose2d: the output would be {H_out}x{W_out} for input shape {tuple(x.shape)}, "
                         f"weight shape {tuple(weight.shape)}, stride {stride}, padding {(ph, pw)}, dilation "
                         f"{dilation} (H_out = (H - 1)·s - 2p + d(k-1) + output_padding + 1); use less padding")
    # the convolution whose input gradient this is: input (N, C_out, H_out, W_out), output x
    geo = _Geometry((N, weight.shape[1] * groups, H_out, W_out), weight.shape, stride, (ph, ph, pw, pw),
                    dilation, groups, output_size=(H, W))
    params = (weight,) if bias is None else (weight, bias)
    return _batched(x, lambda x4: ConvTranspose2d.apply(x4, *params, geo=geo))
