"""The playground's input: a request body turned into the 28x28 image the network sees.

Two forms are accepted, both preprocessed exactly as ``nnscratch predict`` does (``to_mnist``:
invert a light background, crop to the ink, scale into 20x20, centre by mass in 28x28):

- an encoded image (PNG, JPEG, ... as sent by the page's canvas or upload), decoded with Pillow
  to grayscale the way ``read_image`` does (transparent pixels count as white paper);
- JSON ``{"pixels": [[...], ...]}``: a 2-D array of gray values (0..1, or 0..255 when any value
  exceeds 1), which needs no Pillow.
"""

import io
import json

import numpy as np

from ..data.preprocess import to_mnist

MAX_SIDE = 2048  # pixels; larger pictures are refused rather than decoded (a decompression bomb guard)


class InputError(ValueError):
    """A request the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def decode_image(data):
    """A grayscale float image in [0, 1] from encoded image bytes (gray = RGB · (0.299, 0.587,
    0.114), composited on white by alpha, as ``read_image``)."""
    try:
        from PIL import Image
    except ImportError:
        raise InputError("decoding images needs Pillow on the server (pip install 'nnscratch[plot]'); "
                         "or send JSON {\"pixels\": [[...]]}", status=415) from None
    try:
        with Image.open(io.BytesIO(data)) as img:
            if max(img.size) > MAX_SIDE:
                raise InputError(f"image is {img.size[0]}x{img.size[1]} pixels; at most {MAX_SIDE} per side "
                                 "is accepted (scale it down)", status=413)
            rgba = np.asarray(img.convert("RGBA"), dtype=np.float64) / 255.0
    except InputError:
        raise
    except Exception as e:  # Pillow raises several types for data that is not an image
        if type(e).__name__ == "DecompressionBombError":
            raise InputError(f"the image has too many pixels ({e}); scale it down", status=413) from None
        raise InputError(f"the body is not a readable image ({type(e).__name__}); send a PNG or JPEG, "
                         "or JSON {\"pixels\": [[...]]}", status=415) from None
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
    alpha = rgba[..., 3]
    return gray * alpha + (1 - alpha)


def pixels_from_json(data):
    """The 2-D float array of a JSON body ``{"pixels": [[...], ...]}``, scaled to [0, 1]."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"the body is not valid JSON ({e.msg if hasattr(e, 'msg') else e})") from None
    if not isinstance(body, dict) or "pixels" not in body:
        raise InputError('JSON input must be an object {"pixels": [[row], [row], ...]}')
    try:
        image = np.array(body["pixels"], dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError('"pixels" must be a rectangular 2-D array of numbers') from None
    if image.ndim != 2 or min(image.shape) < 1:
        raise InputError(f'"pixels" must be a non-empty 2-D array (rows of numbers), got shape {image.shape}')
    if max(image.shape) > MAX_SIDE:
        raise InputError(f'"pixels" is {image.shape[1]}x{image.shape[0]}; at most {MAX_SIDE} per side', status=413)
    if not np.isfinite(image).all() or image.min() < 0:
        raise InputError('"pixels" must hold finite gray values >= 0 (0..1, or 0..255)')
    return image / 255.0 if image.max() > 1.0 else image


def network_input(body, content_type):
    """(28x28 float32 image, as ``nnscratch predict`` would make it) from a request body."""
    if not body:
        raise InputError("empty body: POST an image (PNG/JPEG) or JSON {\"pixels\": [[...]]}")
    kind = (content_type or "").split(";")[0].strip().lower()
    image = pixels_from_json(body) if kind == "application/json" else decode_image(body)
    return to_mnist(image)
