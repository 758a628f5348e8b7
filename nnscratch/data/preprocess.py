"""Turn a picture of a digit (any size, any background) into a 28x28 input the way MNIST was made.

MNIST's digits were size-normalised to fit a 20x20 box (keeping their aspect ratio) and then
centred by their centre of mass in a 28x28 field, white ink on black. ``to_mnist`` does the same:
grayscale -> invert if the background is light -> crop to the ink -> scale the longer side to 20
pixels -> paste so that the centre of mass lands on pixel (14, 14).
"""

import os

import numpy as np


def read_image(path):
    """A grayscale float image in [0, 1] from a PNG/JPG/... file (needs Pillow) or a ``.npy`` array."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such image: {path}")
    if path.lower().endswith(".npy"):
        image = np.load(path, allow_pickle=False).astype(np.float64)
        if image.ndim == 3:
            image = image.mean(axis=-1)
        if image.ndim != 2:
            raise ValueError(f"{path}: expected a 2-D image array, got shape {image.shape}")
        return image / 255.0 if image.max() > 1.0 else image
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading PNG/JPG images needs Pillow: pip install 'nnscratch[plot]' "
                          "(or give the image as a .npy array)") from None
    try:
        with Image.open(path) as img:
            img = img.convert("RGBA")
            rgba = np.asarray(img, dtype=np.float64) / 255.0
    except Exception as e:  # Pillow raises several types for unreadable files
        raise ValueError(f"{path} is not a readable image ({e})") from None
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
    alpha = rgba[..., 3]
    return gray * alpha + (1 - alpha)  # transparent pixels count as white paper


def resize(image, height, width):
    """Bilinear resampling of a 2-D array to (height, width), pixel centres aligned (vectorised)."""
    h, w = image.shape
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def _shrink(image, height, width):
    """Downscale by averaging blocks first (so thin strokes survive), then resample exactly."""
    factor = int(min(image.shape[0] / height, image.shape[1] / width))
    if factor >= 2:
        h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
        image = image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    return resize(image, height, width)


def to_mnist(image, box=20, size=28, threshold=0.2):
    """A (size, size) float32 image in [0, 1], white digit on black, centred by mass as MNIST."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(f"expected a 2-D grayscale image, got shape {image.shape}")
    lo, hi = image.min(), image.max()
    image = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 0.5:  # dark ink on light paper: make it white on black like MNIST
        image = 1 - image
    ink = image > threshold
    if not ink.any():
        return np.zeros((size, size), np.float32)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    image = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = box / max(image.shape)
    h, w = max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale))
    digit = _shrink(image, h, w)
    canvas = np.zeros((size, size))
    mass = digit.sum()
    cy = (digit.sum(axis=1) @ np.arange(h)) / mass
    cx = (digit.sum(axis=0) @ np.arange(w)) / mass
    top = int(np.clip(round(size / 2 - 0.5 - cy), 0, size - h))
    left = int(np.clip(round(size / 2 - 0.5 - cx), 0, size - w))
    canvas[top:top + h, left:left + w] = digit
    return np.clip(canvas, 0, 1).astype(np.float32)
