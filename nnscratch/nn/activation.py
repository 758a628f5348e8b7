"""Activation functions as modules, for use in Sequential, and MultiheadAttention (which PyTorch
also keeps among its activations)."""

import numpy as np

from .. import backend
from .. import functional as F
from ..tensor import ShapeError, Tensor
from . import functional as nnF
from . import init
from .layers import Linear
from .module import Module, Parameter


class Step(Module):
    """y = 1 if x > 0 else 0: the perceptron's activation (no gradient)."""

    def forward(self, x):
        return F.step_function(x)


class Sigmoid(Module):
    """y = 1 / (1 + e^-x)."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class _Inplace(Module):
    """An activation with PyTorch's ``inplace`` flag (see nn.functional: the result is written into
    the input's array only when no gradient is recorded through it)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """y = max(x, 0)."""

    def forward(self, x):
        return nnF.relu(x, self.inplace)


class ReLU6(_Inplace):
    """y = min(max(x, 0), 6)."""

    def forward(self, x):
        return nnF.relu6(x, self.inplace)


class SiLU(_Inplace):
    """y = x · sigmoid(x) (also called swish)."""

    def forward(self, x):
        return nnF.silu(x, self.inplace)


class ELU(_Inplace):
    """y = x for x > 0, α (e^x - 1) otherwise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, x):
        return nnF.elu(x, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class LeakyReLU(_Inplace):
    """y = x if x > 0 else negative_slope · x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, x):
        return nnF.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Hardtanh(_Inplace):
    """y = min(max(x, min_val), max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__(inplace)
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        return nnF.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """y = x · Φ(x), Φ the standard normal distribution function (``approximate='tanh'``:
    x · ½ (1 + tanh(√(2/π) (x + 0.044715 x³))))."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """y = (1/β) log(1 + e^(βx)), and y = x where βx > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """y = exp(x) / Σ exp(x) along ``dim`` (dim=None: PyTorch's implicit choice, with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return nnF.softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """y = log softmax(x) along ``dim``."""

    def forward(self, x):
        return nnF.log_softmax(x, self.dim, _stacklevel=5)


class Softmin(Softmax):
    """y = softmax(-x) along ``dim``."""

    def forward(self, x):
        return nnF.softmin(x, self.dim, _stacklevel=5)


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "step": Step,
               "softplus": Softplus, "gelu": GELU, "elu": ELU, "silu": SiLU}


def activation(name):
    """An activation module by name: relu, sigmoid, tanh, leaky_relu, softplus, step, gelu, elu, silu."""
    try:
        return ACTIVATIONS[name.lower().replace("-", "_")]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear layer under the name PyTorch gives MultiheadAttention's output projection (so that
    the printed model reads the same)."""


def _additive_mask(mask, dtype):
    """A boolean mask (True = may not attend) or a float mask (added to the scores) as a float array."""
    mask = mask.data if hasattr(mask, "data") and not isinstance(mask, np.ndarray) else np.asarray(mask)
    if mask.dtype == bool:
        return np.where(mask, -np.inf, 0).astype(dtype)
    return mask.astype(dtype, copy=False)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017), PyTorch's layout and results:

        head_i = softmax(Q_i K_i^T / sqrt(d) + mask) V_i,   Q_i = q W_q,i + b_q,i (K_i, V_i likewise)
        output = concat(head_1 .. head_h) W_o^T + b_o,       d = embed_dim / num_heads

    ``forward(query, key, value)`` takes (L, N, E) query and (S, N, ·) key and value ((N, L, E) with
    batch_first, or unbatched (L, E)) and returns (output of the query's shape, attention weights
    (N, L, S) averaged over the heads, or (N, heads, L, S) with average_attn_weights=False, or None
    with need_weights=False). ``attn_mask`` (L, S) or (N·heads, L, S) and ``key_padding_mask``
    (N, S): boolean (True = may not attend) or float (added to the scores). ``dropout`` drops
    attention weights in training. Parameters: in_proj_weight (3E, E) stacking W_q, W_k, W_v
    (q_proj_weight, k_proj_weight, v_proj_weight instead when kdim or vdim differ from E),
    in_proj_bias (3E,), out_proj (a Linear); initialised as PyTorch does (Xavier-uniform
    projections, zero biases).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads}), both positive")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported by "
                                      "nnscratch")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        floats = backend.get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.zeros((3 * embed_dim, embed_dim), floats))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.zeros((embed_dim, embed_dim), floats))
            self.k_proj_weight = Parameter(np.zeros((embed_dim, self.kdim), floats))
            self.v_proj_weight = Parameter(np.zeros((embed_dim, self.vdim), floats))
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", Parameter(np.zeros(3 * embed_dim, floats)) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        self._reset_parameters()
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _projections(self):
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = (w[:E], w[E:2 * E], w[2 * E:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        biases = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        return weights, biases

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        query, key, value = F.as_tensor(query), F.as_tensor(key), F.as_tensor(value)
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = np.asarray(getattr(key_padding_mask, "data", key_padding_mask))[None]
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if query.ndim != 3 or query.shape[2] != self.embed_dim:
            raise ShapeError(f"MultiheadAttention(embed_dim={self.embed_dim}) expects query (L, N, "
                               f"{self.embed_dim}) (or (N, L, {self.embed_dim}) with batch_first, or (L, "
                               f"{self.embed_dim})), got shape {tuple(query.shape)}")
        L, N, E = query.shape
        S, h, d = key.shape[0], self.num_heads, self.head_dim
        (w_q, w_k, w_v), (b_q, b_k, b_v) = self._projections()
        # (L, N, E) -> (N·h, L, d): each (sample, head) pair becomes one attention problem
        q = F.linear(query, w_q, b_q).reshape(L, N * h, d).transpose(0, 1)
        k = F.linear(key, w_k, b_k).reshape(S, N * h, d).transpose(0, 1)
        v = F.linear(value, w_v, b_v).reshape(S, N * h, d).transpose(0, 1)
        mask = None
        if attn_mask is not None:
            mask = _additive_mask(attn_mask, q.dtype)
            mask = mask[None] if mask.ndim == 2 else mask
        if key_padding_mask is not None:
            padding = _additive_mask(key_padding_mask, q.dtype).reshape(N, 1, 1, S)
            padding = np.broadcast_to(padding, (N, h, 1, S)).reshape(N * h, 1, S)
            mask = padding if mask is None else mask + padding
        scores = (q * float(1 / np.sqrt(d))) @ k.swapaxes(1, 2)
        if mask is not None:
            scores = scores + Tensor._wrap(mask)
        with np.errstate(invalid="ignore"):
            weights = F.softmax(scores, dim=-1)
        if self.dropout > 0 and self.training:
            weights = F.dropout(weights, self.dropout, True)
        out = (weights @ v).transpose(0, 1).reshape(L * N, E)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(L, N, E)
        if need_weights:
            weights = weights.reshape(N, h, L, S)
            if average_attn_weights:
                weights = weights.mean(1)
            if unbatched:
                weights = weights.squeeze(0)
        else:
            weights = None
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights
