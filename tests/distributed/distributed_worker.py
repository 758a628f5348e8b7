"""Run by tests/distributed/test_distributed.py under ``mpiexec -n 2 python tests/distributed/distributed_worker.py CASE``.

Each case prints one line ``RESULT {json}`` on rank 0 (the test reads it):

- equivalence: N steps of a data-parallel run (per-rank batch B/2, DistributedDataLoader,
  DistributedOptimizer, Adam) against one process with batch B and the same global order
  (a plain DataLoader with the same generator), computed on rank 0 alone.
- fit: ``fit(comm=...)`` with validation and gradient clipping against plain ``fit``: parameters
  and the logged metrics.
- batchnorm: BatchNorm's running statistics after a distributed epoch against the mean of the
  statistics each rank's shard gives on its own.
- raise / exit / kill: rank 1 raises an exception (or exits with os._exit, or is killed) during
  training; the job must stop instead of hanging.
- hang: rank 1 stops calling collectives; the watchdog timeout must stop the job.
"""

import json
import os
import signal
import sys
import time

import numpy as np

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import nn, optim
from nnscratch.data import DataLoader, TensorDataset
from nnscratch.distributed import DistributedDataLoader, DistributedOptimizer, get_communicator, rank_slice
from nnscratch.train import fit
from nnscratch.train.callbacks import Callback


def blobs(n, d=20, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, n)
    centres = rng.normal(size=(classes, d)) * 2
    return (centres[t] + rng.normal(size=(n, d))).astype(np.float32), t.astype(np.int64)


def model(seed, **mlp):
    ns.manual_seed(seed)
    return nn.MLP([20, 32, 32, 5], **mlp)


def state(net):
    return {k: v.data.copy() for k, v in net.state_dict().items()}


def max_diff(a, b):
    return max(float(np.abs(a[k].astype(np.float64) - b[k]).max()) for k in a)


def train_steps(net, loader, optimizer, epochs):
    steps = 0
    for _ in range(epochs):
        for x, t in loader:
            loss = F.cross_entropy(net(x), t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
    return steps


def spread(comm, values):
    """max over ranks of |rank r's state - rank 0's state| (are the replicas identical?)."""
    reference = comm.bcast(values)
    diff = np.array([max_diff(values, reference)])
    comm.allreduce_sum(diff)  # with 2 ranks: rank 1's difference (rank 0's is 0)
    return float(diff[0])


def case_equivalence(comm):
    x, t = blobs(250)  # 250 = 7 global batches of 32 and a last one of 26 (13 per rank)
    dataset = TensorDataset(x, t)
    global_batch, epochs = 32, 2
    net = model(seed=comm.rank)  # different initial weights per rank: the broadcast must fix them
    optimizer = DistributedOptimizer(optim.Adam(net.parameters(), lr=1e-2), comm, module=net)
    loader = DistributedDataLoader(dataset, global_batch, comm, shuffle=True, generator=np.random.default_rng(7))
    steps = train_steps(net, loader, optimizer, epochs)
    result = {"steps": steps, "local_batch": loader.local_batch_size, "spread": spread(comm, state(net)),
              "bytes_per_step": optimizer.bytes_per_step}
    if comm.rank == 0:
        ref = model(seed=0)
        ref_optimizer = optim.Adam(ref.parameters(), lr=1e-2)
        ref_loader = DataLoader(dataset, global_batch, shuffle=True, generator=np.random.default_rng(7))
        result["ref_steps"] = train_steps(ref, ref_loader, ref_optimizer, epochs)
        result["max_diff"] = max_diff(state(net), state(ref))
        result["moved"] = max_diff(state(net), state(model(seed=0)))
    return result


def case_fit(comm):
    x, t = blobs(300)
    global_batch, epochs = 40, 3
    kwargs = dict(loss=F.cross_entropy, epochs=epochs, validation_split=0.2, seed=3, clip_grad_norm=0.5,
                  verbose=False)
    net = model(seed=comm.rank)
    opt = optim.Momentum(net.parameters(), lr=0.05, momentum=0.9)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    loader = DataLoader(TensorDataset(x, t), global_batch, shuffle=True, generator=np.random.default_rng(11))
    history = fit(net, loader, optimizer=opt, scheduler=scheduler, comm=comm, **kwargs)
    result = {"spread": spread(comm, state(net)), "local_batch": None}
    if comm.rank == 0:
        ref = model(seed=0)
        ref_opt = optim.Momentum(ref.parameters(), lr=0.05, momentum=0.9)
        ref_scheduler = optim.lr_scheduler.CosineAnnealingLR(ref_opt, epochs)
        ref_loader = DataLoader(TensorDataset(x, t), global_batch, shuffle=True, generator=np.random.default_rng(11))
        ref_history = fit(ref, ref_loader, optimizer=ref_opt, scheduler=ref_scheduler, **kwargs)
        result["max_diff"] = max_diff(state(net), state(ref))
        result["history"] = {k: getattr(history, k) for k in ("loss", "accuracy", "val_loss", "val_accuracy", "lr")}
        result["ref_history"] = {k: getattr(ref_history, k) for k in result["history"]}
    return result


def case_batchnorm(comm):
    x, t = blobs(192)
    global_batch = 32
    net = model(seed=0, batchnorm=True)
    before = state(net)
    loader = DistributedDataLoader(TensorDataset(x, t), global_batch, comm, shuffle=True,
                                   generator=np.random.default_rng(5))
    opt = optim.SGD(net.parameters(), lr=0.0)  # weights fixed: the running statistics depend on the data only
    fit(net, loader, loss=F.cross_entropy, optimizer=opt, epochs=1, comm=comm, verbose=False)
    result = {"spread": spread(comm, state(net))}
    if comm.rank == 0:  # each rank's shard on its own copy of the network, then the mean of their statistics
        order = DataLoader(TensorDataset(x, t), global_batch, shuffle=True, generator=np.random.default_rng(5))
        batches = order.batch_indices()
        replicas = []
        for r in range(comm.size):
            replica = model(seed=0, batchnorm=True)
            replica.load_state_dict(before)
            for b in batches:
                replica(ns.tensor(x[rank_slice(b, r, comm.size)]))
            replicas.append(state(replica))
        expected = {k: np.mean([rep[k] for rep in replicas], axis=0) for k in before}
        names = [k for k in before if "running" in k]
        result["buffers"] = names
        result["max_diff"] = max_diff({k: state(net)[k] for k in names}, {k: expected[k] for k in names})
        result["one_rank_diff"] = max_diff({k: replicas[0][k] for k in names}, {k: expected[k] for k in names})
    return result


class FailOnRank(Callback):
    def __init__(self, comm, how):
        self.comm, self.how = comm, how

    def on_batch_end(self, trainer, batch, logs):
        if self.comm.rank == 1 and batch == 3:
            if self.how == "raise":
                raise RuntimeError("simulated failure on rank 1 at batch 3")
            if self.how == "exit":
                os._exit(7)
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(3600)  # hang


def case_failure(comm, how):
    x, t = blobs(400)
    net = model(seed=0)
    loader = DataLoader(TensorDataset(x, t), 20, shuffle=True)
    fit(net, loader, loss=F.cross_entropy, optimizer=optim.SGD(net.parameters(), lr=0.1), epochs=50, comm=comm,
        callbacks=[FailOnRank(comm, how)], verbose=False)
    return {"finished": True}  # never reached when the failure stops the job


def main():
    case = sys.argv[1]
    comm = get_communicator("mpi")
    if case == "equivalence":
        result = case_equivalence(comm)
    elif case == "fit":
        result = case_fit(comm)
    elif case == "batchnorm":
        result = case_batchnorm(comm)
    else:
        result = case_failure(comm, case)
    result["size"] = comm.size
    if comm.rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
