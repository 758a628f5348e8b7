"""PyTorch's ``torch.utils`` for nnscratch: ``nnscratch.utils.data`` (Dataset, DataLoader, ...)."""

from . import data

__all__ = ["data"]
