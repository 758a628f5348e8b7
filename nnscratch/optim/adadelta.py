"""Adadelta: step sizes from the ratio of running RMS of past updates and of gradients."""

import numpy as np

from .optimizer import Optimizer, check_nonnegative, descend_, ema_


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    With d = grad (or -grad when ``maximize``) + weight_decay * p::

        v  <- ρ v + (1 - ρ) d²                          running mean of squared gradients
        Δ   = sqrt(u + eps) / sqrt(v + eps) * d          the update, in the units of p
        u  <- ρ u + (1 - ρ) Δ²                          running mean of squared updates
        p  <- p - lr * Δ

    ``state[p]``: ``step``, ``square_avg`` (v), ``acc_delta`` (u); both start at zero.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        check_nonnegative(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        if rho > 1:
            raise ValueError(f"Invalid rho value: {rho} (it must be in [0, 1])")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}

    def _update(self, p, d, state, group):
        tmp, delta = self._buffer("tmp", p), self._buffer("delta", p)
        rho, eps = group["rho"], group["eps"]
        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]
        ema_(v, np.multiply(d, d, out=tmp), rho, tmp)
        np.add(u, eps, out=delta)
        np.sqrt(delta, out=delta)
        np.add(v, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        delta /= tmp
        delta *= d
        ema_(u, np.multiply(delta, delta, out=tmp), rho, tmp)
        descend_(p, group["lr"], delta, tmp)
