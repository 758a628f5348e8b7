"""Batch transforms (data augmentation): callables on a whole batch of images at once.

A batch is an ndarray of images shaped (N, C, H, W), (N, H, W), or flattened (N, H*W) (square
images; give ``side=`` when H*W is not a perfect square). The result has the input's shape and
dtype. Every transform works on the whole batch with array operations, never a Python loop over
samples, and draws randomness per image from ``generator`` (default: nnscratch's seedable
generator at call time, so ``nnscratch.manual_seed`` makes augmentation reproducible).

Use them with ``DataLoader(dataset, batch_size, transform=Compose([...]))`` or a dataset's
``transform=``.
"""

import functools
import math

import numpy as np

from .. import backend

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # of MNIST's training pixels scaled to [0, 1]


def _as_nchw(batch, side=None):
    """``batch`` viewed as (N, C, H, W)."""
    if batch.ndim == 4:
        return batch
    if batch.ndim == 3:
        return batch[:, None]
    if batch.ndim == 2:
        size = batch.shape[1]
        side = side or math.isqrt(size)
        if side * side != size:
            raise ValueError(f"cannot see rows of {size} values as square images; pass side= (the image width) "
                             "or give the batch as (N, C, H, W)")
        return batch.reshape(len(batch), 1, size // side, side)
    raise ValueError(f"expected a batch of images (N, C, H, W), (N, H, W) or (N, H*W), got shape {tuple(batch.shape)}")


def _restore(out, batch):
    """``out`` (float or same dtype) back in ``batch``'s shape and dtype; integer images are rounded
    and clipped to their type's range."""
    if np.issubdtype(batch.dtype, np.integer) and out.dtype != batch.dtype:
        info = np.iinfo(batch.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(batch.dtype, copy=False).reshape(batch.shape)


def _work_dtype(x):
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)


def _flat_planes(x, before, after=None):
    """(x zero-padded by ``before`` pixels above/left and ``after`` below/right, flattened; the padded
    width; the flat index where each (n, c) plane starts, shaped (n, c, 1))."""
    after = before if after is None else after
    n, c, h, w = x.shape
    hp, wp = h + before + after, w + before + after
    padded = np.zeros((n, c, hp, wp), x.dtype)
    padded[:, :, before:before + h, before:before + w] = x
    starts = (np.arange(n * c, dtype=np.intp) * (hp * wp)).reshape(n, c, 1)
    return padded.reshape(-1), wp, starts


def shift_images(batch, dy, dx, side=None):
    """Shift image i of ``batch`` by ``dy[i]`` pixels down and ``dx[i]`` pixels right (negative:
    up, left), filling with zeros: out[i, :, r, c] = batch[i, :, r - dy[i], c - dx[i]] (0 outside)."""
    batch = np.asarray(batch)
    x = _as_nchw(batch, side)
    n, c, h, w = x.shape
    dy = np.clip(np.broadcast_to(np.asarray(dy, dtype=np.intp), (n,)), -h, h)
    dx = np.clip(np.broadcast_to(np.asarray(dx, dtype=np.intp), (n,)), -w, w)
    pad = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    flat, wp, starts = _flat_planes(x, pad)
    pixel = (np.arange(h, dtype=np.intp)[:, None] * wp + np.arange(w, dtype=np.intp)).reshape(-1)
    offset = ((pad - dy) * wp + (pad - dx)).reshape(n, 1, 1)
    return flat.take(starts + offset + pixel).reshape(batch.shape)


@functools.lru_cache(maxsize=16)
def _centered_grid(h, w):
    """Pixel coordinates relative to the image centre, (x, y) each flattened to (h*w,), float32."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return (x - (w - 1) / 2).reshape(-1), (y - (h - 1) / 2).reshape(-1)


def rotate_images(batch, degrees, side=None, interpolation="bilinear"):
    """Rotate image i of ``batch`` by ``degrees[i]`` counter-clockwise (as displayed, rows going
    down) about its centre, filling with zeros. Each output pixel p reads the input at R(-θ)·p
    (inverse mapping, coordinates relative to the centre), sampled bilinearly (weights
    (1-a)(1-b), a(1-b), (1-a)b, ab of the four neighbours) or at the nearest pixel. Rotating
    by 90 equals ``np.rot90``; by 0 it is the identity."""
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    batch = np.asarray(batch)
    x = _as_nchw(batch, side)
    n, c, h, w = x.shape
    dtype = _work_dtype(x)
    theta = np.deg2rad(np.broadcast_to(np.asarray(degrees, dtype=np.float64), (n,)))
    cos, sin = np.cos(theta).astype(np.float32)[:, None], np.sin(theta).astype(np.float32)[:, None]
    gx, gy = _centered_grid(h, w)
    # Source coordinates of every output pixel, (n, h*w). Computed in place: for batches this
    # size, fresh temporaries cost more (page faults) than the arithmetic.
    xs, ys, tmp = np.empty((n, h * w), np.float32), np.empty((n, h * w), np.float32), np.empty((n, h * w), np.float32)
    np.multiply(cos, gx, out=xs)
    xs -= np.multiply(sin, gy, out=tmp)
    xs += np.float32((w - 1) / 2)
    np.multiply(sin, gx, out=ys)
    ys += np.multiply(cos, gy, out=tmp)
    ys += np.float32((h - 1) / 2)
    if interpolation == "nearest":
        flat, wp, starts = _flat_planes(x.astype(dtype, copy=False), 1)  # zero border for outside reads
        np.clip(np.rint(xs, out=xs), -1, w, out=xs)
        np.clip(np.rint(ys, out=ys), -1, h, out=ys)
        return _restore(flat.take(_plane_index(ys, xs, wp, starts)), batch)
    # Clamping the source to [-1, w] x [-1, h] and padding with zeros (1 pixel before, 2 after) puts
    # every outside read on zeros, so the four neighbours are always idx, idx+1, idx+wp, idx+wp+1.
    flat, wp, starts = _flat_planes(x.astype(dtype, copy=False), 1, 2)
    np.clip(xs, -1, w, out=xs)
    np.clip(ys, -1, h, out=ys)
    x0, y0 = np.floor(xs, out=tmp), np.floor(ys)
    idx = _plane_index(y0, x0, wp, starts)
    a, b = (xs - x0)[:, None], (ys - y0)[:, None]  # bilinear weights along x and y
    if dtype != np.float32:
        a, b = a.astype(dtype), b.astype(dtype)
    v00, v01 = flat.take(idx), flat.take(idx + 1)
    idx += wp
    v10, v11 = flat.take(idx), flat.take(idx + 1)
    v01 -= v00
    v01 *= a
    v00 += v01  # top row: v00 + a (v01 - v00)
    v11 -= v10
    v11 *= a
    v10 += v11  # bottom row
    v10 -= v00
    v10 *= b
    v00 += v10  # top + b (bottom - top)
    return _restore(v00, batch)


def _plane_index(rows, cols, wp, starts):
    """Flat indices (n, c, h*w) into the padded planes of integer-valued source ``rows``/``cols``
    (n, h*w) that are relative to the unpadded image (the padding before is 1 pixel)."""
    idx = (rows * wp + cols).astype(np.intp)  # exact: small integers in float32
    idx += wp + 1
    if starts.shape[1] == 1:
        idx = idx.reshape(len(idx), 1, -1)
        idx += starts
        return idx
    return starts + idx[:, None]


class BatchTransform:
    """Base of the random transforms: holds ``side`` (for flattened batches) and ``generator``."""

    def __init__(self, side=None, generator=None):
        self.side, self.generator = side, generator

    def _rng(self):
        return self.generator if self.generator is not None else backend.generator()


class RandomShift(BatchTransform):
    """Shift each image by whole pixels, dy and dx drawn uniformly from
    {-max_shift, ..., max_shift}, filling with zeros (see ``shift_images``)."""

    def __init__(self, max_shift=2, side=None, generator=None):
        super().__init__(side, generator)
        self.max_shift = int(max_shift)

    def __call__(self, batch):
        dy, dx = self._rng().integers(-self.max_shift, self.max_shift + 1, size=(2, len(batch)))
        return shift_images(batch, dy, dx, self.side)

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


class RandomRotation(BatchTransform):
    """Rotate each image about its centre by an angle drawn uniformly from [-degrees, degrees]
    (or [lo, hi] for ``degrees=(lo, hi)``), zero fill, bilinear or nearest sampling from a
    precomputed grid (see ``rotate_images``)."""

    def __init__(self, degrees=10, interpolation="bilinear", side=None, generator=None):
        super().__init__(side, generator)
        self.range = (-degrees, degrees) if np.isscalar(degrees) else tuple(degrees)
        self.interpolation = interpolation

    def __call__(self, batch):
        angles = self._rng().uniform(self.range[0], self.range[1], size=len(batch))
        return rotate_images(batch, angles, self.side, self.interpolation)

    def __repr__(self):
        return f"RandomRotation(degrees={self.range}, interpolation={self.interpolation!r})"


class GaussianNoise(BatchTransform):
    """Add independent noise to every value: x + std·ε, ε ~ N(0, 1); then clip to ``clip`` =
    (lo, hi) if given (e.g. (0, 1) for images in [0, 1])."""

    def __init__(self, std=0.1, clip=None, generator=None):
        super().__init__(None, generator)
        self.std, self.clip = std, clip

    def __call__(self, batch):
        batch = np.asarray(batch)
        dtype = _work_dtype(batch)
        out = batch + np.asarray(self.std, dtype) * self._rng().standard_normal(batch.shape, dtype=dtype)
        if self.clip is not None:
            np.clip(out, self.clip[0], self.clip[1], out=out)
        return _restore(out, batch)

    def __repr__(self):
        return f"GaussianNoise(std={self.std}, clip={self.clip})"


class RandomErasing(BatchTransform):
    """With probability ``p`` per image, set a random rectangle to ``value`` (all channels): its
    area is a fraction s ~ U(scale) of the image and its aspect ratio r = h/w is log-uniform in
    ``ratio``, so h = round(sqrt(s·H·W·r)), w = round(sqrt(s·H·W/r)) (clipped to the image), at a
    uniformly random position (Zhong et al. 2017, "Random Erasing Data Augmentation")."""

    def __init__(self, p=0.5, scale=(0.02, 0.2), ratio=(0.3, 3.3), value=0.0, side=None, generator=None):
        super().__init__(side, generator)
        self.p, self.scale, self.ratio, self.value = p, tuple(scale), tuple(ratio), value

    def __call__(self, batch):
        batch = np.asarray(batch)
        x = _as_nchw(batch, self.side)
        n, _, h, w = x.shape
        rng = self._rng()
        erase = rng.random(n) < self.p
        area = rng.uniform(self.scale[0], self.scale[1], n) * (h * w)
        r = np.exp(rng.uniform(np.log(self.ratio[0]), np.log(self.ratio[1]), n))
        eh = np.clip(np.rint(np.sqrt(area * r)), 1, h).astype(np.intp)
        ew = np.clip(np.rint(np.sqrt(area / r)), 1, w).astype(np.intp)
        top = (rng.random(n) * (h - eh + 1)).astype(np.intp)
        left = (rng.random(n) * (w - ew + 1)).astype(np.intp)
        rows, cols = np.arange(h), np.arange(w)
        in_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None]) & erase[:, None]
        in_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])
        mask = in_rows[:, None, :, None] & in_cols[:, None, None, :]  # (n, 1, h, w)
        return np.where(mask, np.asarray(self.value, batch.dtype), x).reshape(batch.shape)

    def __repr__(self):
        return f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value})"


class Normalize:
    """Standardise: (x - mean) / std, with scalar ``mean``/``std`` or one per channel (axis 1).
    Integer input gives float32. ``Normalize.fit(x)`` uses x's own mean and std (per channel with
    ``per_channel=True``). For MNIST in [0, 1]: ``Normalize(MNIST_MEAN, MNIST_STD)``."""

    def __init__(self, mean, std):
        self.mean, self.std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        if np.any(self.std <= 0):
            raise ValueError(f"std must be positive, got {std}")

    @classmethod
    def fit(cls, batch, per_channel=False):
        batch = np.asarray(batch, dtype=np.float64)
        if per_channel:
            axes = (0,) + tuple(range(2, batch.ndim))
            return cls(batch.mean(axis=axes), batch.std(axis=axes))
        return cls(batch.mean(), batch.std())

    def __call__(self, batch):
        batch = np.asarray(batch)
        dtype = _work_dtype(batch)
        mean, std = self.mean.astype(dtype), self.std.astype(dtype)
        if mean.ndim == 1:  # per channel: along axis 1
            shape = (1, -1) + (1,) * (batch.ndim - 2)
            mean, std = mean.reshape(shape), std.reshape(shape)
        return ((batch - mean) / std).astype(dtype, copy=False)

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Compose:
    """Apply ``transforms`` one after another: Compose([f, g])(x) = g(f(x))."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, batch):
        for transform in self.transforms:
            batch = transform(batch)
        return batch

    def __repr__(self):
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"
