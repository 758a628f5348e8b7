"""nnscratch.distributed: data-parallel training.

The single-process parts always run (sharding arithmetic, gradient packing against a stand-in
second rank, size-1 communicator, errors). The MPI parts launch ``mpiexec -n 2`` on
tests/distributed/distributed_worker.py (or the CLI) in a subprocess with a timeout when mpi4py and
mpiexec are available (``pip install -e ".[dev]"`` installs both), and are skipped otherwise.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import nn, optim
from nnscratch.data import DataLoader, TensorDataset
from nnscratch.distributed import (Communicator, DistributedDataLoader, DistributedOptimizer, SingleProcessCommunicator,
                                   average_buffers, check_same, get_communicator, rank_slice, shard_evaluation)
from nnscratch.train import fit

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "distributed_worker.py")


class StandIn(Communicator):
    """Rank ``rank`` of ``size`` in one process: broadcasts return the input (every stand-in rank
    is seeded alike), and ``allreduce_sum`` adds ``others`` (what the other ranks would send)."""

    def __init__(self, rank, size, others=()):
        self.rank, self.size, self.others = rank, size, list(others)
        self.sent = []

    def bcast(self, obj, root=0):
        return obj

    def bcast_array_(self, array, root=0):
        return array

    def allreduce_sum(self, array):
        self.sent.append(array.copy())
        for other in self.others:
            array += other
        return array

    def barrier(self):
        pass


# ----------------------------------------------------------------------------- sharding

def test_rank_slice_cuts_a_global_batch_into_equal_contiguous_parts_padding_from_its_start():
    np.testing.assert_array_equal(rank_slice(np.arange(10), 0, 2), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(rank_slice(np.arange(10), 1, 2), [5, 6, 7, 8, 9])
    # 5 samples over 2 ranks: padded with the batch's first sample to 6
    np.testing.assert_array_equal(rank_slice(np.arange(5), 0, 2), [0, 1, 2])
    np.testing.assert_array_equal(rank_slice(np.arange(5), 1, 2), [3, 4, 0])
    np.testing.assert_array_equal(rank_slice(np.arange(7), 2, 3), [6, 0, 1])


@pytest.mark.parametrize("n, batch, size, drop_last", [(100, 20, 2, False), (103, 12, 3, False), (103, 12, 3, True)])
def test_shards_are_disjoint_cover_the_epoch_reshuffle_and_have_equal_batch_counts(n, batch, size, drop_last):
    dataset = TensorDataset(np.arange(n, dtype=np.float32)[:, None], np.arange(n))
    loaders = [DistributedDataLoader(dataset, batch, StandIn(r, size), shuffle=True, drop_last=drop_last,
                                     generator=np.random.default_rng(42)) for r in range(size)]
    plain = DataLoader(dataset, batch, shuffle=True, drop_last=drop_last, generator=np.random.default_rng(42))
    epochs = []
    for _ in range(2):
        shards = [[t.data for _, t in loader] for loader in loaders]
        global_order = [b for b in plain.batch_indices()]
        assert len({len(s) for s in shards}) == 1 and len(shards[0]) == len(plain)  # equal batch counts
        for k, global_batch in enumerate(global_order):
            local = [shards[r][k] for r in range(size)]
            assert len({len(part) for part in local}) == 1  # equal batch sizes
            together = np.concatenate(local)
            # the ranks' parts, in rank order, are the global batch (plus padding from its start)
            np.testing.assert_array_equal(together[:len(global_batch)], global_batch)
            padding = together[len(global_batch):]
            np.testing.assert_array_equal(padding, global_batch[:len(padding)])
            assert len(together) - len(global_batch) < size
        seen = np.concatenate([np.unique(np.concatenate(s)) for s in shards])
        padded = sum(len(b) for s in shards for b in s) - (len(plain) * batch if drop_last else n)
        assert padded == (0 if drop_last else -n % batch % size if n % batch else 0)
        if drop_last:
            assert len(seen) == len(plain) * batch
        else:
            assert sorted(np.unique(seen)) == list(range(n))
        epochs.append(np.concatenate(shards[0]))
    assert not np.array_equal(epochs[0], epochs[1])  # a new order in the second epoch


def test_a_global_batch_that_does_not_split_evenly_is_an_error_naming_a_fix():
    dataset = TensorDataset(np.zeros((10, 1), np.float32))
    with pytest.raises(ValueError, match=r"global batch size 10 cannot be split evenly over 3 ranks.*such as 9"):
        DistributedDataLoader(dataset, 10, StandIn(0, 3))


def test_evaluation_shards_are_contiguous_unpadded_and_cover_each_sample_once():
    dataset = TensorDataset(np.arange(11, dtype=np.float32)[:, None])
    loader = DataLoader(dataset, batch_size=2)
    parts = [np.concatenate([x.data[:, 0] for (x,) in shard_evaluation(loader, StandIn(r, 3))]) for r in range(3)]
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]


# ----------------------------------------------------------------------------- gradients and buffers

def test_distributed_optimizer_averages_gradients_in_one_packed_allreduce():
    a = ns.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = ns.Tensor(np.array([[3.0]], np.float32), requires_grad=True)
    c = ns.Tensor(np.array([5.0], np.float32), requires_grad=True)
    # the other rank's packed message: grads of a and b, none of c; then the had-a-gradient flags
    other = np.array([10.0, 20.0, 30.0, 0.0, 1.0, 1.0, 0.0], np.float32)
    comm = StandIn(0, 2, [other])
    opt = DistributedOptimizer(optim.SGD([a, b, c], lr=1.0), comm, broadcast=False)
    opt.zero_grad()
    a.grad = ns.tensor(np.array([2.0, 4.0], np.float32))  # b has no gradient on this rank, c on neither
    opt.step()
    assert len(comm.sent) == 1  # one all-reduce for all parameters
    np.testing.assert_array_equal(comm.sent[0], [2, 4, 0, 0, 1, 0, 0])
    assert opt.bytes_per_step == 7 * 4
    np.testing.assert_array_equal(a.grad.data, [6.0, 12.0])  # (2 + 10) / 2, (4 + 20) / 2
    np.testing.assert_array_equal(b.grad.data, [[15.0]])  # (0 + 30) / 2: a missing gradient counts as zero
    assert c.grad is None  # no rank had one: skipped, as without the wrapper
    np.testing.assert_array_equal(a.data, [-5.0, -10.0])
    np.testing.assert_array_equal(b.data, [[-12.0]])
    np.testing.assert_array_equal(c.data, [5.0])


def test_synchronize_before_step_reduces_once_and_the_wrapper_shares_the_optimizer_state():
    w = ns.Tensor(np.array([1.0], np.float32), requires_grad=True)
    comm = StandIn(1, 2, [np.array([3.0, 1.0], np.float32)])
    inner = optim.Adam([w], lr=0.1)
    opt = DistributedOptimizer(inner, comm, broadcast=False)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)  # accepts the wrapper
    w.grad = ns.tensor(np.array([1.0], np.float32))
    opt.synchronize()
    np.testing.assert_array_equal(w.grad.data, [2.0])
    opt.step()
    assert len(comm.sent) == 1
    scheduler.step()
    assert inner.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.05
    assert opt.state_dict()["state"][0]["step"] == inner.state[w]["step"] == 1
    with pytest.raises(TypeError, match="already a DistributedOptimizer"):
        DistributedOptimizer(opt, comm)


def test_average_buffers_replaces_running_statistics_by_their_mean_over_ranks():
    bn = nn.BatchNorm1d(3)
    bn.running_mean.data[...] = [1.0, 2.0, 3.0]
    bn.running_var.data[...] = [1.0, 1.0, 1.0]
    other = np.array([3.0, 2.0, 1.0, 3.0, 5.0, 7.0], np.float32)  # the other rank's mean, then var
    average_buffers(bn, StandIn(0, 2, [other]))
    np.testing.assert_array_equal(bn.running_mean.data, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(bn.running_var.data, [2.0, 3.0, 4.0])


def test_check_same_names_the_rank_and_the_setting_that_differ():
    class Two(StandIn):  # rank 1, whose lr differs from rank 0's
        def bcast(self, obj, root=0):
            return {"lr": 0.1, "epochs": 3} if root == 0 else obj

        def allreduce_sum(self, array):
            return array

    expected = r"2 ranks disagree on the run settings: rank 1 differs in \{'lr': \(0.1, 0.2\)\}"
    with pytest.raises(ValueError, match=expected):
        check_same(Two(1, 2), {"lr": 0.2, "epochs": 3}, "run settings")
    assert check_same(SingleProcessCommunicator(), {"lr": 0.2}, "run settings") == {"lr": 0.2}


# ----------------------------------------------------------------------------- one process

def _blobs(n=240, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, n)
    x = (rng.normal(size=(n, 4)) + 5 * np.eye(3, 4)[t]).astype(np.float32)
    return x, t


def test_fit_with_a_single_process_communicator_equals_plain_fit_with_the_same_generator():
    x, t = _blobs()
    runs = []
    for comm in (None, SingleProcessCommunicator()):
        ns.manual_seed(0)
        net = nn.MLP([4, 16, 3], dropout=0.1)
        opt = optim.Adam(net.parameters(), lr=1e-2)
        loader = DataLoader(TensorDataset(x, t), 24, shuffle=True, generator=np.random.default_rng(9))
        history = fit(net, loader, loss=F.cross_entropy, optimizer=opt, epochs=3, seed=1, validation_split=0.25,
                      verbose=False, comm=comm)
        runs.append(({k: v.data.copy() for k, v in net.state_dict().items()}, history))
    (w0, h0), (w1, h1) = runs
    for k in w0:
        np.testing.assert_array_equal(w0[k], w1[k])
    assert h0.loss == h1.loss and h0.val_accuracy == h1.val_accuracy
    assert h1.accuracy[-1] > 0.8 and h1.loss[-1] < 0.5 * h1.loss[0]  # it learned (chance: 1/3)


def test_get_communicator_without_a_launcher_is_a_single_process(monkeypatch):
    for name in ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "HYDI_CONTROL_FD",
                 "SLURM_STEP_NUM_TASKS"):
        monkeypatch.delenv(name, raising=False)
    comm = get_communicator()
    assert isinstance(comm, SingleProcessCommunicator) and (comm.rank, comm.size) == (0, 1)
    array = np.array([1.0, 2.0])
    assert comm.allreduce_mean(array) is array and array.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="unknown communicator backend 'tcp'"):
        get_communicator("tcp")


def test_distributed_without_mpi_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "nnscratch.distributed.mpi", None)
    with pytest.raises(ImportError, match=r"pip install 'nnscratch\[mpi\]'"):
        get_communicator("mpi")
    from nnscratch.cli import main
    assert main(["train", "xor", "--distributed", "--epochs", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nnscratch: error: distributed training needs MPI") and err.count("\n") == 1


def test_import_nnscratch_distributed_does_not_import_mpi4py():
    code = ("import sys, nnscratch, nnscratch.distributed, nnscratch.train, nnscratch.runner; "
            "print('mpi4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# ----------------------------------------------------------------------------- MPI, 2 processes

def _mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")  # the mpich wheel's, in the venv
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


@pytest.fixture
def needs_mpi():
    pytest.importorskip("mpi4py", reason="needs mpi4py and mpiexec: pip install -e '.[mpi]'")
    if _mpiexec() is None:
        pytest.skip("needs mpiexec (mpi4py is there but no MPI launcher): pip install -e '.[mpi]'")


mpi = pytest.mark.usefixtures("needs_mpi")


def _launch(*programs, env=None, timeout=120):
    """mpiexec with one or more (n, argv) programs (MPMD); returns (completed process, seconds)."""
    command = [_mpiexec()]
    for i, (n, argv) in enumerate(programs):
        command += ([":"] if i else []) + ["-n", str(n)] + list(argv)
    environment = {k: v for k, v in os.environ.items() if k != "NNSCRATCH_DIST_TIMEOUT"}
    environment.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
                        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", **(env or {})})
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, cwd=HERE,
                          stdin=subprocess.DEVNULL)
    return done, time.monotonic() - start


def _worker(case, **kwargs):
    done, seconds = _launch((2, [sys.executable, WORKER, case]), **kwargs)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(lines[0][len("RESULT "):]) if lines else None
    return done, seconds, result


@mpi
def test_two_ranks_with_half_batches_match_one_process_with_the_whole_batch():
    done, _, result = _worker("equivalence")
    assert done.returncode == 0 and result is not None, done.stderr
    assert result["size"] == 2 and result["local_batch"] == 16
    assert result["steps"] == result["ref_steps"] == 16  # 2 epochs of 8 global batches (7 of 32, one of 26)
    assert result["spread"] == 0.0  # the replicas are identical (rank 1 started from other weights)
    assert result["moved"] > 0.05  # training changed the weights...
    assert result["max_diff"] < 1e-5  # ...exactly as one process with batch 32 would
    params = 20 * 32 + 32 + 32 * 32 + 32 + 32 * 5 + 5
    assert result["bytes_per_step"] == 4 * (params + 6)  # one float32 buffer: gradients + 6 flags


@mpi
def test_fit_over_two_ranks_matches_plain_fit_in_weights_and_logged_metrics():
    done, _, result = _worker("fit")
    assert done.returncode == 0 and result is not None, done.stderr
    assert result["spread"] == 0.0
    assert result["max_diff"] < 1e-5
    history, ref = result["history"], result["ref_history"]
    assert history["accuracy"] == ref["accuracy"] and history["val_accuracy"] == ref["val_accuracy"]
    assert history["lr"] == ref["lr"]
    np.testing.assert_allclose(history["loss"], ref["loss"], rtol=1e-5)
    np.testing.assert_allclose(history["val_loss"], ref["val_loss"], rtol=1e-5)


@mpi
def test_batchnorm_running_statistics_are_the_mean_over_the_ranks_shards():
    done, _, result = _worker("batchnorm")
    assert done.returncode == 0 and result is not None, done.stderr
    assert result["buffers"] == ["1.running_mean", "1.running_var", "4.running_mean", "4.running_var"]
    assert result["spread"] == 0.0
    assert result["max_diff"] < 1e-6
    assert result["one_rank_diff"] > 1e-2  # one shard's statistics alone would be visibly different


@mpi
def test_a_rank_that_raises_stops_the_whole_job_with_its_message():
    done, seconds, result = _worker("raise")
    assert result is None and done.returncode != 0
    assert seconds < 60
    assert "nnscratch: error on rank 1 of 2: RuntimeError: simulated failure on rank 1 at batch 3; stopping all 2 " \
           "ranks" in done.stderr


@mpi
@pytest.mark.parametrize("case, status", [("exit", 7), ("kill", None)])
def test_a_rank_that_dies_stops_the_whole_job(case, status):
    done, seconds, result = _worker(case)
    assert result is None and seconds < 60
    if status is not None:
        assert done.returncode == status  # mpiexec passes on the dead rank's exit status
    else:
        assert done.returncode != 0 and "signal 9" in done.stdout + done.stderr


@mpi
def test_a_rank_that_hangs_is_caught_by_the_timeout():
    done, seconds, result = _worker("hang", env={"NNSCRATCH_DIST_TIMEOUT": "2"})
    assert result is None and done.returncode != 0
    assert seconds < 60
    assert "error on rank 0 of 2: waited 2 s for the other ranks in allreduce" in done.stderr


@mpi
def test_cli_distributed_train_writes_one_run_directory_from_rank_0(tmp_path):
    out = tmp_path / "run"
    cli = [sys.executable, "-m", "nnscratch.cli", "train", "spirals", "--hidden", "32,32", "--epochs", "3",
           "--batch-size", "50", "--distributed", "--out", str(out)]
    done, _ = _launch((2, cli))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("data-parallel over 2 ranks") == 1
    assert done.stdout.count("epoch 3/3") == 1
    for name in ("config.json", "history.csv", "model.npz", "last.npz", "summary.txt"):
        assert (out / name).exists(), name
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 3 and history["loss"][2] < history["loss"][0]


@mpi
def test_cli_ranks_with_different_settings_stop_with_an_error_naming_the_difference(tmp_path):
    def cli(lr):
        return [sys.executable, "-m", "nnscratch.cli", "train", "xor", "--epochs", "2", "--lr", lr, "--distributed",
                "--out", str(tmp_path / "run")]
    done, seconds = _launch((1, cli("0.1")), (1, cli("0.2")))
    assert done.returncode != 0 and seconds < 60
    assert "the 2 ranks disagree on the run settings: rank 1 differs in {'lr': (0.1, 0.2)}" in done.stderr
    assert not (tmp_path / "run" / "model.npz").exists()
