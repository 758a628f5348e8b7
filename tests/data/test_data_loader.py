"""Dataset, TensorDataset, Subset, random_split and DataLoader: batching, shuffling, drop_last,
replacement sampling, reproducibility and batch transforms."""

import numpy as np
import pytest

import nnscratch
from nnscratch.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def _data(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    t = np.arange(n, dtype=np.int64)
    return x, t


def _epoch(loader):
    return [tuple(b.numpy() for b in batch) for batch in loader]


def test_tensor_dataset_indexing_and_batches():
    x, t = _data()
    ds = TensorDataset(x, t)
    assert len(ds) == 10
    xi, ti = ds[4]
    assert xi.tolist() == [12, 13, 14] and ti == 4
    bx, bt = ds.get_batch(np.array([9, 0, 9]))
    assert bx.tolist() == [[27, 28, 29], [0, 1, 2], [27, 28, 29]] and bt.tolist() == [9, 0, 9]
    single = TensorDataset(x)
    assert single[1].tolist() == [3, 4, 5]
    with pytest.raises(ValueError, match=r"differ in length: \[10, 9\]"):
        TensorDataset(x, t[:9])
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


def test_tensor_dataset_transform_applies_to_the_first_field():
    x, t = _data()
    ds = TensorDataset(x, t, transform=lambda b: -b)
    bx, bt = ds.get_batch(np.array([1, 2]))
    assert bx.tolist() == [[-3, -4, -5], [-6, -7, -8]] and bt.tolist() == [1, 2]


def test_sequential_batches_and_last_batch():
    x, t = _data()
    loader = DataLoader(TensorDataset(x, t), batch_size=4)
    assert len(loader) == 3
    batches = _epoch(loader)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    np.testing.assert_array_equal(batches[2][0], x[8:])
    dropped = DataLoader(TensorDataset(x, t), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [b[1].tolist() for b in _epoch(dropped)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        DataLoader(TensorDataset(x), batch_size=0)


def test_shuffle_is_a_permutation_per_epoch_and_reproducible():
    x, t = _data(20)
    nnscratch.manual_seed(0)
    loader = DataLoader(TensorDataset(x, t), batch_size=6, shuffle=True)
    first = np.concatenate([b[1] for b in _epoch(loader)])
    second = np.concatenate([b[1] for b in _epoch(loader)])
    assert sorted(first.tolist()) == list(range(20)) and sorted(second.tolist()) == list(range(20))
    assert first.tolist() != list(range(20)) and first.tolist() != second.tolist()
    for b in _epoch(loader):  # images stay with their labels
        np.testing.assert_array_equal(b[0], x[b[1]])
    nnscratch.manual_seed(0)
    again = np.concatenate([b[1] for b in _epoch(DataLoader(TensorDataset(x, t), batch_size=6, shuffle=True))])
    assert again.tolist() == first.tolist()
    g = np.random.default_rng(4)
    own = DataLoader(TensorDataset(x, t), batch_size=20, shuffle=True, generator=g)
    assert _epoch(own)[0][1].tolist() == np.random.default_rng(4).permutation(20).tolist()


def test_replacement_sampling_as_the_book():
    x, t = _data(10)
    nnscratch.manual_seed(1)
    loader = DataLoader(TensorDataset(x, t), batch_size=4, replacement=True)
    assert len(loader) == 2  # 10 // 4 independent draws per epoch
    batches = _epoch(loader)
    nnscratch.manual_seed(1)
    rng = nnscratch.backend.generator()
    expected = [rng.choice(10, 4) for _ in range(2)]  # np.random.choice(train_size, batch_size)
    assert [b[1].tolist() for b in batches] == [e.tolist() for e in expected]
    many = DataLoader(TensorDataset(x, t), batch_size=5, replacement=True, num_samples=1000)
    assert len(many) == 200
    labels = np.concatenate([b[1] for b in _epoch(many)])
    assert labels.size == 1000 and len(set(labels.tolist())) == 10
    assert any(len(set(b[1].tolist())) < 5 for b in _epoch(many))  # repeats happen within a batch
    with pytest.raises(ValueError, match="choose shuffle"):
        DataLoader(TensorDataset(x), shuffle=True, replacement=True)


def test_loader_transform():
    x, t = _data(4)
    loader = DataLoader(TensorDataset(x, t), batch_size=2, transform=lambda b: b * 10)
    batches = _epoch(loader)
    np.testing.assert_array_equal(batches[1][0], x[2:] * 10)
    assert batches[1][1].tolist() == [2, 3]


def test_subset_and_random_split():
    x, t = _data(10)
    ds = TensorDataset(x, t)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][1] == 7
    assert sub.get_batch(np.array([2, 0]))[1].tolist() == [5, 7]
    nnscratch.manual_seed(3)
    a, b = random_split(ds, [7, 3])
    assert (len(a), len(b)) == (7, 3)
    together = sorted(a.indices.tolist() + b.indices.tolist())
    assert together == list(range(10))
    nnscratch.manual_seed(3)
    a2, _ = random_split(ds, [7, 3])
    assert a2.indices.tolist() == a.indices.tolist()
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [5, 3, 2]
    odd = random_split(TensorDataset(np.arange(11)), [0.5, 0.5], generator=np.random.default_rng(0))
    assert [len(p) for p in odd] == [6, 5]
    with pytest.raises(ValueError, match=r"add up to 9, the dataset has 10"):
        random_split(ds, [5, 4])
    loader = DataLoader(a, batch_size=7)
    (bx, bt), = _epoch(loader)
    np.testing.assert_array_equal(bx, x[a.indices])
    assert bt.tolist() == a.indices.tolist()


def test_python_dataset_falls_back_to_per_sample_gather():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.float32(i), i * i

    batches = _epoch(DataLoader(Squares(), batch_size=2))
    assert [b[1].tolist() for b in batches] == [[0, 1], [4, 9], [16]]
    assert batches[0][0].tolist() == [0.0, 1.0]
