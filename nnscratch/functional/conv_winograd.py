"""Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional
Neural Networks", 2015): a faster path of conv2d for 3x3 kernels, stride 1, with compiled kernels.

Every 2x2 block of outputs (a *tile*) is computed from the 4x4 patch d of input under it with 16
multiplications per (input, output) channel pair instead of 36:

    Y = Aᵀ [ Σ_c (G w_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A

with G (4x3), B (4x4) and A (4x2) fixed matrices of small numbers (``numba_kernels``). Written
per element (α, β) of the 4x4 products, the sum over c is a matrix product:

    M[k] = U[k] @ V[k],   U[k] = (G w Gᵀ)[k] (O, C),   V[k] = (Bᵀ d B)[k] (C, tiles),   k < 16

so a convolution becomes an input transform, 16 products and an output transform; 2.25 times fewer
multiplications than the direct sum, and no work on padding. The backward passes run the same
steps transposed:

    dM[k] = (A dY Aᵀ)[k],   dU[k] = dM[k] @ V[k]ᵀ,   dV[k] = U[k]ᵀ @ dM[k],
    dL/dw = Gᵀ dU G,   dL/dx = Σ over the tiles of B dV Bᵀ placed on its patch.

The three steps run fused, a chunk of tiles at a time (``numba_kernels.winograd_forward`` and its
partners for the two gradients): a chunk's V and M are made, multiplied and transformed back while
they are in the core's cache, and only the images go through memory, batch innermost (the
transforms then add vectors of images).

The transforms add and subtract a few numbers per value; float32 results differ from the direct
sum's by a few rounding errors more.
"""

import numpy as np

from ..backend import give_arrays, take_array
from . import compiled
from .conv_direct import _round_up

_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
_GG = np.kron(_G, _G)  # (16, 9): U[4α + β] = Σ_{i, j} G[α, i] G[β, j] w[3i + j] = (G w Gᵀ)[α, β]


def winograd_for(geo, dtype):
    """The ``Winograd`` of this convolution, or None where it does not apply or would not pay.
    It applies with the compiled kernels on, to a 3x3 kernel, stride 1, no dilation, one group,
    float32 or float64. It pays with channels enough: per output pixel the products save work in
    proportion to C·O, the transforms cost in proportion to C + O; measured
    (``benchmarks/bench_winograd.py``), it pays from C·O / (C + O) >= MIN_CHANNEL_RATIO (16 in and
    32 out, say: 10.7) and not below (16 and 16: 8)."""
    if ((geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, geo.g) == (3, 3, 1, 1, 1, 1, 1)
            and geo.C * geo.O >= MIN_CHANNEL_RATIO * (geo.C + geo.O)
            and np.dtype(dtype) in (np.float32, np.float64) and compiled.kernels() is not None):
        return Winograd(geo, dtype)
    return None


MIN_CHANNEL_RATIO = 10
_CHUNK_BYTES = 512 << 10  # of a chunk's planes (V and M): the transforms' and products' working set, in L2


def _parts():
    """The kernels split the rows of tiles among this many threads."""
    return compiled.kernels().get_num_threads()


class Winograd:
    """The tiles of a convolution ``geo`` (a ``conv._Geometry``): th x tw tiles of 2x2 outputs per
    image. The images go to the kernels batch innermost, (channels, rows, columns, Nv) with Nv
    the batch rounded up to the lanes (``image``, ``gradient``)."""

    def __init__(self, geo, dtype):
        k = compiled.kernels()
        self.geo, self.dtype = geo, np.dtype(dtype)
        self.th, self.tw = -(-geo.OH // 2), -(-geo.OW // 2)
        self.Nv = _round_up(geo.N, k.lanes(dtype))
        self.block = k.VECTORS * k.lanes(dtype)
        self.row_tiles = _round_up(self.tw * self.Nv, self.block)   # a row of tiles, in whole register tiles

    def _chunk(self, rows):
        """Tiles per chunk, for 16 planes of ``rows`` rows in all (the input's and the output's):
        about _CHUNK_BYTES of them, a whole number of register tiles, at most a row of tiles."""
        tiles = _CHUNK_BYTES // (16 * rows * self.dtype.itemsize)
        return min(max(self.block, tiles // self.block * self.block), self.row_tiles)

    def _pack(self, x, rows, cols, top, left, sums=None):
        """x (N, C, h, w) placed at (top, left) of (C, rows, cols, Nv), zeros elsewhere."""
        xb = take_array((x.shape[1], rows, cols, self.Nv), self.dtype)
        sums = np.empty(0, self.dtype) if sums is None else sums
        compiled.run("winograd_pack", x, xb, top, left, sums)
        return xb

    def image(self, x):
        """x (N, C, H, W) batch innermost and zero-padded: (C, 2·th + 2, 2·tw + 2, Nv)."""
        return self._pack(x, 2 * self.th + 2, 2 * self.tw + 2, self.geo.pt, self.geo.pl)

    def gradient(self, gy, sums=None):
        """dL/dy (N, O, OH, OW) batch innermost, zero beyond its edge: (O, 2·th, 2·tw, Nv); ``sums``
        (O,), if given, receives Σ dL/dy[:, o] (the bias gradient)."""
        return self._pack(gy, 2 * self.th, 2 * self.tw, 0, 0, sums)

    def _unpack(self, xb, shape, top, left, shift):
        """The images (N, C, h, w) = ``shape`` read off xb from (top, left), plus shift[c]; xb goes
        back to the array pool."""
        out = np.empty(shape, self.dtype)
        compiled.run("winograd_unpack", xb, out, top, left, shift)
        give_arrays(xb)
        return out

    def _weights(self, w, rows):
        """U (16, C, rows): G w[o, c] Gᵀ per channel pair, element (α, β) at 4α + β, the columns
        o >= O zero (``rows`` a multiple of the kernels' ROWS)."""
        O, C = w.shape[:2]
        u = np.zeros((16, C, rows), self.dtype)
        taps_first = w.transpose(2, 3, 1, 0).reshape(9, C * O)          # w[o, c, i, j] at [3i + j, c·O + o]
        u[:, :, :O] = (_GG.astype(self.dtype) @ taps_first).reshape(16, C, O)
        return u

    def forward(self, xb, w, b):
        """y (N, O, OH, OW) for xb = ``image(x)``, w (O, C, 3, 3) and b (O,) or None."""
        geo, k = self.geo, compiled.kernels()
        u = self._weights(w, _round_up(geo.O, k.ROWS))
        yb = take_array((geo.O, 2 * self.th, 2 * self.tw, self.Nv), self.dtype)
        compiled.run("winograd_forward", xb, u, yb, self._chunk(geo.C + u.shape[2]), _parts())
        bias = np.zeros(geo.O, self.dtype) if b is None else b
        return self._unpack(yb, (geo.N, geo.O, geo.OH, geo.OW), 0, 0, bias)

    def input_grad(self, gyb, w):
        """dL/dx (N, C, H, W) for gyb = ``gradient(dL/dy)``."""
        geo, k = self.geo, compiled.kernels()
        ut = self._weights(w.transpose(1, 0, 2, 3), _round_up(geo.C, k.ROWS))      # (16, O, C rounded up)
        gxb = take_array((geo.C, 2 * self.th + 2, 2 * self.tw + 2, self.Nv), self.dtype)
        parts = max(1, min(_parts(), self.th // 2))   # each part two rows of tiles at least
        compiled.run("winograd_input_grad", gyb, ut, gxb, self._chunk(geo.O + ut.shape[2]), parts)
        return self._unpack(gxb, (geo.N, geo.C, geo.H, geo.W), geo.pt, geo.pl, np.zeros(geo.C, self.dtype))

    def weight_grad(self, gyb, xb):
        """dL/dw (O, C, 3, 3) = Gᵀ dU G, dU[k] = dM[k] @ V[k]ᵀ, for gyb = ``gradient(dL/dy)`` and
        xb = ``image(x)``. The sums run over whole rows of tiles (long sums pay for the tiles'
        final additions)."""
        k, geo = compiled.kernels(), self.geo
        R, T = _round_up(geo.O, k.G_ROWS), _round_up(geo.C, k.TAPS)
        acc = np.empty((_parts(), 16, R, 1, T), self.dtype)
        compiled.run("winograd_weight_grad", gyb, xb, acc, self.row_tiles, _parts())
        du = acc.sum(axis=0)[:, :geo.O, 0, :geo.C].reshape(16, geo.O * geo.C)        # dU[k][o, c] at [k, o·C + c]
        gw = (_GG.T.astype(self.dtype) @ du).reshape(3, 3, geo.O, geo.C)
        return np.ascontiguousarray(gw.transpose(2, 3, 0, 1))
