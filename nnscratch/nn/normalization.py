"""Normalisation layers, as in PyTorch's ``torch.nn.modules.normalization`` and ``batchnorm``:
BatchNorm1d and BatchNorm2d (statistics over the batch), LayerNorm and GroupNorm (statistics of
each sample). The formulas are in ``nnscratch.functional.layers`` (batch_norm, layer_norm,
group_norm)."""

import numpy as np

from .. import backend
from .. import functional as F
from ..tensor import ShapeError
from .module import Module, Parameter
from .module import apply_factory_arguments as _factory

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"]


def _register_affine(module, shape, affine, bias):
    """The learnt scale γ (``weight``, starting at 1) and shift β (``bias``, starting at 0) of ``shape``;
    None without ``affine`` (and β None without ``bias``)."""
    floats = backend.get_default_dtype()
    module.register_parameter("weight", Parameter(np.ones(shape, floats)) if affine else None)
    module.register_parameter("bias", Parameter(np.zeros(shape, floats)) if affine and bias else None)


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share: γ, β, the running estimates and their update; a
    subclass names the input ranks it accepts (``_ndims``)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _register_affine(self, num_features, affine, bias)
        if track_running_stats:
            floats = backend.get_default_dtype()
            self.register_buffer("running_mean", np.zeros(num_features, floats))
            self.register_buffer("running_var", np.ones(num_features, floats))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        _factory(self, device, dtype)

    def _check_input(self, x):
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}) expects input with "
                               f"{' or '.join(map(str, self._ndims))} axes and {self.num_features} channels "
                               f"on axis 1, got shape {tuple(x.shape)}")

    def forward(self, x):
        self._check_input(x)
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if momentum is None:  # a cumulative average of the batch statistics, as in PyTorch
                momentum = 1.0 / float(self.num_batches_tracked.data)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per feature C:
    y = γ (x - μ_batch) / sqrt(σ²_batch + eps) + β in training (running estimates updated with
    ``momentum``), with the running estimates in evaluation."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), per channel C over the batch and both spatial axes:
    y = γ (x - μ_batch) / sqrt(σ²_batch + eps) + β in training (running estimates updated with
    ``momentum``, σ² unbiased there), with the running estimates in evaluation."""

    _ndims = (4,)


class LayerNorm(Module):
    """y = γ (x - μ) / sqrt(σ² + eps) + β with μ, σ² over the last axes (``normalized_shape``) of
    each sample."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        _register_affine(self, shape, elementwise_affine, bias)
        _factory(self, device, dtype)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


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
        _register_affine(self, num_channels, affine, bias)
        _factory(self, device, dtype)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
