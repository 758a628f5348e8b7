"""Layers with weights or state: Linear, Standardize, Embedding, Flatten, Unflatten, Identity and the
Residual wrapper. (BatchNorm1d and LayerNorm are in ``normalization``, Dropout in ``dropout``; they
are importable from here too.)"""

import numpy as np

from .. import backend
from .. import functional as F
from ..tensor import ShapeError
from . import functional as nnF
from . import init
from .dropout import Dropout  # noqa: F401  (its old home)
from .module import Module, Parameter
from .module import apply_factory_arguments as _factory
from .normalization import BatchNorm1d, LayerNorm  # noqa: F401  (their old home)


def _empty(*shape):
    return Parameter(np.zeros(shape, dtype=backend.get_default_dtype()))


class Linear(Module):
    """y = x W^T + b, W of shape (out_features, in_features) as in PyTorch.

    ``init`` picks the initialisation: 'default' (PyTorch's uniform ±1/sqrt(in)), 'he',
    'xavier', 'normal' (the book's 0.01), a standard deviation, or a function (see nn.init).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None, *, init="default"):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features)
        self.register_parameter("bias", _empty(out_features) if bias else None)
        self.reset_parameters(init)
        _factory(self, device, dtype)

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


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (one entry may be -1): the inverse of Flatten,
    e.g. Unflatten(1, (1, 28, 28)) turns (N, 784) into (N, 1, 28, 28)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        dim = self.dim % x.ndim
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Embedding(Module):
    """A lookup table: integer index i -> row i of a (num_embeddings, embedding_dim) weight,
    initialised N(0, 1) as in PyTorch (the ``padding_idx`` row starts at 0 and is never trained)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"padding_idx {padding_idx} is outside the table of {num_embeddings} rows")
            padding_idx %= num_embeddings  # -1 is the last row, as in PyTorch
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = _empty(num_embeddings, embedding_dim)
            init.normal_(self.weight)
            if padding_idx is not None:
                self.weight.data[padding_idx] = 0
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"{(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        _factory(self, device, dtype)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose table is ``embeddings`` (2-D), frozen unless freeze=False."""
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)

    def forward(self, indices):
        return nnF.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        if self.sparse:
            text += ", sparse=True"
        return text


class Residual(Module):
    """y = x + module(x): a skip connection, so the gradient reaches x directly (1 + d module/dx)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return x + self.module(x)
