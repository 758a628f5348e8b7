"""Autograd overhead: one training step of a 784-100-10 MLP built from raw Tensor ops, vs PyTorch.

    python benchmarks/bench_autograd.py [--steps 2000] [--repeats 5]

Both sides run the same step in the same process on the same data and weights: forward
(x @ W1 + b1 -> relu -> @ W2 + b2 -> log_softmax -> pick the labels -> mean), backward, and a
plain SGD update. Reported: microseconds per step (best of the repeats), the ratio nnscratch /
PyTorch, and the per-operation overhead of a tiny op (forward + backward).
"""

import argparse

import numpy as np
from common import best_time, import_torch

import nnscratch as ns
import nnscratch.functional as F


def make_data(batch=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 784), dtype=np.float32)
    t = rng.integers(0, 10, batch)
    w1 = (rng.standard_normal((784, 100)) * np.sqrt(2 / 784)).astype(np.float32)
    w2 = (rng.standard_normal((100, 10)) * np.sqrt(2 / 100)).astype(np.float32)
    return x, t, w1, np.zeros(100, np.float32), w2, np.zeros(10, np.float32)


def nnscratch_step(x, t, w1, b1, w2, b2, lr=0.1):
    x, rows = ns.tensor(x), np.arange(len(t))
    params = [ns.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
    W1, B1, W2, B2 = params

    def step():
        h = (x @ W1 + B1).relu()
        loss = -F.log_softmax(h @ W2 + B2, axis=1)[rows, t].mean()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad.data
            p.grad = None
        return loss
    return step


def torch_step(x, t, w1, b1, w2, b2, lr=0.1):
    import torch
    x, t = torch.from_numpy(x), torch.from_numpy(t)
    params = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
    W1, B1, W2, B2 = params

    def step():
        h = (x @ W1 + B1).relu()
        loss = -torch.log_softmax(h @ W2 + B2, dim=1)[torch.arange(len(t)), t].mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss
    return step


def tiny_op_overhead(steps):
    a = ns.tensor([1.0], requires_grad=True)

    def step():
        (a * 2.0).backward(ns.ones(1))
    return best_time(step, steps, 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = make_data()

    ours_first = nnscratch_step(*data)()
    t_ours = best_time(nnscratch_step(*data), args.steps, args.repeats)
    print(f"nnscratch  784-100-10 step (batch 100): {t_ours * 1e6:8.1f} us   loss at start {ours_first.item():.5f}")
    torch = import_torch()
    if torch is None:
        return
    theirs_first = torch_step(*data)()
    t_torch = best_time(torch_step(*data), args.steps, args.repeats)
    print(f"PyTorch    784-100-10 step (batch 100): {t_torch * 1e6:8.1f} us   loss at start {theirs_first.item():.5f}")
    print(f"ratio nnscratch / PyTorch: {t_ours / t_torch:.2f}x  "
          f"(torch {torch.__version__}, {torch.get_num_threads()} threads, numpy {np.__version__})")
    print(f"tiny op (x * 2, forward + backward): {tiny_op_overhead(args.steps * 10) * 1e6:.1f} us")


if __name__ == "__main__":
    main()
