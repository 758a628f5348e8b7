"""Training steps in the user's own loop, nnscratch vs PyTorch in the same run.

    python benchmarks/bench_plain_loop.py [WORKLOAD ...] [--seconds 1] [--steps N] [--repeats 7]

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
outputs are checked equal before timing). Each side runs in its own process, as a user's script
would (nnscratch's never imports torch; in one process the two would share OpenMP's thread pool
and its settings), PyTorch on BENCH_THREADS (default 2) threads, nnscratch as it comes (with the
compiled kernels when numba is installed; NNSCRATCH_COMPILED=0 for NumPy alone). The sides take
turns, with a pause before each switch, each timed run as many steps (one untimed first) as last
about --seconds on both sides: the first steps after a pause are slower, on both sides (with 20
steps a run, 0.15 s, LeNet-5 came out at 1.44x PyTorch's time, with 200 at 0.89x; see
benchmarks/README.md). Reported: ms per step, the best mean over the repeats,
the ratio nnscratch / PyTorch (below 1: nnscratch is faster) as the median over the repeats of
the ratio of the two runs made one after the other, its range, and each process's peak resident
memory (VmHWM). nnscratch's process is a user's script: malloc's settings change at the first
backward() (``backend.keep_freed_memory``; NNSCRATCH_MALLOC_TUNING=0: never).
"""

import argparse
import math
import multiprocessing as mp
import time

import numpy as np
from common import best_time, import_torch, nnscratch_training_step, torch_training_step, torch_twin

WORKLOADS = {
    # name: (builder name, builder options, batch size)
    "simple-cnn": ("simple_cnn", {}, 100),
    "deep-cnn": ("deep_cnn", {}, 100),
    "tutorial-cnn": ("tutorial_cnn", {}, 64),
    "lenet5": ("lenet5", {}, 100),
    "vgg": ("vgg", {}, 100),
    "resnet": ("resnet", {}, 100),
    "lstm": ("row_lstm", {"cell": "lstm"}, 100),
    "gru": ("row_lstm", {"cell": "gru"}, 100),
    "mlp": ("mlp", {"sizes": [784, 256, 256, 10], "dropout": 0.2}, 128),
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
    arch, options, batch = WORKLOADS[name]
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


def side(name, which, conn):
    """One side of a workload in its own process: build the step, then time ``steps`` steps each
    time the parent asks, and finally report the process's peak resident memory (VmHWM)."""
    model, x, t = build(name)
    if which == "nnscratch":
        step = nnscratch_training_step(model, x, t)
    else:
        from nnscratch.functional import compiled
        compiled.set_enabled(False)  # the twin check on NumPy alone: no numba threads in PyTorch's process
        torch = import_torch()
        twin = torch_twin(torch, model)
        check_twins(torch, model, twin, x)
        step = torch_training_step(torch, twin, x, t)
    step()  # warm up (and compile what is compiled)
    conn.send(best_time(step, 3, 1))  # ready: about how long a step takes
    while (steps := conn.recv()) is not None:
        conn.send(best_time(step, steps, 1))
    with open("/proc/self/status") as status:  # this process's own peak, torch never loaded on our side
        conn.send(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024)


def start(name, which):
    parent, child = mp.get_context("spawn").Pipe()
    process = mp.get_context("spawn").Process(target=side, args=(name, which, child))
    process.start()
    return process, parent, parent.recv()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS), help=", ".join(WORKLOADS))
    parser.add_argument("--seconds", type=float, default=1.0, help="about how long a timed run lasts")
    parser.add_argument("--steps", type=int, help="steps per timed run (default: as many as last --seconds)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per side")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds of rest before each switch of side")
    args = parser.parse_args()
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {', '.join(WORKLOADS)}")
    has_torch = import_torch() is not None
    print(f"{'workload':<13} {'nnscratch ms':>12} {'PyTorch ms':>11} {'ratio':>6}  {'range':<11}  peak MB (ns / torch)")
    for name in args.workloads:
        sides = {which: start(name, which) for which in (["nnscratch", "PyTorch"] if has_torch else ["nnscratch"])}
        step_time = np.mean([seconds for _, _, seconds in sides.values()])
        steps = args.steps or max(3, math.ceil(args.seconds / step_time))
        runs = {which: [] for which in sides}
        for _ in range(args.repeats):
            for which, (_, conn, _) in sides.items():
                time.sleep(args.pause)
                conn.send(steps)
                runs[which].append(conn.recv())
        peaks = []
        for process, conn, _ in sides.values():
            conn.send(None)
            peaks.append(conn.recv())
            process.join()
        line = f"{name:<13} {min(runs['nnscratch']) * 1e3:12.2f}"
        if has_torch:
            # each repeat's two runs are next to each other in time: their ratio is the least
            # affected by the load of a shared machine, which drifts over seconds
            paired = sorted(a / b for a, b in zip(runs["nnscratch"], runs["PyTorch"]))
            line += f" {min(runs['PyTorch']) * 1e3:11.2f} {np.median(paired):5.2f}x  ({paired[0]:.2f}-{paired[-1]:.2f})"
        print(line + "  " + " / ".join(f"{p:.0f}" for p in peaks), flush=True)


if __name__ == "__main__":
    main()
