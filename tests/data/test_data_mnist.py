"""IDX files, the MNIST-family lookup order, the parsed-array cache, load_mnist and the dataset
classes: on small generated files, and on the real files when NNSCRATCH_DATA points at them."""

import gzip
import os
import time
from pathlib import Path

import numpy as np
import pytest

from nnscratch.data import (DataFileError, DatasetNotFoundError, FashionMNIST, MNIST, TensorDataset,
                            dataset_status, load_fashion_mnist, load_mnist, read_idx, search_locations, verify,
                            write_idx)
from nnscratch.data import mnist as mnist_module
from nnscratch.data.idx import idx_bytes

FILES = mnist_module.FILES


def make_dataset(folder, n_train=6, n_test=4, seed=0, gz=True, label_offset=0):
    """Write the four IDX files of a tiny 28x28 dataset into ``folder``; return the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": ((np.arange(n_train) + label_offset) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": ((np.arange(n_test) * 3 + label_offset) % 10).astype(np.uint8),
    }
    for name, array in arrays.items():
        write_idx(folder / (name if gz else name[:-3]), array)
    return arrays


@pytest.fixture
def places(tmp_path, monkeypatch):
    """NNSCRATCH_DATA, the cache and one system folder, all under tmp_path and empty."""
    data, cache, system = tmp_path / "data", tmp_path / "cache", tmp_path / "system"
    for folder in (data, cache, system):
        folder.mkdir()
    monkeypatch.setenv("NNSCRATCH_DATA", str(data))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(mnist_module, "SYSTEM_DIRS", [system])
    return {"data": data / "mnist", "cache": cache / "nnscratch" / "mnist", "system": system / "mnist"}


# --------------------------------------------------------------------------------------------
# IDX files

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(60) - 20).astype(dtype).reshape(3, 4, 5)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=") and back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable
    raw = gzip.decompress(path.read_bytes()) if suffix else path.read_bytes()
    code = {np.uint8: 8, np.int8: 9, np.int16: 11, np.int32: 12, np.float32: 13, np.float64: 14}[dtype]
    assert raw[:4] == bytes([0, 0, code, 3]) and raw[4:16] == bytes([0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5])
    assert len(raw) == 16 + 60 * np.dtype(dtype).itemsize


def test_idx_mnist_header_layout(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    write_idx(path, np.array([5, 0, 4], dtype=np.uint8))
    assert path.read_bytes() == bytes.fromhex("00000801" "00000003" "050004")
    assert read_idx(path, shape=(None,)).tolist() == [5, 0, 4]


def _error(path, **kwargs):
    with pytest.raises(DataFileError) as info:
        read_idx(path, **kwargs)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value) and info.value.path == str(path)
    return str(info.value)


def test_idx_truncated_payload(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((3, 4, 5), np.uint8))[:-10])
    assert "truncated: header says 3x4x5 = 60 bytes, file has 50" in _error(path)


def test_idx_truncated_payload_inside_gzip(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((60000, 28, 28), np.uint8))[:1234 + 16]))
    message = _error(path)
    assert "train-images-idx3-ubyte.gz: truncated: header says 60000x28x28 = 47040000 bytes, file has 1234" in message


def test_idx_extra_bytes(tmp_path):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(idx_bytes(np.arange(4, dtype=np.uint8)) + b"\x00\x00")
    assert "too long: header says 4 = 4 bytes, file has 6 (2 extra)" in _error(path)


@pytest.mark.parametrize("header, problem", [
    (b"\x12\x34\x08\x03", "bad magic number 0x12340803"),      # first two bytes not zero
    (b"\x00\x00\x07\x01", "bad magic number 0x00000701"),      # unknown type code
    (b"PK\x03\x04", "bad magic number 0x504b0304"),            # a zip file, say
])
def test_idx_wrong_magic(tmp_path, header, problem):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(header + b"\x00" * 20)
    message = _error(path)
    assert problem in message and "not an IDX file" in message


def test_idx_too_short_for_magic(tmp_path):
    path = tmp_path / "empty-idx"
    path.write_bytes(b"\x00\x00")
    assert "truncated: 2 bytes, too short for the 4-byte IDX magic number" in _error(path)


def test_idx_wrong_dims(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(path, np.zeros((3, 4, 5), np.uint8))
    assert "wrong dimensions: expected ?x28x28 (3 dims), the header says 3x4x5 (3 dims)" in _error(
        path, shape=(None, 28, 28))
    assert "expected ? (1 dims), the header says 3x4x5 (3 dims)" in _error(path, shape=(None,))
    # a header claiming more dimensions than the file holds
    short = tmp_path / "short-idx"
    short.write_bytes(b"\x00\x00\x08\x04" + b"\x00\x00\x00\x02" * 2)
    assert "truncated header: 4 dimensions need 20 header bytes, the file has 12" in _error(short)
    zero = tmp_path / "zero-idx"
    zero.write_bytes(b"\x00\x00\x08\x00")
    assert "0 dimensions" in _error(zero)


def test_idx_corrupt_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.arange(300, dtype=np.uint8).reshape(3, 10, 10)), mtime=0)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    damaged = bytearray(good)
    damaged[20] ^= 0xFF  # inside the deflate stream: the CRC no longer matches
    path.write_bytes(bytes(damaged))
    assert "corrupt gzip data" in _error(path)
    path.write_bytes(good[: len(good) // 2])
    assert f"truncated gzip stream: the {len(good) // 2}-byte file ends" in _error(path)
    path.write_bytes(b"\x00\x00\x08\x01garbage")  # named .gz but not gzip
    assert "not a gzip file (it starts with 0x00000801)" in _error(path)
    path.write_bytes(b"")
    assert "not a gzip file (it is empty)" in _error(path)


# --------------------------------------------------------------------------------------------
# Lookup order

def test_search_locations_order(places, tmp_path):
    assert search_locations("mnist") == [places["data"], places["cache"], places["system"]]
    assert search_locations("mnist", root=tmp_path / "r") == [tmp_path / "r" / "mnist", places["data"],
                                                              places["cache"], places["system"]]
    assert search_locations("fashion-mnist")[0] == places["data"].parent / "fashion-mnist"
    with pytest.raises(ValueError, match="unknown dataset 'cifar'.*mnist, fashion-mnist"):
        search_locations("cifar")


def test_cache_dir_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist_module.cache_dir("mnist") == tmp_path / ".cache" / "nnscratch" / "mnist"


def test_lookup_order_env_beats_cache_beats_system(places):
    system = make_dataset(places["system"], label_offset=3)
    cache = make_dataset(places["cache"], label_offset=2)
    env = make_dataset(places["data"], label_offset=1)
    for arrays, folder in [(env, "data"), (cache, "cache"), (system, "system")]:
        status = dataset_status("mnist")
        assert status == {f: places[folder] / f for f in FILES}
        (x, t), (xt, tt) = load_mnist(normalize=False, flatten=False, download=False)
        np.testing.assert_array_equal(t, arrays["train-labels-idx1-ubyte.gz"])
        np.testing.assert_array_equal(x[:, 0], arrays["train-images-idx3-ubyte.gz"])
        np.testing.assert_array_equal(tt, arrays["t10k-labels-idx1-ubyte.gz"])
        for f in FILES:  # take this folder away: the next one in line answers
            (places[folder] / f).unlink()
    assert dataset_status("mnist") == {f: None for f in FILES}


def test_uncompressed_files_are_found(places):
    arrays = make_dataset(places["system"], gz=False)
    assert dataset_status("mnist")[FILES[0]] == places["system"] / "train-images-idx3-ubyte"
    (x, t), _ = load_mnist(normalize=False, download=False)
    np.testing.assert_array_equal(x, arrays[FILES[0]].reshape(-1, 784))


def test_missing_without_download_lists_places_and_fixes(places):
    make_dataset(places["data"])
    (places["data"] / FILES[3]).unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "missing t10k-labels-idx1-ubyte.gz" in message and "train-images" not in message.splitlines()[0]
    for folder in (places["data"], places["cache"], places["system"]):
        assert str(folder) in message
    assert "download=False" in message
    assert "set NNSCRATCH_DATA" in message and f"copy the four files into {places['cache']}" in message
    assert "nnscratch data fetch mnist" in message
    assert info.value.missing == ["t10k-labels-idx1-ubyte.gz"]


def test_damaged_local_file_is_reported(places):
    make_dataset(places["data"])
    path = places["data"] / FILES[0]
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((6, 28, 28), np.uint8))[:-100]))
    with pytest.raises(DataFileError) as info:
        load_mnist(download=False)
    message = str(info.value)
    assert str(path) in message and "truncated: header says 6x28x28 = 4704 bytes, file has 4604" in message
    assert "nnscratch data fetch mnist" in message


def test_images_and_labels_must_agree(places):
    make_dataset(places["data"])
    write_idx(places["data"] / FILES[1], np.zeros(5, np.uint8))  # 5 labels for 6 images
    with pytest.raises(DataFileError, match="5 labels but .*train-images-idx3-ubyte.gz has 6 images"):
        load_mnist(download=False)
    write_idx(places["data"] / FILES[1], np.array([0, 1, 2, 3, 4, 10], np.uint8))
    with pytest.raises(DataFileError, match="label 10 is out of range 0..9"):
        load_mnist(download=False)


# --------------------------------------------------------------------------------------------
# load_mnist and the dataset classes on small files

def test_load_mnist_forms_as_the_book(places):
    arrays = make_dataset(places["data"])
    images, labels = arrays[FILES[0]], arrays[FILES[1]]
    (x, t), (xt, tt) = load_mnist()
    assert x.shape == (6, 784) and x.dtype == np.float32 and xt.shape == (4, 784)
    np.testing.assert_array_equal(x, images.reshape(6, 784).astype(np.float32) / np.float32(255.0))
    assert t.dtype == np.int64 and t.tolist() == labels.tolist()
    (x, t), _ = load_mnist(normalize=False, flatten=False, one_hot_label=True)
    assert x.dtype == np.uint8 and x.shape == (6, 1, 28, 28)
    np.testing.assert_array_equal(x[:, 0], images)
    assert t.shape == (6, 10) and t.dtype == np.float32
    np.testing.assert_array_equal(t.argmax(1), labels)
    np.testing.assert_array_equal(t.sum(1), np.ones(6))


def test_parsed_cache_is_used_and_refreshed(places):
    arrays = make_dataset(places["data"])
    load_mnist(download=False)
    parsed = places["cache"] / "parsed"
    assert sorted(p.name for p in parsed.iterdir()) == sorted(
        f"{f[:-3]}.{ext}" for f in FILES for ext in ("json", "npy"))
    np.testing.assert_array_equal(np.load(parsed / "train-images-idx3-ubyte.npy"), arrays[FILES[0]])
    # the cached copy is what a second load returns (doctor it to prove it is read)
    doctored = arrays[FILES[1]].copy()
    doctored[0] = 9
    np.save(parsed / "train-labels-idx1-ubyte.npy", doctored)
    (_, t), _ = load_mnist(download=False)
    assert t[0] == 9
    # a changed source file (new size and mtime) is parsed again
    write_idx(places["data"] / FILES[1], np.array([7, 7, 7, 7, 7, 7], np.uint8))
    stat = (places["data"] / FILES[1]).stat()
    os.utime(places["data"] / FILES[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    (_, t), _ = load_mnist(download=False)
    assert t.tolist() == [7] * 6
    assert not [p for p in parsed.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_unwritable_cache_is_skipped(places, tmp_path, monkeypatch):
    arrays = make_dataset(places["data"])
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    (x, t), _ = load_mnist(normalize=False, download=False)
    np.testing.assert_array_equal(x.reshape(-1, 28, 28), arrays[FILES[0]])


def test_dataset_classes(places, tmp_path):
    arrays = make_dataset(places["data"])
    train = MNIST()
    assert isinstance(train, TensorDataset) and len(train) == 6
    assert train.data.shape == (6, 1, 28, 28) and train.data.dtype == np.float32
    assert train.targets.dtype == np.int64 and train.targets.tolist() == arrays[FILES[1]].tolist()
    assert train.classes == [str(d) for d in range(10)]
    image, label = train[2]
    np.testing.assert_array_equal(image[0], arrays[FILES[0]][2] / np.float32(255))
    assert label == 2
    test = MNIST(train=False, flatten=True, normalize=False, transform=lambda b: 255 - b)
    assert len(test) == 4 and test.data.shape == (4, 784) and test.data.dtype == np.uint8
    x, t = test.get_batch(np.array([1, 0]))
    np.testing.assert_array_equal(x, 255 - arrays[FILES[2]][[1, 0]].reshape(2, 784))
    assert t.tolist() == [3, 0]
    fashion_root = tmp_path / "own"
    make_dataset(fashion_root / "fashion-mnist", n_train=3)
    fashion = FashionMNIST(root=fashion_root, download=False)
    assert len(fashion) == 3 and fashion.classes[0] == "T-shirt/top" and fashion.classes[9] == "Ankle boot"
    assert "FashionMNIST(train: 3 images" in repr(fashion)


# --------------------------------------------------------------------------------------------
# The real files (NNSCRATCH_DATA, set by CI to ../shared/data)

def _real_root(name):
    root = os.environ.get("NNSCRATCH_DATA")
    if not root or not all((Path(root) / name / f).is_file() for f in FILES):
        pytest.skip(f"real {name} files not available (set NNSCRATCH_DATA to a folder with {name}/)")
    return Path(root).resolve()


@pytest.fixture
def real(tmp_path, monkeypatch):
    """Only the real data folder and a fresh cache under tmp_path."""
    def setup(name):
        root = _real_root(name)
        monkeypatch.setenv("NNSCRATCH_DATA", str(root))
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.setattr(mnist_module, "SYSTEM_DIRS", [])
        return root
    return setup


def test_real_mnist_as_the_book(real, tmp_path):
    root = real("mnist")
    assert dataset_status("mnist") == {f: root / "mnist" / f for f in FILES}
    (x, t), (xt, tt) = load_mnist(download=False)
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == xt.dtype == np.float32 and t.dtype == tt.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert t[0] == 5 and tt[0] == 7 and t[:5].tolist() == [5, 0, 4, 1, 9]
    assert abs(float(x.mean()) - 0.1307) < 1e-4  # the well-known MNIST mean
    assert np.bincount(t).tolist()[:2] == [5923, 6742]
    # second load: from the .npy cache under tmp_path, well under a second
    assert (tmp_path / "cache" / "nnscratch" / "mnist" / "parsed" / "train-images-idx3-ubyte.npy").is_file()
    start = time.perf_counter()
    (x2, t2), (xt2, tt2) = load_mnist(download=False)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"cached load took {elapsed:.2f} s"
    assert np.array_equal(x2[:2000], x[:2000]) and np.array_equal(t2, t) and np.array_equal(tt2, tt)
    (x3, t3), (xt3, tt3) = load_mnist(normalize=False, flatten=False, one_hot_label=True, download=False)
    assert x3.shape == (60000, 1, 28, 28) and x3.dtype == np.uint8 and x3.max() == 255
    np.testing.assert_array_equal(x3[:100].reshape(100, 784).astype(np.float32) / 255, x[:100])
    assert t3.shape == (60000, 10) and t3.dtype == np.float32 and t3[0].argmax() == 5 and tt3[0].argmax() == 7


def test_real_mnist_files_match_known_digests(real):
    real("mnist")
    report = verify("mnist")
    assert [r["file"] for r in report] == list(FILES)
    for r in report:
        assert r["ok"] and r["known"] and r["content_known"], r
        assert r["sha256"] in mnist_module.DATASETS["mnist"].sha256[r["file"]]
    assert report[0]["idx"] == "ok: 60000x28x28 uint8" and report[3]["idx"] == "ok: 10000 uint8"
    assert report[0]["sha256"] == "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"


def test_real_fashion_mnist(real):
    real("fashion-mnist")
    (x, t), (xt, tt) = load_fashion_mnist(flatten=False, download=False)
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28) and x.dtype == np.float32
    assert t[0] == 9 and tt[0] == 9 and t[:5].tolist() == [9, 0, 0, 3, 0]
    assert np.bincount(t).tolist() == [6000] * 10
    assert all(r["ok"] and r["known"] for r in verify("fashion-mnist"))
    test = FashionMNIST(train=False, download=False)
    assert len(test) == 10000 and test.classes[int(test.targets[0])] == "Ankle boot"
