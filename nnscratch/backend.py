"""The array backend: which array module computes, the default float dtype, and the random generator.

Everything in nnscratch computes on NumPy arrays (``xp``). Floating-point data is float32
unless a caller asks for another dtype, and all randomness comes from one seedable
``numpy.random.Generator`` so that ``manual_seed(s)`` makes a whole run reproducible.
"""

import ctypes
import os
import sys

import numpy as np

xp = np

float32 = np.float32
float64 = np.float64
int64 = np.int64
bool_ = np.bool_

_default_dtype = np.dtype(np.float32)
_generator = np.random.default_rng()


def get_default_dtype():
    """The dtype that new floating-point tensors get (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype):
    """Make ``dtype`` (float32 or float64) the dtype of new floating-point tensors."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"the default dtype must be a floating-point type such as float32, not {dtype}")
    _default_dtype = dtype


def manual_seed(seed):
    """Reseed the generator behind every random factory, initialiser and shuffle."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator():
    """The current ``numpy.random.Generator`` (replaced by ``manual_seed``)."""
    return _generator


def _keep_freed_memory():
    """Ask glibc's malloc to keep freed memory in the process instead of handing every large
    block back to the operating system. Otherwise each large NumPy temporary (activations,
    gradients: megabytes per layer) is unmapped when freed and page-faulted in again at the next
    step, which made such steps up to 10x slower here (measured: 2.1 ms vs 0.21 ms for two
    elementwise ops on a 5 MB array). Linux/glibc only; NNSCRATCH_MALLOC_TUNING=0 turns it off."""
    if os.environ.get("NNSCRATCH_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 256 * 2**20) and libc.mallopt(m_trim_threshold, 2**30))


malloc_tuned = _keep_freed_memory()
