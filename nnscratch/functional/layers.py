"""The computations behind the layers: linear, dropout, batch, layer and group normalisation,
embedding, p-norm normalisation and cosine similarity, one-hot, padding, attention."""

import numpy as np

from .. import backend
from ..tensor import Function, ShapeError, Tensor
from .activations import softmax
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
        raise ShapeError(f"linear: the input has {x.shape[-1] if x.ndim else 0} features (shape {tuple(x.shape)}) "
                         f"but the layer expects {weight.shape[1]} (weight shape {tuple(weight.shape)}); "
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


def _channel_sum(a3):
    """Σ of an (N, C, L) array over axes 0 and 2: one number per channel."""
    if a3.shape[2] >= 16:  # a BLAS dot per (n, c) row: several times faster than sum(axis=(0, 2))
        return np.vecdot(a3, np.ones(a3.shape[2], a3.dtype)).sum(axis=0)
    return a3.sum(axis=(0, 2))


def _channel_dot(a3, b3):
    """Σ of a3 · b3 over axes 0 and 2 of two (N, C, L) arrays: one number per channel."""
    if a3.shape[2] >= 16:
        return np.vecdot(a3, b3).sum(axis=0)
    return np.einsum("ncl,ncl->c", a3, b3)


def _spread(v, like):
    """A per-channel vector (C,) laid out to broadcast against an (N, C, L) array. For a large
    batch it is written out to (C, L): NumPy then runs one long inner loop per sample instead of
    one short loop per (sample, channel), about twice as fast for image-sized L."""
    if like.shape[0] >= 8 and like.shape[2] > 1:
        return np.repeat(v[:, None], like.shape[2], axis=1)
    return v[:, None]


class BatchNorm(Function):
    """Batch normalisation with the batch's statistics, fused with the affine map:
    y = γ · x̂ + β,  x̂ = (x - μ) / sqrt(σ² + eps), with μ and σ² per channel (axis 1);
    dL/dβ = Σ g,  dL/dγ = Σ g · x̂,
    dL/dx = γ / sqrt(σ² + eps) · (g - mean(g) - x̂ · mean(g · x̂)), sums and means per channel.

    The caller computes the statistics (it needs them for the running estimates) and passes
    ``centered`` = x - μ₀ shaped (N, C, L), centred on a first float32 estimate μ₀ of the mean,
    ``offset`` = μ - μ₀ (small, so x - μ = centered - offset keeps every digit even when |μ| is
    much larger than σ) and 1 / sqrt(σ² + eps). ``centered`` becomes the output (it is transformed
    in place). Backward recomputes x - μ₀ rather than keeping a copy: one large array fewer to hold
    and to allocate. ``affine`` names the inputs that follow x ("weight", "bias").
    """

    once_differentiable = True

    def forward(self, x, *params, centered, rough_mean, offset, inv_std, affine):
        given = dict(zip(affine, params))
        weight, bias = given.get("weight"), given.get("bias")
        self.rough_mean, self.offset, self.inv_std, self.affine = rough_mean, offset, inv_std, affine
        self.scale = inv_std if weight is None else weight * inv_std
        y = centered
        y *= _spread(self.scale, y)
        shift = -offset * self.scale if bias is None else bias - offset * self.scale  # y = γ x̂ + β
        if shift.any():
            y += _spread(shift, y)
        return y.reshape(x.shape)

    def backward(self, gy):
        x, inv_std, scale = self.inputs[0].data, self.inv_std, self.scale
        g = gy.data.reshape(x.shape[0], x.shape[1], -1)
        c = x.reshape(g.shape) - _spread(self.rough_mean, g)  # x - μ = c - offset
        n = c.shape[0] * c.shape[2]
        sum_g = _channel_sum(g)
        sum_gc = _channel_dot(g, c) - self.offset * sum_g  # Σ g · (x - μ) = Σ g · x̂ / inv_std
        gx = None
        if self.needs_input_grad[0]:
            r = -(inv_std * inv_std) * sum_gc / n
            gx = c  # computed in place in the buffer of x - μ₀
            gx *= _spread(r, c)
            gx += g
            gx -= _spread(sum_g / n + r * self.offset, c)
            gx *= _spread(scale, c)
            gx = Tensor._wrap(gx.reshape(x.shape))
        grads = {"weight": sum_gc * inv_std, "bias": sum_g}
        return (gx,) + tuple(Tensor._wrap(grads[name]) if need else None
                             for name, need in zip(self.affine, self.needs_input_grad[1:]))


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
        raise ShapeError(f"batch_norm expects (N, C) or (N, C, ...) input, got shape {tuple(x.shape)}")
    if training or running_mean is None:
        n = x.size // x.shape[1]
        if n <= 1:
            raise ValueError(f"batch_norm needs more than 1 value per channel when training, got input "
                             f"shape {tuple(x.shape)}; use a larger batch or call model.eval()")
        x3 = x.data.reshape(x.shape[0], x.shape[1], -1)
        rough_mean = _channel_sum(x3) / n
        centered = x3 - _spread(rough_mean, x3)
        var = _channel_dot(centered, centered) / n  # biased, around μ₀
        # μ₀ is off by about an ulp of |μ| (float32 rounding and summation), which shifts x̂ by
        # ~1e-7 |μ| / σ: where |μ| > 8 σ, the mean of the centred values corrects it
        offset = np.zeros_like(rough_mean)
        if np.any(rough_mean * rough_mean > 64 * var):
            offset = _channel_sum(centered) / n
            var = np.maximum(var - offset * offset, 0)
        mean = rough_mean + offset
        inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
        affine = tuple(name for name, p in (("weight", weight), ("bias", bias)) if p is not None)
        params = tuple(p for p in (weight, bias) if p is not None)
        y = BatchNorm.apply(x, *params, centered=centered, rough_mean=rough_mean, offset=offset,
                            inv_std=inv_std, affine=affine)
        if training and running_mean is not None:
            running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * mean
            running_var.data[...] = (1 - momentum) * running_var.data + momentum * var * (n / (n - 1))
        return y
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
        raise ShapeError(f"layer_norm: the input's last axes {x.shape[x.ndim - k:]} (shape {tuple(x.shape)}) "
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


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of (N, C, ...) input into ``num_groups`` groups and normalise each group
    of each sample over its channels and positions, then scale and shift per channel:
    y = γ_c · (x - μ_ng) / sqrt(σ²_ng + eps) + β_c (σ² biased; the same in training and evaluation).
    One group is LayerNorm over (C, ...); C groups is InstanceNorm."""
    x = as_tensor(x)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ShapeError(f"group_norm: expected (N, C, ...) input with C divisible by num_groups={num_groups}, "
                         f"got shape {tuple(x.shape)}")
    grouped = x.reshape(x.shape[0], num_groups, -1)
    mean = grouped.data.mean(axis=2, keepdims=True)
    var = grouped.data.var(axis=2, keepdims=True)
    y = Normalize.apply(grouped, mean=mean, var=var, eps=eps, axes=(2,)).reshape(x.shape)
    if weight is not None:
        y = y * _per_channel(weight, x.ndim)
    if bias is not None:
        y = y + _per_channel(bias, x.ndim)
    return y


def _safe_norm(x, p, axis):
    """‖x‖_p along ``axis`` (kept), with gradient 0 rather than nan where the whole slice is 0."""
    if p == 2:
        power_sum = (x * x).sum(axis, keepdims=True)
    else:
        power_sum = (x.abs() ** p).sum(axis, keepdims=True)
    nonzero = power_sum.data > 0
    safe = where(nonzero, power_sum, 1.0)
    root = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    return where(nonzero, root, 0.0)


def normalize(x, p=2.0, dim=1, eps=1e-12):
    """x / max(‖x‖_p, eps) along ``dim``: every slice scaled to unit p-norm (zero slices stay 0)."""
    x = as_tensor(x)
    return x / _safe_norm(x, p, dim).clip(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """cos θ = Σ (x1 / max(‖x1‖, eps)) · (x2 / max(‖x2‖, eps)) along ``dim`` (x1 and x2 broadcast):
    1 for parallel vectors, 0 for orthogonal, -1 for opposite."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    return ((x1 / _safe_norm(x1, 2, dim).clip(min=eps)) * (x2 / _safe_norm(x2, 2, dim).clip(min=eps))).sum(dim)


def one_hot(labels, num_classes=-1):
    """Integer class labels of any shape -> int64 tensor of shape labels.shape + (num_classes,), 1 at
    each label and 0 elsewhere; num_classes=-1 takes max(labels) + 1."""
    t = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to integer class labels (int64), got {t.dtype}")
    if t.size and t.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {t.min()}")
    if num_classes == -1:
        if not t.size:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(t.max()) + 1
    elif t.size and t.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {t.max()}")
    out = np.zeros(t.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, t[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._wrap(out)


class ConstantPad(Function):
    """y = x surrounded by ``value`` (``widths`` as for np.pad);  dL/dx = dL/dy cut back to x's region."""

    def forward(self, x, widths, value):
        self.widths = widths
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, gy):
        return gy[tuple(slice(before, gy.shape[i] - after) for i, (before, after) in enumerate(self.widths))]


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 axes of ``x``: pad = (left, right) for the last axis, then
    (top, bottom) for the one before, and so on, as in PyTorch. Negative widths crop.

    mode 'constant' fills with ``value`` (default 0); 'reflect' mirrors without repeating the edge
    (d c b | a b c d | c b a), 'replicate' repeats the edge (a a | a b c d | d d), 'circular' wraps
    around (c d | a b c d | a b). The gradient of a copied element flows back to its source."""
    x = as_tensor(x)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of widths for at most {x.ndim} axes, got {pad}")
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if any(w < 0 for pair in widths for w in pair):  # crop first, then pad the rest
        x = x[tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, widths))]
        widths = [(max(b, 0), max(a, 0)) for b, a in widths]
    if mode == "constant":
        if not any(w for pair in widths for w in pair):
            return x
        return ConstantPad.apply(x, widths=tuple(widths), value=0 if value is None else value)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value:
        raise ValueError(f"pad: padding mode {mode!r} does not take a value")
    k = len(pad) // 2
    if x.ndim not in (k + 1, k + 2) or k > 3:
        raise NotImplementedError(f"pad: {mode!r} padding of {k} axes is not supported for a {x.ndim}-D input "
                                  "(as in PyTorch: the last 1, 2 or 3 axes of an input with 1 or 2 more axes, "
                                  "e.g. (left, right, top, bottom) for (N, C, H, W) images)")
    for axis, (before, after) in enumerate(widths):
        if before or after:
            n = x.shape[axis]
            if mode == "reflect" and max(before, after) >= n:
                raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than the axis "
                                 f"length {n} (shape {tuple(x.shape)})")
            source = np.pad(np.arange(n), (before, after), mode=_PAD_MODES[mode])  # which element each copies
            x = x[(slice(None),) * axis + (source,)]
    return x


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """Attention: softmax(Q K^T · scale + M) V over the last two axes, scale = 1/sqrt(E) by default.

    Q (..., L, E), K (..., S, E), V (..., S, Ev) -> (..., L, Ev). ``attn_mask``: boolean (True =
    may attend) or float (added to the scores); ``is_causal`` lets position i attend to j <= i only;
    ``dropout_p`` drops attention weights (inverted dropout). Returns the output only (see
    ``attention`` for the weights too)."""
    return attention(query, key, value, attn_mask, dropout_p, is_causal, scale)[0]


def attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """(softmax(Q K^T · scale + M) V, the attention weights softmax(...)) with the arguments of
    ``scaled_dot_product_attention``; rows that may attend to nothing give nan, as in PyTorch."""
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    scale = 1 / np.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.swapaxes(-1, -2)) * float(scale)
    L, S = scores.shape[-2], scores.shape[-1]
    if is_causal:
        scores = where(np.tril(np.ones((L, S), dtype=bool)), scores, -np.inf)
    if attn_mask is not None:
        mask = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        scores = where(mask, scores, -np.inf) if mask.dtype == bool else scores + as_tensor(attn_mask, like=scores)
    with np.errstate(invalid="ignore"):
        weights = softmax(scores, dim=-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value, weights
