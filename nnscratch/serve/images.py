"""The playground's input: a request body turned into the 28x28 image the network sees.

Two forms are accepted, both preprocessed exactly as ``nnscratch predict`` does (``to_mnist``:
invert a light background, crop to the ink, scale into 20x20, centre by mass in 28x28):

- an encoded image (PNG, JPEG, ... as sent by the page's canvas or upload), decoded with Pillow
  by ``decode_image``, as ``read_image`` does; its size is checked against the pixel budget from
  its header, before decoding;
- JSON ``{"pixels": [[...], ...]}``: a 2-D array of gray values (0..1, or 0..255 when any value
  exceeds 1), which needs no Pillow (its schema is checked by the web application first).
"""

import io

import numpy as np

from ..data.preprocess import ImageTooLarge, check_pixel_budget, decode_image, to_mnist


class InputError(ValueError):
    """A request the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def image_from_bytes(data, max_pixels):
    """The grayscale image in [0, 1] of an encoded image body (InputError 413 over ``max_pixels``,
    415 when it is not an image or Pillow is missing)."""
    try:
        return decode_image(io.BytesIO(data), max_pixels, what="the image")
    except ImageTooLarge as e:
        raise InputError(str(e), status=413) from None
    except ImportError:
        raise InputError("decoding images needs Pillow on the server (pip install 'nnscratch[plot]'); "
                         "or send JSON {\"pixels\": [[...]]}", status=415) from None
    except ValueError:
        raise InputError("the body is not a readable image; send a PNG or JPEG, or JSON {\"pixels\": [[...]]}",
                         status=415) from None


def image_from_rows(rows, max_pixels):
    """The 2-D float array of JSON ``pixels`` rows, scaled to [0, 1]."""
    if not rows or not all(rows):
        raise InputError('"pixels" must be a non-empty 2-D array (rows of numbers)')
    if len({len(row) for row in rows}) > 1:
        raise InputError('"pixels" must be rectangular: every row as long as the first')
    try:
        check_pixel_budget(len(rows[0]), len(rows), max_pixels, what='"pixels"')
    except ImageTooLarge as e:
        raise InputError(str(e), status=413) from None
    image = np.array(rows, dtype=np.float64)
    if not np.isfinite(image).all() or image.min() < 0:
        raise InputError('"pixels" must hold finite gray values >= 0 (0..1, or 0..255)')
    return image / 255.0 if image.max() > 1.0 else image


def network_input(image):
    """The 28x28 float32 input (as ``nnscratch predict`` makes it) of a grayscale image."""
    try:
        return to_mnist(image)
    except ValueError as e:  # nothing to classify in what the client sent
        raise InputError(str(e)) from None
