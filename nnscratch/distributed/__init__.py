"""Data-parallel training over several processes and machines (``nnscratch train --distributed``).

Every rank (process) holds a replica of the model and trains on its own shard of each global
batch; the ranks average their gradients with one all-reduce per step, so all replicas stay
identical. The pieces, usable on their own or through ``fit(..., comm=comm)``:

- ``get_communicator()``: a ``Communicator`` (rank, size, bcast, allreduce_mean, barrier) over MPI
  (``MPICommunicator``, mpi4py; imported only when asked for) or a ``SingleProcessCommunicator``.
- ``DistributedDataLoader`` / ``shard_loader``: disjoint shards of every global batch,
  reshuffled every epoch from a shared seed, equal batch counts on every rank.
- ``DistributedOptimizer``: broadcasts rank 0's parameters and buffers, then averages the
  gradients in one packed all-reduce per step.
- ``average_buffers``: BatchNorm's running statistics averaged over the ranks.

Layering: above ``data`` and ``optim``, below ``train`` (which uses it when given a ``comm``).
Run with ``mpiexec -n 4 nnscratch train mnist --distributed``; see docs/distributed.md.
"""

from .communicator import Communicator, SingleProcessCommunicator, check_same, check_same_data
from .optimizer import DistributedOptimizer, average_buffers, broadcast_arrays_, broadcast_state
from .sampler import DistributedDataLoader, rank_slice, shard_evaluation, shard_loader, shared_generator
from .world import get_communicator, launched_by_mpi

__all__ = ["Communicator", "SingleProcessCommunicator", "get_communicator", "launched_by_mpi", "check_same",
           "check_same_data",
           "DistributedOptimizer", "broadcast_state", "broadcast_arrays_", "average_buffers",
           "DistributedDataLoader", "shard_loader", "shard_evaluation", "rank_slice", "shared_generator",
           "MPICommunicator"]


def __getattr__(name):
    if name == "MPICommunicator":  # imports mpi4py, so only on request
        from .mpi import MPICommunicator
        return MPICommunicator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
