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
    (``benchmarks/bench_winograd.py``), it pays from C·O / (C + O) >= MIN_CHANNEL_RATIO (32 in and
    64 out, say: 21.3) and not below (32 and 32: 16, even)."""
    if ((geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, geo.g) == (3, 3, 1, 1, 1, 1, 1)
            and geo.C * geo.O >= MIN_CHANNEL_RATIO * (geo.C + geo.O)
            and np.dtype(dtype) in (np.float32, np.float64) and compiled.kernels() is not None):
        return Winograd(geo, dtype)
    return None


MIN_CHANNEL_RATIO = 20
_LINE = 64  # bytes in a cache line
_CHUNK_BYTES = 256 << 10  # of dM and V read per chunk of positions by the weight gradient


def _parts():
    """The kernels split the channels among this many threads."""
    return compiled.kernels().get_num_threads()


class Winograd:
    """The tiles of a convolution ``geo`` (a ``conv._Geometry``): th x tw tiles of 2x2 outputs per
    image, tile p = (i·tw + j)·N + n, and the planes that hold a transformed image: 16 planes, one
    per element (α, β) of the 4x4 products, each a row of L per channel (``_planes``)."""

    keep_image = False  # V is 4 times the input: transformed again for the weight gradient, not kept

    def __init__(self, geo, dtype):
        k = compiled.kernels()
        self.geo, self.dtype = geo, np.dtype(dtype)
        self.th, self.tw = -(-geo.OH // 2), -(-geo.OW // 2)
        self.width = _round_up(self.th * self.tw * geo.N, k.VECTORS * k.lanes(dtype))   # tiles computed
        self.line = _LINE // self.dtype.itemsize
        # a row is one cache line longer than the tiles computed (an even number of lines): room
        # for the last tile's vector to run over, and rows an odd number of lines long, since rows
        # (or planes) a multiple of 4 KiB apart fall on the same cache sets and evict each other
        self.L = self.width + self.line

    def _planes(self, rows):
        """Room for 16 planes of ``rows`` rows of L (from the array pool), each plane one or two
        cache lines longer than its rows, so that planes start an odd number of lines apart."""
        gap = self.line if rows * (self.L // self.line) % 2 == 0 else 2 * self.line
        return take_array((16, rows * self.L + gap), self.dtype)

    def image(self, x):
        """V: the input transform of x (N, C, H, W) on 16 planes of C rows."""
        v = self._planes(x.shape[1])
        compiled.run("winograd_input", x, v, self.L, self.geo.pt, self.geo.pl, self.th, self.tw, _parts())
        return v

    def _products(self, u, v, rows):
        """M[k] = u[k]ᵀ @ V[k] on 16 planes of ``rows`` rows (rounded up to the kernels' ROWS), for
        u (16, C, rows) and V on planes of C rows."""
        padded = _round_up(rows, compiled.kernels().ROWS)
        u_padded = np.zeros((16, u.shape[1], padded), self.dtype)
        u_padded[:, :, :rows] = u
        m = self._planes(padded)
        compiled.run("winograd_products", u_padded, v, m, self.L, self.width)
        return m

    def _weights(self, w):
        """U (16, C, O): G w[o, c] Gᵀ per channel pair, element (α, β) at 4α + β."""
        u = w.reshape(-1, 9) @ _GG.T.astype(self.dtype)                    # (O·C, 16)
        return u.reshape(w.shape[0], w.shape[1], 16).transpose(2, 1, 0)

    def forward(self, v, w, b):
        """y (N, O, OH, OW) for V = ``image(x)``, w (O, C, 3, 3) and b (O,) or None."""
        geo = self.geo
        m = self._products(self._weights(w), v, geo.O)
        y = np.empty((geo.N, geo.O, geo.OH, geo.OW), self.dtype)
        bias = np.zeros(geo.O, self.dtype) if b is None else b
        compiled.run("winograd_output", m, self.L, y, bias, self.th, self.tw, _parts())
        give_arrays(m)
        return y

    def gradient(self, gy, sums=None):
        """dM on 16 planes of O rows (room for O rounded up to the kernels' G_ROWS) for dL/dy
        (N, O, OH, OW); sums (O,) receives Σ dL/dy[:, o]."""
        dm = self._planes(_round_up(gy.shape[1], compiled.kernels().G_ROWS))
        sums = np.empty(gy.shape[1], self.dtype) if sums is None else sums
        compiled.run("winograd_output_adjoint", gy, dm, self.L, self.th, self.tw, sums, _parts())
        return dm

    def input_grad(self, dm, w):
        """dL/dx (N, C, H, W) for dM = ``gradient(dL/dy)``."""
        geo = self.geo
        dv = self._products(self._weights(w).transpose(0, 2, 1), dm, geo.C)
        gx = np.empty((geo.N, geo.C, geo.H, geo.W), self.dtype)
        compiled.run("winograd_input_adjoint", dv, self.L, gx, geo.pt, geo.pl, self.th, self.tw, _parts())
        give_arrays(dv)
        return gx

    def weight_grad(self, dm, v):
        """dL/dw (O, C, 3, 3) = Gᵀ dU G, dU[k] = dM[k] @ V[k]ᵀ, for dM = ``gradient(dL/dy)``."""
        k, geo, L = compiled.kernels(), self.geo, self.L
        R, T = _round_up(geo.O, k.G_ROWS), _round_up(geo.C, k.TAPS)
        shift = np.zeros(T, np.int64)
        shift[:geo.C] = np.arange(geo.C) * L        # tap t reads row t of V[k]
        acc = np.empty((16, R, 1, T), self.dtype)
        chunk = max(k.lanes(self.dtype), _round_up(_CHUNK_BYTES // (self.dtype.itemsize * (R + geo.C)), k.lanes(self.dtype)))
        compiled.run("winograd_correlate", dm, v, L, self.width, shift, acc, chunk)
        du = acc[:, :geo.O, 0, :geo.C].transpose(1, 2, 0)                   # (O, C, 16)
        return (du.reshape(-1, 16) @ _GG.astype(self.dtype)).reshape(geo.O, geo.C, 3, 3)
