"""DataLoader: mini-batches from a dataset, as tensors."""

import math

import numpy as np

from .. import backend
from ..tensor import Tensor


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of ``batch_size``, yielding tensors (one per field,
    e.g. ``x, t``). Each batch is gathered with one fancy-indexing step.

    - ``shuffle``: a new random order every epoch (from ``generator``, default nnscratch's seedable
      generator), each sample once per epoch.
    - ``replacement``: the book's ``np.random.choice(train_size, batch_size)``: every batch is
      drawn independently, with replacement; an epoch is len(dataset) // batch_size batches
      (or ``num_samples // batch_size``).
    - ``drop_last``: skip the final, smaller batch.
    - ``transform``: applied to each batch of the first field (vectorised augmentation).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, transform=None, generator=None,
                 replacement=False, num_samples=None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if shuffle and replacement:
            raise ValueError("choose shuffle (each sample once per epoch) or replacement (independent draws)")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.transform, self.generator = transform, generator
        self.replacement, self.num_samples = replacement, num_samples

    def __len__(self):
        n = self.num_samples or len(self.dataset)
        if self.replacement or self.drop_last:
            return n // self.batch_size
        return math.ceil(n / self.batch_size)

    def _rng(self):
        return self.generator if self.generator is not None else backend.generator()

    def batch_indices(self):
        """The index array of each batch of one epoch (advances the generator when random)."""
        n = len(self.dataset)
        if self.replacement:
            rng = self._rng()
            return [rng.choice(n, self.batch_size) for _ in range(len(self))]
        order = self._rng().permutation(n) if self.shuffle else np.arange(n)
        return [order[i:i + self.batch_size] for i in range(0, len(self) * self.batch_size, self.batch_size)]

    def __iter__(self):
        for indices in self.batch_indices():
            batch = self.dataset.get_batch(indices)
            if not isinstance(batch, tuple):
                batch = (batch,)
            if self.transform is not None:
                batch = (self.transform(batch[0]),) + batch[1:]
            yield tuple(Tensor._wrap(np.asarray(b)) for b in batch)
