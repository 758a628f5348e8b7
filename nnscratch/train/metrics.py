"""Metrics: numbers that say how well a model does, on whole batches (vectorised; no per-sample
Python loops).

Two kinds live here: plain functions of one batch (``accuracy``, ``confusion_matrix``), and
*metric objects* that ``fit`` and ``evaluate`` accumulate over an epoch (Keras's metrics): each
has a ``name`` (its key in the logs and the History; validation adds ``"val_"``), ``update(output,
target)`` for one batch, ``result()`` and ``reset()``. Their state is an array of sums
(``self.sums``), so the ranks of a distributed run combine theirs by adding them up.

A new metric is one class. The mean absolute error of a regression, for example::

    class MeanAbsoluteError(Metric):
        name = "mae"  # (1/N) Σ_n |y_n - t_n| over every element of the epoch's outputs

        def update(self, output, target):
            error = np.abs(as_array(output) - as_array(target))
            self.add(error.sum(), error.size)

    fit(model, loader, loss=nn.MSELoss(), optimizer=opt, epochs=5, metrics=[MeanAbsoluteError()])
    # history["mae"], history["val_mae"]; evaluate(model, test_loader, metrics=[MeanAbsoluteError()])
"""

import re

import numpy as np

from ..tensor import Tensor


def as_array(x):
    """The NumPy array of ``x`` (a Tensor's data, or ``x`` itself as an array)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def has_class_scores(output):
    """True when ``output`` looks like class scores, shape (N, C) with C >= 2."""
    return output.ndim == 2 and output.shape[1] >= 2


def labels(x):
    """Class indices from class scores (N, C) (the argmax of each row) or from labels (N,)."""
    x = as_array(x)
    return x.argmax(axis=1) if x.ndim == 2 else x.astype(np.int64, copy=False)


def num_correct(output, targets):
    """The number of rows whose largest score is at the target class.

    ``output``: logits or probabilities (N, C); ``targets``: integer labels (N,) or one-hot (N, C).
    """
    output, targets = as_array(output), as_array(targets)
    if not has_class_scores(output):
        raise ValueError(f"accuracy needs class scores of shape (N, C) with C >= 2, got shape {tuple(output.shape)}; "
                         "for regression pass metrics=() to fit")
    if targets.shape not in ((len(output),), output.shape):
        raise ValueError(f"accuracy: targets of shape {tuple(targets.shape)} do not fit outputs of shape {tuple(output.shape)}; "
                         f"give labels of shape ({len(output)},) or one-hot of shape {tuple(output.shape)}")
    return int(np.count_nonzero(labels(output) == labels(targets)))


def accuracy(logits_or_probs, targets):
    """The fraction of rows whose largest score is at the target class:  (1/N) Σ_n [argmax y_n = t_n].

    ``targets`` are integer labels (N,) or one-hot rows (N, C).
    """
    return num_correct(logits_or_probs, targets) / len(as_array(targets))


def confusion_matrix(pred, target, num_classes):
    """cm[i, j] = the number of samples of true class i predicted as class j (rows: truth).

    ``pred`` and ``target`` are labels (N,) or scores / one-hot rows (N, C), turned into labels by argmax.
    """
    pred, target = labels(pred), labels(target)
    if pred.shape != target.shape:
        raise ValueError(f"confusion_matrix: {pred.shape[0]} predictions but {target.shape[0]} targets")
    for name, x in (("pred", pred), ("target", target)):
        if x.size and (x.min() < 0 or x.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} has labels outside 0..{num_classes - 1} "
                             f"(min {x.min()}, max {x.max()})")
    counts = np.bincount(target * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def per_class_accuracy(cm):
    """The accuracy on each true class (its recall): cm[i, i] / Σ_j cm[i, j]; nan for a class with
    no samples."""
    cm = np.asarray(cm)
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diagonal(cm) / totals


# ----------------------------------------------------------------------------- metric objects

class Metric:
    """A quantity accumulated over the batches of an epoch (Keras's ``Metric``; torchmetrics' calls).

    ``update(output, target)`` adds one batch, ``result()`` is the value over every batch since
    ``reset()`` (None before anything was counted), ``name`` the key under which ``fit`` logs it.
    The state is ``self.sums``, an array of sums that the ranks of a distributed run add up. By
    default it holds (total, count) and the result is their ratio, a mean over samples: a subclass
    then writes only ``update``, calling ``self.add(total, count)``. A metric that needs other sums
    sets ``num_sums`` and overrides ``result``.
    """

    name = "metric"
    num_sums = 2

    def __init__(self, name=None):
        if name is not None:
            self.name = name
        self.reset()

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"

    def reset(self):
        """Forget every batch: all sums back to 0."""
        self.sums = np.zeros(self.num_sums, dtype=np.float64)

    def update(self, output, target):
        """Add one batch: the model's ``output`` and the ``target`` (Tensors or arrays)."""
        raise NotImplementedError(f"{type(self).__name__} must implement update(output, target)")

    def add(self, total, count):
        """sums <- sums + (total, count): one batch's contribution to a mean."""
        self.sums[0] += total
        self.sums[1] += count

    def result(self):
        """total / count over the batches so far, or None when nothing was counted."""
        total, count = self.sums
        return float(total / count) if count else None

    def update_state(self, y_true, y_pred):
        """Keras's spelling and argument order (target first): ``update(y_pred, y_true)``."""
        self.update(y_pred, y_true)

    def reset_state(self):
        """Keras's spelling of ``reset()``."""
        self.reset()


class Accuracy(Metric):
    """The fraction of samples whose largest score is at the target class:
    (1/N) Σ_n [argmax_c y_nc = t_n]. Targets are labels (N,) or one-hot rows (N, C).

    Batches whose outputs are not class scores (N, C) are skipped, so a regression model trained
    with the default ``metrics=("accuracy",)`` records accuracy None.
    """

    name = "accuracy"

    def update(self, output, target):
        output = as_array(output)
        if has_class_scores(output):
            self.add(num_correct(output, target), len(output))


class TopKAccuracy(Metric):
    """The fraction of samples whose target class is among the ``k`` largest scores:
    (1/N) Σ_n [t_n ∈ top-k of y_n], named ``"top{k}_accuracy"``. Classes tied with the k-th score
    count as in the top k (as Keras's ``in_top_k``), so with ``k=1`` it differs from ``Accuracy``
    only on ties. Targets are labels (N,) or one-hot rows (N, C); outputs that are not class scores
    are skipped.
    """

    def __init__(self, k=5, name=None):
        if k < 1:
            raise ValueError(f"TopKAccuracy needs k >= 1, got {k}")
        self.k = k
        super().__init__(name or f"top{k}_accuracy")

    def update(self, output, target):
        output = as_array(output)
        if not has_class_scores(output):
            return
        num_correct(output, target)  # checks the shapes (and names the fix) before counting
        target = labels(target)
        k = min(self.k, output.shape[1])
        # the target is in the top k when fewer than k classes score strictly higher than it
        target_scores = np.take_along_axis(output, target[:, None], axis=1)
        higher = np.count_nonzero(output > target_scores, axis=1)
        self.add(np.count_nonzero(higher < k), len(output))


_TOP_K = re.compile(r"top_?(\d+|k)_accuracy")


def get(metric):
    """The metric object for ``metric``: a Metric is returned as it is; a name makes a new one —
    ``"accuracy"``, ``"top5_accuracy"`` / ``"top_5_accuracy"`` (any k), ``"top_k_accuracy"`` (k=5)."""
    if isinstance(metric, Metric):
        return metric
    if metric == "accuracy":
        return Accuracy()
    match = _TOP_K.fullmatch(metric) if isinstance(metric, str) else None
    if match:
        return TopKAccuracy(5 if match.group(1) == "k" else int(match.group(1)))
    raise ValueError(f"unknown metric {metric!r}; give a Metric object or one of 'accuracy', 'top5_accuracy' "
                     "(any k), 'top_k_accuracy'")
