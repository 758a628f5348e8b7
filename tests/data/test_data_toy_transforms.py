"""Toy datasets (gates, spirals, moons, circles, sine windows) and batch transforms."""

import numpy as np
import pytest

import nnscratch
from nnscratch.data import (Compose, DataLoader, GaussianNoise, Normalize, RandomErasing, RandomRotation,
                            RandomShift, TensorDataset, circles, logic_gate, moons, rotate_images, shift_images,
                            sine_sequences, spirals)

# --------------------------------------------------------------------------------------------
# Toy sets


def test_logic_gates():
    x, t = logic_gate("XOR")
    assert x.dtype == np.float32 and t.dtype == np.int64
    assert x.tolist() == [[0, 0], [1, 0], [0, 1], [1, 1]]
    assert t.tolist() == [0, 1, 1, 0]
    assert logic_gate("and")[1].tolist() == [0, 0, 0, 1]
    assert logic_gate("OR")[1].tolist() == [0, 1, 1, 1]
    assert logic_gate("NAND")[1].tolist() == [1, 1, 1, 0]
    a, b = x[:, 0].astype(bool), x[:, 1].astype(bool)
    assert t.tolist() == (a ^ b).astype(int).tolist()
    ds = logic_gate("xor", as_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == 4 and ds[3][1] == 0
    with pytest.raises(ValueError, match="unknown gate 'IMPLIES'"):
        logic_gate("IMPLIES")


@pytest.mark.parametrize("make", [spirals, moons, circles])
def test_2d_sets_shapes_balance_and_seeds(make):
    x, t = make(n=101, seed=3)
    assert x.shape == (101, 2) and x.dtype == np.float32 and t.shape == (101,) and t.dtype == np.int64
    assert np.bincount(t).tolist() == [51, 50]
    x2, t2 = make(n=101, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(t, t2)
    x3, _ = make(n=101, seed=4)
    assert not np.array_equal(x, x3)
    assert t[:20].tolist() != sorted(t[:20].tolist())  # shuffled, not class 0 then class 1
    # seed=None draws from nnscratch's generator: reproducible through manual_seed
    nnscratch.manual_seed(7)
    a = make(n=50)
    nnscratch.manual_seed(7)
    b = make(n=50)
    np.testing.assert_array_equal(a[0], b[0])
    ds = make(n=10, seed=0, as_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == 10


def test_spirals_geometry_without_noise():
    x, t = spirals(n=400, noise=0.0, turns=1.5, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() <= 1.0 + 1e-6
    # point at radius r lies at angle 2π·turns·r (+π for class 1)
    angle = 2 * np.pi * 1.5 * r + np.pi * t
    np.testing.assert_allclose(x, r[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1), atol=1e-5)


def test_moons_and_circles_geometry_without_noise():
    x, t = moons(n=100, noise=0.0, seed=0)
    outer, inner = x[t == 0], x[t == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert outer[:, 1].min() >= -1e-6 and inner[:, 1].max() <= 0.5 + 1e-6
    x, t = circles(n=100, noise=0.0, factor=0.3, seed=0)
    np.testing.assert_allclose(np.hypot(*x[t == 0].T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*x[t == 1].T), 0.3, atol=1e-6)


def test_sine_sequences():
    x, t = sine_sequences(n=64, length=12, noise=0.0, seed=1, period=20.0)
    assert x.shape == (64, 12, 1) and t.shape == (64, 1) and x.dtype == t.dtype == np.float32
    # a clean sine obeys y[k+1] = 2 cos(h) y[k] - y[k-1], h = 2π/period: so does the target
    h = 2 * np.pi / 20.0
    np.testing.assert_allclose(t[:, 0], 2 * np.cos(h) * x[:, -1, 0] - x[:, -2, 0], atol=1e-5)
    np.testing.assert_allclose(x[:, 2:, 0], 2 * np.cos(h) * x[:, 1:-1, 0] - x[:, :-2, 0], atol=1e-5)
    assert np.abs(x).max() <= 1.0 + 1e-6
    noisy, target = sine_sequences(n=2000, length=5, noise=0.1, seed=2)
    residual = target[:, 0] - (2 * np.cos(2 * np.pi / 25) * noisy[:, -1, 0] - noisy[:, -2, 0])
    assert 0.15 < residual.std() < 0.35  # noise of three values enters: 0.1 * sqrt(1 + 4cos²h + 1) ≈ 0.24
    a, _ = sine_sequences(n=5, length=4, seed=9)
    b, _ = sine_sequences(n=5, length=4, seed=9)
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------------
# Transforms

def _images(rng, n=16, dtype=np.float32):
    return rng.random((n, 1, 28, 28)).astype(dtype)


ALL = [lambda: RandomShift(2), lambda: RandomRotation(15), lambda: RandomRotation(15, "nearest"),
       lambda: GaussianNoise(0.1), lambda: RandomErasing(p=1.0), lambda: Normalize(0.1307, 0.3081),
       lambda: Compose([RandomShift(1), RandomRotation(5), RandomErasing()])]


@pytest.mark.parametrize("make", ALL)
def test_transforms_keep_shape_and_dtype(make, rng):
    x = _images(rng)
    for batch in (x, x.reshape(16, 784), x[:, 0]):
        out = make()(batch)
        assert out.shape == batch.shape and out.dtype == np.float32
        assert not np.shares_memory(out, batch)
    x64 = x.astype(np.float64)
    assert make()(x64).dtype == np.float64


@pytest.mark.parametrize("make", ALL[:5])
def test_transforms_flat_and_image_layouts_agree_and_reproduce(make, rng):
    x = _images(rng)
    nnscratch.manual_seed(11)
    a = make()(x)
    nnscratch.manual_seed(11)
    b = make()(x.reshape(16, 784))
    np.testing.assert_array_equal(a.reshape(16, 784), b)
    nnscratch.manual_seed(12)
    c = make()(x)
    assert not np.array_equal(a, c)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    t1, t2 = make(), make()
    t1.generator, t2.generator = g1, g2
    np.testing.assert_array_equal(t1(x), t2(x))


def test_uint8_images_stay_uint8(rng):
    x = rng.integers(0, 256, (8, 1, 28, 28), dtype=np.uint8)
    for transform in (RandomShift(2), RandomRotation(10), GaussianNoise(20.0), RandomErasing(p=1.0)):
        out = transform(x)
        assert out.dtype == np.uint8 and out.shape == x.shape
    np.testing.assert_array_equal(rotate_images(x, 0), x)
    assert Normalize(128, 64)(x).dtype == np.float32


def test_shift_images_exact():
    x = np.arange(2 * 16, dtype=np.float32).reshape(2, 1, 4, 4) + 1
    out = shift_images(x, dy=[1, -2], dx=[-1, 0])
    expected = np.zeros_like(x)
    expected[0, 0, 1:, :3] = x[0, 0, :3, 1:]  # down 1, left 1
    expected[1, 0, :2, :] = x[1, 0, 2:, :]    # up 2
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(shift_images(x, 0, 0), x)
    assert not shift_images(x, 4, 0).any() and not shift_images(x, 0, -9).any()


def test_random_shift_moves_mass_by_whole_pixels(rng):
    n = 64
    x = np.zeros((n, 1, 28, 28), np.float32)
    x[:, 0, 13, 14] = 1.0  # one bright pixel, far from the border
    nnscratch.manual_seed(0)
    out = RandomShift(max_shift=2)(x)
    np.testing.assert_array_equal(out.sum(axis=(1, 2, 3)), np.ones(n))  # mass preserved
    rows, cols = np.nonzero(out[:, 0])[1:]
    dy, dx = rows - 13, cols - 14
    assert set(dy.tolist()) == set(range(-2, 3)) and set(dx.tolist()) == set(range(-2, 3))  # all shifts occur
    # near the border, mass shifted out is lost (zero fill, no wrap-around)
    edge = np.zeros((n, 1, 28, 28), np.float32)
    edge[:, 0, 0, :] = 1.0
    moved = RandomShift(max_shift=2)(edge)
    kept = moved.sum(axis=(1, 2, 3))
    assert kept.min() == 0 and set(np.unique(kept).tolist()) <= {0.0, 26.0, 27.0, 28.0}
    assert moved[:, 0, -1].sum() == 0  # nothing wrapped round to the bottom row


def test_rotation_zero_is_identity_and_ninety_is_rot90(rng):
    x = _images(rng)
    np.testing.assert_array_equal(RandomRotation(0)(x), x)
    np.testing.assert_array_equal(rotate_images(x, 0, interpolation="nearest"), x)
    np.testing.assert_allclose(rotate_images(x, 90), np.rot90(x, 1, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(rotate_images(x, -90), np.rot90(x, -1, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(rotate_images(x, 180), x[:, :, ::-1, ::-1], atol=1e-5)
    three = rng.random((2, 3, 9, 9))
    np.testing.assert_allclose(rotate_images(three, 90), np.rot90(three, 1, axes=(2, 3)), atol=1e-12)


def test_rotation_samples_bilinearly_and_fills_with_zeros():
    ones = np.ones((1, 1, 5, 5), np.float32)
    out = rotate_images(ones, 45)[0, 0]
    assert out[2, 2] == 1.0 and out[0, 2] == 1.0
    # output (0, 0) is (-2, -2) from the centre; rotated back by 45° it reads column 2, row 2 - 2√2
    # ≈ -0.83: between the zero fill (row -1) and row 0, whose weight is 1 - (2√2 - 2) = 3 - 2√2
    np.testing.assert_allclose(out[0, 0], 3 - 2 * np.sqrt(2), atol=1e-5)
    blob = np.zeros((4, 1, 28, 28), np.float32)
    blob[:, 0, 10:18, 10:18] = 1.0
    turned = RandomRotation(30)(blob)
    np.testing.assert_allclose(turned.sum(axis=(1, 2, 3)), 64.0, rtol=0.03)  # mass (area) about preserved
    rows, cols = np.mgrid[0:28, 0:28]
    mass = turned[:, 0].sum(axis=(1, 2))
    np.testing.assert_allclose((turned[:, 0] * rows).sum(axis=(1, 2)) / mass, 13.5, atol=0.05)  # turns about
    np.testing.assert_allclose((turned[:, 0] * cols).sum(axis=(1, 2)) / mass, 13.5, atol=0.05)  # the centre
    assert not np.array_equal(turned[0], blob[0])


def test_gaussian_noise_statistics():
    x = np.full((200, 1, 28, 28), 0.5, np.float32)
    nnscratch.manual_seed(1)
    out = GaussianNoise(std=0.2)(x)
    residual = out - x
    assert abs(float(residual.mean())) < 0.005 and abs(float(residual.std()) - 0.2) < 0.005
    clipped = GaussianNoise(std=1.0, clip=(0.0, 1.0))(x)
    assert clipped.min() == 0.0 and clipped.max() == 1.0


def test_random_erasing_rectangles():
    x = np.ones((200, 1, 28, 28), np.float32)
    nnscratch.manual_seed(2)
    out = RandomErasing(p=1.0, scale=(0.02, 0.2), value=0.0)(x)
    erased = (out == 0)[:, 0]
    area = erased.sum(axis=(1, 2))
    assert area.min() >= 1 and area.max() <= 0.2 * 784 * 1.35  # rounding of h and w
    rows, cols = erased.any(axis=2), erased.any(axis=1)
    np.testing.assert_array_equal(area, rows.sum(1) * cols.sum(1))  # each a solid rectangle
    np.testing.assert_array_equal(RandomErasing(p=0.0)(x), x)
    half = RandomErasing(p=0.5)(x)
    share = (half != 1).any(axis=(1, 2, 3)).mean()
    assert 0.35 < share < 0.65


def test_normalize():
    rng = np.random.default_rng(0)
    x = (rng.random((64, 1, 28, 28)) * 0.8 + 0.1).astype(np.float32)
    out = Normalize.fit(x)(x)
    assert out.dtype == np.float32
    assert abs(float(out.mean())) < 1e-5 and abs(float(out.std()) - 1) < 1e-5
    np.testing.assert_allclose(Normalize(0.5, 0.25)(np.array([[0.5, 1.0, 0.0]], np.float32)), [[0, 2, -2]])
    rgb = rng.random((10, 3, 4, 4)) * np.array([1, 10, 100]).reshape(1, 3, 1, 1)
    per = Normalize.fit(rgb, per_channel=True)(rgb)
    np.testing.assert_allclose(per.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(per.std(axis=(0, 2, 3)), 1, atol=1e-12)
    with pytest.raises(ValueError, match="std must be positive"):
        Normalize(0, 0)


def test_compose_applies_in_order():
    x = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
    f, g = Normalize(1, 2), Normalize(0, 0.5)  # f: (x - 1)/2, g: 2x
    np.testing.assert_allclose(Compose([f, g])(x), [[0, 1, 2, 3]])
    np.testing.assert_allclose(Compose([g, f])(x), [[0.5, 1.5, 2.5, 3.5]])


def test_transform_through_the_dataloader():
    x = np.zeros((10, 784), np.float32)
    x[:, 14 * 28 + 14] = 1.0
    t = np.arange(10)
    nnscratch.manual_seed(3)
    loader = DataLoader(TensorDataset(x, t), batch_size=4, transform=RandomShift(2))
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 784), (4, 784), (2, 784)]
    moved = np.concatenate([b[0].numpy() for b in batches])
    np.testing.assert_array_equal(moved.sum(1), np.ones(10))
    assert (moved.argmax(1) != 14 * 28 + 14).any()
    assert np.concatenate([b[1].numpy() for b in batches]).tolist() == t.tolist()
