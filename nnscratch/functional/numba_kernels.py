"""The compiled kernels (numba): a register-blocked direct convolution for ``conv_direct``,
Winograd's transforms and products for ``conv_winograd``, ReLU, 2x2 max pooling and max pooling's
backward spread over the cores, and the LSTM's step (all called through ``compiled``).

Imported by ``compiled`` only, and only when numba is installed (``pip install "nnscratch[fast]"``);
nnscratch never needs it: the im2col path in ``conv`` computes the same numbers with NumPy.

Everything works on images laid out as a *flat padded grid* (``conv_direct.Grid``): one row per
channel, the zero-padded images one after the other, so that kernel offset (i, j) is a constant
shift of the flat index q. One sum serves both passes:

    out[r, q] = b[r] + Σ_{c, t} w[c, t, r] · x[c, q + shift[t]]          (``conv_grid``)

and the weight gradient is its partner

    acc[r, c, t] = Σ_q g[r, q] · x[c, q + shift[t]]                    (``correlate_grid``)

How it is fast (about 200 GFLOP/s on two cores, the rate of a large matrix product): a *tile* of
4 output rows x 2 vectors of pixels (8 vector registers) stays in registers over the whole
Σ_{c, t}; each step loads 2 vectors of x and 4 weights, and does 8 vector multiply-adds. The tile
is LLVM IR (vector types, ``llvm.fma``) emitted by a numba ``intrinsic``; numba's ``prange``
spreads the tiles over the cores. Which positions of the grid are real outputs (not padding) is
the caller's business: the kernels compute every position. Winograd's 16 matrix products run on
the same tiles with one tap (``_product_tile``), its transforms on explicit vectors too
(``_vector_map``): left to LLVM, loops over 16 planes are not vectorised (it cannot rule out that
they overlap).
"""

import os

import numpy as np

# numba's OpenMP workers spin briefly after a kernel (GNU OpenMP's count: about 1000 rounds), enough
# to catch a kernel that follows at once, then sleep instead of spinning against NumPy and OpenBLAS
# for 300,000 rounds (the default). Read when numba starts its OpenMP threads, so set here, before
# the first kernel; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "1000")

import numba  # noqa: E402
from llvmlite import ir  # noqa: E402
from numba import njit, prange, types  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.extending import intrinsic  # noqa: E402

VECTOR_BYTES = 64      # one AVX-512 register (LLVM splits it in two on AVX2 machines)
ROWS = 4               # output rows of a conv_grid tile
VECTORS = 2            # pixel vectors of a conv_grid tile
G_ROWS, TAPS = 4, 3    # gradient rows x taps of a correlate_grid tile


# numba's thread count (per calling thread), for ``compiled.threads`` and the weight gradient's parts
get_num_threads, set_num_threads = numba.get_num_threads, numba.set_num_threads
MAX_THREADS = numba.config.NUMBA_NUM_THREADS


def lanes(dtype):
    """Values per vector for a float dtype: 16 float32 or 8 float64."""
    return VECTOR_BYTES // np.dtype(dtype).itemsize


class _Emitter:
    """Small helpers for writing vector IR with numba's builder."""

    def __init__(self, context, builder, dtype):
        self.b = builder
        self.float = ir.FloatType() if dtype == types.float32 else ir.DoubleType()
        self.n = lanes(np.float32 if dtype == types.float32 else np.float64)
        self.vec = ir.VectorType(self.float, self.n)
        self.i64 = ir.IntType(64)
        suffix = "v%d%s" % (self.n, "f32" if dtype == types.float32 else "f64")
        self.fma_fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(self.vec, [self.vec] * 3),
                                                     "llvm.fma." + suffix)
        self.context = context

    def const(self, k):
        return ir.Constant(self.i64, k)

    def arrays(self, signature, args):
        """``array`` of each array argument, in order."""
        return [self.array(ty, v) for ty, v in zip(signature.args, args) if isinstance(ty, types.Array)]

    def array(self, ty, value):
        """(data pointer, row stride in elements) of a 1-d or 2-d+ C-ordered array argument."""
        a = self.context.make_array(ty)(self.context, self.b, value)
        stride = self.b.extract_value(a.strides, 0) if ty.ndim > 1 else self.const(0)
        return a.data, self.b.sdiv(stride, self.const(ty.dtype.bitwidth // 8)), a

    def at(self, ptr, *offsets):
        for off in offsets:
            ptr = self.b.gep(ptr, [off])
        return ptr

    def load_vec(self, ptr):
        return self.b.load(self.b.bitcast(ptr, self.vec.as_pointer()), align=4)

    def store_vec(self, value, ptr):
        self.b.store(value, self.b.bitcast(ptr, self.vec.as_pointer()), align=4)

    def splat(self, scalar):
        undef = ir.Constant(self.vec, ir.Undefined)
        v = self.b.insert_element(undef, scalar, ir.Constant(ir.IntType(32), 0))
        return self.b.shuffle_vector(v, undef, ir.Constant(ir.VectorType(ir.IntType(32), self.n), [0] * self.n))

    def sum(self, v, start):
        """start + the sum of the lanes of v (in any order: a tree of shuffles and adds)."""
        name = "llvm.vector.reduce.fadd.v%d%s" % (self.n, "f32" if self.float == ir.FloatType() else "f64")
        fn = cgutils.get_or_insert_function(self.b.module, ir.FunctionType(self.float, [self.float, self.vec]), name)
        return self.b.call(fn, [start, v], fastmath=("reassoc",))

    def fma(self, a, x, acc):
        return self.b.call(self.fma_fn, [a, x, acc])

    def tile_step(self, acc, x_ptr, w_ptr):
        """acc[a·VECTORS + v] += w_ptr[a] · (vector v at x_ptr), a < ROWS, v < VECTORS."""
        xs = [self.load_vec(self.at(x_ptr, self.const(v * self.n))) for v in range(VECTORS)]
        for a in range(ROWS):
            wa = self.splat(self.b.load(self.at(w_ptr, self.const(a))))
            for v in range(VECTORS):
                reg = acc[a * VECTORS + v]
                self.b.store(self.fma(wa, xs[v], self.b.load(reg)), reg)

    def tile_store(self, acc, out_data, out_row, r0, o0):
        """out[r0 + a, o0 + v·lanes ...] = acc[a·VECTORS + v]."""
        for a in range(ROWS):
            out_a = self.at(out_data, self.b.mul(self.b.add(r0, self.const(a)), out_row), o0)
            for v in range(VECTORS):
                self.store_vec(self.b.load(acc[a * VECTORS + v]), self.at(out_a, self.const(v * self.n)))

    def registers(self, count, initial):
        """``count`` accumulators (allocas, which LLVM keeps in registers), set to ``initial(k)``."""
        regs = [cgutils.alloca_once(self.b, self.vec) for _ in range(count)]
        for k, reg in enumerate(regs):
            self.b.store(initial(k), reg)
        return regs


@intrinsic
def _conv_tile(typingctx, x, w, shift, b, out, q0, o0, r0):
    """out[r0 + a, o0 + p] = b[r0 + a] + Σ_{c, t} w[c, t, r0 + a] · x[c, q0 + shift[t] + p]
    for a < ROWS and p < VECTORS · lanes."""
    sig = types.void(x, w, shift, b, out, q0, o0, r0)

    def codegen(context, builder, signature, args):
        e = _Emitter(context, builder, signature.args[0].dtype)
        (x_data, x_row, xa), (w_data, _, wa), (s_data, _, _), (b_data, _, _), (out_data, out_row, _) = \
            e.arrays(signature, args)
        q0, o0, r0 = args[5:]
        C = builder.extract_value(xa.shape, 0)
        T = builder.extract_value(wa.shape, 1)
        R = builder.extract_value(wa.shape, 2)
        acc = e.registers(ROWS * VECTORS, lambda k: e.splat(builder.load(
            e.at(b_data, builder.add(r0, e.const(k // VECTORS))))))
        with cgutils.for_range(builder, C) as c_loop:
            c = c_loop.index
            x_c = e.at(x_data, builder.mul(c, x_row))
            w_c = e.at(w_data, builder.mul(builder.mul(c, T), R))
            with cgutils.for_range(builder, T) as t_loop:
                t = t_loop.index
                e.tile_step(acc, e.at(x_c, builder.add(q0, builder.load(e.at(s_data, t)))),
                            e.at(w_c, builder.add(builder.mul(t, R), r0)))
        e.tile_store(acc, out_data, out_row, r0, o0)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _product_tile(typingctx, x, w, out, q0, r0):
    """out[r0 + a, q0 + p] = Σ_c w[c, r0 + a] · x[c, q0 + p] for a < ROWS and p < VECTORS · lanes:
    ``_conv_tile`` with one tap and no bias, a tile of a matrix product."""
    sig = types.void(x, w, out, q0, r0)

    def codegen(context, builder, signature, args):
        e = _Emitter(context, builder, signature.args[0].dtype)
        (x_data, x_row, xa), (w_data, w_row, _), (out_data, out_row, _) = e.arrays(signature, args)
        q0, r0 = args[3:]
        zero = ir.Constant(e.vec, [0.0] * e.n)
        acc = e.registers(ROWS * VECTORS, lambda k: zero)
        with cgutils.for_range(builder, builder.extract_value(xa.shape, 0)) as c_loop:
            c = c_loop.index
            e.tile_step(acc, e.at(x_data, builder.mul(c, x_row), q0), e.at(w_data, builder.mul(c, w_row), r0))
        e.tile_store(acc, out_data, out_row, r0, q0)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _correlate_tile(typingctx, g, x, shift, acc, q0, q1, r0, c, t0):
    """acc[r0 + a, c, t0 + k] += Σ_{q0 <= q < q1} g[r0 + a, q] · x[c, q + shift[t0 + k]]
    for a < G_ROWS and k < TAPS (q1 - q0 a multiple of the lanes)."""
    sig = types.void(g, x, shift, acc, q0, q1, r0, c, t0)

    def codegen(context, builder, signature, args):
        e = _Emitter(context, builder, signature.args[0].dtype)
        (g_data, g_row, _), (x_data, x_row, _), (s_data, _, _), (acc_data, _, acc_a) = e.arrays(signature, args)
        q0, q1, r0, c, t0 = args[4:]
        zero = ir.Constant(e.vec, [0.0] * e.n)
        regs = e.registers(G_ROWS * TAPS, lambda i: zero)  # regs[a·TAPS + k]
        x_taps = [e.at(x_data, builder.mul(c, x_row), builder.load(e.at(s_data, builder.add(t0, e.const(k)))))
                  for k in range(TAPS)]
        g_rows = [e.at(g_data, builder.mul(builder.add(r0, e.const(a)), g_row)) for a in range(G_ROWS)]
        count = builder.sdiv(builder.sub(q1, q0), e.const(e.n))
        with cgutils.for_range(builder, count) as loop:
            q = builder.add(q0, builder.mul(loop.index, e.const(e.n)))
            gs = [e.load_vec(e.at(g_rows[a], q)) for a in range(G_ROWS)]
            for k in range(TAPS):
                xv = e.load_vec(e.at(x_taps[k], q))
                for a in range(G_ROWS):
                    reg = regs[a * TAPS + k]
                    builder.store(e.fma(gs[a], xv, builder.load(reg)), reg)
        C = builder.extract_value(acc_a.shape, 1)  # acc is (R, C, T), C-ordered
        T = builder.extract_value(acc_a.shape, 2)
        for a in range(G_ROWS):
            for k in range(TAPS):
                index = builder.add(builder.mul(builder.add(builder.mul(builder.add(r0, e.const(a)), C), c), T),
                                    builder.add(t0, e.const(k)))
                ptr = e.at(acc_data, index)
                builder.store(e.sum(builder.load(regs[a * TAPS + k]), builder.load(ptr)), ptr)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def _share(count, parts, part):
    """Part ``part`` of ``parts`` of range(count), as even as whole items allow: how the kernels
    split channels, or blocks of positions, among their threads."""
    per = -(-count // parts)
    return range(part * per, min(count, (part + 1) * per))


@njit(parallel=True, cache=True)
def conv_grid(x, w, shift, b, y, Hs, Wr, top, left, width, scratch):
    """y[n, r, i, j] = out[r, n·Hs·Wr + (top + i)·Wr + left + j], the images read off the grid

        out[r, q] = b[r] + Σ_{c, t} w[c, t, r] · x[c, q + shift[t]]       (q < width)

    computed a chunk of positions at a time in ``scratch`` (parts, rows, chunk), one part per
    thread, and copied to y while the chunk is in the cache. rows (>= y.shape[1]) is a multiple of
    ROWS, chunk and width multiples of VECTORS · lanes; x has width + max(shift) columns."""
    parts, R, chunk = scratch.shape
    N, O, h, wd = y.shape
    block = VECTORS * (VECTOR_BYTES // x.itemsize)
    for p in prange(parts):
        out = scratch[p]
        blocks = _share(width // block, parts, p)
        end = blocks.stop * block
        for q0 in range(blocks.start * block, end, chunk):
            q1 = min(end, q0 + chunk)
            for q in range(q0, q1, block):
                for r0 in range(0, R, ROWS):
                    _conv_tile(x, w, shift, b, out, q, q - q0, r0)
            for row in range(q0 // Wr, (q1 - 1) // Wr + 1):   # the grid rows met, their real outputs
                n, i = row // Hs, row % Hs - top
                lo, hi = max(q0, row * Wr + left), min(q1, row * Wr + left + wd)
                if n < N and 0 <= i < h and lo < hi:
                    j = lo - row * Wr - left
                    for o in range(O):
                        y[n, o, i, j:j + hi - lo] = out[o, lo - q0:hi - q0]


@njit(parallel=True, cache=True)
def correlate_grid(g, x, shift, acc, n, chunk):
    """acc[part, r, c, t] = Σ_q g[r, q] · x[c, q + shift[t]] over the part-th of q < n (n a
    multiple of the lanes), the q range split into acc.shape[0] parts that run in parallel, each
    in chunks of ``chunk`` positions (kept in the cache while every (r, c, t) tile reads them);
    acc is zeroed here. R and T are multiples of G_ROWS and TAPS."""
    parts, R, C, T = acc.shape[0], acc.shape[1], acc.shape[2], acc.shape[3]
    acc[...] = 0
    lanes = VECTOR_BYTES // g.itemsize
    for p in prange(parts):
        a = acc[p]
        vectors = _share(n // lanes, parts, p)
        end = vectors.stop * lanes
        for start in range(vectors.start * lanes, end, chunk):
            stop = min(end, start + chunk)
            for r0 in range(0, R, G_ROWS):
                for c in range(C):
                    for t0 in range(0, T, TAPS):
                        _correlate_tile(g, x, shift, a, start, stop, r0, c, t0)


@njit(parallel=True, cache=True, fastmath=True)
def to_grid(x, grid, offset, Hs, Wr, top, left, sums):
    """Place the images x (N, C, h, w) on the grid (C, columns): x[n, c, r, col] goes to column
    offset + n·Hs·Wr + (top + r)·Wr + left + col; every other column is zeroed. When sums has C
    entries, also sums[c] = Σ_{n, r, col} x[n, c, r, col] (a bias gradient, on the way)."""
    N, C, h, w = x.shape
    plane = Hs * Wr
    for c in prange(C):
        row = grid[c]
        row[:offset] = 0
        row[offset + N * plane:] = 0
        s = 0.0
        for n in range(N):
            base = offset + n * plane
            row[base:base + top * Wr] = 0
            for r in range(h):
                start = base + (top + r) * Wr
                row[start:start + left] = 0
                row[start + left:start + left + w] = x[n, c, r]
                row[start + left + w:start + Wr] = 0
                if sums.shape[0] == C:
                    for col in range(w):
                        s += x[n, c, r, col]
            row[base + (top + h) * Wr:base + plane] = 0
        if sums.shape[0] == C:
            sums[c] = s


# ----------------------------------------------------------------------------- Winograd F(2x2, 3x3)
# For ``conv_winograd``. Images lie batch innermost and zero-padded, (C, Hb, Wb, Nv) with Nv = N
# rounded up to the lanes (``winograd_pack``), so that each transform is the same few additions
# over a vector of images. Tile (i, j) of image n covers outputs 2i, 2i + 1 x 2j, 2j + 1, computed
# from the 4x4 patch d at padded rows 2i.., columns 2j..:
#     V = Bᵀ d B,  Y = Aᵀ M A,  Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
#     Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]].
# The kernels split the rows of tiles (i) among the threads and take each row in chunks of tiles
# t = j·Nv + n, start <= t < stop: a chunk's transforms and products stay in the thread's cache,
# on 16 planes (one per element (α, β) of the 4x4 products, ``_plane_length``): element (α, β) of
# tile t for channel c is planes[4α + β, c·row + t - start]. The backward passes are the same maps
# transposed.

_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])


def _vector_map(matrix, accumulate=False):
    """An intrinsic f(src, s0, sa, sb, dst, d0, da, db, count) that computes, for a vector of
    ``count`` (a multiple of the lanes) consecutive values at each of the offsets,

        dst[d0 + a·da + b·db + n] (+)= Σ_{a', b'} matrix[k, j] · src[s0 + a'·sa + b'·sb + n]

    for output k = a·side + b and input j = a'·side' + b' (side = 2 for 4 values, 4 for 16), over
    the flat data of src and dst. The matrix entries are 0, 1 or -1: additions only."""
    matrix = np.asarray(matrix)
    sides = [int(round(np.sqrt(d))) for d in matrix.shape]

    @intrinsic
    def vector_map(typingctx, src, s0, sa, sb, dst, d0, da, db, count):
        sig = types.void(src, s0, sa, sb, dst, d0, da, db, count)

        def codegen(context, builder, signature, args):
            e = _Emitter(context, builder, signature.args[0].dtype)
            (s_data, _, _), (d_data, _, _) = e.arrays(signature, args)
            s0, sa, sb, _, d0, da, db, count = args[1:]

            def pointers(data, base, step_a, step_b, side):
                return [e.at(data, builder.add(base, builder.add(builder.mul(e.const(k // side), step_a),
                                                                   builder.mul(e.const(k % side), step_b))))
                        for k in range(side * side)]

            srcs, dsts = pointers(s_data, s0, sa, sb, sides[1]), pointers(d_data, d0, da, db, sides[0])
            with cgutils.for_range(builder, builder.sdiv(count, e.const(e.n))) as loop:
                n = builder.mul(loop.index, e.const(e.n))
                xs = [e.load_vec(e.at(p, n)) for p in srcs]
                for k, row in enumerate(matrix):
                    total = None
                    for j in np.flatnonzero(row):
                        term = xs[j] if row[j] > 0 else builder.fneg(xs[j])
                        total = term if total is None else builder.fadd(total, term)
                    if accumulate:
                        total = builder.fadd(e.load_vec(e.at(dsts[k], n)), total)
                    e.store_vec(total, e.at(dsts[k], n))
            return context.get_dummy_value()

        return sig, codegen

    return vector_map


_input_map = _vector_map(np.kron(_BT, _BT))                      # patch (16) -> V (16)
_output_map = _vector_map(np.kron(_AT, _AT))                     # M (16) -> 2x2 outputs
_output_adjoint_map = _vector_map(np.kron(_AT, _AT).T)           # 2x2 gradients -> dM (16)
_input_adjoint_map = _vector_map(np.kron(_BT, _BT).T, accumulate=True)   # dV (16) += onto the patch


@njit(cache=True)
def _round_up(n, k):
    return -(-n // k) * k


@njit(cache=True)
def _batch_inner(images, out):
    """out[h, w, n] = images[n, h, w]."""
    N, H, W = images.shape
    for n in range(N):
        for h in range(H):
            for w in range(W):
                out[h, w, n] = images[n, h, w]


@njit(cache=True)
def _batch_outer(planes, out, shift):
    """out[n, h, w] = planes[h, w, n] + shift."""
    N, H, W = out.shape
    for n in range(N):
        for h in range(H):
            for w in range(W):
                out[n, h, w] = planes[h, w, n] + shift


@njit(parallel=True, cache=True, fastmath=True)
def winograd_pack(x, xb, top, left, sums):
    """xb[c, top + h, left + w, n] = x[n, c, h, w] and zero elsewhere: x (N, C, H, W) batch
    innermost and padded. When sums has C entries, also sums[c] = Σ x[:, c] (a bias gradient)."""
    _, C, H, W = x.shape
    for c in prange(C):
        xb[c] = 0
        _batch_inner(x[:, c], xb[c, top:top + H, left:left + W])
        if sums.shape[0] == C:  # summed from xb[c], just written (in the cache) and zero elsewhere
            flat = xb[c].reshape(-1)
            s = 0.0
            for i in range(flat.size):
                s += flat[i]
            sums[c] = s


@njit(parallel=True, cache=True)
def winograd_unpack(xb, x, top, left, shift):
    """x[n, c, h, w] = xb[c, top + h, left + w, n] + shift[c]: the inverse of ``winograd_pack``."""
    N, C, H, W = x.shape
    for c in prange(C):
        _batch_outer(xb[c, top:top + H, left:left + W], x[:, c], shift[c])


@njit(cache=True)
def _plane_length(rows, row, line):
    """Room for ``rows`` rows of ``row`` values and a gap of one or two cache lines, so that the 16
    planes start an odd number of lines apart: planes a multiple of 4 KiB apart would fall on the
    same cache sets and evict each other (rows are an odd number of lines long for the same reason)."""
    n = rows * row
    return n + (line if (n // line) % 2 == 0 else 2 * line)


# what ``_chunk_map`` computes
TO_V, FROM_M, TO_DM, FROM_DV = 0, 1, 2, 3


@njit(cache=True)
def _chunk_map(which, image, ch, i, start, stop, planes, plane, row):
    """One transform of channel ``ch`` for the tiles start <= t < stop of tile row i, between an
    image laid out batch innermost and the chunk's planes (row ``ch``, column t - start):
    TO_V: V = Bᵀ d B of each tile's 4x4 patch d of image (C, Hb, Wb, Nv);
    FROM_M: Y = Aᵀ M A written to each tile's 2x2 block of image (O, 2·th, 2·tw, Nv);
    TO_DM: dM = A G Aᵀ of each tile's 2x2 block G of image, the transpose of FROM_M;
    FROM_DV: B dV Bᵀ added onto each tile's patch of image, the transpose of TO_V."""
    _, H, W, Nv = image.shape
    t = start
    while t < stop:  # a run of tiles at one position j: consecutive images
        j, n = t // Nv, t % Nv
        run = min(Nv - n, stop - t)
        at = ((ch * H + 2 * i) * W + 2 * j) * Nv + n     # the tile's patch or block in image
        p = ch * row + t - start                        # its values on the planes
        if which == TO_V:
            _input_map(image, at, W * Nv, Nv, planes, p, 4 * plane, plane, run)
        elif which == FROM_M:
            _output_map(planes, p, 4 * plane, plane, image, at, W * Nv, Nv, run)
        elif which == TO_DM:
            _output_adjoint_map(image, at, W * Nv, Nv, planes, p, 4 * plane, plane, run)
        else:
            _input_adjoint_map(planes, p, 4 * plane, plane, image, at, W * Nv, Nv, run)
        t += run


@njit(cache=True)
def _chunk_products(u, x, out, row, count):
    """out[k, r, q] = Σ_c u[k, c, r] · x[k, c, q] on the planes, for q < count (rounded up to a
    tile's positions; the rows have room) and r < u.shape[2] (a multiple of ROWS)."""
    K, C, R = u.shape
    block = VECTORS * (VECTOR_BYTES // x.itemsize)
    for k in range(K):
        xk, ok = x[k, :C * row].reshape(C, row), out[k, :R * row].reshape(R, row)
        for q in range(0, count, block):
            for r0 in range(0, R, ROWS):
                _product_tile(xk, u[k], ok, q, r0)


@njit(parallel=True, cache=True)
def winograd_forward(xb, u, yb, chunk, parts):
    """yb[o, 2i + a, 2j + b, n] = (Aᵀ M A)[a, b] with M[k] = Σ_c u[k, c, o] · V[k, c] of the tile
    (i, j) of image n, V = Bᵀ d B of its patch in xb (C, Hb, Wb, Nv); yb is (O, 2·th, 2·tw, Nv),
    u (16, C, R) with R a multiple of ROWS; ``chunk`` (tiles) a multiple of VECTORS · lanes."""
    C, _, _, Nv = xb.shape
    R = u.shape[2]
    O, th, per_row = yb.shape[0], yb.shape[1] // 2, yb.shape[2] // 2 * Nv
    line = 64 // xb.itemsize
    row = chunk + line
    vp, mp = _plane_length(C, row, line), _plane_length(R, row, line)
    for part in prange(parts):
        v, m = np.zeros((16, vp), xb.dtype), np.zeros((16, mp), xb.dtype)
        for i in _share(th, parts, part):
            for start in range(0, per_row, chunk):
                stop = min(per_row, start + chunk)
                for c in range(C):
                    _chunk_map(TO_V, xb, c, i, start, stop, v, vp, row)
                _chunk_products(u, v, m, row, stop - start)
                for o in range(O):
                    _chunk_map(FROM_M, yb, o, i, start, stop, m, mp, row)


@njit(parallel=True, cache=True)
def winograd_input_grad(gyb, ut, gxb, chunk, parts):
    """gxb (C, Hb, Wb, Nv) = Σ over the tiles of B dV Bᵀ added onto the tile's patch (zeroed here
    first), dV[k] = Σ_o ut[k, o, c] · dM[k, o], dM = A G Aᵀ for the 2x2 block G of gyb (O, 2·th,
    2·tw, Nv) at the tile: the transpose of ``winograd_forward``. ut is (16, O, R), R a multiple of
    ROWS. A tile's patch overlaps those of the tile rows next to it, so each part does its first
    row after the others have done theirs (which needs parts <= th / 2)."""
    C, _, _, Nv = gxb.shape
    R = ut.shape[2]
    O, th, per_row = gyb.shape[0], gyb.shape[1] // 2, gyb.shape[2] // 2 * Nv
    line = 64 // gxb.itemsize
    row = chunk + line
    mp, vp = _plane_length(O, row, line), _plane_length(R, row, line)
    for c in prange(C):
        gxb[c] = 0
    for first in (False, True):
        for part in prange(parts):
            dm, dv = np.zeros((16, mp), gxb.dtype), np.zeros((16, vp), gxb.dtype)
            rows = _share(th, parts, part)
            for i in rows:
                if (i == rows.start) != first:
                    continue
                for start in range(0, per_row, chunk):
                    stop = min(per_row, start + chunk)
                    for o in range(O):
                        _chunk_map(TO_DM, gyb, o, i, start, stop, dm, mp, row)
                    _chunk_products(ut, dm, dv, row, stop - start)
                    for c in range(C):
                        _chunk_map(FROM_DV, gxb, c, i, start, stop, dv, vp, row)


@njit(parallel=True, cache=True)
def winograd_weight_grad(gyb, xb, acc, chunk, parts):
    """acc[part, k, r, 0, c] = Σ over the part's tiles of dM[k, r] · V[k, c] (dU[k] = dM[k] @ V[k]ᵀ),
    dM from gyb and V from xb as in the kernels above; acc is zeroed here, its R and T axes
    (acc.shape[2], acc.shape[4]) multiples of G_ROWS and TAPS."""
    C, _, _, Nv = xb.shape
    _, _, R, _, T = acc.shape
    O, th, per_row = gyb.shape[0], gyb.shape[1] // 2, gyb.shape[2] // 2 * Nv
    line = 64 // xb.itemsize
    row = chunk + line
    vp, mp = _plane_length(T, row, line), _plane_length(R, row, line)
    shift = np.arange(T) * row     # tap t of the correlation reads row t of V[k]
    for part in prange(parts):
        a = acc[part]
        a[...] = 0
        v, dm = np.zeros((16, vp), xb.dtype), np.zeros((16, mp), xb.dtype)
        for i in _share(th, parts, part):
            for start in range(0, per_row, chunk):
                stop = min(per_row, start + chunk)
                for c in range(C):
                    _chunk_map(TO_V, xb, c, i, start, stop, v, vp, row)
                for o in range(O):
                    _chunk_map(TO_DM, gyb, o, i, start, stop, dm, mp, row)
                for k in range(16):
                    gk = dm[k, :R * row].reshape(R, row)
                    for r0 in range(0, R, G_ROWS):
                        for t0 in range(0, T, TAPS):
                            _correlate_tile(gk, v[k:k + 1], shift, a[k], 0, stop - start, r0, 0, t0)


# ----------------------------------------------------------------------------- pointwise, pooling, sums

@njit(parallel=True, cache=True)
def relu(x, y):
    """y = max(x, 0) over flat arrays (a NaN stays NaN)."""
    for i in prange(x.size):
        v = x[i]
        y[i] = 0 if v < 0 else v


@njit(parallel=True, cache=True)
def relu_grad(g, y, gx):
    """gx = g where y > 0, else 0 (the ReLU's output y), over flat arrays."""
    for i in prange(g.size):
        gx[i] = g[i] if y[i] > 0 else 0


@njit(parallel=True, cache=True)
def max_pool_2x2(x, y, index):
    """y[m, i, j] = max of the 2x2 window x[m, 2i:2i+2, 2j:2j+2], index[m, i, j] = its offset
    a·2 + b (the first maximum on ties; a NaN wins, the last NaN): the four offsets written out,
    so that the loop over j vectorises."""
    M, OH, OW = y.shape
    for m in prange(M):
        for i in range(OH):
            r0, r1, yr, ir = x[m, 2 * i], x[m, 2 * i + 1], y[m, i], index[m, i]
            for j in range(OW):
                best = r0[2 * j]
                arg = 0
                v = r0[2 * j + 1]
                take = v > best or v != v
                best = v if take else best
                arg = 1 if take else arg
                v = r1[2 * j]
                take = v > best or v != v
                best = v if take else best
                arg = 2 if take else arg
                v = r1[2 * j + 1]
                take = v > best or v != v
                best = v if take else best
                arg = 3 if take else arg
                yr[j] = best
                ir[j] = arg


@njit(parallel=True, cache=True)
def max_pool_scatter(g, index, gx, kh, kw):
    """The backward of max pooling with windows side by side: gx[m, i·kh + a, j·kw + b] = g[m, i, j]
    where index[m, i, j] = a·kw + b (the window's maximum), else 0 (rows and columns beyond the last
    window included)."""
    M, OH, OW = g.shape
    for m in prange(M):
        gx[m] = 0
        for i in range(OH):
            for j in range(OW):
                t = index[m, i, j]
                gx[m, i * kh + t // kw, j * kw + t % kw] = g[m, i, j]


# ----------------------------------------------------------------------------- the LSTM's step
# One call for the elementwise work of a step that NumPy does in a dozen calls over strided gate
# slices. Each value is computed by the same operations in the same order as the NumPy path of
# ``recurrent._LSTM`` (no fused multiply-add), so the results are the same to the bit; the tanh
# stays NumPy's (vectorised), between the two forward kernels.

@njit(cache=True, nogil=True)
def lstm_cell(a, scale, shift, c_prev, c_t):
    """The gates a = (i, f, g, o) (N, 4H), tanh already applied, made a · scale + shift; then
    c_t = f · c_prev + i · g."""
    N, H = c_t.shape
    for n in range(N):  # row by row, one store per loop: LLVM vectorises such loops
        row, cp, ct = a[n], c_prev[n], c_t[n]
        for q in range(4 * H):
            row[q] = row[q] * scale[q] + shift[q]
        for j in range(H):
            ct[j] = row[H + j] * cp[j] + row[j] * row[2 * H + j]


@njit(cache=True, nogil=True)
def lstm_output(a, c_prev, tanh_c, h_t, p, k, recording, one):
    """h_t = o · tanh c_t; when ``recording``, the backward's factors (``recurrent._LSTM._factors``):
    p = (g · i(1-i), c_prev · f(1-f), i(1 + g) · (1-g), h · (1-o)), k = o - h · tanh c_t.
    ``one`` is 1 in the arrays' dtype (a literal 1 would make float32 arithmetic float64)."""
    N, H = h_t.shape
    for n in range(N):
        row, tc, h = a[n], tanh_c[n], h_t[n]
        for j in range(H):
            h[j] = row[3 * H + j] * tc[j]
        if recording:
            pr, cp, kr = p[n], c_prev[n], k[n]
            for j in range(H):
                pr[j] = (one - row[j]) * (row[j] * row[2 * H + j])
            for j in range(H):
                pr[2 * H + j] = (one - row[2 * H + j]) * (row[j] + row[j] * row[2 * H + j])
            for j in range(H):
                pr[H + j] = (one - row[H + j]) * (row[H + j] * cp[j])
            for j in range(H):
                pr[3 * H + j] = (one - row[3 * H + j]) * h[j]
            for j in range(H):
                kr[j] = row[3 * H + j] - h[j] * tc[j]


@njit(cache=True, nogil=True)
def lstm_step_backward(gy_t, dh_rec, k_t, d, dc, f_t, dh, carry):
    """One step of the LSTM's backward before its product: dh = gy_t + dh_rec (dL/dh_t),
    dc += dh · k_t, the factors d (N, 4H) turned into dG = (dc, dc, dc, dh) · d in place, and, if
    ``carry``, dc *= f_t (dL/dc_{t-1})."""
    N, H = dh.shape
    for n in range(N):
        g, r, kn, dn, cn, fn, hn = gy_t[n], dh_rec[n], k_t[n], d[n], dc[n], f_t[n], dh[n]
        for j in range(H):
            hn[j] = g[j] + r[j]
        for j in range(H):
            cn[j] = cn[j] + hn[j] * kn[j]
        for b in range(3):  # one store per loop: LLVM then vectorises it
            for j in range(H):
                dn[b * H + j] *= cn[j]
        for j in range(H):
            dn[3 * H + j] *= hn[j]
        if carry:
            for j in range(H):
                cn[j] *= fn[j]
