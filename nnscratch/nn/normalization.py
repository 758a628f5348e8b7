"""Normalisation layers that do not use batch statistics: GroupNorm (BatchNorm1d/2d and LayerNorm
are in ``layers`` and ``pooling``, and are re-exported here too, as PyTorch groups them)."""

import numpy as np

from .. import backend
from .. import functional as F
from .layers import BatchNorm1d, LayerNorm, _factory
from .module import Module, Parameter
from .pooling import BatchNorm2d

__all__ = ["GroupNorm", "LayerNorm", "BatchNorm1d", "BatchNorm2d"]


class GroupNorm(Module):
    """Group normalisation (Wu & He, 2018) of (N, C, ...) input: the C channels are split into
    ``num_groups`` groups and each group of each sample is normalised over its channels and
    positions, y = γ_c (x - μ_ng) / sqrt(σ²_ng + eps) + β_c, σ² biased. Independent of the batch
    size, and the same in training and evaluation. γ starts at 1 and β at 0."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        floats = backend.get_default_dtype()
        self.register_parameter("weight", Parameter(np.ones(num_channels, floats)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_channels, floats)) if affine and bias else None)
        _factory(self, device, dtype)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
