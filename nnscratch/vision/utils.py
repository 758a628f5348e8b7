"""torchvision's image utilities: ``make_grid`` (a batch of images tiled into one) and
``save_image`` (that grid written as a PNG or any format Pillow knows)."""

import math

import numpy as np

from ..tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _array(tensor):
    if isinstance(tensor, (list, tuple)):
        return np.stack([_array(t) for t in tensor])
    if isinstance(tensor, Tensor):
        return tensor.data
    raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch of images (N, C, H, W) (or a list of (C, H, W)) into one image
    (C, rows * (H + padding) + padding, nrow * (W + padding) + padding), ``nrow`` images per row,
    ``padding`` pixels of ``pad_value`` around each. Grey (C = 1) images become 3 channels.
    ``normalize`` maps ``value_range`` (default: the min and max, of each image with
    ``scale_each``) to [0, 1], clamping outside it: ``(x - low) / max(high - low, 1e-5)``."""
    x = _array(tensor)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        if x.shape[0] == 1:
            x = np.concatenate([x, x, x], 0)
        x = x[None]
    if x.ndim == 4 and x.shape[1] == 1:
        x = np.concatenate([x, x, x], 1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        x = x.copy()

        def norm(img):
            low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
            np.clip(img, low, high, out=img)
            img -= low
            img /= max(high - low, 1e-5)
        if scale_each:
            for img in x:
                norm(img)
        else:
            norm(x)
    if x.shape[0] == 1:
        return Tensor._wrap(x[0])
    n, channels, h, w = x.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    height, width = h + padding, w + padding
    grid = np.full((channels, height * rows + padding, width * cols + padding), pad_value, dtype=x.dtype)
    for k in range(n):
        y, c = divmod(k, cols)
        grid[:, y * height + padding:(y + 1) * height, c * width + padding:(c + 1) * width] = x[k]
    return Tensor._wrap(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save ``tensor`` (an image, a batch, or a list) as an image file through ``make_grid``
    (``kwargs`` go to it): values in [0, 1] become bytes ``clamp(x * 255 + 0.5, 0, 255)``."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_image writes images with Pillow: pip install pillow") from None
    grid = make_grid(tensor, **kwargs).data
    pixels = np.clip(grid * grid.dtype.type(255) + grid.dtype.type(0.5), 0, 255)
    array = pixels.transpose(1, 2, 0).astype(np.uint8)
    Image.fromarray(array).save(fp, format=format)
