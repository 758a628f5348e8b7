"""torchvision's image transforms, per image as in torchvision, plus a batched path.

Each transform takes one image — a PIL image, or a tensor shaped (C, H, W) — and returns one,
with torchvision's semantics: ``ToTensor`` turns a PIL image or an (H, W, C) uint8 array into
a float32 (C, H, W) tensor in [0, 1]; ``Normalize(mean, std)`` computes
``(x - mean[c]) / std[c]`` per channel ``c``.

The batched path: transforms that need no randomness and no PIL (``ToTensor``, ``Normalize``,
and a ``Compose`` of only those) also have ``batch(images)``, which transforms a whole stack of
images at once with the same float32 arithmetic, so the result is identical to transforming
image by image. ``nnscratch.vision.datasets.MNIST`` uses it to hand the DataLoader whole batches.
Random transforms draw from nnscratch's generator (``torch.manual_seed`` under as-torch).
"""

import enum
import math
import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Resize", "CenterCrop", "RandomCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine", "Lambda",
           "InterpolationMode"]


class InterpolationMode(enum.Enum):
    """How pixels between samples are estimated (torchvision's names)."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _pil():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency of the vision extra
        raise ImportError("this transform works on PIL images: install Pillow (pip install pillow)") from None
    return Image


def _is_pil(img):
    return type(img).__module__.startswith("PIL.") and hasattr(img, "getbands")


def _resample(mode):
    Image = _pil()
    if isinstance(mode, int):
        return mode
    mode = InterpolationMode(mode.value if isinstance(mode, InterpolationMode) else mode)
    return {InterpolationMode.NEAREST: Image.NEAREST, InterpolationMode.BILINEAR: Image.BILINEAR,
            InterpolationMode.BICUBIC: Image.BICUBIC}[mode]


def _planes_apply(img, fn):
    """Apply ``fn`` (PIL image -> PIL image) to each channel of a (C, H, W) tensor, as 'F' images."""
    Image = _pil()
    data = img.data
    out = np.stack([np.asarray(fn(Image.fromarray(np.ascontiguousarray(p, dtype=np.float32), mode="F")))
                    for p in data.reshape(-1, *data.shape[-2:])])
    return Tensor._wrap(out.reshape(*data.shape[:-2], *out.shape[-2:]).astype(data.dtype, copy=False))


def _size_of(img):
    """(height, width) of a PIL image or a (..., H, W) tensor."""
    if _is_pil(img):
        return img.size[1], img.size[0]
    return tuple(img.shape[-2:])


def _rng():
    return backend.generator()


class Compose:
    """Apply ``transforms`` one after the other: ``Compose([ToTensor(), Normalize(m, s)])``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def batchable(self):
        """True when every step has a batched form (see ``batch``)."""
        return all(callable(getattr(t, "batchable", None)) and t.batchable() for t in self.transforms)

    def batch(self, images):
        """Transform a stack of images at once; equals transforming them one by one."""
        for t in self.transforms:
            images = t.batch(images)
        return images

    def __repr__(self):
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor:
    """A PIL image or an (H, W, C) / (H, W) array as a (C, H, W) tensor; uint8 pixels become
    float32 ``pixel / 255`` in [0, 1], other dtypes are kept (torchvision's ToTensor)."""

    def __call__(self, pic):
        if _is_pil(pic):
            array = np.array(pic, copy=True)
            if pic.mode == "1":
                array = array.astype(np.uint8) * 255
        elif isinstance(pic, np.ndarray):
            if pic.ndim not in (2, 3):
                raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
            array = pic
        else:
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        if array.ndim == 2:
            array = array[:, :, None]
        chw = np.ascontiguousarray(array.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            return Tensor._wrap(np.divide(chw, np.float32(255), dtype=np.float32))
        return Tensor._wrap(chw)

    def batchable(self):
        return True

    def batch(self, images):
        """(N, H, W) or (N, H, W, C) uint8 images -> float32 (N, C, H, W) in [0, 1]."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[:, None]
        else:
            images = images.transpose(0, 3, 1, 2)
        if images.dtype == np.uint8:
            return Tensor._wrap(np.divide(images, np.float32(255), dtype=np.float32))
        return Tensor._wrap(np.ascontiguousarray(images))

    def __repr__(self):
        return f"{type(self).__name__}()"


class PILToTensor:
    """A PIL image as a (C, H, W) tensor of its pixel values, dtype kept (uint8 for 'L')."""

    def __call__(self, pic):
        array = np.array(pic, copy=True)
        if array.ndim == 2:
            array = array[:, :, None]
        return Tensor._wrap(np.ascontiguousarray(array.transpose(2, 0, 1)))

    def __repr__(self):
        return f"{type(self).__name__}()"


class ToPILImage:
    """A (C, H, W) tensor or (H, W, C) array as a PIL image; float values in [0, 1] are scaled
    by 255 first (``mode`` picks the PIL mode, default from the channels)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        Image = _pil()
        if isinstance(pic, Tensor):
            array = pic.data
            array = array[None] if array.ndim == 2 else array
            array = array.transpose(1, 2, 0)
            if array.dtype.kind == "f" and self.mode != "F":
                array = (array * 255).astype(np.uint8)
        else:
            array = np.asarray(pic)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        return Image.fromarray(array, mode=self.mode) if self.mode else Image.fromarray(array)

    def __repr__(self):
        return f"{type(self).__name__}()" if self.mode is None else f"{type(self).__name__}(mode={self.mode})"


class Normalize:
    """``(x - mean[c]) / std[c]`` for each channel ``c`` of a float (..., C, H, W) tensor; the
    arithmetic is in the tensor's dtype, as in torchvision."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def _stats(self, dtype, channels):
        mean = np.asarray(self.mean, dtype=dtype).reshape(-1)
        std = np.asarray(self.std, dtype=dtype).reshape(-1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {np.dtype(dtype)}, leading to division "
                             "by zero.")
        for name, v in (("mean", mean), ("std", std)):
            if len(v) not in (1, channels):
                raise ValueError(f"Normalize: {name} has {len(v)} values but the image has {channels} channels")
        return mean[:, None, None], std[:, None, None]

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        if tensor.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.ndim < 3:
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                             f"{tuple(tensor.shape)}")
        mean, std = self._stats(tensor.dtype, tensor.shape[-3])
        if tensor.requires_grad:
            return (tensor - Tensor._wrap(mean)) / Tensor._wrap(std)
        if self.inplace:
            np.subtract(tensor.data, mean, out=tensor.data)
            np.divide(tensor.data, std, out=tensor.data)
            return tensor
        return Tensor._wrap((tensor.data - mean) / std)

    def batchable(self):
        return True

    def batch(self, images):
        """The same on a (N, C, H, W) tensor."""
        mean, std = self._stats(images.dtype, images.shape[-3])
        out = images.data - mean
        np.divide(out, std, out=out)
        return Tensor._wrap(out)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _resized_size(h, w, size, max_size=None):
    """torchvision's output size: an int ``size`` matches the shorter edge, keeping the aspect."""
    if isinstance(size, (list, tuple)):
        if len(size) == 2:
            return tuple(size)
        size = size[0]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


class Resize:
    """Resize to ``size``: (h, w), or an int that the shorter edge becomes (aspect kept).
    PIL images use PIL's resampling; tensors are resized channel by channel through PIL."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias

    def __call__(self, img):
        h, w = _size_of(img)
        oh, ow = _resized_size(h, w, self.size, self.max_size)
        if (oh, ow) == (h, w):
            return img
        resample = _resample(self.interpolation)
        if _is_pil(img):
            return img.resize((ow, oh), resample)
        return _planes_apply(img, lambda p: p.resize((ow, oh), resample))

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value})"


def _crop(img, top, left, height, width):
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    return img[..., top:top + height, left:left + width]


def _pad(img, padding, fill=0, padding_mode="constant"):
    """Pad by ``padding``: an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        padding = (padding,) * 4
    if len(padding) == 2:
        padding = (padding[0], padding[1], padding[0], padding[1])
    left, top, right, bottom = padding
    mode = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[padding_mode]
    extra = {"constant_values": fill} if mode == "constant" else {}
    if _is_pil(img):
        array = np.asarray(img)
        widths = ((top, bottom), (left, right)) + (((0, 0),) if array.ndim == 3 else ())
        return _pil().fromarray(np.pad(array, widths, mode=mode, **extra))
    data = img.data
    widths = ((0, 0),) * (data.ndim - 2) + ((top, bottom), (left, right))
    return Tensor._wrap(np.pad(data, widths, mode=mode, **extra))


class CenterCrop:
    """The central (h, w) part of the image."""

    def __init__(self, size):
        self.size = (size, size) if isinstance(size, numbers.Number) else tuple(size)

    def __call__(self, img):
        h, w = _size_of(img)
        th, tw = self.size
        return _crop(img, int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class RandomCrop:
    """A random (h, w) window of the image, after optional ``padding`` (torchvision's arguments)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = (int(size), int(size)) if isinstance(size, numbers.Number) else tuple(size)
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    def __call__(self, img):
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode)
        h, w = _size_of(img)
        th, tw = self.size
        if self.pad_if_needed and w < tw:
            img = _pad(img, (tw - w, 0), self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            img = _pad(img, (0, th - h), self.fill, self.padding_mode)
        h, w = _size_of(img)
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        i = int(_rng().integers(0, h - th + 1))
        j = int(_rng().integers(0, w - tw + 1))
        return _crop(img, i, j, th, tw)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if _rng().random() < self.p:
            if _is_pil(img):
                return img.transpose(_pil().FLIP_LEFT_RIGHT)
            return Tensor._wrap(np.ascontiguousarray(img.data[..., ::-1]))
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror the image top-bottom with probability ``p``."""

    def __call__(self, img):
        if _rng().random() < self.p:
            if _is_pil(img):
                return img.transpose(_pil().FLIP_TOP_BOTTOM)
            return Tensor._wrap(np.ascontiguousarray(img.data[..., ::-1, :]))
        return img


def _range(value, name, center=0.0):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return (center - value, center + value)
    if len(value) != 2:
        raise ValueError(f"If {name} is a sequence, it must be of len 2.")
    return (float(value[0]), float(value[1]))


def _fill_for(img, fill):
    if fill is None:
        fill = 0
    if _is_pil(img) and len(img.getbands()) > 1 and isinstance(fill, numbers.Number):
        return tuple([fill] * len(img.getbands()))
    return fill


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` (d means [-d, d]), counter-clockwise,
    about the centre; uncovered pixels get ``fill``."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        self.degrees = _range(degrees, "degrees")
        self.interpolation, self.expand, self.center, self.fill = interpolation, expand, center, fill

    def __call__(self, img):
        angle = float(_rng().uniform(self.degrees[0], self.degrees[1]))
        resample = _resample(self.interpolation)

        def rotate(p):
            return p.rotate(angle, resample, self.expand, self.center, fillcolor=_fill_for(p, self.fill))
        return rotate(img) if _is_pil(img) else _planes_apply(img, rotate)

    def __repr__(self):
        return f"{type(self).__name__}(degrees={list(self.degrees)}, interpolation={self.interpolation.value})"


def _inverse_affine_matrix(center, angle, translate, scale, shear):
    """The inverse of ``T * C * RSS * C^-1`` as PIL's 6 affine coefficients, where T translates,
    C moves the centre to the origin and RSS = rotation * scale * shear (torchvision's matrix)."""
    rot = math.radians(angle)
    sx, sy = (math.radians(s) for s in shear)
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


class RandomAffine:
    """A random affine map keeping the centre: rotation from ``degrees``, translation up to
    ``translate`` = (fraction of width, of height), ``scale`` from a (min, max) range, ``shear``
    in degrees (torchvision's parameters and matrix)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        self.degrees = _range(degrees, "degrees")
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("translation values should be between 0 and 1")
        if scale is not None and any(s <= 0 for s in scale):
            raise ValueError("scale values should be positive")
        self.translate, self.scale = translate, scale
        self.shear = None if shear is None else (_range(shear, "shear") if isinstance(shear, numbers.Number)
                                                 or len(shear) == 2 else tuple(shear))
        self.interpolation, self.fill, self.center = interpolation, fill, center

    def get_params(self, height, width):
        rng = _rng()
        angle = float(rng.uniform(*self.degrees))
        tx = ty = 0
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            tx, ty = int(round(rng.uniform(-max_dx, max_dx))), int(round(rng.uniform(-max_dy, max_dy)))
        scale = float(rng.uniform(*self.scale)) if self.scale is not None else 1.0
        shear = (0.0, 0.0)
        if self.shear is not None:
            shear = (float(rng.uniform(self.shear[0], self.shear[1])),
                     float(rng.uniform(self.shear[2], self.shear[3])) if len(self.shear) == 4 else 0.0)
        return angle, (tx, ty), scale, shear

    def __call__(self, img):
        h, w = _size_of(img)
        angle, translate, scale, shear = self.get_params(h, w)
        center = self.center if self.center is not None else (w * 0.5, h * 0.5)
        matrix = _inverse_affine_matrix(center, angle, translate, scale, shear)
        resample = _resample(self.interpolation)

        def affine(p):
            return p.transform(p.size, _pil().AFFINE, matrix, resample, fillcolor=_fill_for(p, self.fill))
        return affine(img) if _is_pil(img) else _planes_apply(img, affine)

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={list(self.degrees)}, translate={self.translate}, "
                f"scale={self.scale}, shear={self.shear})")


class Lambda:
    """A user function as a transform: ``Lambda(lambda x: x.view(-1))``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"
