"""Dropout layers: Dropout (each element) and Dropout2d (whole channels), as in PyTorch's
``torch.nn.modules.dropout``. Both are the identity in evaluation (``model.eval()``)."""

from . import functional as nnF
from .module import Module


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the rest by
    1 / (1 - p); in evaluation, the identity."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return nnF.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Channel dropout: in training, zero each whole channel x[n, c] with probability p and scale the
    others by 1 / (1 - p); in evaluation, the identity."""

    def forward(self, x):
        return nnF.dropout2d(x, self.p, self.training, self.inplace)
