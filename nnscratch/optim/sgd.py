"""Stochastic gradient descent, with optional (Nesterov) momentum: SGD, Momentum, Nesterov."""

import numpy as np

from .optimizer import Optimizer, check_nonnegative, descend_


class SGD(Optimizer):
    """Gradient descent with optional momentum, exactly as ``torch.optim.SGD``.

    With d = grad (or -grad when ``maximize``) + weight_decay * p, each step computes::

        no momentum:   p <- p - lr * d
        momentum μ:    b <- d                          on the first step
                       b <- μ b + (1 - dampening) d    afterwards
                       p <- p - lr * b                 (classical momentum)
                       p <- p - lr * (d + μ b)         (nesterov=True)

    The momentum buffer ``b`` is kept in ``state[p]["momentum_buffer"]``. Nesterov momentum
    needs momentum > 0 and dampening = 0.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        check_nonnegative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires momentum > 0 and dampening = 0, got "
                             f"momentum={momentum}, dampening={dampening}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"momentum_buffer": None} if group["momentum"] != 0 else {}

    def _update(self, p, d, state, group):
        tmp = self._buffer("tmp", p)
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(d, dtype=p.dtype)
            else:  # b <- μ b + (1 - dampening) d
                np.multiply(d, 1 - group["dampening"], out=tmp)
                buf *= momentum
                buf += tmp
            if group["nesterov"]:
                np.multiply(buf, momentum, out=tmp)
                tmp += d
                d = tmp
            else:
                d = buf
        descend_(p, group["lr"], d, tmp)


class Momentum(SGD):
    """SGD with classical momentum (defaults lr=0.01, momentum=0.9): ``SGD(..., momentum=μ)``.

    ``b <- μ b + d;  p <- p - lr * b``  (PyTorch's form, which this library follows).

    *Deep Learning from Scratch* writes momentum with a velocity v::

        v <- α v - η ∇L;   W <- W + v

    The two are the same algorithm: with v = -η b (and α = μ, η = lr) the book's update turns
    into PyTorch's, step for step, as long as the learning rate stays constant. They differ only
    when lr changes during training: the book's v remembers past steps already multiplied by the
    old lr, whereas here the whole buffer is multiplied by the current lr.
    """

    def __init__(self, params, lr=0.01, momentum=0.9, dampening=0, weight_decay=0, *, maximize=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, maximize=maximize)


class Nesterov(SGD):
    """SGD with Nesterov momentum (defaults lr=0.01, momentum=0.9): ``SGD(..., nesterov=True)``.

    ``b <- μ b + d;  p <- p - lr * (d + μ b)``  (PyTorch's form, which this library follows).

    In the velocity form with v = -lr * b this is ``v <- μ v - lr d;  p <- p + μ v - lr d``,
    which equals ``p <- p + μ² v_old - (1 + μ) lr d`` written with the velocity *before* its
    update. *Deep Learning from Scratch*'s ``Nesterov`` class applies that last formula with the
    velocity *after* its update, so its trajectory differs slightly from this one.
    """

    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0, *, maximize=False):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=True,
                         maximize=maximize)
