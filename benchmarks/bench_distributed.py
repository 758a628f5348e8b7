"""Data-parallel scaling on this machine: seconds per full-MNIST epoch with 1 and 2 MPI ranks.

    NNSCRATCH_DATA=../shared/data python benchmarks/bench_distributed.py [mlp] [cnn] [--epochs 1] [--repeats 2]
    python benchmarks/bench_distributed.py --bytes      # bytes all-reduced per step for every preset
    python benchmarks/bench_distributed.py --cost-model # expected scaling on N machines (ring all-reduce)
    python benchmarks/bench_distributed.py --allreduce  # time of one all-reduce of 2 MB between 2 ranks here

For each workload (the `mlp` and `cnn` presets of ``nnscratch train``: same network, optimizer,
global batch; no validation split) three configurations train ``--epochs`` epochs of all 60,000
images through ``fit(comm=...)``:

  1 rank x 1 thread    the baseline of the speed-up (one BLAS/OpenMP thread per rank)
  2 ranks x 1 thread   data-parallel: each rank computes half of every global batch
  1 rank x 2 threads   what the same 2 cores give without MPI (threaded BLAS), for comparison

Each configuration runs under ``mpiexec -n R`` (the one next to this Python, else on PATH) in a
new process; configurations alternate and each one's fastest epoch over ``--repeats`` rounds is
reported, with the spread of the repeats (the machine is shared). Speed-up = t(1x1) / t(2x1),
efficiency = speed-up / 2. "allreduce" is the time rank 0 spent in the gradient all-reduce,
waiting for the slower rank included; "CPU s" is rank 0's processor time per epoch (all its
threads; MPICH busy-polls while it waits, so waiting counts too): on a machine shared with other
jobs, wall time also counts the time the ranks were not given a core.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ("mlp", "cnn")
CONFIGS = [(1, 1), (2, 1), (1, 2)]  # (ranks, threads per rank)


def mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    if found is None:
        sys.exit("no mpiexec: pip install 'nnscratch[mpi]'")
    return found


# ----------------------------------------------------------------------------- one configuration (under mpiexec)

def worker(workload, epochs):
    from nnscratch import functional as F
    from nnscratch.distributed import get_communicator
    from nnscratch.models import build_model
    from nnscratch.presets import resolve
    from nnscratch.runner import load_data, make_optimizer, make_train_loader, net_config
    from nnscratch.train import fit

    comm = get_communicator("mpi")
    waited = [0.0, 0]
    reduce = comm.allreduce_sum

    def timed_allreduce(array):  # rank 0's time in all-reduces (transfer and waiting for the other rank)
        start = time.perf_counter()
        result = reduce(array)
        waited[0] += time.perf_counter() - start
        waited[1] += 1
        return result

    comm.allreduce_sum = timed_allreduce
    settings = resolve(workload, {"epochs": epochs, "validation_split": 0.0, "seed": 0})
    settings["dataset"] = "mnist"
    data = load_data("mnist")
    network = build_model(net_config(settings, data))
    optimizer = make_optimizer(settings, network.parameters())
    cpu = time.process_time()
    history = fit(network, make_train_loader(settings, data), loss=F.cross_entropy, optimizer=optimizer,
                  epochs=epochs, seed=0, verbose=False, comm=comm)
    cpu = time.process_time() - cpu
    if comm.rank == 0:
        print("RESULT " + json.dumps({"epoch_s": list(history.time), "allreduce_s": waited[0] / epochs,
                                      "allreduces": waited[1], "cpu_s": cpu / epochs, "loss": history.loss[-1],
                                      "accuracy": history.accuracy[-1]}), flush=True)


def run_config(workload, ranks, threads, epochs):
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    command = [mpiexec(), "-n", str(ranks), sys.executable, os.path.abspath(__file__), "--worker", workload,
               "--epochs", str(epochs)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, stdin=subprocess.DEVNULL)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(lines[0][len("RESULT "):])


# ----------------------------------------------------------------------------- bytes per step

def bytes_table():
    """Parameters of every preset's MNIST network and the bytes one all-reduce carries per step."""
    import numpy as np

    from nnscratch.models import build_model
    from nnscratch.presets import PRESETS, resolve
    from nnscratch.runner import Data, net_config
    fake = Data(np.arange(2 * 784, dtype=np.float32).reshape(2, 1, 28, 28), np.zeros(2, np.int64), None, None,
                [str(i) for i in range(10)])
    print("| preset | parameters | tensors | bytes per step (float32 + flags) | global batch |")
    print("| --- | --- | --- | --- | --- |")
    for name in PRESETS:
        settings = resolve(name, {})
        network = build_model(net_config(settings, fake))
        params = list(network.parameters())
        count = sum(p.size for p in params)
        print(f"| {name} | {count:,} | {len(params)} | {4 * (count + len(params)):,} | {settings['batch_size']} |")


# Inputs of the cost model, measured on this machine (see benchmarks/README.md, "Distributed"):
# t1 = one process's step at the preset's global batch with 2 threads (bench_mnist.py: mlp preset
# 2.19 s per 469 steps, SimpleConvNet 6.21 s per 600 steps); fixed = the fraction of it that does not
# shrink with the per-rank batch (weight-gradient products of parameter size, the optimizer update,
# Python dispatch): the CPU time of a step at batch 2 over that at batch B, 1 thread (mlp 1.25 / 4.80
# ms, cnn 1.31 / 12.93 ms).
COST_INPUTS = {"mlp": dict(t1=2.19 / 469, fixed=0.26), "cnn": dict(t1=6.21 / 600, fixed=0.10)}
NETWORKS = {"10 Gbit/s Ethernet (TCP)": dict(bandwidth=10e9 / 8, latency=30e-6),
            "100 Gbit/s InfiniBand/RoCE": dict(bandwidth=100e9 / 8, latency=3e-6)}


def ring_allreduce_seconds(nbytes, n, bandwidth, latency):
    """Ring all-reduce of ``nbytes`` over ``n`` ranks: 2(n-1) steps, each sending nbytes/n:
    T = 2(n-1) latency + 2(n-1)/n * nbytes / bandwidth."""
    if n == 1:
        return 0.0
    return 2 * (n - 1) * latency + 2 * (n - 1) / n * nbytes / bandwidth


def cost_model(ns=(1, 2, 4, 8, 16, 32, 64)):
    """Expected speed-up on N machines (one rank each; no overlap of communication with computation,
    as DistributedOptimizer works), in samples per second relative to one machine:

    - global batch fixed (the preset's B split over N): S = t1 / (t1 (fixed + (1 - fixed) / N) + T_ar)
    - per-rank batch fixed (global batch N·B):           S = N t1 / (t1 + T_ar)
    """
    import numpy as np

    from nnscratch.models import build_model
    from nnscratch.presets import resolve
    from nnscratch.runner import Data, net_config
    fake = Data(np.arange(2 * 784, dtype=np.float32).reshape(2, 1, 28, 28), np.zeros(2, np.int64), None, None,
                [str(i) for i in range(10)])
    for preset, inputs in COST_INPUTS.items():
        params = list(build_model(net_config(resolve(preset, {}), fake)).parameters())
        nbytes = 4 * (sum(p.size for p in params) + len(params))
        batch = resolve(preset, {})["batch_size"]
        print(f"\n{preset}: {nbytes:,} bytes per step, global batch {batch}, t1 = {inputs['t1'] * 1e3:.2f} ms, "
              f"fixed fraction {inputs['fixed']:.2f}")
        print("| network | per step | " + " | ".join(f"N={n}" for n in ns) + " |")
        print("| --- | --- |" + " --- |" * len(ns))
        for name, net in NETWORKS.items():
            comms = [ring_allreduce_seconds(nbytes, n, **net) for n in ns]
            print(f"| {name} | all-reduce time | " + " | ".join(f"{c * 1e3:.2f} ms" for c in comms) + " |")
            strong = [inputs["t1"] / (inputs["t1"] * (inputs["fixed"] + (1 - inputs["fixed"]) / n) + c)
                      for n, c in zip(ns, comms)]
            print(f"| | speed-up, global batch {batch} | " + " | ".join(f"{x:.2f}x ({x / n:.0%})"
                                                                      for n, x in zip(ns, strong)) + " |")
            weak = [n * inputs["t1"] / (inputs["t1"] + c) for n, c in zip(ns, comms)]
            print(f"| | speed-up, global batch N x {batch} | " + " | ".join(f"{x:.2f}x ({x / n:.0%})"
                                                                          for n, x in zip(ns, weak)) + " |")


def allreduce_worker(nbytes, calls=200):
    import numpy as np

    from nnscratch.distributed import get_communicator
    comm = get_communicator("mpi")
    buffer = np.ones(nbytes // 4, np.float32)
    best = float("inf")
    for _ in range(5):
        comm.barrier()
        start = time.perf_counter()
        for _ in range(calls):
            comm.allreduce_mean(buffer)
        best = min(best, (time.perf_counter() - start) / calls)
    if comm.rank == 0:
        print(f"RESULT {json.dumps({'seconds': best})}", flush=True)


def allreduce_table():
    """One all-reduce of the mlp and cnn presets' gradient buffers between 2 ranks on this machine."""
    for name, nbytes in (("cnn", 1_735_584), ("mlp", 2_143_296)):
        command = [mpiexec(), "-n", "2", sys.executable, os.path.abspath(__file__), "--allreduce-worker", str(nbytes)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL)
        line = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")][0]
        seconds = json.loads(line[len("RESULT "):])["seconds"]
        print(f"{name}: {nbytes:,} bytes, 2 ranks: {seconds * 1e3:.3f} ms per all-reduce "
              f"({nbytes / seconds / 1e9:.2f} GB/s of buffer)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS), help="mlp and/or cnn (default both)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--allreduce-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--allreduce", action="store_true", help="time one all-reduce of each preset's gradients")
    parser.add_argument("--bytes", action="store_true", help="print the bytes all-reduced per step of each preset")
    parser.add_argument("--cost-model", action="store_true", help="print the expected scaling on N machines")
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.epochs)
    if args.allreduce_worker:
        return allreduce_worker(args.allreduce_worker)
    if args.allreduce:
        return allreduce_table()
    if args.bytes:
        return bytes_table()
    if args.cost_model:
        return cost_model()
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    print(f"{os.cpu_count()} cores; {args.epochs} epoch(s) of 60,000 images per run; best of {args.repeats} "
          "alternating repeats (all repeats in brackets)")
    results = {}
    for round_ in range(args.repeats):
        for workload in args.workloads:
            for ranks, threads in CONFIGS:
                r = run_config(workload, ranks, threads, args.epochs)
                results.setdefault((workload, ranks, threads), []).append(r)
                print(f"  round {round_ + 1}: {workload} {ranks} rank(s) x {threads} thread(s): "
                      f"{min(r['epoch_s']):.2f} s/epoch", flush=True)
    print("\n| workload | ranks x threads | s/epoch (best) | all repeats | samples/s | speed-up vs 1x1 | efficiency "
          "| rank 0 in allreduce | rank 0 CPU s/epoch | final train loss |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for workload in args.workloads:
        base = min(min(r["epoch_s"]) for r in results[(workload, 1, 1)])
        for ranks, threads in CONFIGS:
            runs = results[(workload, ranks, threads)]
            best = min(min(r["epoch_s"]) for r in runs)
            every = ", ".join(f"{min(r['epoch_s']):.2f}" for r in runs)
            speedup = base / best
            reduce = min(r["allreduce_s"] for r in runs) if ranks > 1 else 0.0
            print(f"| {workload} | {ranks} x {threads} | {best:.2f} | {every} | {60000 / best:,.0f} | {speedup:.2f}x | "
                  f"{speedup / (ranks * threads):.0%} | {reduce:.2f} s | {min(r['cpu_s'] for r in runs):.2f} | "
                  f"{runs[-1]['loss']:.4f} |")


if __name__ == "__main__":
    main()
