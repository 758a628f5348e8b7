"""Forward + backward of the CNN layers around the convolution, nnscratch vs PyTorch in the same run:

    python benchmarks/bench_pooling.py [--steps 50] [--repeats 10]

- max_pool2d 2x2 (stride 2) on (100, 30, 24, 24): the pooling of the DESIGN's CNN workload
  (conv 30 5x5 on MNIST, batch 100);
- BatchNorm2d(16) in training mode on (100, 16, 28, 28).

Each step is a forward pass and a backward pass with a fixed random upstream gradient (input
gradient, and for BatchNorm2d the weight and bias gradients). Same float32 data on both sides;
PyTorch with BENCH_THREADS (default 2) threads. The two sides alternate, ``--steps`` steps at a
time, ``--repeats`` times each. Reported: milliseconds per step (best mean over the repeats) and
the ratio nnscratch / PyTorch (below 1: nnscratch is faster).
"""

import argparse

import numpy as np
from common import best_time, import_torch

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn

MAXPOOL_SHAPE = (100, 30, 24, 24)
BN_SHAPE = (100, 16, 28, 28)


def ns_maxpool_step(x, g):
    x, g = ns.tensor(x, requires_grad=True), ns.tensor(g)

    def step():
        x.grad = None
        F.max_pool2d(x, 2).backward(g)
    return step


def torch_maxpool_step(torch, x, g):
    x, g = torch.tensor(x, requires_grad=True), torch.from_numpy(g)

    def step():
        x.grad = None
        torch.nn.functional.max_pool2d(x, 2).backward(g)
    return step


def ns_bn_step(x, g):
    bn = nn.BatchNorm2d(BN_SHAPE[1])
    x, g = ns.tensor(x, requires_grad=True), ns.tensor(g)

    def step():
        x.grad = bn.weight.grad = bn.bias.grad = None
        bn(x).backward(g)
    return step


def torch_bn_step(torch, x, g):
    bn = torch.nn.BatchNorm2d(BN_SHAPE[1])
    x, g = torch.tensor(x, requires_grad=True), torch.from_numpy(g)

    def step():
        x.grad = bn.weight.grad = bn.bias.grad = None
        bn(x).backward(g)
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    torch = import_torch()
    cases = [
        ("max_pool2d 2x2, (100, 30, 24, 24)", MAXPOOL_SHAPE, (100, 30, 12, 12), ns_maxpool_step, torch_maxpool_step),
        ("BatchNorm2d train, (100, 16, 28, 28)", BN_SHAPE, BN_SHAPE, ns_bn_step, torch_bn_step),
    ]
    for name, x_shape, y_shape, ours, theirs in cases:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        g = rng.standard_normal(y_shape, dtype=np.float32)
        steps = {"nnscratch": ours(x, g)}
        if torch is not None:
            steps["PyTorch"] = theirs(torch, x, g)
        best = {side: float("inf") for side in steps}
        for _ in range(args.repeats):  # the sides alternate, so both see the same machine load
            for side, step in steps.items():
                best[side] = min(best[side], best_time(step, args.steps, 1))
        line = f"{name:38s}" + "".join(f" {side} {t * 1e3:7.3f} ms  " for side, t in best.items())
        if torch is not None:
            line += f" ratio {best['nnscratch'] / best['PyTorch']:.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
