"""A minimal stand-in for torchvision, written on real PyTorch, used by the tests only where
torchvision itself is not installed: it lets the example scripts in examples/torch run under
real PyTorch as the reference for nnscratch. It implements just what those scripts use, with
torchvision's semantics (MNIST items as PIL images, ToTensor, Normalize, save_image)."""

from . import datasets, transforms, utils  # noqa: F401
