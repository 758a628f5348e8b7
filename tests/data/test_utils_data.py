"""nnscratch.utils.data against torch.utils.data: what DataLoader yields, default_collate,
samplers, random_split, Subset, TensorDataset, errors; and the batched fetch path giving the same
batches as sample-by-sample collation."""

import collections

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.data import TensorDataset as ArrayDataset
from nnscratch.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                                  SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                                  WeightedRandomSampler, default_collate, random_split)

Point = collections.namedtuple("Point", "x y")


def _structure(obj):
    """A comparable description: containers kept, tensors as (dtype, shape, values)."""
    if hasattr(obj, "numpy") and hasattr(obj, "shape"):
        a = obj.detach().numpy() if hasattr(obj, "detach") else obj.numpy()
        return ("tensor", str(np.dtype(a.dtype)), tuple(a.shape), a.tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: _structure(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_structure(v) for v in obj])
    return obj


def _samples(torch):
    """The same per-sample items built with `make(array)` for either library."""
    def cases(make):
        return {
            "tensors": [make(np.arange(6, dtype=np.float32).reshape(2, 3) + i) for i in range(3)],
            "tuple": [(make(np.float32([i, i + 1])), i) for i in range(4)],
            "ints": [1, 2, 3],
            "floats": [0.5, 1.5],
            "bools": [True, False, True],
            "numpy": [np.arange(3, dtype=np.float64) * i for i in range(2)],
            "numpy_scalars": [np.float32(1.5), np.float32(2.5)],
            "strings": ["a", "b"],
            "dict": [{"x": make(np.float32([i])), "label": i} for i in range(3)],
            "list": [[1, 2], [3, 4], [5, 6]],
            "namedtuple": [Point(i, float(i)) for i in range(3)],
        }
    return cases(lambda a: ns.from_numpy(a)), cases(lambda a: torch.from_numpy(a))


def test_default_collate_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    ours, theirs = _samples(torch)
    for name in ours:
        got, want = default_collate(ours[name]), torch_collate(theirs[name])
        assert type(got).__name__ == type(want).__name__, name
        assert _structure(got) == _structure(want), name


def test_default_collate_errors():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([ns.zeros(2), ns.zeros(3)])


def _loaders(torch, **kwargs):
    x = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.arange(10, dtype=np.int64) % 3
    ours = DataLoader(TensorDataset(ns.from_numpy(x), ns.from_numpy(y)), **kwargs)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                         **kwargs)
    return ours, theirs


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                                    {"batch_size": 4, "sampler": [9, 1, 5, 2, 0]},
                                    {"batch_sampler": [[0, 1], [7], [3, 4, 5]]}, {"batch_size": None},
                                    {"batch_size": 5, "collate_fn": lambda b: b}])
def test_dataloader_yields_what_pytorch_yields(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = _loaders(torch, **kwargs)
    assert len(ours) == len(theirs)
    assert _structure(list(ours)) == _structure(list(theirs))
    assert ours.batch_size == theirs.batch_size and ours.drop_last == theirs.drop_last


def test_workers_and_pinning_are_accepted():
    loader = DataLoader(TensorDataset(ns.arange(7)), batch_size=3, num_workers=2, pin_memory=True,
                        persistent_workers=True, prefetch_factor=2, timeout=5)
    assert [b[0].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]


def test_dataloader_defaults():
    loader = DataLoader(TensorDataset(ns.arange(5)))
    assert loader.batch_size == 1 and loader.num_workers == 0 and not loader.drop_last
    assert isinstance(loader.sampler, SequentialSampler) and loader.collate_fn is default_collate
    assert [b[0].tolist() for b in loader] == [[0], [1], [2], [3], [4]]


def test_shuffle_is_a_new_permutation_each_epoch():
    ns.manual_seed(0)
    loader = DataLoader(TensorDataset(ns.arange(50)), batch_size=8, shuffle=True)
    epochs = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(2)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(50))
    assert epochs[0].tolist() != epochs[1].tolist() and epochs[0].tolist() != list(range(50))
    ns.manual_seed(0)
    assert np.concatenate([b[0].numpy() for b in loader]).tolist() == epochs[0].tolist()  # seeded


def test_generator_argument_makes_the_order_reproducible():
    ds = TensorDataset(ns.arange(20))
    orders = [np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=6, shuffle=True,
                                                              generator=np.random.default_rng(7))])
              for _ in range(2)]
    assert orders[0].tolist() == orders[1].tolist()
    seeded = [[b[0].tolist() for b in DataLoader(ds, batch_size=6, shuffle=True,
                                                 generator=ns.Generator().manual_seed(3))] for _ in range(2)]
    assert seeded[0] == seeded[1]
    with pytest.raises(TypeError, match="generator must be"):
        list(DataLoader(ds, shuffle=True, generator=42))


def test_argument_errors_match_pytorch():
    torch = pytest.importorskip("torch")
    ds, tds = TensorDataset(ns.arange(4)), torch.utils.data.TensorDataset(torch.arange(4))
    for kwargs in [{"shuffle": True, "sampler": [0, 1]}, {"batch_sampler": [[0]], "batch_size": 2},
                   {"batch_sampler": [[0]], "drop_last": True}, {"batch_size": None, "drop_last": True},
                   {"num_workers": -1}]:
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(tds, **kwargs)
        with pytest.raises(ValueError) as ours:
            DataLoader(ds, **kwargs)
        assert str(ours.value) == str(theirs.value)


def test_tensor_dataset_items_and_errors():
    torch = pytest.importorskip("torch")
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    ds = TensorDataset(ns.from_numpy(x), ns.arange(6))
    tds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.arange(6))
    assert len(ds) == len(tds) == 6
    assert _structure(ds[2]) == _structure(tds[2]) and isinstance(ds[2], tuple)
    assert len(ds.tensors) == 2
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(ns.zeros(3), ns.zeros(4))


@pytest.mark.parametrize("lengths", [[0.33, 0.33, 0.34], [0.5, 0.5], [3, 7], [0.1, 0.9]])
def test_random_split_lengths_match_pytorch(lengths):
    torch = pytest.importorskip("torch")
    ours = random_split(range(10), lengths, generator=np.random.default_rng(0))
    theirs = torch.utils.data.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    together = sorted(i for s in ours for i in s.indices)
    assert together == list(range(10)) and all(isinstance(s, Subset) for s in ours)


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        random_split(range(10), [3, 3])


def test_subset_and_concat():
    base = TensorDataset(ns.arange(10) * 10)
    sub = Subset(base, [7, 2, 5])
    assert len(sub) == 3 and sub[0][0].item() == 70 and sub[-1][0].item() == 50
    assert [b[0].tolist() for b in DataLoader(sub, batch_size=2)] == [[70, 20], [50]]
    both = base + TensorDataset(ns.arange(3) - 5)
    assert isinstance(both, ConcatDataset) and len(both) == 13
    assert both[10][0].item() == -5 and both[-1][0].item() == -3 and both[9][0].item() == 90


def test_samplers():
    ns.manual_seed(1)
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    perm = list(RandomSampler(range(6)))
    assert sorted(perm) == list(range(6)) and all(isinstance(i, int) for i in perm)
    assert len(list(RandomSampler(range(6), replacement=True, num_samples=20))) == 20
    assert sorted(SubsetRandomSampler([3, 8, 9])) == [3, 8, 9]
    drawn = list(WeightedRandomSampler([0, 0, 1.0, 0], 5))
    assert drawn == [2] * 5
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(SequentialSampler(range(7)), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": ns.tensor([float(i)]), "y": i * i}


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(7))

    def __len__(self):
        return 7


def test_user_datasets():
    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3 and batches[0]["x"].shape == (2, 1) and batches[2]["y"].tolist() == [16]
    stream = DataLoader(Stream(), batch_size=3)
    assert [b.tolist() for b in stream] == [[0, 1, 2], [3, 4, 5], [6]] and len(stream) == 3
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_batched_fetch_equals_sample_by_sample():
    """TensorDataset's one-step batches are what collating its items one by one gives."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((37, 3, 4)).astype(np.float32), rng.integers(0, 9, 37)
    ds = Subset(TensorDataset(ns.from_numpy(x), ns.from_numpy(y)), rng.permutation(37)[:30].tolist())
    fast = list(DataLoader(ds, batch_size=8))
    slow = list(DataLoader(ds, batch_size=8, collate_fn=lambda b: default_collate(b)))
    assert _structure(fast) == _structure(slow)


def test_batched_fetch_keeps_the_graph():
    w = ns.tensor(np.ones((4, 2), np.float32), requires_grad=True)
    batch = next(iter(DataLoader(TensorDataset(w * 3), batch_size=2)))
    batch[0].sum().backward()
    assert w.grad.numpy().tolist() == [[3, 3], [3, 3], [0, 0], [0, 0]]


def test_nnscratch_array_datasets_work_too():
    """nnscratch.data's array datasets (get_batch) go through the batched path."""
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    batches = list(DataLoader(ArrayDataset(x, np.arange(10)), batch_size=4))
    assert type(batches[0]) is list and batches[0][0].numpy().tolist() == x[:4].tolist()
    assert batches[2][1].numpy().tolist() == [8, 9] and batches[2][1].dtype == np.int64
