"""Training steps in the user's own loop, nnscratch vs PyTorch in the same run.

    python benchmarks/bench_plain_loop.py [WORKLOAD ...] [--steps N] [--repeats 5] [--rss]

Each step is what every PyTorch tutorial writes, on one graph and no ``fit`` / DataParallel:

    loss = cross_entropy(model(x), t); opt.zero_grad(); loss.backward(); opt.step()

with Adam 1e-3 on a fixed random batch (timing does not depend on the pixel values). Workloads:
  simple-cnn    the book's SimpleConvNet (the ``simple_cnn`` preset), batch 100
  deep-cnn      the book's DeepConvNet (``deep_cnn``), batch 100
  tutorial-cnn  the PyTorch-tutorial CNN: conv 32 and 64 @3x3 - ReLU - max-pool 2 - dropout 0.25 -
                fc 128 - ReLU - dropout 0.5 - fc 10, batch 64
  lenet5, vgg, resnet  the presets of those names, batch 100
  lstm, gru     row-by-row MNIST: 28 steps of 28 pixels, hidden 128, fc 10 (``row_lstm``), batch 100
  mlp           784-256-256-10 ReLU, dropout 0.2, batch 128
Same initial weights (nnscratch's, loaded into the PyTorch twin, ``common.to_torch``; the eval-mode
outputs are checked equal before timing). PyTorch runs on BENCH_THREADS (default 2) threads,
nnscratch as it comes. The sides alternate, with a pause before each switch (BLAS threads spin
for a while after a product and would slow the other side down); reported: ms per step, the
best mean over the repeats, and the ratio nnscratch / PyTorch (below 1: nnscratch is faster):
the median over the repeats of the ratio of the two runs made one after the other, and its range.

With --rss, each side also runs ``--steps`` steps alone in a fresh process and its peak resident
memory (VmHWM) is printed, nnscratch's child never importing torch.
"""

import argparse
import multiprocessing as mp
import time

import numpy as np
from common import best_time, import_torch, nnscratch_training_step, torch_training_step, torch_twin

WORKLOADS = {
    # name: (builder name, builder options, batch size, default steps per timed run)
    "simple-cnn": ("simple_cnn", {}, 100, 20),
    "deep-cnn": ("deep_cnn", {}, 100, 5),
    "tutorial-cnn": ("tutorial_cnn", {}, 64, 10),
    "lenet5": ("lenet5", {}, 100, 20),
    "vgg": ("vgg", {}, 100, 3),
    "resnet": ("resnet", {}, 100, 3),
    "lstm": ("row_lstm", {"cell": "lstm"}, 100, 30),
    "gru": ("row_lstm", {"cell": "gru"}, 100, 30),
    "mlp": ("mlp", {"sizes": [784, 256, 256, 10], "dropout": 0.2}, 128, 100),
}


def tutorial_cnn():
    """The CNN of PyTorch's MNIST example, as a Sequential of nnscratch layers."""
    from nnscratch import nn
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(128, 10))


def build(name, seed=0):
    """The workload's nnscratch network (seeded), a fixed input batch and labels."""
    import nnscratch as ns
    from nnscratch import models
    arch, options, batch, _ = WORKLOADS[name]
    ns.manual_seed(seed)
    model = tutorial_cnn() if arch == "tutorial_cnn" else models.build_model({"arch": arch, **options})
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)
    return model, x, rng.integers(0, 10, batch)


def check_twins(torch, ours, theirs, x):
    """The two networks compute the same function (so the timings compare the same work)."""
    import nnscratch as ns
    ours.eval()
    theirs.eval()
    with ns.no_grad(), torch.no_grad():
        a, b = ours(ns.tensor(x)).numpy(), theirs(torch.from_numpy(x)).numpy()
    ours.train()
    theirs.train()
    err = np.abs(a - b).max() / max(1.0, np.abs(b).max())
    assert err < 1e-4, f"the PyTorch twin's outputs differ by {err:.2e}"


def peak_rss(name, side, steps, queue):
    """Run ``steps`` steps of one side in this (fresh) process and report its peak RSS in MB."""
    model, x, t = build(name)
    if side == "nnscratch":
        from nnscratch.backend import keep_freed_memory
        keep_freed_memory()  # as the nnscratch command and fit do
        step = nnscratch_training_step(model, x, t)
    else:
        torch = import_torch()
        step = torch_training_step(torch, torch_twin(torch, model), x, t)
    for _ in range(steps):
        step()
    with open("/proc/self/status") as status:  # VmHWM: ru_maxrss would carry the parent's over exec
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    queue.put(peak_kb / 1024)


def rss_in_child(name, side, steps):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=peak_rss, args=(name, side, steps, queue))
    process.start()
    result = queue.get(timeout=600)
    process.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS), help=", ".join(WORKLOADS))
    parser.add_argument("--steps", type=int, help="steps per timed run (default: per workload, about 1 s)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per side")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds of rest before each switch of side")
    parser.add_argument("--rss", action="store_true", help="also measure each side's peak RSS in a fresh process")
    args = parser.parse_args()
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {', '.join(WORKLOADS)}")
    from nnscratch.backend import keep_freed_memory
    keep_freed_memory()
    torch = import_torch()

    print(f"{'workload':<13} {'nnscratch ms':>12} {'PyTorch ms':>11} {'ratio':>6}  {'range':<11}"
          + ("  peak MB (ns / torch)" if args.rss else ""))
    for name in args.workloads:
        steps = args.steps or WORKLOADS[name][3]
        model, x, t = build(name)
        sides = {"nnscratch": nnscratch_training_step(model, x, t)}
        if torch is not None:
            twin = torch_twin(torch, model)
            check_twins(torch, model, twin, x)
            sides["PyTorch"] = torch_training_step(torch, twin, x, t)
        runs = {side: [] for side in sides}
        for _ in range(args.repeats):
            for side, step in sides.items():
                time.sleep(args.pause)
                runs[side].append(best_time(step, steps, 1))
        ours = min(runs["nnscratch"]) * 1e3
        line = f"{name:<13} {ours:12.2f}"
        if torch is not None:
            theirs = min(runs["PyTorch"]) * 1e3
            # each repeat's two runs are next to each other in time: their ratio is the least
            # affected by the load of a shared machine, which drifts over seconds
            paired = sorted(a / b for a, b in zip(runs["nnscratch"], runs["PyTorch"]))
            line += f" {theirs:11.2f} {np.median(paired):5.2f}x  ({paired[0]:.2f}-{paired[-1]:.2f})"
        if args.rss:
            rss = [rss_in_child(name, side, steps) for side in sides]
            line += "  " + " / ".join(f"{r:.0f}" for r in rss)
        print(line, flush=True)


if __name__ == "__main__":
    main()
