"""The computations behind the layers: linear, dropout, batch and layer normalisation, embedding."""

import numpy as np

from .. import backend
from ..tensor import Function, ShapeError, Tensor
from .ops import as_tensor, where


class Linear(Function):
    """y = x @ W^T + b for x of shape (N, in) and W of shape (out, in) (PyTorch's layout);
    dL/dx = g @ W,  dL/dW = g^T @ x,  dL/db = Σ over rows of g."""

    def forward(self, x, w, b=None):
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = gy @ w if need[0] else None
        gw = gy.transpose() @ x if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (gy.sum(0) if need[2] else None)


def linear(x, weight, bias=None):
    """x @ weight^T + bias over the last axis of x (any leading axes)."""
    x = as_tensor(x)
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: the input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) "
                         f"but the layer expects {weight.shape[1]} (weight shape {weight.shape}); "
                         f"check in_features, or the Flatten before this layer")
    params = (weight,) if bias is None else (weight, bias)
    if x.ndim == 2:
        return Linear.apply(x, *params)
    lead = x.shape[:-1]
    return Linear.apply(x.reshape(-1, x.shape[-1]), *params).reshape(lead + (weight.shape[0],))


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability p and scale the rest by 1 / (1 - p),
    so the expectation is unchanged and evaluation needs no rescaling. Identity when not training."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = backend.generator().random(x.shape, dtype=x.dtype) >= p
    return x * (keep * x.dtype.type(1 / (1 - p)))


class Normalize(Function):
    """x̂ = (x - μ) / sqrt(σ² + eps), with μ and σ² (biased) the mean and variance of x over ``axes``;
    dL/dx = (g - mean(g) - x̂ · mean(g · x̂)) / sqrt(σ² + eps), means over ``axes``."""

    once_differentiable = True

    def forward(self, x, mean, var, eps, axes):
        self.axes = axes
        self.inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
        self.x_hat = (x - mean) * self.inv_std
        return self.x_hat

    def backward(self, gy):
        g, x_hat, axes = gy.data, self.x_hat, self.axes
        gx = self.inv_std * (g - g.mean(axis=axes, keepdims=True)
                             - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))
        return Tensor._wrap(gx)


def _per_channel(p, ndim):
    """A (C,) parameter shaped to broadcast over axis 1 of an ndim-D input (N, C, ...)."""
    return p if ndim == 2 else p.reshape((-1,) + (1,) * (ndim - 2))


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) over the batch and spatial axes, then scale and shift:
    y = γ · (x - μ) / sqrt(σ² + eps) + β.

    Training uses the batch's μ and biased σ², and moves the running estimates towards them:
    running = (1 - momentum) · running + momentum · batch (σ² unbiased there, as PyTorch does).
    Evaluation uses the running estimates.
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm expects (N, C) or (N, C, ...) input, got shape {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))
    if training or running_mean is None:
        n = x.size // x.shape[1]
        if n <= 1:
            raise ValueError(f"batch_norm needs more than 1 value per channel when training, got input "
                             f"shape {x.shape}; use a larger batch or call model.eval()")
        mean = x.data.mean(axis=axes, keepdims=True)
        var = x.data.var(axis=axes, keepdims=True)
        y = Normalize.apply(x, mean=mean, var=var, eps=eps, axes=axes)
        if training and running_mean is not None:
            running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * mean.reshape(-1)
            running_var.data[...] = (1 - momentum) * running_var.data + momentum * var.reshape(-1) * (n / (n - 1))
    else:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        inv_std = 1 / np.sqrt(running_var.data + x.dtype.type(eps))
        y = (x - running_mean.data.reshape(shape)) * inv_std.reshape(shape)
    if weight is not None:
        y = y * _per_channel(weight, x.ndim)
    if bias is not None:
        y = y + _per_channel(bias, x.ndim)
    return y


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over its last len(normalized_shape) axes, then scale and shift:
    y = γ · (x - μ) / sqrt(σ² + eps) + β (statistics per sample, the same in training and eval)."""
    x = as_tensor(x)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if x.shape[x.ndim - k:] != normalized_shape:
        raise ShapeError(f"layer_norm: the input's last axes {x.shape[x.ndim - k:]} (shape {x.shape}) "
                         f"do not match normalized_shape {normalized_shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.data.mean(axis=axes, keepdims=True)
    var = x.data.var(axis=axes, keepdims=True)
    y = Normalize.apply(x, mean=mean, var=var, eps=eps, axes=axes)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` picked by integer ``indices`` (any shape); the result has shape
    indices.shape + (embedding_dim,). Gradients of repeated indices add up; the row
    ``padding_idx`` gets no gradient."""
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding indices must be integers, got {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= weight.shape[0]):
        raise IndexError(f"embedding index out of range: indices span [{idx.min()}, {idx.max()}] but the "
                         f"table has {weight.shape[0]} rows")
    out = weight[idx]
    if padding_idx is not None:
        out = where((idx != padding_idx)[..., None], out, out.detach())
    return out
