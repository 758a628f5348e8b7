"""Intra-op parallelism: one loop run over slices of the batch on several threads at once.

A recurrent layer walks through time step by step; each step is a small matrix product and a
dozen elementwise operations on (batch, hidden) arrays. NumPy runs elementwise operations on one
core, and a matrix product that small gains little from BLAS threads, so on a multi-core CPU most
of the machine waits. The samples of a batch are independent, though: the batch is cut into
``get_num_threads()`` slices and each thread runs the whole loop over time on its own slice (NumPy
releases the GIL inside its loops, so the threads really run at once).

While the slices run, each thread's BLAS is told to use one thread (OpenBLAS's
``openblas_set_num_threads_local``); otherwise concurrent BLAS calls queue for BLAS's own thread
pool and the whole is slower than one thread. Where that control is not found (another BLAS), the
loop runs on one thread as before.
"""

import ctypes
import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MIN_SLICE = 32          # samples per slice at least: below that the threads' overhead dominates


def _default_threads():
    value = os.environ.get("NNSCRATCH_NUM_THREADS")
    if value:
        return max(1, int(value))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _openblas_local_threads():
    """OpenBLAS's per-thread thread-count setter from the library NumPy loaded, or None."""
    folder = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(folder, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("openblas_set_num_threads_local", "scipy_openblas_set_num_threads_local64_"):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
                return setter
    return None


_num_threads = _default_threads()
_blas_local = None
_blas_probed = False
_pool = None
_pool_lock = threading.Lock()


def get_num_threads():
    """How many threads batch-parallel loops use (default: the CPUs this process may run on;
    the environment variable NNSCRATCH_NUM_THREADS sets it)."""
    return _num_threads


def set_num_threads(n):
    """Use ``n`` threads for batch-parallel loops (1 turns them off), as ``torch.set_num_threads``."""
    global _num_threads, _pool
    if int(n) < 1:
        raise ValueError(f"the number of threads must be at least 1, got {n}")
    with _pool_lock:
        _num_threads = int(n)
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def _one_blas_thread():
    _blas_local(1)


def _executor():
    global _pool, _blas_local, _blas_probed
    with _pool_lock:
        if not _blas_probed:
            _blas_local, _blas_probed = _openblas_local_threads(), True
        if _blas_local is None:
            return None
        if _pool is None:
            _pool = ThreadPoolExecutor(_num_threads - 1, thread_name_prefix="nnscratch",
                                       initializer=_one_blas_thread)
        return _pool


def batch_slices(n):
    """The slices of range(n) that ``over_batch`` gives its threads: as many as there are threads,
    but none shorter than MIN_SLICE samples."""
    k = max(1, min(_num_threads, n // MIN_SLICE))
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds, bounds[1:])]


def over_batch(fn, n):
    """Call ``fn(s)`` for every slice ``s`` of ``batch_slices(n)``, concurrently; the calling
    thread runs the first. ``fn`` must only write to its own slice of the batch."""
    slices = batch_slices(n)
    pool = _executor() if len(slices) > 1 else None
    if pool is None:
        fn(slice(0, n))
        return
    futures = [pool.submit(fn, s) for s in slices[1:]]
    previous = _blas_local(1)
    try:
        fn(slices[0])
    finally:
        _blas_local(previous)
        for f in futures:   # wait for all, then raise the first error
            f.exception()
    for f in futures:
        f.result()
