"""nnscratch.vision: MNIST/FashionMNIST as torchvision gives them, the transforms' semantics,
the batched transform path equal to the per-image one, make_grid and save_image."""

import os
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.utils.data import DataLoader, Subset, default_collate
from nnscratch.vision import datasets, transforms, utils

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402


def _data_folder():
    source = os.environ.get("NNSCRATCH_DATA")
    if not source or not (Path(source) / "mnist" / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("NNSCRATCH_DATA with mnist/ and fashion-mnist/ is needed")
    return Path(source)


@pytest.fixture(scope="module")
def mnist():
    _data_folder()
    return datasets.MNIST("no-such-root", train=False)


def test_mnist_items_are_pil_images_and_ints(mnist):
    img, label = mnist[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert type(label) is int and label == 7  # the first test digit is a 7
    assert np.array_equal(np.asarray(img), mnist.data.numpy()[0])
    assert mnist.data.shape == (10000, 28, 28) and mnist.data.dtype == np.uint8
    assert mnist.targets.dtype == np.int64 and mnist.targets.shape == (10000,)
    assert len(mnist) == 10000 and mnist.classes[7] == "7 - seven" and mnist.class_to_idx["7 - seven"] == 7


def test_fashion_mnist_and_train_split():
    _data_folder()
    train = datasets.FashionMNIST("no-such-root", train=True, target_transform=lambda t: t + 100)
    assert len(train) == 60000 and train.classes[9] == "Ankle boot"
    assert train[0][1] == int(train.targets[0].item()) + 100


def test_torchvision_layout_is_read_first(tmp_path):
    """root/MNIST/raw holds torchvision's files (here uncompressed, three made-up images)."""
    from nnscratch.data import write_idx
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    write_idx(raw / "t10k-images-idx3-ubyte", images)
    write_idx(raw / "t10k-labels-idx1-ubyte", np.array([4, 1, 9], dtype=np.uint8))
    ds = datasets.MNIST(str(tmp_path), train=False, transform=transforms.ToTensor())
    assert len(ds) == 3 and ds[2][1] == 9
    assert np.array_equal(ds[1][0].numpy(), images[1][None].astype(np.float32) / np.float32(255))
    assert ds.raw_folder == os.path.join(str(tmp_path), "MNIST", "raw")


def test_missing_dataset_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("nnscratch.data.mnist.SYSTEM_DIRS", [])
    with pytest.raises(RuntimeError, match="Dataset not found") as info:
        datasets.MNIST(str(tmp_path / "root"), train=False, download=False)
    assert str(tmp_path / "root" / "MNIST" / "raw") in str(info.value) and "download=True" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


# ----------------------------------------------------------------------------- transforms

def test_to_tensor_semantics():
    pixels = np.array([[0, 51], [255, 128]], dtype=np.uint8)
    t = transforms.ToTensor()(Image.fromarray(pixels))
    assert t.shape == (1, 2, 2) and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy()[0], pixels.astype(np.float32) / np.float32(255))
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)  # H, W, C
    t = transforms.ToTensor()(rgb)
    assert t.shape == (3, 2, 3)
    np.testing.assert_array_equal(t.numpy(), rgb.transpose(2, 0, 1) / np.float32(255))
    floats = np.full((2, 2, 1), 7.0)  # not uint8: values and dtype kept
    t = transforms.ToTensor()(floats)
    assert t.dtype == np.float64 and t.numpy().max() == 7.0
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        transforms.ToTensor()([1, 2])


def test_normalize_semantics():
    x = ns.from_numpy(np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3))
    out = transforms.Normalize((1.0, 2.0), (2.0, 4.0))(x).numpy()
    expected = (x.numpy() - np.float32([1, 2])[:, None, None]) / np.float32([2, 4])[:, None, None]
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize((0.5,), (0.0,))(ns.zeros(1, 2, 2))
    with pytest.raises(TypeError, match="Tensor"):
        transforms.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2)))
    with pytest.raises(TypeError, match="float tensor"):
        transforms.Normalize((0.5,), (0.5,))(ns.tensor(np.zeros((1, 2, 2), np.uint8)))


def test_batched_transform_path_equals_per_image_path(mnist):
    """DataLoader over MNIST with ToTensor+Normalize: whole batches at once give exactly what
    transforming and collating image by image gives."""
    ds = datasets.MNIST("no-such-root", train=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]))
    sub = Subset(ds, list(range(500, 530)) + [3, 1])
    fast = list(DataLoader(sub, batch_size=8))
    slow = list(DataLoader(sub, batch_size=8, collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 4
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.dtype == sx.dtype == np.float32 and fx.shape == sx.shape
        assert np.array_equal(fx.numpy(), sx.numpy()) and np.array_equal(fy.numpy(), sy.numpy())
    assert ds.__getbatch__([0]) is not NotImplemented
    ds.transform = transforms.Compose([transforms.RandomRotation(5), transforms.ToTensor()])
    assert ds.__getbatch__([0]) is NotImplemented  # random transforms go image by image


def test_batched_path_is_used_by_the_loader(monkeypatch):
    _data_folder()
    ds = datasets.MNIST("no-such-root", train=False, transform=transforms.ToTensor())
    monkeypatch.setattr(type(ds), "__getitem__", lambda self, i: pytest.fail("per-image path used"))
    x, y = next(iter(DataLoader(ds, batch_size=16, shuffle=True)))
    assert x.shape == (16, 1, 28, 28) and y.shape == (16,)


def test_resize_crop_flip_shapes():
    img = Image.fromarray(np.arange(20 * 30, dtype=np.uint8).reshape(20, 30) % 251)  # H 20, W 30
    assert transforms.Resize(10)(img).size == (15, 10)  # the shorter edge (height) becomes 10
    assert transforms.Resize((8, 12))(img).size == (12, 8)
    assert transforms.CenterCrop(10)(img).size == (10, 10)
    assert transforms.RandomCrop(28, padding=4)(img).size == (28, 28)
    crop = transforms.RandomCrop((20, 30))(img)
    assert np.array_equal(np.asarray(crop), np.asarray(img))  # the only window is the whole image
    flipped = transforms.RandomHorizontalFlip(p=1.0)(img)
    assert np.array_equal(np.asarray(flipped), np.asarray(img)[:, ::-1])
    assert transforms.RandomHorizontalFlip(p=0.0)(img) is img
    t = transforms.ToTensor()(img)
    assert np.array_equal(transforms.RandomHorizontalFlip(p=1.0)(t).numpy(), t.numpy()[..., ::-1])
    assert transforms.Resize(10)(t).shape == (1, 10, 15)
    assert transforms.RandomCrop(8)(t).shape == (1, 8, 8)


def test_rotation_and_affine():
    img = Image.fromarray((np.arange(28 * 28) % 256).astype(np.uint8).reshape(28, 28))
    assert np.array_equal(np.asarray(transforms.RandomRotation(0)(img)), np.asarray(img))
    assert np.array_equal(np.asarray(transforms.RandomAffine(0)(img)), np.asarray(img))
    # a quarter turn counter-clockwise moves the top row to the left column
    square = np.zeros((5, 5), np.uint8)
    square[0, :] = 255
    turned = np.asarray(transforms.RandomRotation((90, 90))(Image.fromarray(square)))
    assert turned[:, 0].tolist() == [255] * 5 and turned[0, 1:].tolist() == [0] * 4
    # translation by whole pixels, at most 0.2 * 5 = 1: the original shifted, zeros coming in
    def shift(a, dy, dx):
        out = np.zeros_like(a)
        out[max(dy, 0):a.shape[0] + min(dy, 0), max(dx, 0):a.shape[1] + min(dx, 0)] = \
            a[max(-dy, 0):a.shape[0] - max(dy, 0), max(-dx, 0):a.shape[1] - max(dx, 0)]
        return out
    image = np.random.default_rng(0).integers(1, 255, (5, 5)).astype(np.uint8)
    shifts = {(dy, dx): shift(image, dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    seen = set()
    for _ in range(30):
        out = np.asarray(transforms.RandomAffine(0, translate=(0.2, 0.2))(Image.fromarray(image)))
        seen |= {k for k, v in shifts.items() if np.array_equal(out, v)}
        assert any(np.array_equal(out, v) for v in shifts.values())
    assert len(seen) > 3  # the shifts vary
    t = transforms.ToTensor()(img)
    assert transforms.RandomAffine(15, scale=(0.9, 1.1), shear=5)(t).shape == (1, 28, 28)
    with pytest.raises(ValueError):
        transforms.RandomRotation(-5)


def test_compose_and_lambda():
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x.reshape(-1))])
    assert pipeline(np.zeros((4, 4), np.uint8)).shape == (16,)
    assert not pipeline.batchable()
    assert transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]).batchable()
    with pytest.raises(TypeError, match="should be callable"):
        transforms.Lambda(3)
    assert "Normalize(mean=(0.5,), std=(0.5,))" in repr(transforms.Compose([transforms.Normalize((0.5,), (0.5,))]))


# ----------------------------------------------------------------------------- make_grid, save_image

def test_make_grid_layout():
    images = ns.from_numpy(np.arange(10, dtype=np.float32)[:, None, None, None] * np.ones((10, 1, 4, 5), np.float32))
    grid = utils.make_grid(images, nrow=4, padding=2, pad_value=-1.0).numpy()
    # 10 images, 4 per row -> 3 rows: (3, 3 * (4 + 2) + 2, 4 * (5 + 2) + 2), grey copied to RGB
    assert grid.shape == (3, 20, 30)
    assert np.all(grid[:, :2, :] == -1) and np.all(grid[:, :, :2] == -1)
    assert np.all(grid[:, 2:6, 2:7] == 0) and np.all(grid[:, 2:6, 9:14] == 1)  # images 0 and 1
    assert np.all(grid[:, 8:12, 2:7] == 4)  # image 4 starts the second row
    assert np.all(grid[:, 14:18, 16:21] == -1)  # past the last image: padding value
    assert utils.make_grid(images).numpy().shape == (3, 2 * 6 + 2, 8 * 7 + 2)  # nrow=8 by default
    one = utils.make_grid(images[:1]).numpy()
    assert one.shape == (3, 4, 5)  # a single image is returned without padding


def test_make_grid_normalize():
    x = ns.from_numpy(np.array([[[[2.0, 4.0]]], [[[6.0, 10.0]]]], dtype=np.float32))
    grid = utils.make_grid(x, normalize=True, padding=0).numpy()[0]
    np.testing.assert_allclose(grid, [[0.0, 0.25, 0.5, 1.0]])
    each = utils.make_grid(x, normalize=True, scale_each=True, padding=0).numpy()[0]
    np.testing.assert_allclose(each, [[0.0, 1.0, 0.0, 1.0]])
    ranged = utils.make_grid(x, normalize=True, value_range=(0.0, 5.0), padding=0).numpy()[0]
    np.testing.assert_allclose(ranged, [[0.4, 0.8, 1.0, 1.0]])


def test_save_image_pixels(tmp_path):
    x = ns.from_numpy(np.array([0.0, 0.5, 1.0, 0.2], dtype=np.float32).reshape(1, 1, 2, 2))
    path = tmp_path / "grid.png"
    utils.save_image(x, path)
    pixels = np.asarray(Image.open(path))
    assert pixels.shape == (2, 2, 3)
    # bytes = clamp(x * 255 + 0.5, 0, 255), truncated: 0, 128, 255, 51
    assert pixels[..., 0].tolist() == [[0, 128], [255, 51]]
