"""The array backend: which array module computes, the default float dtype, and the random generator.

Everything in nnscratch computes on NumPy arrays (``xp``). Floating-point data is float32
unless a caller asks for another dtype, and all randomness comes from one seedable
``numpy.random.Generator`` so that ``manual_seed(s)`` makes a whole run reproducible.
"""

import contextlib
import ctypes
import os
import sys
import threading

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


def generator_seed():
    """The seed sequence of the current generator: its entropy, spawn key, pool size and how many
    child generators it has spawned (``Generator.spawn``, which nn.DataParallel's threads draw
    from). With its bit generator's state this is all a checkpoint needs to continue the numbers."""
    seq = _generator.bit_generator.seed_seq
    entropy = seq.entropy if np.ndim(seq.entropy) == 0 else [int(e) for e in seq.entropy]
    return {"entropy": entropy, "spawn_key": [int(k) for k in seq.spawn_key], "pool_size": int(seq.pool_size),
            "spawned": int(seq.n_children_spawned)}


def restore_generator(state, seed=None):
    """Continue the random numbers of a saved run: the bit generator's ``state`` and, if given,
    its ``generator_seed()`` (so that later spawned generators are the saved run's too)."""
    global _generator
    if seed is not None:
        seq = np.random.SeedSequence(seed["entropy"], spawn_key=tuple(seed["spawn_key"]), pool_size=seed["pool_size"],
                                     n_children_spawned=seed["spawned"])
        _generator = np.random.Generator(type(_generator.bit_generator)(seq))
    _generator.bit_generator.state = state


class _ThreadGenerator(threading.local):
    generator = None


_thread = _ThreadGenerator()


def generator():
    """The current ``numpy.random.Generator`` (replaced by ``manual_seed``), or this thread's own
    while a ``thread_generator`` block runs."""
    own = _thread.generator
    return _generator if own is None else own


@contextlib.contextmanager
def thread_generator(rng):
    """Inside the block, ``generator()`` in this thread returns ``rng``. Worker threads that draw
    random numbers (dropout in ``nn.DataParallel``) each get their own seeded generator, so the
    numbers do not depend on how the threads interleave."""
    previous, _thread.generator = _thread.generator, rng
    try:
        yield rng
    finally:
        _thread.generator = previous


_blas = None


@contextlib.contextmanager
def blas_threads(n):
    """Inside the block the BLAS (OpenBLAS, MKL or BLIS, found by threadpoolctl) uses at most ``n``
    threads, process-wide; the previous counts come back after."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController
        _blas = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    changed = [(lib, m) for lib, m in ((lib, lib.get_num_threads()) for lib in _blas) if m != n]
    for lib, _ in changed:  # only these: switching OpenBLAS between counts costs (0.9 ms a training step)
        lib.set_num_threads(n)
    try:
        yield
    finally:
        for lib, m in changed:
            lib.set_num_threads(m)


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
