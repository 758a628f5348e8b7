"""``torch.nn.functional`` on nnscratch: ``import nnscratch.nn.functional as F``.

The same operations as ``nnscratch.functional``, under PyTorch's exact signatures (argument names,
order and defaults, including the deprecated ``size_average`` / ``reduce`` of the losses and the
``inplace`` flags), so that code written for ``torch.nn.functional`` runs unchanged. Each function
here only translates arguments; the computation, its formula and its gradient live in
``nnscratch.functional`` (activations, layers, losses, conv, pooling).

``inplace=True`` writes the result into the input's array when no gradient is being recorded
through it; when one is, the result is returned as a new tensor (nnscratch never changes a tensor
that the graph still needs), which is what code that uses the returned value sees in PyTorch too.
"""

import warnings

import numpy as np

from .. import functional as _F
from ..functional.losses import legacy_reduction as _legacy
from ..tensor import Tensor, is_grad_enabled

__all__ = ["relu", "relu_", "relu6", "elu", "gelu", "silu", "leaky_relu", "hardtanh", "sigmoid", "tanh",
           "softplus", "logsigmoid", "softmax", "log_softmax", "softmin", "dropout", "dropout2d", "linear",
           "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm",
           "layer_norm", "group_norm", "embedding", "one_hot", "pad", "interpolate", "upsample", "normalize",
           "cosine_similarity", "scaled_dot_product_attention", "cross_entropy", "nll_loss", "mse_loss",
           "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "kl_div"]


def _inplace(x, result):
    """PyTorch's ``inplace=True``: the result in x's own array when nothing records a gradient through x."""
    if isinstance(x, Tensor) and not (x.requires_grad and is_grad_enabled()) and x.data.dtype == result.data.dtype:
        x.data[...] = result.data
        return x
    return result


# ----------------------------------------------------------------------------- activations

def relu(input, inplace=False):
    """max(x, 0)."""
    y = _F.relu(input)
    return _inplace(input, y) if inplace else y


def relu_(input):
    """relu in place."""
    return relu(input, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    y = _F.relu6(input)
    return _inplace(input, y) if inplace else y


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """min(max(x, min_val), max_val)."""
    y = _F.hardtanh(input, min_val, max_val)
    return _inplace(input, y) if inplace else y


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha (e^x - 1) otherwise."""
    y = _F.elu(input, alpha)
    return _inplace(input, y) if inplace else y


def gelu(input, approximate="none"):
    """x · Φ(x) (``approximate='tanh'``: the tanh approximation)."""
    return _F.gelu(input, approximate)


def silu(input, inplace=False):
    """x · sigmoid(x)."""
    y = _F.silu(input)
    return _inplace(input, y) if inplace else y


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope · x otherwise."""
    y = _F.leaky_relu(input, negative_slope)
    return _inplace(input, y) if inplace else y


def sigmoid(input):
    """1 / (1 + e^-x)."""
    return _F.sigmoid(input)


def tanh(input):
    """tanh(x)."""
    return _F.tanh(input)


def softplus(input, beta=1.0, threshold=20.0):
    """(1/β) log(1 + e^(βx)), x itself where βx > threshold."""
    return _F.softplus(input, beta, threshold)


def logsigmoid(input):
    """log(sigmoid(x))."""
    return _F.logsigmoid(input)


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  "dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(name, input, dim, dtype, stacklevel):
    input = _F.as_tensor(input)
    if dim is None:
        dim = _softmax_dim(name, input.ndim, stacklevel + 1)
    if dtype is not None:
        input = input.astype(np.dtype(dtype))
    return input, dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / Σ exp(x) along ``dim`` (dim=None picks one with PyTorch's deprecation warning)."""
    input, dim = _softmax_input("softmax", input, dim, dtype, _stacklevel)
    return _F.softmax(input, dim=dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log softmax(x) along ``dim``, computed as x - logsumexp(x)."""
    input, dim = _softmax_input("log_softmax", input, dim, dtype, _stacklevel)
    return _F.log_softmax(input, dim=dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    input, dim = _softmax_input("softmin", input, dim, dtype, _stacklevel)
    return _F.softmax(-input, dim=dim)


# ----------------------------------------------------------------------------- layers

def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout (identity when not training)."""
    y = _F.dropout(input, p, training)
    return _inplace(input, y) if inplace and y is not input else y


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout (identity when not training)."""
    y = _F.dropout2d(input, p, training)
    return _inplace(input, y) if inplace and y is not input else y


def linear(input, weight, bias=None):
    """x W^T + b."""
    return _F.linear(input, weight, bias)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) of (N, C, H, W) input."""
    return _F.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution."""
    return _F.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling; with return_indices, (output, flat indices into each H·W plane)."""
    return _F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling."""
    return _F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size."""
    return _F.adaptive_avg_pool2d(input, output_size)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation (batch statistics in training, running estimates otherwise)."""
    return _F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last axes."""
    return _F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation."""
    return _F.group_norm(input, num_groups, weight, bias, eps)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` picked by integer ``input``. With ``max_norm`` the picked rows whose
    ``norm_type``-norm exceeds it are first rescaled in place to norm max_norm (as PyTorch does)."""
    if scale_grad_by_freq:
        raise NotImplementedError("embedding: scale_grad_by_freq=True is not supported by nnscratch")
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported by nnscratch; use sparse=False")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    if max_norm is not None:
        idx = np.unique(input.data if isinstance(input, Tensor) else np.asarray(input))
        rows = weight.data[idx]
        norms = np.linalg.norm(rows, ord=norm_type, axis=1, keepdims=True)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1).astype(rows.dtype)
        weight.data[idx] = rows * scale
    return _F.embedding(input, weight, padding_idx)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding of integer class labels."""
    return _F.one_hot(tensor, num_classes)


def pad(input, pad, mode="constant", value=None):
    """Pad the last axes: pad = (left, right, top, bottom, ...)."""
    return _F.pad(input, pad, mode, value)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize to ``size`` or by ``scale_factor`` ('nearest', 'nearest-exact', 'linear', 'bilinear', 'area')."""
    return _F.interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (as in PyTorch)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(‖x‖_p, eps) along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported by nnscratch; use the returned tensor")
    return _F.normalize(input, p, dim, eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along ``dim``."""
    return _F.cosine_similarity(x1, x2, dim, eps)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T / sqrt(E) + mask) V."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa=True is not supported by nnscratch")
    return _F.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)


# ----------------------------------------------------------------------------- losses

def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy from logits; class-index or probability targets."""
    return _F.cross_entropy(input, target, weight, ignore_index, _legacy(size_average, reduce, reduction),
                            label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities."""
    return _F.nll_loss(input, target, weight, ignore_index, _legacy(size_average, reduce, reduction))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)², reduced."""
    return _F.mse_loss(input, target, _legacy(size_average, reduce, reduction), weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, reduced."""
    return _F.l1_loss(input, target, _legacy(size_average, reduce, reduction), weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """½ d² / beta for |d| < beta, |d| - ½ beta beyond, reduced."""
    return _F.smooth_l1_loss(input, target, _legacy(size_average, reduce, reduction), beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """½ d² for |d| < delta, delta (|d| - ½ delta) beyond, reduced."""
    return _F.huber_loss(input, target, reduction, delta, weight)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of probabilities."""
    return _F.binary_cross_entropy(input, target, weight, _legacy(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of sigmoid(logits), computed stably."""
    return _F.binary_cross_entropy_with_logits(input, target, weight, _legacy(size_average, reduce, reduction),
                                               pos_weight)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target ‖ exp(input)) pointwise, reduced ('batchmean' for the per-sample divergence)."""
    return _F.kl_div(input, target, _legacy(size_average, reduce, reduction), log_target)
