"""Turn a picture of a digit (any size, any background) into a 28x28 input the way MNIST was made.

MNIST's digits were size-normalised to fit a 20x20 box (keeping their aspect ratio) and then
centred by their centre of mass in a 28x28 field, white ink on black. ``to_mnist`` does the same:
grayscale -> invert if the background is light -> crop to the ink -> scale the longer side to 20
pixels -> paste so that the centre of mass lands on pixel (14, 14).
"""

import os

import numpy as np


MAX_PIXELS = 25_000_000  # width x height decoded at most: a 25-megapixel photo (~1 GB while converted)


class ImageTooLarge(ValueError):
    """An image with more pixels than the budget allows (refused before decoding)."""


def check_pixel_budget(width, height, max_pixels=MAX_PIXELS, what="the image"):
    """Refuse (ImageTooLarge) an image of ``width`` x ``height`` pixels over ``max_pixels``.

    Called with the sizes an image file's header states, before decoding: a small compressed file
    can hold a huge picture (a 168 kB PNG of 12000x12000 pixels decodes to gigabytes)."""
    if width * height > max_pixels:
        raise ImageTooLarge(f"{what} is {width}x{height} = {width * height:,} pixels; at most {max_pixels:,} "
                            "are decoded (scale it down)")


def read_image(path, max_pixels=MAX_PIXELS):
    """A grayscale float image in [0, 1] from a PNG/JPG/... file (needs Pillow) or a ``.npy`` array;
    an image over ``max_pixels`` pixels is refused before it is decoded (``check_pixel_budget``)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such image: {path}")
    if path.lower().endswith(".npy"):
        image = np.load(path, allow_pickle=False).astype(np.float64)
        if image.ndim == 3:
            image = image.mean(axis=-1)
        if image.ndim != 2:
            raise ValueError(f"{path}: expected a 2-D image array, got shape {tuple(image.shape)}")
        return image / 255.0 if image.size and image.max() > 1.0 else image
    return decode_image(path, max_pixels, what=path)


def decode_image(source, max_pixels=MAX_PIXELS, what="the image"):
    """A grayscale float image in [0, 1] from an encoded image (a path or a binary file object;
    needs Pillow): gray = RGB · (0.299, 0.587, 0.114), composited on white paper by its alpha.
    Its size is checked against ``max_pixels`` from the header, before any pixel is decoded."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading PNG/JPG images needs Pillow: pip install 'nnscratch[plot]' "
                          "(or give the image as a .npy array)") from None
    try:
        with Image.open(source) as img:
            check_pixel_budget(*img.size, max_pixels, what=what)
            rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / np.float32(255)  # float32: faster, exact enough
    except ImageTooLarge:
        raise
    except Exception as e:  # Pillow raises several types for unreadable files
        if type(e).__name__ == "DecompressionBombError":  # Pillow's own, far larger, limit
            raise ImageTooLarge(f"{what} has too many pixels to decode ({e}); scale it down") from None
        raise ValueError(f"{what} is not a readable image ({e})") from None
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    alpha = rgba[..., 3]
    return (gray * alpha + (1 - alpha)).astype(np.float64)  # transparent pixels count as white paper


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


MIN_CONTRAST = 0.05  # of the gray range: an image whose pixels differ less holds no ink
MIN_INK_SIDE = 5  # pixels: ink that spans less, both ways, is a dot rather than a digit


def _checked(image):
    """``image`` as a float64 array, refused (ValueError) unless it is 2-D with pixels that are all numbers."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {tuple(image.shape)}")
    if image.size == 0:
        raise ValueError(f"the image has no pixels (shape {tuple(image.shape)}); nothing to classify")
    bad = image.size - np.count_nonzero(np.isfinite(image))
    if bad:
        raise ValueError(f"{bad:,} of its {image.size:,} pixels are not numbers (NaN or infinite); nothing to "
                         "classify (save the image again from its source)")
    return image


def _white_on_black(image, threshold):
    """(``image`` stretched to [0, 1] as white ink on black, its ink: the pixels above ``threshold``)."""
    lo, hi = image.min(), image.max()
    image = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 0.5:  # dark ink on light paper: make it white on black like MNIST
        image = 1 - image
    return image, image > threshold


def check_ink(image, threshold=0.2):
    """Whether ``image`` (2-D, gray values in [0, 1]) holds something to classify.

    Raises ValueError when it does not: no pixels, pixels that are NaN or infinite, or no ink (the
    lightest and darkest pixels differ by less than MIN_CONTRAST of the gray range, which
    ``to_mnist`` would stretch into a picture of noise). Returns a note (a string) when the ink is
    nearly empty, spanning less than MIN_INK_SIDE pixels both ways (a dot that ``to_mnist`` blows
    up to fill the 20x20 box, so any prediction says little), else None."""
    image = _checked(image)
    contrast = image.max() - image.min()
    if contrast < MIN_CONTRAST:
        detail = ("every pixel has the same gray value" if contrast == 0 else
                  f"its darkest and lightest pixels differ by only {contrast:.1%} of the gray range")
        raise ValueError(f"no ink: {detail}, so there is nothing to classify (the digit must stand out from "
                         "the background)")
    _, ink = _white_on_black(image, threshold)
    height = np.ptp(np.flatnonzero(ink.any(axis=1))) + 1
    width = np.ptp(np.flatnonzero(ink.any(axis=0))) + 1
    if max(height, width) < MIN_INK_SIDE:
        return (f"nearly empty: the ink spans only {height}x{width} pixel{'s' if height * width > 1 else ''}, "
                "blown up to fill the 20x20 box; the prediction says little")
    return None


def to_mnist(image, box=20, size=28, threshold=0.2):
    """A (size, size) float32 image in [0, 1], white digit on black, centred by mass as MNIST.
    An image without ink gives zeros; one with NaN or infinite pixels is a ValueError."""
    image, ink = _white_on_black(_checked(image), threshold)
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
