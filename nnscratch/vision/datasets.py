"""torchvision's MNIST and FashionMNIST datasets on nnscratch's data files.

``MNIST(root, train=True, transform=None, target_transform=None, download=False)``: item ``i``
is ``(image, label)`` with the image a PIL image (mode "L", 28x28) passed through ``transform``
and the label an int passed through ``target_transform``, as in torchvision. ``data`` is the
uint8 tensor (N, 28, 28), ``targets`` the int64 labels, ``classes`` their names.

Where the files are looked for, in order: torchvision's layout ``root/MNIST/raw/`` (and
``root/MNIST/``), then the folders nnscratch searches (``$NNSCRATCH_DATA/mnist``, the cache
``~/.cache/nnscratch/mnist``, system folders); the IDX files may be gzipped or not. With
``download=True`` missing files are downloaded (and checked by SHA-256) into nnscratch's cache.

When ``transform`` is made only of ``ToTensor`` and ``Normalize`` (``transform.batchable()``),
the DataLoader gets whole batches through ``__getbatch__``: one indexing step and one vectorised
transform per batch instead of a PIL image per sample, with identical values.
"""

import os
from pathlib import Path

import numpy as np

from ..data import mnist as _mnist
from ..tensor import Tensor
from ..utils.data import Dataset, default_collate

__all__ = ["MNIST", "FashionMNIST"]


class DatasetNotFound(_mnist.DatasetNotFoundError, RuntimeError):
    """The dataset's files are nowhere (a RuntimeError as in torchvision, and nnscratch's
    DatasetNotFoundError)."""


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training (``train=True``) or 10,000 test images."""

    name = "mnist"  # nnscratch's name for the files' folder
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(root) if isinstance(root, (str, os.PathLike)) else root
        self.train, self.transform, self.target_transform = train, transform, target_transform
        images, labels = _mnist._read_split(self.name, self._files(download), "train" if train else "test")
        self.data = Tensor._wrap(images)
        self.targets = Tensor._wrap(labels)
        self._images, self._labels = images, labels

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def _files(self, download):
        files = _mnist.SPLITS["train" if self.train else "test"]
        folders = []
        if self.root is not None:
            folders = [Path(self.raw_folder), Path(self.root) / type(self).__name__]
        folders += _mnist.search_locations(self.name)
        paths = {f: _mnist._find_file(f, folders) for f in files}
        missing = [f for f, p in paths.items() if p is None]
        if not missing:
            return paths
        if download:
            _mnist.fetch(self.name)  # into nnscratch's cache, checked by SHA-256
            return {f: _mnist._find_file(f, _mnist.search_locations(self.name)) for f in files}
        where = "\n".join(f"  {p}" for p in folders)
        raise DatasetNotFound(f"Dataset not found: {type(self).__name__} file(s) {', '.join(missing)} are in none "
                              f"of:\n{where}\nUse download=True to download it, or run `nnscratch data fetch "
                              f"{self.name}`.", self.name, missing, folders)

    def __len__(self):
        return len(self._images)

    def __getitem__(self, index):
        Image = _pil()
        img, target = Image.fromarray(self._images[index]), int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getbatch__(self, indices):
        """``default_collate([self[i] for i in indices])`` in one step, when the transform allows."""
        batchable = getattr(self.transform, "batchable", None)
        if not (callable(batchable) and batchable()):
            return NotImplemented
        indices = np.asarray(indices, dtype=np.int64)
        images = self.transform.batch(self._images[indices])
        labels = self._labels[indices]
        if self.target_transform is None:
            return [images, Tensor._wrap(labels)]
        return [images, default_collate([self.target_transform(int(t)) for t in labels])]

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self):
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}", self.extra_repr()]
        if self.transform is not None:
            lines.append("StandardTransform")
            lines.append("Transform: " + repr(self.transform).replace("\n", "\n" + " " * 11))
        if self.target_transform is not None:
            lines.append(f"Target transform: {self.target_transform!r}")
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + line for line in lines)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grey images of 10 kinds of clothing, in MNIST's form."""

    name = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("MNIST items are PIL images as in torchvision: install Pillow (pip install pillow)") from None
    return Image
