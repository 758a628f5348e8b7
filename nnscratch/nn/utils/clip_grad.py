"""Gradient clipping: keep one bad batch from throwing the parameters far away.

The functions give each parameter a *new* gradient tensor instead of changing the old gradient
array, because in nnscratch a gradient array may be shared by several tensors.
"""

import warnings

import numpy as np

from ...tensor import Tensor, from_numpy


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` viewed as one long vector (``inf``: the largest
    absolute value):  total = ‖(‖t_1‖, ‖t_2‖, ...)‖. A 0-d tensor (0 for no tensors)."""
    arrays = [t.data for t in _tensors(tensors) if t is not None]
    norm_type = float(norm_type)
    if not arrays:
        return from_numpy(np.zeros((), dtype=np.float32))
    norms = [np.linalg.norm(a.ravel(), norm_type) for a in arrays]
    total = np.asarray(np.linalg.norm(np.array(norms), norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return from_numpy(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(max_norm / (total_norm + 1e-6), 1), total_norm given."""
    total = np.asarray(total_norm.data if isinstance(total_norm, Tensor) else total_norm)
    if total.dtype.kind != "f":
        total = total.astype(np.float32)
    scale = np.minimum(total.dtype.type(max_norm) / (total + total.dtype.type(1e-6)), 1)  # in the norm's dtype
    if scale != 1:  # (also when scale is nan, as PyTorch does)
        for p in _tensors(parameters):
            if p.grad is not None:
                p.grad = from_numpy(p.grad.data * np.asarray(scale, dtype=p.grad.data.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``::

        total = ‖(‖g_1‖, ‖g_2‖, ...)‖          (norm_type; inf for the largest |g|)
        g_i  <- g_i · min(max_norm / (total + 1e-6), 1)

    Returns the total norm (before clipping) as a 0-d tensor, as PyTorch does. Parameters without a
    gradient are skipped. ``error_if_nonfinite=True`` raises instead of scaling by a nan or
    infinite norm. (``foreach`` is accepted and ignored.)
    """
    params = [p for p in _tensors(parameters) if p.grad is not None]
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    if params:
        clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated name of ``clip_grad_norm_`` (warns, as PyTorch does)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clip every gradient element to [-clip_value, clip_value]:  g <- min(max(g, -c), c)."""
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            p.grad = from_numpy(np.clip(p.grad.data, -clip_value, clip_value).astype(p.grad.data.dtype, copy=False))
