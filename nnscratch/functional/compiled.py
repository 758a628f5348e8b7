"""The optional compiled kernels: on when numba is installed (``pip install "nnscratch[fast]"``).

With numba, ``conv2d`` and ``conv_transpose2d`` (stride 1, one group) run as a direct
convolution in compiled, register-blocked loops spread over the cores (``conv_direct``,
``numba_kernels``, which also sum the bias gradient while placing dL/dy on the grid), and 3x3
convolutions with channels enough by Winograd's algorithm on the same register tiles
(``conv_winograd``); ReLU, 2x2 max pooling and the backward of max pooling with windows side by
side run as compiled loops over the cores (the functions below). Without numba, with
``NNSCRATCH_COMPILED=0`` in the environment, or after ``set_enabled(False)``, every op runs on
NumPy alone. Both give the same numbers (within float rounding); the NumPy code is the
one to read first, and the tests compare the two.
"""

import contextlib
import os

import numpy as np

from ..backend import park_blas_threads

_enabled = os.environ.get("NNSCRATCH_COMPILED", "1") != "0"
_module = None  # numba_kernels once imported, False if numba is missing


def set_enabled(flag):
    """Use the compiled kernels (where numba is installed) or NumPy alone; returns the previous setting."""
    global _enabled
    previous, _enabled = _enabled, bool(flag)
    return previous


def available():
    """Whether numba is installed, so that the compiled kernels can run."""
    global _module
    if _module is None:
        try:
            from . import numba_kernels
            _module = numba_kernels
        except ImportError:
            _module = False
    return _module is not False


def kernels():
    """The module of compiled kernels, or None (numba is not installed, or they are turned off)."""
    return _module if _enabled and available() else None


@contextlib.contextmanager
def threads(n):
    """Inside the block the compiled kernels started from this thread use at most ``n`` threads
    (numba's count is per calling thread): ``nn.DataParallel`` gives each of its slices one. Until
    a kernel has loaded numba this does nothing (a network without compiled ops never loads it)."""
    if not (_enabled and _module):
        yield
        return
    previous = _module.get_num_threads()
    _module.set_num_threads(min(n, _module.MAX_THREADS))
    try:
        yield
    finally:
        _module.set_num_threads(previous)


def run(name, *args):
    """Run the compiled kernel ``name``, OpenBLAS's spinning threads stopped first (they would take
    half of each core from the kernel's threads: ``backend.park_blas_threads``)."""
    park_blas_threads()
    getattr(_module, name)(*args)


# ----------------------------------------------------------------------------- ops with a compiled form
# Each returns its result, or None where the kernels do not apply (then the caller uses NumPy):
# the kernels off, an array too small for threads to pay, not contiguous, or not floating point.

# elements: below this, starting a kernel's threads (and parking the BLAS's) costs more than it saves
PARALLEL_MIN = 1 << 17


def _applies(*arrays, size=None):
    """Whether a kernel takes these arrays, for ``size`` elements of work (default: the first array's)."""
    return ((arrays[0].size if size is None else size) >= PARALLEL_MIN
            and kernels() is not None  # (small arrays never load numba)
            and all(a.dtype == arrays[0].dtype and a.dtype in (np.float32, np.float64) and a.flags.c_contiguous
                    for a in arrays))


def relu(x):
    """max(x, 0)."""
    if not _applies(x):
        return None
    y = np.empty_like(x)
    run("relu", x.reshape(-1), y.reshape(-1))
    return y


def relu_grad(g, y):
    """dL/dx of y = relu(x): g where y > 0, else 0."""
    if not _applies(g, y):
        return None
    gx = np.empty_like(g)
    run("relu_grad", g.reshape(-1), y.reshape(-1), gx.reshape(-1))
    return gx


def _side_by_side(geom):
    """Whether the pooling windows (``pooling._Geometry``) lie side by side: stride = kernel, no
    padding, no dilation."""
    rows, cols = geom.rows, geom.cols
    return rows.s == rows.k and cols.s == cols.k and rows.d == cols.d == 1 and not geom.padded


def max_pool_2x2(x, geom, index_dtype):
    """Max pooling with 2x2 windows side by side over the last two axes: (y, the offset of each
    maximum in its window, row-major)."""
    if not (_applies(x) and _side_by_side(geom) and geom.rows.k == geom.cols.k == 2):
        return None
    y, index = np.empty(geom.out_shape, x.dtype), np.empty(geom.out_shape, index_dtype)
    flat = (-1,) + geom.out_shape[-2:]
    run("max_pool_2x2", x.reshape((-1,) + x.shape[-2:]), y.reshape(flat), index.reshape(flat))
    return y, index


def max_pool_scatter(g, index, geom):
    """The backward of max pooling with windows side by side: g at each window's maximum (``index``,
    row-major within the window), 0 elsewhere, in the input's shape."""
    gx_size = int(np.prod(geom.shape))   # the work: every element of gx is written
    if not (_applies(g, size=gx_size) and _side_by_side(geom)):
        return None
    rows, cols = geom.rows, geom.cols
    gx = np.empty(geom.shape, g.dtype)
    run("max_pool_scatter", g.reshape((-1,) + g.shape[-2:]), index.reshape((-1,) + g.shape[-2:]),
        gx.reshape((-1,) + gx.shape[-2:]), rows.k, cols.k)
    return gx
