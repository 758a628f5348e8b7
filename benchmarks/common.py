"""Shared helpers of the benchmarks: timing, and PyTorch set up with the same thread count."""

import os
import time


def best_time(step, steps, repeats):
    """Seconds per call of ``step()``: the best mean over ``repeats`` runs of ``steps`` calls."""
    step()  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def import_torch():
    """PyTorch with BENCH_THREADS (default 2) threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: no ratio (pip install torch==2.13.0)")
        return None
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    return torch
