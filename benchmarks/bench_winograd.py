"""Winograd's F(2x2, 3x3) against the direct convolution, both compiled, per 3x3 layer: the evidence
for the threshold of channels in ``nnscratch/functional/conv_winograd.py`` (which layers take it).

    python benchmarks/bench_winograd.py [--repeats 15] [LAYER ...]

A layer is N,C,O,H (input N x C x H x H, O outputs, padding 1, float32); the default list holds
DeepConvNet's, the PyTorch-tutorial CNN's (padding 0 there) and VGG-like layers. For each, one
training pass of the layer's kernels: the input's transform (or grid), the forward pass, dL/dy's
transform (or grid), the input gradient and the weight gradient, timed on both paths in turn in
one process (the best over the repeats); reported in ms with the ratio Winograd / direct (below 1:
Winograd is faster) and whether ``winograd_for`` takes Winograd for the layer.
Needs numba (``pip install "nnscratch[fast]"``).
"""

import argparse
import time

import numpy as np

from nnscratch.backend import give_arrays, keep_freed_memory
from nnscratch.functional import compiled, conv_direct, conv_winograd
from nnscratch.functional.conv import _Geometry

LAYERS = ["100,16,16,28", "100,16,32,14", "100,32,32,14", "100,32,64,8", "100,64,64,8",
          "64,32,64,26:0", "64,64,64,28", "64,128,128,14", "64,128,128,7"]


def one_pass(plan, x, w, b, gy):
    """The layer's kernels for one training step, on ``plan`` (a Winograd or a direct Grid)."""
    def run():
        image = plan.image(x)
        y = plan.forward(image, w, b)
        g = plan.gradient(gy, np.empty(gy.shape[1], gy.dtype))
        plan.input_grad(g, w)
        plan.weight_grad(g, image)
        give_arrays(image, g)
        return y
    return run


def best_of(fns, repeats):
    """Best time (s) of each function over ``repeats`` rounds, the functions in turn each round."""
    best = [float("inf")] * len(fns)
    for fn in fns:
        fn()
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layers", nargs="*", default=LAYERS, metavar="LAYER",
                        help="N,C,O,H[:padding] (default: DeepConvNet's, the tutorial CNN's, VGG-like)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    if compiled.kernels() is None:
        raise SystemExit("the compiled kernels are off or numba is not installed (pip install \"nnscratch[fast]\")")
    keep_freed_memory()
    rng = np.random.default_rng(0)
    print("%-18s %10s %10s %7s %6s" % ("layer N,C,O,H:pad", "direct ms", "winograd", "ratio", "taken"))
    for layer in args.layers:
        sizes, _, pad = layer.partition(":")
        N, C, O, H = (int(v) for v in sizes.split(","))
        p = int(pad or 1)
        x = rng.standard_normal((N, C, H, H)).astype(np.float32)
        w = (rng.standard_normal((O, C, 3, 3)) / np.sqrt(9 * C)).astype(np.float32)
        b = np.zeros(O, np.float32)
        geo = _Geometry(x.shape, w.shape, (1, 1), (p, p, p, p), (1, 1), 1)
        gy = rng.standard_normal((N, O, geo.OH, geo.OW)).astype(np.float32)
        winograd = conv_winograd.Winograd(geo, np.float32)
        direct, wino = best_of([one_pass(conv_direct.Grid(geo, np.float32), x, w, b, gy),
                                one_pass(winograd, x, w, b, gy)], args.repeats)
        taken = conv_winograd.winograd_for(geo, np.float32) is not None
        print("%-18s %10.2f %10.2f %6.2fx %6s" % (layer, direct * 1e3, wino * 1e3, wino / direct, "yes" if taken else "no"))


if __name__ == "__main__":
    main()
