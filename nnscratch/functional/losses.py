"""Loss functions: sum_squares_error and cross_entropy_error of *Deep Learning from Scratch*, ch. 4,
PyTorch's losses, and L1/L2 penalties.

PyTorch's losses take ``reduction='mean' | 'sum' | 'none'``; class scores are on axis 1
(input (N, C) or (N, C, d1, ...)) and class targets are integers of shape (N,) or (N, d1, ...).
"""

import numpy as np

from ..tensor import Function, ShapeError, Tensor
from .activations import log_softmax, softmax, softplus
from .ops import as_tensor, clip, log, where


def legacy_reduction(size_average=None, reduce=None, reduction="mean"):
    """The ``reduction`` that PyTorch's deprecated ``size_average`` / ``reduce`` arguments stand for
    (either one given overrides ``reduction``, with PyTorch's warning): reduce=False -> 'none',
    else size_average=False -> 'sum', else 'mean'."""
    if size_average is None and reduce is None:
        return reduction
    import warnings
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{'none' if reduce is False else 'sum' if size_average is False else 'mean'}' instead.",
                  UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _weighted_reduce(loss, reduction, weight):
    """Reduce ``loss`` after multiplying it by ``weight``; 'mean' is then Σ w·loss / Σ w (PyTorch's
    weighted mean, the weight broadcast to the loss's shape)."""
    if weight is None:
        return _reduce(loss, reduction)
    weight = as_tensor(weight, like=loss)
    weighted = loss * weight
    if reduction == "mean":
        return weighted.sum() / float(np.broadcast_to(weight.data, weighted.shape).sum())
    return _reduce(weighted, reduction)


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _same_shape(input, target, name):
    input = as_tensor(input)
    target = as_tensor(target, like=input)
    if input.shape != target.shape:
        raise ShapeError(f"{name}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ; "
                         "they must match (reshape one, e.g. target.reshape(input.shape))")
    return input, target


def _labels(target):
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    return t if t.dtype.kind in "iu" else None


def _one_hot(labels, num_classes, dtype):
    out = np.zeros(labels.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


# ----------------------------------------------------------------------------- the book's losses (ch. 4)

def sum_squares_error(y, t):
    """E = ½ Σ_k (y_k - t_k)², summed over everything (the book's 4.2.1). ``t`` is one-hot, or
    integer labels that are one-hot encoded against y's last axis."""
    y = as_tensor(y)
    labels = _labels(t)
    if labels is not None and labels.shape != y.shape:
        t = _one_hot(labels, y.shape[-1], y.dtype)
    y, t = _same_shape(y, t, "sum_squares_error")
    d = y - t
    return 0.5 * (d * d).sum()


def cross_entropy_error(y, t):
    """E = -(1/N) Σ_n Σ_k t_nk log(y_nk + 1e-7) for probabilities y (the book's 4.2.2): the 1e-7 keeps
    log(0) = -inf away. ``t`` is one-hot (or soft) of y's shape, or integer labels; a single
    sample (1-D y) counts as a batch of one."""
    y = as_tensor(y)
    labels = _labels(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        labels = None if labels is None or labels.size == y.size else labels.reshape(1)
        if labels is None:
            t = as_tensor(t, like=y).reshape(1, -1)
    batch = y.shape[0]
    if labels is not None and labels.size != y.size:
        return -log(y[np.arange(batch), labels] + 1e-7).sum() / batch
    y, t = _same_shape(y, t, "cross_entropy_error")
    return -(t * log(y + 1e-7)).sum() / batch


# ----------------------------------------------------------------------------- regression

def mse_loss(input, target, reduction="mean", weight=None):
    """(input - target)², times ``weight`` if given, reduced."""
    input, target = _same_shape(input, target, "mse_loss")
    d = input - target
    return _weighted_reduce(d * d, reduction, weight)


def l1_loss(input, target, reduction="mean", weight=None):
    """|input - target|, times ``weight`` if given, reduced."""
    input, target = _same_shape(input, target, "l1_loss")
    return _weighted_reduce((input - target).abs(), reduction, weight)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """½ d² where |d| < delta, else delta · (|d| - ½ delta), with d = input - target, reduced."""
    input, target = _same_shape(input, target, "huber_loss")
    d = input - target
    a = d.abs()
    quadratic = a.clip(max=delta)  # min(|d|, delta): the loss is ½ q² + delta (|d| - q)
    loss = 0.5 * quadratic * quadratic + delta * (a - quadratic)
    # PyTorch's huber_loss averages the weighted terms (Σ w·loss / n), unlike mse_loss and l1_loss
    return _reduce(loss if weight is None else loss * as_tensor(weight, like=loss), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """½ d² / beta where |d| < beta, else |d| - ½ beta, with d = input - target, reduced: Huber loss
    divided by beta (slope 1 in the tails whatever beta is; beta = 0 is the L1 loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _same_shape(input, target, "smooth_l1_loss")
    a = (input - target).abs()
    if beta == 0:
        return _reduce(a, reduction)
    quadratic = a.clip(max=beta)  # min(|d|, beta): the loss is ½ q² / beta + (|d| - q)
    return _reduce(quadratic * quadratic * (0.5 / beta) + (a - quadratic), reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(target ‖ q) with ``input`` = log q (log-probabilities, e.g.
    log_softmax output), pointwise t · (log t - input) (0 where t = 0); with ``log_target`` the
    target is given as log t: e^(log t) · (log t - input).

    reduction 'batchmean' divides the sum by the batch size (input.shape[0]): the true KL divergence
    per sample. 'mean' divides by the number of elements and warns, as PyTorch does."""
    input, target = _same_shape(input, target, "kl_div")
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        positive = target.data > 0
        safe = where(positive, target, 1.0)
        pointwise = where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return pointwise.sum() / input.shape[0] if input.ndim else pointwise.sum()
    if reduction == "mean":
        import warnings
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    return _reduce(pointwise, reduction)


# ----------------------------------------------------------------------------- classification

def _classes_last(input, target_labels):
    """(M, C) scores and (M,) labels from (N, C, d...) input and (N, d...) labels."""
    if input.ndim < 1:
        raise ShapeError(f"class scores need at least 1 axis, got shape {tuple(input.shape)}")
    if input.ndim == 1:
        input = input.reshape(1, -1)
        target_labels = target_labels.reshape(1)
    if input.ndim > 2:
        input = input.permute(0, *range(2, input.ndim), 1).reshape(-1, input.shape[1])
    expected = (input.shape[0],)
    if target_labels.reshape(-1).shape != expected:
        raise ShapeError(f"targets of shape {tuple(target_labels.shape)} do not match {expected[0]} score rows")
    return input, target_labels.reshape(-1)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-w[t_n] · input[n, t_n] for log-probabilities ``input``; 'mean' divides by Σ w[t_n].
    Targets equal to ``ignore_index`` count for nothing."""
    input = as_tensor(input)
    labels = _labels(target)
    if labels is None:
        raise TypeError("nll_loss needs integer class targets (use cross_entropy for probability targets)")
    out_shape = labels.shape
    scores, t = _classes_last(input, labels)
    num_classes = scores.shape[1]
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= num_classes):
        bad = safe[(safe < 0) | (safe >= num_classes)][0]
        raise IndexError(f"target {bad} is out of range for {num_classes} classes")
    w = np.ones(num_classes, dtype=scores.dtype) if weight is None else np.asarray(
        weight.data if isinstance(weight, Tensor) else weight, dtype=scores.dtype)
    w_t = w[safe] * keep
    loss = -scores[np.arange(len(t)), safe] * w_t
    if reduction == "mean":
        return loss.sum() / w_t.sum()
    if reduction == "none":
        return loss.reshape(out_shape)
    return _reduce(loss, reduction)


class CrossEntropy(Function):
    """ℓ = (1/N) Σ_n (logsumexp(x_n) - x_n[t_n]) for logits x (N, C) and labels t, the max
    subtracted before exp;  dℓ/dx = (softmax(x) - onehot(t)) / N. The common case of
    ``cross_entropy`` in one operation."""

    def forward(self, x, labels):
        self.labels = labels
        shifted = x - x.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=1))
        return (log_sum - shifted[np.arange(len(labels)), labels]).mean(dtype=x.dtype)

    def backward(self, gy):
        x = self.inputs[0]
        onehot = _one_hot(self.labels, x.shape[1], x.dtype)
        return (softmax(x, axis=1) - onehot) * (gy * (1.0 / len(self.labels)))


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy from raw scores (logits), computed stably through log_softmax:
    -Σ_c q_c log softmax(x)_c, with q the one-hot target, or the given probabilities.

    With label_smoothing ε the target becomes (1 - ε) q + ε / C. Class targets may carry class
    ``weight`` and ``ignore_index`` as in ``nll_loss``.
    """
    input = as_tensor(input)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    labels = _labels(target)
    if (labels is not None and input.ndim == 2 and weight is None and not label_smoothing and reduction == "mean"
            and labels.shape == input.shape[:1] and labels.size and labels.min() >= 0
            and labels.max() < input.shape[1] and not (labels == ignore_index).any()):
        return CrossEntropy.apply(input, labels=labels)  # the usual case, fused
    logp = log_softmax(input, axis=1 if input.ndim > 1 else 0)
    num_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    w = None if weight is None else as_tensor(weight, like=input).data
    w_axis = w if w is None or input.ndim <= 2 else w.reshape((-1,) + (1,) * (input.ndim - 2))
    if labels is None:  # probability targets of the input's shape
        logp, q = _same_shape(logp, target, "cross_entropy")
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / num_classes
        terms = logp * q if w is None else logp * q * w_axis
        loss = -terms.sum(axis=1 if input.ndim > 1 else 0)
        if reduction == "mean":
            return loss.sum() / (input.size // num_classes)
        return _reduce(loss, reduction)
    nll = nll_loss(logp, labels, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    keep = labels != ignore_index
    smooth = -(logp if w is None else logp * w_axis).sum(axis=1 if input.ndim > 1 else 0) * keep
    if reduction == "mean":
        denom = keep.sum() if w is None else w[np.where(keep, labels, 0)][keep].sum()
        smooth = smooth.sum() / denom
    else:
        smooth = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / num_classes)


class BinaryCrossEntropy(Function):
    """ℓ = -(t log p + (1 - t) log(1 - p)), each log clamped at -100 (as PyTorch) so that p = 0 or 1
    gives a finite loss;  dℓ/dp = (p - t) / max(p (1 - p), 1e-12),  dℓ/dt = log(1 - p) - log p."""

    def forward(self, p, t):
        self.log_p = np.maximum(np.log(p), -100)
        self.log_1mp = np.maximum(np.log1p(-p), -100)
        return -(t * self.log_p + (1 - t) * self.log_1mp)

    def backward(self, gy):
        p, t = self.inputs
        gp = gy * (p - t) / clip(p * (1 - p), min=1e-12) if self.needs_input_grad[0] else None
        gt = gy * (self.log_1mp - self.log_p) if self.needs_input_grad[1] else None
        return gp, gt


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (t log p + (1 - t) log(1 - p)) for probabilities p, reduced (see BinaryCrossEntropy)."""
    p, t = _same_shape(input, target, "binary_cross_entropy")
    with np.errstate(divide="ignore"):  # log(0) is clamped to -100
        loss = BinaryCrossEntropy.apply(p, t)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(x), computed stably from the logit x:
    (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), times ``weight``."""
    x, t = _same_shape(input, target, "binary_cross_entropy_with_logits")
    log_weight = 1 if pos_weight is None else (as_tensor(pos_weight, like=x) - 1) * t + 1
    loss = (1 - t) * x + log_weight * softplus(-x)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- penalties

def _tensors(params):
    return list(params.parameters()) if hasattr(params, "parameters") else list(params)


def l1_penalty(params):
    """Σ |w| over every element of the given tensors (or a module's parameters): the L1
    regulariser; add λ · l1_penalty(model) to the loss."""
    return sum(p.abs().sum() for p in _tensors(params))


def l2_penalty(params):
    """Σ w² over every element of the given tensors (or a module's parameters): the L2
    regulariser; add λ · l2_penalty(model) to the loss (λ/2 · ... for the book's ½λw²)."""
    return sum((p * p).sum() for p in _tensors(params))
