"""torchvision's tutorial-level API on nnscratch: ``datasets`` (MNIST, FashionMNIST), ``transforms``
(Compose, ToTensor, Normalize, Resize, random augmentations) and ``utils`` (make_grid, save_image).

``from nnscratch.vision import datasets, transforms`` works like ``from torchvision import ...``;
under ``nnscratch as-torch`` the script's ``import torchvision`` gives this package. Pillow is
imported only by the parts that handle PIL images."""

from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
