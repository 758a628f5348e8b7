"""Adam and AdamW: momentum plus per-coordinate scaling, with bias correction."""

import math

import numpy as np

from .optimizer import Optimizer, check_nonnegative, descend_, ema_


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    With d = grad (or -grad when ``maximize``) + weight_decay * p and t the step number (1, 2, ...)::

        m <- β1 m + (1 - β1) d                 running mean of gradients (momentum)
        v <- β2 v + (1 - β2) d²                running mean of squared gradients
        v̂  = max(v̂, v) if amsgrad else v      (AMSGrad keeps the largest v seen)
        p <- p - lr / (1 - β1^t) * m / (sqrt(v̂) / sqrt(1 - β2^t) + eps)

    The factors 1 - β^t undo the bias of m and v towards their zero start. With
    ``decoupled_weight_decay=True`` (what ``AdamW`` sets) the weight decay is not added to d;
    instead each step first shrinks the parameter: p <- p * (1 - lr * weight_decay).

    ``state[p]``: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq`` (amsgrad only).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        check_nonnegative(lr=lr, eps=eps, weight_decay=weight_decay)
        for i, beta in enumerate(betas):
            if not 0 <= beta < 1:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} (it must be in [0, 1))")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        return state

    def _update(self, p, d, state, group):
        tmp = self._buffer("tmp", p)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        ema_(m, d, beta1, tmp)
        ema_(v, np.multiply(d, d, out=tmp), beta2, tmp)
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1 - beta2 ** t)
        tmp += group["eps"]
        np.divide(m, tmp, out=tmp)
        descend_(p, group["lr"] / (1 - beta1 ** t), tmp, tmp)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Each step: p <- p * (1 - lr * weight_decay), then the Adam update of ``Adam`` computed from the
    plain gradient. Unlike L2 regularisation in Adam, the decay is not rescaled by sqrt(v̂).
    Default weight_decay is 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)
