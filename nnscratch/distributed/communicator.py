"""Communicators: how the processes of a data-parallel run talk to each other.

A communicator connects ``size`` processes, numbered ``rank`` = 0 .. size-1. Every process runs
the same program; the collective operations below must be called by all ranks in the same order
(each waits for the others):

- ``bcast(obj, root=0)``: rank ``root``'s ``obj`` (any picklable value) on every rank.
- ``bcast_array_(array, root=0)``: rank ``root``'s values copied into ``array`` on every rank.
- ``allreduce_sum(array)`` / ``allreduce_mean(array)``: Σ_r array_r (or that / size) on every
  rank, written into ``array`` (a contiguous NumPy array), which is returned.
- ``barrier()``: return once every rank has reached it.

``SingleProcessCommunicator`` (size 1) makes all of this a no-op, so code written for many
processes runs unchanged in one; ``MPICommunicator`` (``nnscratch.distributed.mpi``) runs over MPI.
``nnscratch.distributed.world.get_communicator`` picks the one for this process.
"""

import os
import sys

import numpy as np


class Communicator:
    """The interface: ``rank``, ``size`` and the collective operations of the module docstring."""

    rank = 0
    size = 1

    def bcast(self, obj, root=0):
        """Rank ``root``'s ``obj`` on every rank."""
        raise NotImplementedError

    def bcast_array_(self, array, root=0):
        """Overwrite ``array`` with rank ``root``'s values (same shape and dtype on every rank)."""
        raise NotImplementedError

    def allreduce_sum(self, array):
        """array <- Σ over ranks of array, in place; returns ``array``."""
        raise NotImplementedError

    def allreduce_mean(self, array):
        """array <- (1/size) Σ over ranks of array, in place; returns ``array``."""
        self.allreduce_sum(array)
        if self.size > 1:
            array /= self.size
        return array

    def barrier(self):
        """Wait until every rank has called ``barrier``."""
        raise NotImplementedError

    def abort(self, code=1):
        """End every process of the job at once with exit status ``code``."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


class SingleProcessCommunicator(Communicator):
    """One process, rank 0 of size 1: broadcasts and reductions return their input unchanged."""

    def bcast(self, obj, root=0):
        return obj

    def bcast_array_(self, array, root=0):
        return array

    def allreduce_sum(self, array):
        return array

    def barrier(self):
        pass

    def abort(self, code=1):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def __getattr__(name):
    # get_communicator and launched_by_mpi lived here once; they are in ``world`` now, which
    # imports this module (and ``mpi``) and not the other way round
    if name in ("get_communicator", "launched_by_mpi", "MPI_INSTALL_HINT"):
        from . import world
        return getattr(world, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_same(comm, value, what):
    """Raise ValueError on every rank unless ``value`` (picklable, comparable with ==) is the same
    on all ranks; the message, the same on every rank, names ``what`` and each rank that differs
    from rank 0 and how (for dicts: the keys whose values differ). Returns ``value``."""
    reference = comm.bcast(value)
    differs = np.array([0.0 if value == reference else 1.0])
    comm.allreduce_sum(differs)
    if differs[0]:  # rare: collect every rank's value so that each rank's message is the whole story
        values = [comm.bcast(value, root=r) for r in range(comm.size)]
        parts = []
        for r, other in enumerate(values):
            if other == reference:
                continue
            if isinstance(other, dict) and isinstance(reference, dict):
                other = {k: (reference.get(k), other.get(k)) for k in sorted(set(other) | set(reference), key=str)
                         if other.get(k) != reference.get(k)}
                parts.append(f"rank {r} differs in {other} (rank 0's value, rank {r}'s value)")
            else:
                parts.append(f"rank {r} has {other!r} where rank 0 has {reference!r}")
        raise ValueError(f"the {comm.size} ranks disagree on the {what}: {'; '.join(parts)}; start every rank "
                         "with the same command line and data")
    return value


def check_same_data(comm, arrays, what="training data"):
    """``check_same`` on the shapes, dtypes and a CRC-32 of (a strided sample of) each array: the
    ranks must load identical data for their shards to be parts of one dataset."""
    import zlib
    fingerprint = []
    for a in arrays:
        a = np.asarray(a)
        sample = np.ascontiguousarray(a.reshape(len(a), -1)[::max(1, len(a) // 4096)]) if a.ndim else a
        fingerprint.append((a.shape, str(a.dtype), zlib.crc32(sample.tobytes())))
    return check_same(comm, fingerprint, what)
