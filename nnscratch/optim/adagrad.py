"""Adagrad: per-coordinate learning rates that shrink as squared gradients accumulate."""

import numpy as np

from .optimizer import Optimizer, check_nonnegative, descend_


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    With d = grad (or -grad when ``maximize``) + weight_decay * p and t the step number (1, 2, ...)::

        s   <- s + d²                              (s starts at initial_accumulator_value)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        p   <- p - lr_t * d / (sqrt(s) + eps)

    Coordinates with large past gradients take small steps. ``state[p]``: ``step``, ``sum`` (s).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "sum": np.full_like(p, group["initial_accumulator_value"])}

    def _update(self, p, d, state, group):
        tmp = self._buffer("tmp", p)
        state["step"] += 1
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += np.multiply(d, d, out=tmp)
        np.sqrt(s, out=tmp)
        tmp += group["eps"]
        np.divide(d, tmp, out=tmp)
        descend_(p, lr, tmp, tmp)
