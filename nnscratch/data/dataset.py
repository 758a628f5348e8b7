"""Datasets: indexable collections of samples. Array-backed ones hand out whole batches by fancy
indexing (``get_batch``), so a DataLoader never loops over samples in Python."""

import numpy as np

from .. import backend
from ..tensor import Tensor


class Dataset:
    """A collection of samples: ``dataset[i]`` is one sample (a tuple such as (image, label)),
    ``len(dataset)`` their number. ``get_batch(indices)`` returns the samples at ``indices``
    stacked per field; subclasses backed by arrays override it with one fancy-indexing step."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def get_batch(self, indices):
        samples = [self[int(i)] for i in indices]
        if not isinstance(samples[0], tuple):
            return np.stack([np.asarray(s) for s in samples])
        return tuple(np.stack([np.asarray(s[k]) for s in samples]) for k in range(len(samples[0])))


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays (or tensors): ``TensorDataset(x, t)[i]`` is
    ``(x[i], t[i])``. ``transform`` (applied to batches of the first array) is optional."""

    def __init__(self, *arrays, transform=None):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(_array(a) for a in arrays)
        n = len(self.arrays[0])
        if any(len(a) != n for a in self.arrays):
            raise ValueError(f"TensorDataset arrays differ in length: {[len(a) for a in self.arrays]}")
        self.transform = transform

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        sample = tuple(b[0] for b in self.get_batch(np.asarray([index])))
        return sample if len(sample) > 1 else sample[0]

    def get_batch(self, indices):
        batch = tuple(a[indices] for a in self.arrays)
        if self.transform is not None:
            batch = (self.transform(batch[0]),) + batch[1:]
        return batch


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices):
        return self.dataset.get_batch(self.indices[np.asarray(indices)])


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into random, non-overlapping Subsets of the given lengths (counts, or
    fractions that add up to 1; leftovers from rounding go to the first parts)."""
    n = len(dataset)
    lengths = list(lengths)
    if all(0 <= f <= 1 for f in lengths) and abs(sum(lengths) - 1) < 1e-9 and sum(lengths) != n:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} add up to {sum(lengths)}, the dataset has {n} samples")
    order = (generator or backend.generator()).permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
