"""Direct convolution on the flat padded grid, with compiled kernels: the fast path of conv2d.

When the compiled kernels are on (numba installed: ``compiled``), ``conv2d`` and
``conv_transpose2d`` with stride 1 and one group compute their forward pass and both gradients
here, without the im2col matrix (3x3 convolutions with channels enough: ``conv_winograd``); otherwise they use the im2col path of ``conv``, which gives the
same numbers and is the one to read first.

The grid. The zero-padded input is stored channels first and flattened, ``x_grid[c, q]``, each
image in Hs rows of Wr columns (``Grid``: the zeros between images and between rows are shared),
so that kernel offset (i, j) reads the constant shift s_ij = i·dh·Wr + j·dw of q and every output
is

    y_grid[o, q] = b[o] + Σ_{c, i, j} W[o, c, i, j] · x_grid[c, q + s_ij]

at the grid positions q of real outputs (r < OH, col < OW: the rest is computed and dropped).
The gradients are sums of the same kind, over dL/dy placed on the grid (zero elsewhere), g[o, q]:

    dL/dW[o, c, i, j] = Σ_q g[o, q] · x_grid[c, q + s_ij],          dL/db[o] = Σ_q g[o, q]
    dL/dx_grid[c, q]  = Σ_{o, i, j} W[o, c, i, j] · g[o, q - s_ij]

the last one a convolution of g (shifted right by the largest shift) with the shifts reversed
and W's axes swapped; dL/dx is dL/dx_grid without the padding. The sums are in
``numba_kernels``; this module arranges the grids around them.
"""

import numpy as np

from ..backend import give_arrays, take_array
from . import compiled

CHUNK = 16  # tiles of positions computed before they are copied out (a chunk of outputs stays in L2)


def grid_for(geo, dtype):
    """The ``Grid`` of this convolution, or None where the direct path does not compute it (it
    does with the compiled kernels on, stride 1, one group, float32 or float64)."""
    if (geo.sh == geo.sw == 1 and geo.g == 1 and np.dtype(dtype) in (np.float32, np.float64)
            and compiled.kernels() is not None):
        return Grid(geo, dtype)
    return None


def _round_up(n, k):
    return -(-n // k) * k


class Grid:
    """The flat padded grid of a convolution ``geo`` (a ``conv._Geometry``) and its shifts.

    Images follow each other on the grid with the zeros between them shared: an image takes
    Hs = H + max(pt, pb) rows of Wr = W + max(pl, pr) columns (at least OH x OW), so that the
    bottom padding of one image is the top padding of the next and the right padding of a row
    the left padding of the next row. Input element (n, h, w) sits at column
    (pt·Wr + pl) + n·Hs·Wr + h·Wr + w, output (n, r, col) at n·Hs·Wr + r·Wr + col.

    The grids come from ``backend``'s array pool (the next step reuses them instead of having
    fresh pages faulted in): whoever is done with one of ``image`` or ``gradient`` gives it back
    with ``backend.give_arrays``."""

    def __init__(self, geo, dtype):
        k = compiled.kernels()
        self.geo, self.dtype = geo, np.dtype(dtype)
        self.Hs = max(geo.H + max(geo.pt, geo.pb), geo.OH)
        self.Wr = max(geo.W + max(geo.pl, geo.pr), geo.OW)
        self.P = geo.N * self.Hs * self.Wr
        self.block = k.VECTORS * k.lanes(dtype)
        self.width = _round_up(self.P, self.block)            # grid positions computed
        taps = [i * geo.dh * self.Wr + j * geo.dw for i in range(geo.kh) for j in range(geo.kw)]
        self.span = taps[-1]                                   # the largest shift
        self.T = _round_up(len(taps), k.TAPS)                  # taps padded for correlate_grid
        self.shift = np.array(taps + [0] * (self.T - len(taps)), np.int64)
        self.flipped = np.ascontiguousarray(self.span - self.shift[:len(taps)])

    def image(self, x, sums=None):
        """x (N, C, H, W) as x_grid (C, width + span): zero padding, zero tail. ``sums`` (C,),
        if given, receives Σ x[:, c] (a bias gradient, computed on the way)."""
        grid = take_array((x.shape[1], self.width + self.span), self.dtype)
        self._place(x, grid, 0, self.geo.pt, self.geo.pl, sums)
        return grid

    def gradient(self, gy, sums=None):
        """dL/dy (N, O, OH, OW) on the grid, zero elsewhere, behind ``span`` zeros:
        (O rounded up to the kernels' G_ROWS, span + width + span); g[o, q] is column span + q.
        ``sums`` (O,), if given, receives Σ dL/dy[:, o] (the bias gradient)."""
        O = gy.shape[1]
        grid = take_array((_round_up(O, compiled.kernels().G_ROWS), self.span + self.width + self.span), self.dtype)
        grid[O:] = 0
        self._place(gy, grid[:O], self.span, 0, 0, sums)
        return grid

    def _place(self, x, grid, offset, top, left, sums):
        sums = np.empty(0, self.dtype) if sums is None else sums
        compiled.run("to_grid", x, grid, offset, self.Hs, self.Wr, top, left, sums)

    def _conv(self, x_grid, w_taps, bias, shift, shape, top, left):
        """The images (N, R, h, w) = ``shape`` read off the grid from (top, left) of each image, of
        Σ_{c, t} w_taps[c, t, r] · x_grid[c, q + shift[t]] + bias[r]."""
        R, rows = w_taps.shape[2], _round_up(w_taps.shape[2], compiled.kernels().ROWS)
        w_padded = np.zeros(w_taps.shape[:2] + (rows,), self.dtype)
        w_padded[:, :, :R] = w_taps
        b = np.zeros(rows, self.dtype)
        if bias is not None:
            b[:R] = bias
        k = compiled.kernels()
        scratch = take_array((k.get_num_threads(), rows, CHUNK * self.block), self.dtype)
        y = np.empty(shape, self.dtype)
        compiled.run("conv_grid", x_grid, w_padded, shift, b, y, self.Hs, self.Wr, top, left, self.width, scratch)
        give_arrays(scratch)
        return y

    def forward(self, x_grid, w, b):
        """y (N, O, OH, OW) = conv2d of the input on ``x_grid`` with w (O, C, kh, kw) and b (O,) or None."""
        geo = self.geo
        w_taps = w.reshape(geo.O, geo.C, -1).transpose(1, 2, 0)            # (C, T, O)
        return self._conv(x_grid, w_taps, b, self.shift[:w_taps.shape[1]], (geo.N, geo.O, geo.OH, geo.OW), 0, 0)

    def input_grad(self, g, w, bias=None):
        """dL/dx (N, C, H, W) (+ ``bias`` per channel) for g = ``gradient(dL/dy)`` and w (O, C, kh, kw)."""
        geo = self.geo
        w_taps = w.reshape(geo.O, geo.C, -1).transpose(0, 2, 1)            # (O, T, C)
        return self._conv(g[:geo.O], w_taps, bias, self.flipped, (geo.N, geo.C, geo.H, geo.W), geo.pt, geo.pl)

    def weight_grad(self, g, x_grid):
        """dL/dW (O, C, kh, kw) for g = ``gradient(dL/dy)`` and the forward's ``x_grid``."""
        k, geo = compiled.kernels(), self.geo
        acc = np.empty((k.get_num_threads(), g.shape[0], geo.C, self.T), self.dtype)
        compiled.run("correlate_grid", g[:, self.span:], x_grid, self.shift, acc, self.width, 512 * k.lanes(self.dtype))
        gw = acc.sum(axis=0)[:geo.O, :, :geo.kh * geo.kw]
        return np.ascontiguousarray(gw).reshape(geo.O, geo.C, geo.kh, geo.kw)
