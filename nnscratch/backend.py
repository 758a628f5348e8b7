"""The array backend: which array module computes, the default float dtype, and the random generator.

Everything in nnscratch computes on NumPy arrays (``xp``). Floating-point data is float32
unless a caller asks for another dtype, and all randomness comes from one seedable
``numpy.random.Generator`` so that ``manual_seed(s)`` makes a whole run reproducible.
"""

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
