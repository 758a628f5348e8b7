"""Layers with weights or state: Linear, BatchNorm1d, LayerNorm, Embedding, Dropout, Flatten,
Identity and the Residual wrapper."""

import numpy as np

from .. import backend
from .. import functional as F
from ..tensor import ShapeError
from . import init
from .module import Module, Parameter


def _empty(*shape):
    return Parameter(np.zeros(shape, dtype=backend.get_default_dtype()))


class Linear(Module):
    """y = x W^T + b, W of shape (out_features, in_features) as in PyTorch.

    ``init`` picks the initialisation: 'default' (PyTorch's uniform ±1/sqrt(in)), 'he',
    'xavier', 'normal' (the book's 0.01), a standard deviation, or a function (see nn.init).
    """

    def __init__(self, in_features, out_features, bias=True, init="default"):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features)
        self.register_parameter("bias", _empty(out_features) if bias else None)
        self.reset_parameters(init)

    def reset_parameters(self, scheme="default"):
        init.initialize(self.weight, self.bias, scheme)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """y = x."""

    def forward(self, x):
        return x


class Standardize(Module):
    """y = (x - mean) / std with fixed numbers (e.g. the training set's pixel mean and std), kept as
    buffers so that a saved model carries its own input scaling."""

    def __init__(self, mean, std):
        super().__init__()
        if not std > 0:
            raise ValueError(f"std must be positive, got {std}")
        dtype = backend.get_default_dtype()
        self.register_buffer("mean", np.array(mean, dtype))
        self.register_buffer("std", np.array(std, dtype))

    def forward(self, x):
        return (x - self.mean.data) * (1 / self.std.data)

    def extra_repr(self):
        return f"mean={float(self.mean.data):.4g}, std={float(self.std.data):.4g}"


class Flatten(Module):
    """Merge axes start_dim..end_dim (default: everything but the batch axis)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the rest by
    1 / (1 - p); in evaluation, the identity."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class _BatchNorm(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = backend.get_default_dtype()
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype)) if affine else None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))
        else:
            self.running_mean = self.running_var = None

    def _check_input(self, x):
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}) expects input with "
                               f"{' or '.join(map(str, self._ndims))} axes and {self.num_features} channels "
                               f"on axis 1, got shape {x.shape}")

    def forward(self, x):
        self._check_input(x)
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats, self.momentum, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per feature C:
    y = γ (x - μ_batch) / sqrt(σ²_batch + eps) + β in training (running estimates updated with
    ``momentum``), with the running estimates in evaluation."""

    _ndims = (2, 3)


class LayerNorm(Module):
    """y = γ (x - μ) / sqrt(σ² + eps) + β with μ, σ² over the last axes (``normalized_shape``) of
    each sample."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        dtype = backend.get_default_dtype()
        self.register_parameter("weight", Parameter(np.ones(shape, dtype)) if elementwise_affine else None)
        self.register_parameter("bias", Parameter(np.zeros(shape, dtype)) if elementwise_affine and bias else None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


class Embedding(Module):
    """A lookup table: integer index i -> row i of a (num_embeddings, embedding_dim) weight,
    initialised N(0, 1) as in PyTorch (the ``padding_idx`` row starts at 0 and is never trained)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"padding_idx {padding_idx} is outside the table of {num_embeddings} rows")
            padding_idx %= num_embeddings  # -1 is the last row, as in PyTorch
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = _empty(num_embeddings, embedding_dim)
        init.normal_(self.weight)
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Residual(Module):
    """y = x + module(x): a skip connection, so the gradient reaches x directly (1 + d module/dx)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return x + self.module(x)
