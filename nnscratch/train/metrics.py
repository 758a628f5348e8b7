"""Classification metrics on whole batches (vectorised; no per-sample Python loops)."""

import numpy as np

from ..tensor import Tensor


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def has_class_scores(output):
    """True when ``output`` looks like class scores, shape (N, C) with C >= 2."""
    return output.ndim == 2 and output.shape[1] >= 2


def labels(x):
    """Class indices from class scores (N, C) (the argmax of each row) or from labels (N,)."""
    x = _array(x)
    return x.argmax(axis=1) if x.ndim == 2 else x.astype(np.int64, copy=False)


def num_correct(output, targets):
    """The number of rows whose largest score is at the target class.

    ``output``: logits or probabilities (N, C); ``targets``: integer labels (N,) or one-hot (N, C).
    """
    output, targets = _array(output), _array(targets)
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
    return num_correct(logits_or_probs, targets) / len(_array(targets))


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
