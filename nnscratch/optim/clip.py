"""Gradient clipping, also reachable as ``optim.clip_grad_norm_`` / ``optim.clip_grad_value_``.

It lives in ``nnscratch.nn.utils.clip_grad`` (PyTorch's place for it, ``torch.nn.utils``)."""

from ..nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
