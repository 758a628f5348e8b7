"""Pooling and channel dropout for images (N, C, H, W), or unbatched (C, H, W), with PyTorch's
arguments and results: max_pool2d, avg_pool2d, adaptive_avg_pool2d, dropout2d; and resizing,
interpolate (nearest, linear, bilinear, area).

A pooling window slides over the padded input; along each spatial axis, output position o covers
the padded positions  o·stride + a·dilation  for the kernel offsets a = 0 .. kernel_size - 1. So
the whole computation is a loop over kernel offsets only: for offset a the strided slice
``x[a·d : a·d + (out - 1)·s + 1 : s]`` holds, at position o, the element each window sees at that
offset. Every step works on whole (N, C, H_out, W_out) arrays at once; no loop ever runs over
images, channels or output pixels. Backward adds the upstream gradient back into the same slices
(overlapping windows, stride < kernel, accumulate). When the windows tile the input exactly
(kernel == stride, no padding, sizes divisible) the slices are the views x6[:, :, :, a, :, b] of
x6 = x.reshape(N, C, H/k, k, W/k, k): nothing is padded, zero-filled or accumulated, and average
pooling's backward is one broadcast of dL/dy over that layout.

Output size per axis (PyTorch's formula, computed in ``window``, which convolution shares):

    out = floor((size + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1       (ceil with ceil_mode)

and with ceil_mode the last window must start inside the input or the left padding.

For reading: ``nnscratch.functional.reference.max_pool2d`` computes max pooling from this formula
with basic tensor operations only (a few lines, differentiated by autograd); the kernels below
compute the same numbers faster.

The backward of each pooling is a linear map of the upstream gradient (a scatter), and its own
backward is the matching gather, so pooling can be differentiated twice (create_graph=True).
"""

import numpy as np

from .. import backend
from ..tensor import Function, ShapeError, is_grad_enabled
from . import compiled
from .ops import as_tensor
from .ops import pair as _pair
from .window import WindowAxis

# ----------------------------------------------------------------------------- geometry


class _Geometry:
    """The pooling windows over the last two axes of an input of ``shape`` (any leading axes)."""

    def __init__(self, shape, kernel_size, stride, padding, dilation, ceil_mode, name):
        kh, kw = _pair(kernel_size, "kernel_size")
        sh, sw = (kh, kw) if stride is None or stride == () or stride == [] else _pair(stride, "stride")
        ph, pw = _pair(padding, "padding")
        dh, dw = _pair(dilation, "dilation")
        if min(kh, kw) <= 0 or min(sh, sw) <= 0 or min(dh, dw) <= 0:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be positive, got kernel_size="
                             f"{(kh, kw)}, stride={(sh, sw)}, dilation={(dh, dw)}")
        if min(ph, pw) < 0 or ph > kh // 2 or pw > kw // 2:
            raise ValueError(f"{name}: padding must be between 0 and half the kernel size (kernel_size // 2), "
                             f"got padding={(ph, pw)} for kernel_size={(kh, kw)}")
        self.shape = tuple(shape)
        self.rows = WindowAxis(shape[-2], kh, sh, ph, dh, ceil_mode)
        self.cols = WindowAxis(shape[-1], kw, sw, pw, dw, ceil_mode)
        if self.rows.out <= 0 or self.cols.out <= 0:
            raise ShapeError(f"{name}: the input's spatial size {shape[-2:]} is too small for kernel_size "
                             f"{(kh, kw)} with padding {(ph, pw)} and dilation {(dh, dw)}: the output would "
                             f"be {(self.rows.out, self.cols.out)}; use a smaller kernel or more padding")
        self.out_shape = self.shape[:-2] + (self.rows.out, self.cols.out)
        self.padded_shape = self.shape[:-2] + (self.rows.length, self.cols.length)
        self.disjoint = self.rows.disjoint and self.cols.disjoint
        self.padded = self.rows.padded or self.cols.padded
        self.exact = self.rows.exact and self.cols.exact

    def offsets(self):
        """(j, row slice, column slice) for every kernel offset, j counting in row-major order."""
        kw = self.cols.k
        return [(a * kw + b, self.rows.offset(a), self.cols.offset(b))
                for a in range(self.rows.k) for b in range(kw)]

    def pad(self, x, value):
        """x inside a padded array filled with ``value`` (x itself when no padding is needed)."""
        if not self.padded:
            return x
        xp = np.full(self.padded_shape, value, dtype=x.dtype)
        xp[..., self.rows.p:self.rows.p + self.rows.size, self.cols.p:self.cols.p + self.cols.size] = x
        return xp

    def crop(self, xp):
        """The input region of a padded array (contiguous)."""
        if not self.padded:
            return xp
        r, c = self.rows, self.cols
        return np.ascontiguousarray(xp[..., r.p:r.p + r.size, c.p:c.p + c.size])


def _check_image(x, name):
    x = as_tensor(x)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{name} expects an image batch (N, C, H, W) or one image (C, H, W), got shape {tuple(x.shape)}")
    return x


def _check_float(x, name):
    if x.dtype.kind != "f":
        raise TypeError(f"{name} needs floating-point input, got {x.dtype}; convert it with x.float()")


# ----------------------------------------------------------------------------- max pooling

class MaxPool2d(Function):
    """y[o] = max over the window of o of x (padding counts as -inf);
    dL/dx[i] = Σ over the windows whose maximum sits at i of dL/dy[o].

    The position of each window's maximum is kept from the forward pass as the kernel offset j
    (row-major); on ties the first maximum wins, as in PyTorch, so exactly one element per window
    receives the window's gradient.
    """

    def forward(self, x, geom, indices_out=None):
        self.geom = geom
        offsets = geom.offsets()
        pooled = compiled.max_pool_2x2(x, geom, np.min_scalar_type(len(offsets) - 1))
        if pooled is not None:
            y, self.index = pooled
            if indices_out is not None:
                indices_out.append(self.index)
            return y
        xp = geom.pad(x, -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min)
        _, r, c = offsets[0]
        y = xp[..., r, c].copy()
        view = np.empty_like(y)  # each strided slice is copied here first: contiguous math is faster
        if indices_out is None and not (self.needs_input_grad[0] and is_grad_enabled()):
            for _, r, c in offsets[1:]:  # inference: the values suffice
                np.copyto(view, xp[..., r, c])
                np.maximum(y, view, out=y)
            return y
        index = np.zeros(y.shape, np.min_scalar_type(len(offsets) - 1))
        better, candidate = np.empty(y.shape, bool), np.empty(y.shape, index.dtype)
        for j, r, c in offsets[1:]:
            np.copyto(view, xp[..., r, c])
            np.greater(view, y, out=better)  # strictly greater: ties keep the earlier offset
            np.maximum(y, view, out=y)
            np.multiply(better.view(np.uint8), index.dtype.type(j), out=candidate)
            np.maximum(index, candidate, out=index)  # j exceeds every earlier offset: index = j where better
        if x.dtype.kind == "f" and not (y > -np.inf).all():  # a NaN, or a window of -inf and padding
            index = _exceptional_argmax(xp, geom, index.dtype)
        self.index = index
        if indices_out is not None:
            indices_out.append(index)
        return y

    def backward(self, gy):
        return MaxPool2dScatter.apply(gy, geom=self.geom, index=self.index)


def _exceptional_argmax(xp, geom, dtype):
    """The window maxima's offsets by PyTorch's exact rule, for inputs with NaN or -inf: scan the
    window's in-bounds elements in row-major order from the first one, moving on when an element
    is greater than the maximum so far or is NaN (so the last NaN wins; padding never does)."""
    rows, cols = geom.rows, geom.cols

    def inside(axis, a):  # which windows see an input element (not padding) at kernel offset a
        position = np.arange(axis.out) * axis.s - axis.p + a * axis.d
        return (position >= 0) & (position < axis.size)

    best = np.full(geom.out_shape, -np.inf, xp.dtype)
    index = np.full(geom.out_shape[-2:], -1, np.int64)
    for j, r, c in reversed(geom.offsets()):  # start from each window's first in-bounds element
        a, b = divmod(j, cols.k)
        index[np.outer(inside(rows, a), inside(cols, b))] = j
    index = np.broadcast_to(index, geom.out_shape).astype(dtype)
    for j, r, c in geom.offsets():
        a, b = divmod(j, cols.k)
        view = xp[..., r, c]
        move = np.outer(inside(rows, a), inside(cols, b)) & ((view > best) | np.isnan(view))
        best = np.where(move, view, best)
        index = np.where(move, index.dtype.type(j), index)
    return index


class MaxPool2dScatter(Function):
    """The backward of max pooling as an operation: gx[i] = Σ over the windows o whose maximum is
    at i of g[o] (zero elsewhere). Linear in g; its backward is the gather g'[o] = gx'[argmax of o]."""

    def forward(self, g, geom, index):
        self.geom, self.index = geom, index
        gx = compiled.max_pool_scatter(g, index, geom)
        if gx is not None:
            return gx
        if geom.exact:  # every input position is written exactly once
            gx = np.empty(geom.shape, g.dtype)
        else:
            gx = np.zeros(geom.padded_shape, g.dtype)
        for j, r, c in geom.offsets():
            if geom.disjoint:
                np.multiply(g, index == j, out=gx[..., r, c])
            else:
                gx[..., r, c] += g * (index == j)
        return gx if geom.exact else geom.crop(gx)

    def backward(self, ggx):
        return MaxPool2dGather.apply(ggx, geom=self.geom, index=self.index)


class MaxPool2dGather(Function):
    """y[o] = x[position of the maximum of window o] (the positions fixed by a max pooling);
    its backward is ``MaxPool2dScatter``."""

    def forward(self, x, geom, index):
        self.geom, self.index = geom, index
        xp = geom.pad(x, 0)
        y = np.zeros(geom.out_shape, x.dtype)
        for j, r, c in geom.offsets():
            y += xp[..., r, c] * (index == j)
        return y

    def backward(self, gy):
        return MaxPool2dScatter.apply(gy, geom=self.geom, index=self.index)


def _flat_indices(geom, index):
    """PyTorch's ``return_indices``: the position of each window's maximum as row · W + column."""
    r, c = geom.rows, geom.cols
    a, b = np.divmod(index.astype(np.int64), c.k)
    rows = (np.arange(r.out) * r.s - r.p)[:, None] + a * r.d
    cols = (np.arange(c.out) * c.s - c.p)[None, :] + b * c.d
    return rows * c.size + cols


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling: y[n, c, i, j] = max over a, b of x_pad[n, c, i·s + a·d, j·s + b·d],
    with a, b over the kernel, s = stride (default: kernel_size), d = dilation and x_pad the input
    padded with -inf. Output size per axis: floor((size + 2·padding - d·(k - 1) - 1) / s) + 1
    (ceil with ``ceil_mode``). ``padding`` is at most kernel_size // 2.

    The gradient of each window goes to one element: its maximum, the first in row-major window
    order on ties (as PyTorch); overlapping windows add up. ``return_indices=True`` also returns
    the position of each maximum in its (H, W) plane, flattened (i · W + j), as int64.
    A NaN wins its window (the last NaN, as in PyTorch); a window of -inf points at its first
    element inside the input, never at the padding. ``reference.max_pool2d`` is the same in a
    few lines of basic tensor operations.
    """
    x = _check_image(x, "max_pool2d")
    geom = _Geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    if not return_indices:
        return MaxPool2d.apply(x, geom=geom)
    index = []
    y = MaxPool2d.apply(x, geom=geom, indices_out=index)
    return y, as_tensor(_flat_indices(geom, index[0]))


# ----------------------------------------------------------------------------- average pooling

def _window_counts(axis, count_include_pad):
    """How many positions of each window along one axis count in the divisor (PyTorch's rule):
    with padding, the window clipped to the padded input; without, clipped to the input."""
    start = np.arange(axis.out) * axis.s - axis.p
    if count_include_pad:
        return np.minimum(start + axis.k, axis.size + axis.p) - start
    return np.minimum(start + axis.k, axis.size) - np.maximum(start, 0)


def _divisor(geom, count_include_pad, divisor_override, dtype):
    """The divisor of each window's sum: a number, or an (H_out, W_out) array."""
    if divisor_override is not None:
        return dtype.type(divisor_override)
    rows = _window_counts(geom.rows, count_include_pad)
    cols = _window_counts(geom.cols, count_include_pad)
    if (rows == rows[0]).all() and (cols == cols[0]).all():
        return dtype.type(rows[0] * cols[0])
    return np.multiply.outer(rows, cols).astype(dtype)


class AvgPool2d(Function):
    """y[o] = (Σ over the window of o of x) / divisor[o] (zero padding);
    dL/dx[i] = Σ over the windows o containing i of dL/dy[o] / divisor[o].

    The window sum is taken in two passes, rows then columns (k_h + k_w slices instead of
    k_h · k_w); its backward is ``AvgPool2dScatter``.
    """

    def forward(self, x, geom, divisor):
        self.geom, self.divisor = geom, divisor
        xp = geom.pad(x, 0)
        rows, cols = geom.rows, geom.cols
        s = xp[..., rows.offset(0), :].copy()  # Σ over the kernel's rows: (..., H_out, W_padded)
        for a in range(1, rows.k):
            s += xp[..., rows.offset(a), :]
        y = s[..., cols.offset(0)].copy()  # then over its columns: (..., H_out, W_out)
        for b in range(1, cols.k):
            y += s[..., cols.offset(b)]
        y /= divisor
        return y

    def backward(self, gy):
        return AvgPool2dScatter.apply(gy, geom=self.geom, divisor=self.divisor)


class AvgPool2dScatter(Function):
    """The backward of average pooling as an operation: gx[i] = Σ over the windows o containing i
    of g[o] / divisor[o]. Linear in g; its backward is the average pooling itself."""

    def forward(self, g, geom, divisor):
        self.geom, self.divisor = geom, divisor
        g = g / divisor
        rows, cols = geom.rows, geom.cols
        if geom.exact:  # each window's share, broadcast over its k_h x k_w block
            n_h, n_w = rows.out, cols.out
            blocks = np.broadcast_to(g[..., :, None, :, None], g.shape[:-2] + (n_h, rows.k, n_w, cols.k))
            return blocks.reshape(geom.shape)
        t = np.zeros(g.shape[:-1] + (cols.length,), g.dtype)  # columns back first: (..., H_out, W_padded)
        for b in range(cols.k):
            if cols.disjoint:
                t[..., cols.offset(b)] = g
            else:
                t[..., cols.offset(b)] += g
        gx = np.zeros(geom.padded_shape, g.dtype)  # then rows
        for a in range(rows.k):
            if rows.disjoint:
                gx[..., rows.offset(a), :] = t
            else:
                gx[..., rows.offset(a), :] += t
        return geom.crop(gx)

    def backward(self, ggx):
        return AvgPool2d.apply(ggx, geom=self.geom, divisor=self.divisor)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling: y[n, c, i, j] = Σ over a, b of x_pad[n, c, i·s + a, j·s + b] / D[i, j],
    a, b over the kernel, s = stride (default: kernel_size), x_pad zero-padded. The divisor D is
    the window's size clipped to the padded input (``count_include_pad=True``, the default) or the
    number of input elements in it (False), or ``divisor_override``. With ``ceil_mode`` the last
    window may hang over the end; the overhang never counts. Output size as in max_pool2d.
    """
    x = _check_image(x, "avg_pool2d")
    _check_float(x, "avg_pool2d")
    geom = _Geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if divisor_override is not None and divisor_override == 0:
        raise ValueError("avg_pool2d: divisor_override must not be zero")
    return AvgPool2d.apply(x, geom=geom, divisor=_divisor(geom, count_include_pad, divisor_override, x.dtype))


# ----------------------------------------------------------------------------- adaptive average pooling

def _adaptive_matrix(size, out, dtype):
    """The (out, size) averaging matrix of one axis: row i holds 1 / (end - start) on the
    positions [start, end) with start = floor(i · size / out), end = ceil((i + 1) · size / out)."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _two_sided_product(x, rows, cols):
    """rows @ x @ cols^T on the last two axes of x (any leading axes), as two matrix products
    over the whole batch; the cheaper order is chosen so that the large side is never transposed."""
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    h_out, w_out = rows.shape[0], cols.shape[0]
    x = x.reshape(-1, h, w)
    m = x.shape[0]
    if w_out <= w:  # columns first: x (m·h, w) @ cols^T, then the rows on the smaller result
        t = (x.reshape(-1, w) @ cols.T).reshape(m, h, w_out)
        y = (t.transpose(0, 2, 1).reshape(-1, h) @ rows.T).reshape(m, w_out, h_out).transpose(0, 2, 1)
    else:  # rows first, so that the large result comes out of the last product contiguous
        t = (x.transpose(0, 2, 1).reshape(-1, h) @ rows.T).reshape(m, w, h_out)
        y = t.transpose(0, 2, 1).reshape(-1, w) @ cols.T
    return np.ascontiguousarray(y).reshape(lead + (h_out, w_out))


class SeparablePool2d(Function):
    """y = R x C^T on the last two axes (R: (H_out, H), C: (W_out, W)), e.g. adaptive average
    pooling; dL/dx = R^T (dL/dy) C, the same operation with the transposed matrices."""

    def forward(self, x, rows, cols):
        self.rows, self.cols = rows, cols
        return _two_sided_product(x, rows, cols)

    def backward(self, gy):
        return SeparablePool2d.apply(gy, rows=self.rows.T, cols=self.cols.T)


class GlobalAvgPool2d(Function):
    """y = mean of x over its last two axes, kept as size-1 axes; dL/dx = dL/dy / (H · W) everywhere."""

    def forward(self, x):
        h, w = x.shape[-2:]
        return x.reshape(x.shape[:-2] + (h * w,)).mean(axis=-1).reshape(x.shape[:-2] + (1, 1))

    def backward(self, gy):
        x = self.inputs[0]
        h, w = x.shape[-2:]
        return gy.broadcast_to(x.shape) * gy.dtype.type(1 / (h * w))


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed output size (H_out, W_out) whatever the input size:
    y[n, c, i, j] = mean of x[n, c, h_i : h_i', w_j : w_j'] with PyTorch's windows
    h_i = floor(i · H / H_out), h_i' = ceil((i + 1) · H / H_out) (the same for columns), so windows
    may overlap by one element when H_out does not divide H. ``output_size`` is an int or a pair;
    None in the pair keeps that input size. ``output_size=1`` is global average pooling.
    """
    x = _check_image(x, "adaptive_avg_pool2d")
    _check_float(x, "adaptive_avg_pool2d")
    h, w = x.shape[-2:]
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(output_size)
    if len(output_size) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    h_out = h if output_size[0] is None else int(output_size[0])
    w_out = w if output_size[1] is None else int(output_size[1])
    if h_out <= 0 or w_out <= 0:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    if h == 0 or w == 0:
        raise ShapeError(f"adaptive_avg_pool2d: the input has an empty spatial axis, shape {tuple(x.shape)}")
    if (h_out, w_out) == (1, 1):
        return GlobalAvgPool2d.apply(x)
    return SeparablePool2d.apply(x, rows=_adaptive_matrix(h, h_out, x.dtype),
                                 cols=_adaptive_matrix(w, w_out, x.dtype))


# ----------------------------------------------------------------------------- channel dropout

def dropout2d(x, p=0.5, training=True):
    """Channel dropout: in training, zero each whole channel x[n, c] with probability p and scale
    the kept channels by 1 / (1 - p), so E[y] = x; the identity in evaluation:
    y[n, c] = x[n, c] · m[n, c] / (1 - p),  m[n, c] ~ Bernoulli(1 - p), one draw per (n, c).

    As in PyTorch 2.x, a 3-D input is read as (N, C, L): one draw per x[n, c] as well."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    x = as_tensor(x)
    if x.ndim not in (3, 4):
        raise ShapeError(f"dropout2d expects (N, C, H, W) or (C, H, W) input, got shape {tuple(x.shape)}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)
    keep = backend.generator().random(mask_shape, dtype=x.dtype) >= p
    return x * (keep * x.dtype.type(1 / (1 - p)))


# ----------------------------------------------------------------------------- resizing (interpolate)

def _resize_matrix(size, out, mode, align_corners, scale_factor):
    """The (out, size) matrix that resizes one axis, PyTorch's sampling positions:

    nearest        output o copies input floor(o · s)            s = size / out, or 1 / scale_factor
    nearest-exact  output o copies input floor((o + ½) · s)       (centres aligned)
    linear         output o mixes inputs i0 = floor(src) and i0 + 1 with weights 1 - λ and λ,
                   λ = src - i0, src = max((o + ½) · s - ½, 0), or src = o · (size - 1) / (out - 1)
                   with align_corners=True (the corner pixels' centres coincide).
    """
    o = np.arange(out)
    if mode == "linear" and align_corners:
        scale = (size - 1) / (out - 1) if out > 1 else 0.0
    else:
        scale = 1.0 / scale_factor if scale_factor else size / out
    matrix = np.zeros((out, size))
    if mode in ("nearest", "nearest-exact"):
        scale32 = np.float32(scale)  # PyTorch computes these positions in float32
        position = (o + 0.5 if mode == "nearest-exact" else o).astype(np.float32) * scale32
        matrix[o, np.minimum(np.floor(position).astype(np.int64), size - 1)] = 1
        return matrix
    source = o * scale if align_corners else np.maximum((o + 0.5) * scale - 0.5, 0)
    i0 = np.minimum(np.floor(source).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    lam = source - i0
    np.add.at(matrix, (o, i0), 1 - lam)
    np.add.at(matrix, (o, i1), lam)
    return matrix


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L) or (N, C, H, W) input to ``size``, or by ``scale_factor`` (out = floor(in · s)).

    mode 'nearest' / 'nearest-exact' copy the nearest input pixel, 'linear' (3-D) and 'bilinear'
    (4-D) mix the two nearest per axis (align_corners as in PyTorch: False by default), 'area'
    averages (adaptive average pooling). Every mode is separable: y = R x C^T with one resize
    matrix per axis (see ``_resize_matrix``), so the gradient is R^T (dL/dy) C."""
    x = as_tensor(x)
    spatial = x.ndim - 2
    if spatial not in (1, 2):
        raise ShapeError(f"interpolate expects (N, C, L) or (N, C, H, W) input, got shape {tuple(x.shape)}")
    _check_float(x, "interpolate")
    linear = {1: "linear", 2: "bilinear"}[spatial]
    if mode in ("bicubic", "trilinear") or (mode in ("linear", "bilinear") and mode != linear):
        raise NotImplementedError(f"interpolate: mode {mode!r} for {x.ndim}-D input is not supported by "
                                  f"nnscratch; use 'nearest', 'nearest-exact', {linear!r} or 'area'")
    if mode not in ("nearest", "nearest-exact", "area", linear):
        raise ValueError(f"interpolate: unknown mode {mode!r}")
    if align_corners is not None and mode != linear:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by nnscratch")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_size = x.shape[2:]
    if size is not None:
        out_size = (size,) * spatial if isinstance(size, (int, np.integer)) else tuple(size)
        scales = (None,) * spatial
    else:
        scales = (scale_factor,) * spatial if np.isscalar(scale_factor) else tuple(scale_factor)
        out_size = tuple(int(np.floor(n * float(s))) for n, s in zip(in_size, scales))
        if recompute_scale_factor:
            scales = (None,) * spatial
    if len(out_size) != spatial or len(scales) != spatial:
        raise ValueError(f"interpolate: size / scale_factor must have {spatial} entries for input {tuple(x.shape)}")
    if mode == "area":
        return adaptive_avg_pool2d(x if spatial == 2 else x.unsqueeze(2),
                                   out_size if spatial == 2 else (1, out_size[0])).reshape(x.shape[:2] + out_size)
    kind = "linear" if mode == linear else mode
    mats = [_resize_matrix(n, m, kind, bool(align_corners), s).astype(x.dtype)
            for n, m, s in zip(in_size, out_size, scales)]
    if spatial == 1:
        y = SeparablePool2d.apply(x.unsqueeze(2), rows=np.ones((1, 1), x.dtype), cols=mats[0])
        return y.reshape(x.shape[:2] + out_size)
    return SeparablePool2d.apply(x, rows=mats[0], cols=mats[1])
