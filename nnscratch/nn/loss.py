"""Loss functions as modules: ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, labels)``.

Constructors take PyTorch's arguments in PyTorch's order, including the deprecated
``size_average`` / ``reduce`` (which set ``reduction`` as they do there). Class weights
(``weight``, ``pos_weight``) are buffers, so they are saved in the state dict as in PyTorch, and
the modules print as PyTorch's do (``CrossEntropyLoss()``).
"""

from .. import functional as F
from ..functional.losses import legacy_reduction
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean", allowed=("mean", "sum", "none")):
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        if reduction not in allowed:
            raise ValueError(f"reduction must be {', '.join(map(repr, allowed))}, not {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error (input - target)²."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |input - target|."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """½ d² for |d| < delta, delta (|d| - ½ delta) beyond."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """½ d² / beta for |d| < beta, |d| - ½ beta beyond (Huber loss / beta; L1 for beta = 0)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence t · (log t - input) of the target t from log-probabilities
    ``input``; reduction='batchmean' gives the divergence per sample ('mean' averages over every
    element and warns, as in PyTorch)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction, allowed=("mean", "batchmean", "sum", "none"))
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, self.reduction, self.log_target)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy from logits, with class targets or probabilities (see F.cross_entropy)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (use after LogSoftmax)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), computed stably."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class SumSquaresError(Module):
    """*Deep Learning from Scratch*'s ½ Σ (y - t)² (see F.sum_squares_error)."""

    def forward(self, y, t):
        return F.sum_squares_error(y, t)


class CrossEntropyError(Module):
    """*Deep Learning from Scratch*'s -Σ t log(y + 1e-7) / N on probabilities (see F.cross_entropy_error)."""

    def forward(self, y, t):
        return F.cross_entropy_error(y, t)
