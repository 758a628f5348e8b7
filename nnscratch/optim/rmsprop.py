"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

import numpy as np

from .optimizer import Optimizer, check_nonnegative, descend_, ema_


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes), as ``torch.optim.RMSprop``.

    With d = grad (or -grad when ``maximize``) + weight_decay * p::

        v <- α v + (1 - α) d²                  running mean of squared gradients
        m <- α m + (1 - α) d                   (centered=True: running mean of gradients)
        r  = sqrt(v) + eps                     (centered: sqrt(v - m²) + eps, a std estimate)
        p <- p - lr * d / r                    (momentum=0)
        b <- μ b + d / r;   p <- p - lr * b    (momentum μ > 0)

    ``state[p]``: ``step``, ``square_avg`` (v), ``grad_avg`` (m, centered only),
    ``momentum_buffer`` (b, momentum > 0 only); all start at zero.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        check_nonnegative(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = {"step": 0, "square_avg": np.zeros_like(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p)
        return state

    def _update(self, p, d, state, group):
        tmp = self._buffer("tmp", p)
        alpha = group["alpha"]
        state["step"] += 1
        v = state["square_avg"]
        ema_(v, np.multiply(d, d, out=tmp), alpha, tmp)
        if group["centered"]:
            m = state["grad_avg"]
            ema_(m, d, alpha, tmp)
            np.multiply(m, m, out=tmp)
            np.subtract(v, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)
        tmp += group["eps"]
        np.divide(d, tmp, out=tmp)  # d / r
        if group["momentum"] > 0:
            b = state["momentum_buffer"]
            b *= group["momentum"]
            b += tmp
            descend_(p, group["lr"], b, tmp)
        else:
            descend_(p, group["lr"], tmp, tmp)
