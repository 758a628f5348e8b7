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


def training_flops(model, sample_shape):
    """Floating-point operations of one training sample through ``model``: its matrix products
    only, which are nearly all of the work. Forward: 2·in·out per Linear, 2·(C_in/groups)·kh·kw per
    output element of a Conv2d. Backward: the same again for the weight gradient and again for the
    input gradient, except at the first layer, whose input (the data) needs none."""
    import numpy as np

    import nnscratch as ns

    calls = []   # (layer, output shape) of every Linear and Conv2d, in the order they run

    def recording(layer):
        forward = layer.forward

        def record(*args, **kwargs):
            y = forward(*args, **kwargs)
            calls.append((layer, y.shape))
            return y
        return record

    layers = [m for m in model.modules() if type(m).__name__ in ("Linear", "Conv2d")]
    for layer in layers:
        layer.forward = recording(layer)
    try:
        with ns.no_grad():
            model.eval()
            model(ns.zeros((1, *sample_shape)))
            model.train()
    finally:
        for layer in layers:
            del layer.forward
    total = 0
    for i, (layer, shape) in enumerate(calls):
        if type(layer).__name__ == "Linear":
            forward = 2 * layer.in_features * layer.out_features
        else:
            kh, kw = layer.kernel_size
            forward = 2 * (layer.in_channels // layer.groups) * kh * kw * int(np.prod(shape[1:]))
        total += forward * (2 if i == 0 else 3)
    return total


def matmul_gflops(n=1024, repeats=10):
    """The machine's float32 matrix-product rate through NumPy, n x n times n x n (best of ``repeats``)."""
    import numpy as np
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    a @ a
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9
