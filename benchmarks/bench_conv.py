"""Forward + backward of one convolution layer: nnscratch vs PyTorch, in the same run, on the same
data and weights. nnscratch runs its compiled direct convolution where numba is installed, and
im2col + one matrix product on NumPy alone with NNSCRATCH_COMPILED=0.

    python benchmarks/bench_conv.py [WORKLOAD ...] [--steps 20] [--repeats 7] [--parts]
    python benchmarks/bench_conv.py --weight-grad

Workloads (float32, batch 100):
  simple  the book's SimpleConvNet first layer: conv 1 -> 30, 5x5, input (100, 1, 28, 28);
          the input needs no gradient (it is the data), so only dL/dW and dL/db are computed
  deep    a DeepConvNet-style inner layer: conv 16 -> 16, 3x3, padding 1, input (100, 16, 28, 28),
          with the input gradient (it comes from the layer below)
  deep4   DeepConvNet's fourth convolution: 32 -> 32, 3x3, padding 2, input (100, 32, 14, 14)
  deep6   DeepConvNet's sixth convolution: 64 -> 64, 3x3, padding 1, input (100, 64, 8, 8)
  tutorial the PyTorch-tutorial CNN's second convolution: 32 -> 64, 3x3, input (64, 32, 26, 26)
Each step is the forward pass and backward() with a fixed random upstream gradient. Reported:
milliseconds per step, best mean over the repeats, and the ratio nnscratch / PyTorch (below 1
means nnscratch is faster). With --parts, nnscratch's forward alone is timed too.

With --weight-grad: the weight gradient's matrix product, dL/dW = dL/dy @ colᵀ (O x K), against
the same product transposed, (dL/dW)ᵀ = col @ dL/dyᵀ (K x O), for the 3x3 layers of DeepConvNet and
of the PyTorch-tutorial CNN and the 5x5 first layer of SimpleConvNet (K = C·kh·kw + 1 rows of col,
L = N·OH·OW columns), in GFLOP/s, the best of the repeats; conv2d uses the second form when
K >= O.
"""

import argparse
import time

import numpy as np
from common import best_time, import_torch

import nnscratch as ns
import nnscratch.functional as F

WORKLOADS = {
    # name: (input shape, out channels, kernel, padding, input needs grad)
    "simple": ((100, 1, 28, 28), 30, 5, 0, False),
    "deep": ((100, 16, 28, 28), 16, 3, 1, True),
    "deep4": ((100, 32, 14, 14), 32, 3, 2, True),
    "deep6": ((100, 64, 8, 8), 64, 3, 1, True),
    "tutorial": ((64, 32, 26, 26), 64, 3, 0, True),
}


def make_data(shape, out_channels, kernel, padding, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random(shape, dtype=np.float32)
    bound = 1 / np.sqrt(shape[1] * kernel * kernel)
    w = rng.uniform(-bound, bound, (out_channels, shape[1], kernel, kernel)).astype(np.float32)
    b = rng.uniform(-bound, bound, out_channels).astype(np.float32)
    n, _, h, wd = shape
    out = (n, out_channels, h + 2 * padding - kernel + 1, wd + 2 * padding - kernel + 1)
    gy = rng.standard_normal(out, dtype=np.float32)
    return x, w, b, gy


def nnscratch_step(x, w, b, gy, padding, x_grad):
    x = ns.tensor(x, requires_grad=x_grad)
    w, b = ns.tensor(w, requires_grad=True), ns.tensor(b, requires_grad=True)

    def step():
        w.grad = b.grad = x.grad = None
        F.conv2d(x, w, b, padding=padding).backward(gy)
    return step, (x, w, b)


def nnscratch_forward(x, w, b, padding):
    x, w, b = ns.tensor(x), ns.tensor(w), ns.tensor(b)
    return lambda: F.conv2d(x, w, b, padding=padding)


def torch_step(torch, x, w, b, gy, padding, x_grad):
    x = torch.from_numpy(x).requires_grad_(x_grad)
    w = torch.from_numpy(w.copy()).requires_grad_()
    b = torch.from_numpy(b.copy()).requires_grad_()
    gy = torch.from_numpy(gy)

    def step():
        w.grad = b.grad = x.grad = None
        torch.nn.functional.conv2d(x, w, b, padding=padding).backward(gy)
    return step, (x, w, b)


def torch_forward(torch, x, w, b, padding):
    x, w, b = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)

    def forward():
        with torch.no_grad():
            return torch.nn.functional.conv2d(x, w, b, padding=padding)
    return forward


def check_same(ours, theirs):
    """The two sides computed the same gradients (so the timings compare the same work)."""
    for a, t in zip(ours, theirs):
        if t.grad is None:
            assert a.grad is None
            continue
        ref = t.grad.numpy()
        err = np.abs(a.grad.data - ref).max() / max(1.0, np.abs(ref).max())
        assert err < 1e-4, f"gradients differ from PyTorch's by {err:.2e}"


# (O, K, L) of the weight-gradient products: DeepConvNet's 3x3 layers (batch 100), the tutorial
# CNN's second convolution (batch 64), SimpleConvNet's first layer (batch 100)
PRODUCTS = [(16, 145, 78400), (32, 145, 19600), (32, 289, 25600), (64, 289, 6400), (64, 577, 6400),
            (64, 289, 36864), (30, 26, 57600)]


def weight_grad_products(repeats):
    rng = np.random.default_rng(0)
    print(f"{'O':>3} {'K':>4} {'L':>6}  {'dy @ colT GFLOP/s':>18} {'col @ dyT GFLOP/s':>18}")
    for O, K, L in PRODUCTS:
        gy, col = rng.random((O, L), dtype=np.float32), rng.random((K, L), dtype=np.float32)
        rates = [2 * O * K * L / best_time(product, 10, repeats) / 1e9
                 for product in (lambda: gy @ col.T, lambda: col @ gy.T)]
        print(f"{O:3d} {K:4d} {L:6d}  {rates[0]:18.0f} {rates[1]:18.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD", help=", ".join(WORKLOADS) + " (default: all)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per side; the best counts")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of rest before each switch of side")
    parser.add_argument("--parts", action="store_true", help="also time the forward pass alone")
    parser.add_argument("--weight-grad", action="store_true", help="time the weight-gradient product both ways")
    args = parser.parse_args()
    if args.weight_grad:
        return weight_grad_products(args.repeats)
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {', '.join(WORKLOADS)}")
    workloads = {name: WORKLOADS[name] for name in args.workloads or WORKLOADS}
    torch = import_torch()

    print(f"{'workload':<8} {'side':<10} {'fwd+bwd ms':>10} {'fwd ms':>8}")
    for name, (shape, out_channels, kernel, padding, x_grad) in workloads.items():
        x, w, b, gy = make_data(shape, out_channels, kernel, padding)
        ours, our_tensors = nnscratch_step(x, w, b, gy, padding, x_grad)
        sides = [("nnscratch", ours, nnscratch_forward(x, w, b, padding))]
        if torch is not None:
            theirs, their_tensors = torch_step(torch, x, w, b, gy, padding, x_grad)
            ours()
            theirs()
            check_same(our_tensors, their_tensors)
            sides.append(("PyTorch", theirs, torch_forward(torch, x, w, b, padding)))
        # Alternate the sides so that both see the same machine load, and pause before each
        # switch: OpenBLAS's worker threads keep spinning for a while after a NumPy matrix product
        # (and PyTorch's after its own), and would otherwise slow down the other side (measured:
        # PyTorch's "simple" step takes 2.5x longer right after one NumPy matmul).
        times = {side: [float("inf"), float("inf")] for side, _, _ in sides}
        for _ in range(args.repeats):
            for side, step, forward in sides:
                time.sleep(args.pause)
                times[side][0] = min(times[side][0], best_time(step, args.steps, 1))
                if args.parts:
                    times[side][1] = min(times[side][1], best_time(forward, args.steps, 1))
        for side, _, _ in sides:
            total, fwd = times[side]
            fwd_text = f"{fwd * 1e3:8.2f}" if args.parts else f"{'':>8}"
            print(f"{name:<8} {side:<10} {total * 1e3:10.2f} {fwd_text}")
        if torch is not None:
            print(f"{name:<8} {'ratio':<10} {times['nnscratch'][0] / times['PyTorch'][0]:10.2f}x")


if __name__ == "__main__":
    main()
