"""Gradient clipping: keep one bad batch from throwing the parameters far away.

Both functions give each parameter a *new* gradient tensor instead of changing the old
gradient array, because in nnscratch a gradient array may be shared by several tensors.
"""

import numpy as np

from ..tensor import Tensor, from_numpy


def _parameters(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients viewed as one long vector
    (``inf`` for the largest absolute value)::

        total = ‖(‖g_1‖, ‖g_2‖, ...)‖
        g_i  <- g_i * min(max_norm / (total + 1e-6), 1)

    Returns the total norm (before clipping) as a 0-d tensor. Parameters without a gradient are
    skipped. ``error_if_nonfinite=True`` raises instead of scaling by a nan or infinite norm.
    """
    params = [p for p in _parameters(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not params:
        return from_numpy(np.zeros((), dtype=np.float32))
    norms = [np.linalg.norm(p.grad.data.ravel(), norm_type) for p in params]
    total = np.linalg.norm(np.array(norms), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {total}, so they "
                           "cannot be clipped; pass error_if_nonfinite=False to scale them anyway")
    scale = np.minimum(total.dtype.type(max_norm) / (total + total.dtype.type(1e-6)), 1)
    if scale != 1:  # (also when scale is nan, as PyTorch does)
        for p in params:
            p.grad = from_numpy(p.grad.data * scale)
    return from_numpy(np.asarray(total))


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element to [-clip_value, clip_value]:  g <- min(max(g, -c), c)."""
    clip_value = float(clip_value)
    for p in _parameters(parameters):
        if p.grad is not None:
            p.grad = from_numpy(np.clip(p.grad.data, -clip_value, clip_value))
