"""Full-MNIST training, nnscratch vs PyTorch on identical workloads, in one invocation.

    NNSCRATCH_DATA=../shared/data python benchmarks/bench_mnist.py [WORKLOAD ...] [--epochs N]

Workloads (default: all):
  two-layer  the book's TwoLayerNet (ch. 4): 784-50-10 sigmoid, N(0, 0.01²) init, SGD 0.1, batch 100
             drawn with replacement, 10,000 iterations (the book's own NumPy code: 24 s here, 94.65%)
  mlp100     784-100-10 ReLU, He init, SGD 0.1, batch 100, 5 epochs
  mlp256     784-256-256-10 ReLU, He init, dropout 0.2, Adam 1e-3 with cosine decay, batch 128, 15 epochs
  fashion    the `mlp` preset (784-512-256-10, He init, dropout 0.2, Adam 1e-3 with cosine decay, batch 128,
             15 epochs) on Fashion-MNIST, trained on all 60,000 images
  cnn        the book's SimpleConvNet (conv 30@5x5 - ReLU - max-pool 2 - fc 100 - ReLU - fc 10), Adam 1e-3
             with cosine decay, batch 100, 10 epochs
  deep-cnn   the book's DeepConvNet, Adam 1e-3 with cosine decay, batch 100, 20 epochs, random shifts (2 px)
             and rotations (10 degrees), identical on both sides
  cnn-fashion SimpleConvNet on Fashion-MNIST, 15 epochs
All but two-layer standardise the input with the training set's pixel mean and std, as the presets do.
The CNN workloads train as their presets do, on BENCH_THREADS (default 2) slices of each batch in
parallel threads (``fit(threads=)``, nn.DataParallel), against PyTorch on as many intra-op threads;
the others on one thread with NumPy's BLAS on its default thread count.

Each side runs in its own child process (so peak memory is its own): the same initial weights (made
by nnscratch, loaded into torch), the same order of batches (the same seeded permutations or
draws), the same batch size. nnscratch trains with its own DataLoader and ``fit``; PyTorch with a
plain indexing loop over tensors (its fastest form). Reported: seconds per training epoch (mean,
excluding evaluation), samples/s, the ratio, peak RSS, the final test accuracy, and the achieved
GFLOP/s (the matrix-product FLOPs of a training sample, ``common.training_flops``, times samples/s)
against NumPy's float32 1024x1024 matrix-product rate measured in the same process. The two sides
run ``--repeats`` times, alternating, and each side's fastest run is reported (this machine is
shared; single runs drift by 20%).
"""

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from queue import Empty

import numpy as np
from common import matmul_gflops, to_torch, training_flops

WORKLOADS = {
    "two-layer": dict(dataset="mnist", hidden=[50], activation="sigmoid", init=0.01, dropout=0.0, optimizer="sgd",
                      lr=0.1, batch_size=100, epochs=10, replacement_steps=1000),
    "mlp100": dict(dataset="mnist", hidden=[100], activation="relu", init="he", dropout=0.0, optimizer="sgd",
                   lr=0.1, batch_size=100, epochs=5, standardize=True),
    "mlp256": dict(dataset="mnist", hidden=[256, 256], activation="relu", init="he", dropout=0.2,
                   optimizer="adam", lr=1e-3, cosine=True, batch_size=128, epochs=15, standardize=True),
    "fashion": dict(dataset="fashion-mnist", hidden=[512, 256], activation="relu", init="he", dropout=0.2,
                    optimizer="adam", lr=1e-3, cosine=True, batch_size=128, epochs=15, standardize=True),
    "cnn": dict(dataset="mnist", arch="simple_cnn", optimizer="adam", lr=1e-3, cosine=True, batch_size=100, epochs=10,
                standardize=True, threads="cores"),
    "deep-cnn": dict(dataset="mnist", arch="deep_cnn", optimizer="adam", lr=1e-3, cosine=True, batch_size=100,
                     epochs=20, standardize=True, augment=True, threads="cores"),
    "cnn-fashion": dict(dataset="fashion-mnist", arch="simple_cnn", optimizer="adam", lr=1e-3, cosine=True,
                        batch_size=100, epochs=15, standardize=True, augment=False, threads="cores"),
}
SEED = 0


def batch_orders(n, w):
    """The index arrays of every batch of every epoch, from one seeded generator (both sides)."""
    rng = np.random.default_rng(SEED)
    bs = w["batch_size"]
    if "replacement_steps" in w:
        return [[rng.choice(n, bs) for _ in range(w["replacement_steps"])] for _ in range(w["epochs"])]
    return [np.array_split(p, range(bs, n, bs)) for p in (rng.permutation(n) for _ in range(w["epochs"]))]


def dataset(w):
    """The workload's train and test arrays, standardised when it says so (identical on both sides)."""
    from nnscratch.data import load_mnist
    (x, t), (x_test, t_test) = load_mnist(name=w["dataset"], flatten="arch" not in w)
    if w.get("standardize"):
        mean, std = x.mean(), x.std()
        x, x_test = ((a - mean) / std for a in (x, x_test))
    return (x, t), (x_test, t_test)


def initial_state(w):
    """The workload's nnscratch network (seeded) and a copy of its initial weights."""
    import nnscratch as ns
    from nnscratch import models, nn
    ns.manual_seed(SEED)
    if "arch" in w:
        model = models.build_model({"arch": w["arch"]})
    else:
        model = nn.MLP([784, *w["hidden"], 10], activation=w["activation"], dropout=w["dropout"], init=w["init"])
    return model, {k: v.data.copy() for k, v in model.state_dict().items()}


def augmentation(w):
    """The workload's random shifts and rotations, drawn from a generator seeded the same on both sides."""
    from nnscratch.data.transforms import Compose, RandomRotation, RandomShift
    if not w.get("augment"):
        return None
    g = np.random.default_rng(SEED + 1)
    return Compose([RandomShift(2, generator=g), RandomRotation(10, generator=g)])


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_nnscratch(w, queue):
    import nnscratch.functional as F
    from nnscratch import optim
    from nnscratch.data import DataLoader, TensorDataset
    from nnscratch.train import evaluate, fit
    (x, t), (x_test, t_test) = dataset(w)
    model, _ = initial_state(w)
    orders = iter(batch_orders(len(x), w))
    loader = DataLoader(TensorDataset(x, t), w["batch_size"], transform=augmentation(w))
    loader.batch_indices = lambda: next(orders)  # the same batches as the PyTorch side
    params = model.parameters()
    opt = optim.SGD(params, lr=w["lr"]) if w["optimizer"] == "sgd" else optim.Adam(params, lr=w["lr"])
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, w["epochs"]) if w.get("cosine") else None
    threads = int(os.environ.get("BENCH_THREADS", "2")) if w.get("threads") == "cores" else 1
    history = fit(model, loader, loss=F.cross_entropy, optimizer=opt, epochs=w["epochs"], scheduler=scheduler,
                  verbose=False, threads=threads)
    acc = evaluate(model, DataLoader(TensorDataset(x_test, t_test), 1000))["accuracy"]
    steps = sum(1 for _ in batch_orders(len(x), w)[0])
    queue.put(dict(epoch=float(np.mean(history.time)), accuracy=acc, rss=peak_rss_mb(),
                   samples=steps * w["batch_size"], total=float(np.sum(history.time)),
                   flops=training_flops(model, x.shape[1:]), matmul=matmul_gflops()))


def run_torch(w, queue):
    import torch
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    (x, t), (x_test, t_test) = dataset(w)
    ours, state = initial_state(w)
    model = to_torch(ours)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    params = model.parameters()
    opt = torch.optim.SGD(params, lr=w["lr"]) if w["optimizer"] == "sgd" else torch.optim.Adam(params, lr=w["lr"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, w["epochs"]) if w.get("cosine") else None
    transform = augmentation(w)
    X, T = torch.from_numpy(x), torch.from_numpy(t)
    times, steps = [], 0
    for order in batch_orders(len(x), w):
        model.train()
        start = time.perf_counter()
        for idx in order:
            xb = torch.from_numpy(transform(x[idx])) if transform else X[torch.from_numpy(idx)]
            loss = torch.nn.functional.cross_entropy(model(xb), T[torch.from_numpy(idx)])
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
        steps = len(order)
        if scheduler is not None:
            scheduler.step()
    model.eval()
    with torch.no_grad():
        acc = np.mean([(model(torch.from_numpy(x_test[i:i + 1000])).argmax(1).numpy() == t_test[i:i + 1000]).mean()
                       for i in range(0, len(x_test), 1000)])
    queue.put(dict(epoch=float(np.mean(times)), accuracy=float(acc), rss=peak_rss_mb(), samples=steps * w["batch_size"],
                   total=float(np.sum(times))))


def in_child(target, w):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(w, queue))
    process.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Empty:
            if not process.is_alive():
                raise RuntimeError(f"{target.__name__} died (exit code {process.exitcode})") from None
    process.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS), help=", ".join(WORKLOADS))
    parser.add_argument("--epochs", type=int, help="override every workload's epoch count")
    parser.add_argument("--no-torch", action="store_true", help="nnscratch only")
    parser.add_argument("--repeats", type=int, default=2, help="runs per side, alternating; the fastest is reported")
    args = parser.parse_args()
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {', '.join(WORKLOADS)}")
    if not os.environ.get("NNSCRATCH_DATA"):
        sys.exit("set NNSCRATCH_DATA to the folder holding mnist/ and fashion-mnist/")
    if args.epochs:
        for w in WORKLOADS.values():
            w["epochs"] = args.epochs
    try:
        import torch  # noqa: F401
        have_torch = not args.no_torch
    except ImportError:
        have_torch = False
        print("PyTorch is not installed: nnscratch only (pip install torch==2.13.0)")
    print(f"{'workload':10s} {'side':9s} {'s/epoch':>8s} {'samples/s':>10s} {'total s':>8s} {'peak MB':>8s} "
          f"{'test acc':>8s} {'GFLOP/s':>8s}")
    for name in args.workloads:
        sides = [("nnscratch", run_nnscratch)] + ([("PyTorch", run_torch)] if have_torch else [])
        runs = {side: [] for side, _ in sides}
        for _ in range(args.repeats):  # alternate the sides so that drifts of the machine hit both
            for side, target in sides:
                runs[side].append(in_child(target, WORKLOADS[name]))
        rows = [(side, min(results, key=lambda r: r["epoch"])) for side, results in runs.items()]
        ours = rows[0][1]
        for side, r in rows:  # the same matrix-product FLOPs on both sides (training_flops)
            gflops = ours["flops"] * r["samples"] / r["epoch"] / 1e9
            print(f"{name:10s} {side:9s} {r['epoch']:8.3f} {r['samples'] / r['epoch']:10.0f} {r['total']:8.2f} "
                  f"{r['rss']:8.0f} {r['accuracy']:8.2%} {gflops:8.1f}")
        print(f"{name:10s} {ours['flops'] / 1e6:.2f} MFLOP per training sample (matrix products); NumPy float32 "
              f"1024x1024 matmul here: {ours['matmul']:.0f} GFLOP/s")
        if have_torch:
            print(f"{name:10s} ratio nnscratch / PyTorch (s/epoch): {ours['epoch'] / rows[1][1]['epoch']:.2f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
