"""PyTorch's ``torch.utils.data`` on nnscratch: Dataset, DataLoader, TensorDataset, random_split,
Subset, samplers and ``default_collate``, with PyTorch's defaults and what they yield.

A ``DataLoader`` asks its ``batch_sampler`` for the indices of each batch, fetches the samples
and merges them with ``collate_fn``::

    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for xb, yb in loader:          # a list [x[idx], y[idx]] of tensors per batch
        ...

Fetching sample by sample in Python is slow for MNIST-sized sets, so a dataset that can gather
and collate a whole batch at once offers ``__getbatch__(indices)``: it returns exactly what
``default_collate([dataset[i] for i in indices])`` would, or ``NotImplemented`` when it cannot
(for example a transform that only works per image). The DataLoader uses it whenever the
collation is the default one. ``TensorDataset``, ``Subset`` of such a dataset, nnscratch's own
array datasets and ``nnscratch.vision.datasets.MNIST`` with ``ToTensor``/``Normalize`` do.

Differences from PyTorch: ``num_workers`` is accepted but batches are made in the main process
(``worker_init_fn`` is not called), ``pin_memory`` does nothing (there is no GPU), and random
orders come from nnscratch's generator (``nnscratch.manual_seed``), so they differ from PyTorch's.
"""

import bisect
import collections.abc
import itertools
import math
import numbers
import warnings

import numpy as np

from .. import backend
from ..data import dataset as _arrays
from ..tensor import Tensor, is_grad_enabled

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler", "DataLoader", "default_collate", "default_convert", "get_worker_info"]


def _rng(generator):
    """The numpy Generator behind ``generator``: an ``nnscratch.Generator`` (torch.Generator under
    as-torch), a numpy Generator, or None for nnscratch's global one (``manual_seed``)."""
    if generator is None or isinstance(generator, np.random.Generator) or hasattr(generator, "numpy_generator"):
        return backend.rng(generator)
    raise TypeError(f"generator must be a torch.Generator (nnscratch.Generator) or numpy.random.Generator, "
                    f"got {type(generator).__name__}")


# ----------------------------------------------------------------------------- datasets

class Dataset(_arrays.Dataset):
    """A map-style dataset: ``dataset[i]`` is sample ``i`` (any object: a tuple ``(x, y)``, a dict,
    a tensor), ``len(dataset)`` the number of samples. Subclass it and define both, as in PyTorch.
    ``a + b`` is their ``ConcatDataset``."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__`` yielding samples. The DataLoader
    groups consecutive samples into batches (no sampler, no shuffle)."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead of indexing")


def _take(t, indices):
    """Rows ``indices`` of tensor (or array) ``t`` as a tensor; differentiable when t needs grad."""
    if isinstance(t, Tensor):
        if t.requires_grad and is_grad_enabled():
            return t[indices]
        return Tensor._wrap(t.data[indices])
    return Tensor._wrap(np.asarray(np.asarray(t)[indices]))


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors: ``TensorDataset(x, y)[i] == (x[i], y[i])``.
    ``tensors`` holds them. A batch is gathered with one indexing step per tensor."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        if any(len(t) != len(tensors[0]) for t in tensors):
            raise AssertionError(f"Size mismatch between tensors: first dimensions {[len(t) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])

    def __getbatch__(self, indices):
        """``default_collate([self[i] for i in indices])``: ``[t[indices] for t in tensors]``."""
        indices = np.asarray(indices, dtype=np.int64)
        return [_take(t, indices) for t in self.tensors]

    def get_batch(self, indices):  # for nnscratch.data.DataLoader
        return tuple(np.asarray(t.data if isinstance(t, Tensor) else t)[indices] for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (kept as given), in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        chosen = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(chosen)
        return [self.dataset[i] for i in chosen]

    def __getbatch__(self, indices):
        chosen = np.asarray(self.indices, dtype=np.int64)[np.asarray(indices, dtype=np.int64)]
        return _fetch_batch(self.dataset, chosen)

    def __len__(self):
        return len(self.indices)

    def get_batch(self, indices):  # for nnscratch.data.DataLoader
        return self.dataset.get_batch(np.asarray(self.indices, dtype=np.int64)[np.asarray(indices)])


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given ``lengths``: counts
    adding up to ``len(dataset)``, or fractions adding up to 1 (each part gets
    ``floor(n * fraction)``, and the remainder goes one by one to the first parts)."""
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = _rng(generator).permutation(n).tolist()
    return [Subset(dataset, order[end - length:end]) for end, length in zip(itertools.accumulate(lengths), lengths)]


# ----------------------------------------------------------------------------- samplers

class Sampler:
    """An iterable over dataset indices (a batch sampler: over lists of indices)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def order(self):
        return np.arange(len(self.data_source))

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each pass (or ``num_samples`` draws with ``replacement``)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self._num_samples, self.generator = (data_source, replacement,
                                                                                  num_samples, generator)
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def order(self):
        n, rng = len(self.data_source), _rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples)
        whole, rest = divmod(self.num_samples, n)
        return np.concatenate([rng.permutation(n) for _ in range(whole)] + [rng.permutation(n)[:rest]])

    def __iter__(self):
        return iter(self.order().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each pass."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def order(self):
        return np.asarray(self.indices, dtype=np.int64)[_rng(self.generator).permutation(len(self.indices))]

    def __iter__(self):
        return iter(self.order().tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        w = np.asarray(weights.data if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights, self.num_samples, self.replacement, self.generator = w, num_samples, replacement, generator

    def order(self):
        p = self.weights / self.weights.sum()
        return _rng(self.generator).choice(len(p), self.num_samples, replace=self.replacement, p=p)

    def __iter__(self):
        return iter(self.order().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        order = getattr(self.sampler, "order", None)
        if callable(order):  # the whole epoch's order at once, cut into batches
            indices = np.asarray(order(), dtype=np.int64)
            stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
            for start in range(0, stop, self.batch_size):
                yield indices[start:start + self.batch_size].tolist()
            return
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


# ----------------------------------------------------------------------------- collation

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(tensors):
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        first = tensors[0].shape
        bad = next(i for i, t in enumerate(tensors) if t.shape != first)
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                           f"{list(tensors[bad].shape)} at entry {bad}")
    if is_grad_enabled() and any(t.requires_grad for t in tensors):
        from ..functional import stack
        return stack(tensors)
    return Tensor._wrap(np.stack([t.data for t in tensors]))


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``:

    - tensors are stacked along a new first axis; numpy arrays and numpy scalars too (as tensors)
    - Python ints become an int64 tensor, floats a float64 tensor, bools a bool tensor
    - strings stay a list
    - dicts collate per key; tuples and lists per position (a tuple becomes a list, a named
      tuple stays one), so ``[(x0, y0), (x1, y1)]`` gives ``[stack(x), stack(y)]``
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if elem.dtype.kind in "OUSV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return Tensor._wrap(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, bool):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        merged = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(merged)
        except TypeError:
            return merged
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        merged = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return merged
        try:
            return type(elem)(merged)
        except TypeError:
            return merged
    if isinstance(elem, numbers.Number):
        return Tensor._wrap(np.asarray(batch))
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """One sample without batching (``batch_size=None``): numpy arrays become tensors, containers
    are converted element by element (a tuple becomes a list), everything else is left as is."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUSV":
        return Tensor._wrap(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "OUSV":
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        try:
            return type(data)({k: default_convert(v) for k, v in data.items()})
        except TypeError:
            return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _fetch_batch(dataset, indices):
    """The collated batch at ``indices`` in one vectorised step, or NotImplemented."""
    fetch = getattr(dataset, "__getbatch__", None)
    if callable(fetch):
        return fetch(indices)
    if isinstance(dataset, _arrays.Dataset) and type(dataset).get_batch is not _arrays.Dataset.get_batch:
        batch = dataset.get_batch(np.asarray(indices, dtype=np.int64))  # nnscratch's array datasets
        if isinstance(batch, tuple):
            return [Tensor._wrap(np.asarray(b)) for b in batch]
        return Tensor._wrap(np.asarray(batch))
    return NotImplemented


def get_worker_info():
    """None: DataLoader workers run in the main process."""
    return None


# ----------------------------------------------------------------------------- the loader

class DataLoader:
    """Iterate over ``dataset`` in batches, as PyTorch's ``DataLoader``.

    - ``batch_size`` (default 1): samples per batch; None yields samples one at a time, unbatched
    - ``shuffle``: a new random order each epoch (``RandomSampler``); else in order
    - ``sampler`` / ``batch_sampler``: the order of indices / of lists of indices, instead
    - ``drop_last``: skip the final, smaller batch
    - ``collate_fn``: merges a list of samples into a batch (default ``default_collate``)
    - ``generator``: the random source of the shuffle (default nnscratch's, see ``manual_seed``)
    - ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn``, ``prefetch_factor``,
      ``persistent_workers``: accepted; batches are made in this process

    With a map-style dataset, a batch is ``collate_fn([dataset[i] for i in indices])``, fetched in
    one step through ``dataset.__getbatch__(indices)`` when the collation is the default one.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not isinstance(dataset, IterableDataset):
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout, self.worker_init_fn = (num_workers, pin_memory, timeout,
                                                                                worker_init_fn)
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self.multiprocessing_context, self.pin_memory_device, self.in_order = (multiprocessing_context,
                                                                               pin_memory_device, in_order)
        self._auto_collation = batch_sampler is not None or (isinstance(dataset, IterableDataset)
                                                             and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self.batch_sampler) if self._auto_collation else len(self.sampler)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
            return
        if not self._auto_collation:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])
            return
        vectorised = self.collate_fn is default_collate
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            if vectorised:
                batch = _fetch_batch(self.dataset, indices)
                if batch is not NotImplemented:
                    yield batch
                    continue
                vectorised = False  # this dataset cannot: sample by sample from now on
            samples = getitems(indices) if callable(getitems) else [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _iter_stream(self):
        it = iter(self.dataset)
        if self.batch_size is None:
            for sample in it:
                yield self.collate_fn(sample)
            return
        while batch := list(itertools.islice(it, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield self.collate_fn(batch)
