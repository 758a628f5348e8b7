"""Sharding the data over the ranks: every rank trains on its own part of each global batch.

The global order. A ``DistributedDataLoader`` draws each epoch's batches exactly as a
``DataLoader`` with the same arguments and the same ``generator`` would (a fresh permutation per
epoch with ``shuffle``, independent draws with ``replacement``), with a generator seeded
identically on every rank, so all ranks agree on the global batches without sending indices.
Global batch k of ``batch_size`` = size·b samples is then cut into ``size`` contiguous slices of
b: rank r takes slice r. So, per epoch:

- the ranks' shards are disjoint and together are the whole epoch;
- the order is new every epoch (the shared generator advances), the same on every rank;
- every rank has the same number of batches, of the same size b, as the all-reduce needs. A
  last, smaller global batch whose size is not a multiple of ``size`` is padded with its own first
  samples (as PyTorch's DistributedSampler pads) until it is; ``drop_last`` drops it instead.

Averaging the ranks' mean gradients then gives exactly the mean gradient of the global batch, so
training on N ranks follows the same trajectory as one process with ``DataLoader(batch_size,
generator=...)`` (up to float rounding, when nothing else is random).
"""

import numpy as np

from ..data import DataLoader, Subset


def rank_slice(indices, rank, size):
    """Rank ``rank``'s contiguous part of one global batch: ``indices`` padded with its own first
    entries to a multiple of ``size``, cut into ``size`` equal slices."""
    n = len(indices)
    per_rank = -(-n // size)
    if per_rank * size != n:
        indices = np.resize(indices, per_rank * size)  # repeats from the start
    return indices[rank * per_rank:(rank + 1) * per_rank]


def shared_generator(comm, seed=None):
    """A ``numpy.random.Generator`` in the same state on every rank: seeded with rank 0's ``seed``
    (rank 0 draws one when None)."""
    if seed is None and comm.rank == 0:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    return np.random.default_rng(comm.bcast(seed))


class DistributedDataLoader(DataLoader):
    """This rank's share of the batches of ``DataLoader(dataset, batch_size, ...)`` (see the module
    docstring): ``batch_size`` is the global batch, each rank gets ``batch_size // comm.size``
    samples per batch, and ``len()`` batches per epoch, the same on every rank.

    ``generator``: where the global order comes from; it must be in the same state on every rank
    (default: ``shared_generator(comm, seed)``). It is saved in checkpoints, so a resumed run
    continues with the same order."""

    def __init__(self, dataset, batch_size, comm, shuffle=False, drop_last=False, transform=None, generator=None,
                 replacement=False, num_samples=None, seed=None):
        if batch_size % comm.size:
            fit = batch_size - batch_size % comm.size or comm.size
            raise ValueError(f"the global batch size {batch_size} cannot be split evenly over {comm.size} ranks; "
                             f"use a multiple of {comm.size} such as {fit}")
        if generator is None:
            generator = shared_generator(comm, seed)
        super().__init__(dataset, batch_size, shuffle=shuffle, drop_last=drop_last, transform=transform,
                         generator=generator, replacement=replacement, num_samples=num_samples)
        self.comm = comm

    @property
    def local_batch_size(self):
        """Samples per batch on each rank: batch_size / size."""
        return self.batch_size // self.comm.size

    def global_batch_indices(self):
        """The index arrays of this epoch's global batches (advances the generator when random)."""
        return super().batch_indices()

    def batch_indices(self):
        return [rank_slice(b, self.comm.rank, self.comm.size) for b in self.global_batch_indices()]


def shard_loader(loader, comm, seed=None):
    """A ``DistributedDataLoader`` with the settings of the DataLoader ``loader`` (its batch size
    is the global batch). ``loader.generator``, when set, is made equal to rank 0's first; without
    one the order comes from ``shared_generator(comm, seed)``."""
    if isinstance(loader, DistributedDataLoader):
        return loader
    generator = loader.generator
    if generator is not None:
        generator.bit_generator.state = comm.bcast(generator.bit_generator.state)
    return DistributedDataLoader(loader.dataset, loader.batch_size, comm, shuffle=loader.shuffle,
                                 drop_last=loader.drop_last, transform=loader.transform, generator=generator,
                                 replacement=loader.replacement, num_samples=loader.num_samples, seed=seed)


def shard_evaluation(loader, comm):
    """For evaluation: rank r gets the r-th of ``size`` contiguous, nearly equal parts of the
    dataset, in order and unpadded (each sample counted once when the ranks' sums are added),
    batched like ``loader``. The batch counts may differ by one; evaluation has no all-reduce
    per batch."""
    if comm.size == 1 or isinstance(loader, DistributedDataLoader):
        return loader
    part = np.array_split(np.arange(len(loader.dataset)), comm.size)[comm.rank]
    return DataLoader(Subset(loader.dataset, part), batch_size=loader.batch_size, transform=loader.transform)
