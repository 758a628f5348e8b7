"""The run directory ``nnscratch train`` writes, and loading a trained model from it.

    config.json              the settings of the run
    history.csv/.json        per-epoch loss, accuracy, val_loss, val_accuracy, lr, time
    model.npz                the best checkpoint (by val_accuracy, or train loss without validation)
    last.npz                 the checkpoint after the last epoch (what --resume continues from)
    loss.png, accuracy.png   train and validation curves
    confusion.png            the test set's confusion matrix
    mistakes.png             misclassified test images with true and predicted labels
    filters.png, features.png               a CNN's first-layer filters and feature maps
    dbn.npz, pretrain.csv, rbm_filters.png, rbm_samples.png   a DBN's pre-training
    summary.txt              the run in words; its last line is the test accuracy
"""

import json
import os
import time

import numpy as np

from ..fileio import atomic_write_text
from ..tensor import Tensor
from ..train import load_checkpoint
from ..train.history import History
from .architectures import build_model

CONFIG, MODEL, LAST, SUMMARY = "config.json", "model.npz", "last.npz", "summary.txt"
HISTORY_CSV, HISTORY_JSON = "history.csv", "history.json"
DBN, PRETRAIN_CSV = "dbn.npz", "pretrain.csv"
LOSS_PLOT, ACCURACY_PLOT, CONFUSION_PLOT, MISTAKES_PLOT = "loss.png", "accuracy.png", "confusion.png", "mistakes.png"
FILTERS_PLOT, FEATURES_PLOT = "filters.png", "features.png"
RBM_FILTERS_PLOT, RBM_SAMPLES_PLOT = "rbm_filters.png", "rbm_samples.png"
DECISION_PLOT = "decision.png"  # 2-D toy sets: the predicted class over the plane

# The files a finished run lists, in this order, when they exist.
LISTED = (MODEL, LAST, HISTORY_CSV, LOSS_PLOT, ACCURACY_PLOT, CONFUSION_PLOT, DECISION_PLOT, MISTAKES_PLOT,
          FILTERS_PLOT, FEATURES_PLOT, RBM_FILTERS_PLOT, RBM_SAMPLES_PLOT, SUMMARY)


def default_run_dir(dataset=None, model=None):
    """runs/DATASET-MODEL-TIME (mnist and mlp when not given), named by the local clock."""
    return os.path.join("runs", f"{dataset or 'mnist'}-{model or 'mlp'}-{time.strftime('%Y%m%d-%H%M%S')}")


def write_json(path, obj):
    """``obj`` as indented JSON at ``path``, written atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def model_path(run_dir_or_model):
    """The checkpoint file of a run directory (its model.npz), or the file itself."""
    path = os.fspath(run_dir_or_model)
    if os.path.isdir(path):
        path = os.path.join(path, MODEL)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model at {path}: give a run directory (with model.npz) or a .npz checkpoint")
    return path


def load_model(run_dir_or_model):
    """(network in eval mode, config) from a run directory or checkpoint written by ``train_run``."""
    path = model_path(run_dir_or_model)
    checkpoint = load_checkpoint(path)
    config = checkpoint.get("config") or {}
    if not isinstance(config, dict) or not isinstance(config.get("net"), dict):
        raise ValueError(f"{path} has no network description (config['net']); it was not written by nnscratch train")
    try:
        network = build_model(config["net"])
    except (TypeError, ValueError, KeyError, IndexError) as e:  # a description this version cannot build
        raise ValueError(f"{path}: its network description cannot be built ({type(e).__name__}: {e}); "
                         "it was written by another nnscratch version or is damaged") from None
    load_weights(network, checkpoint["model"], path)
    return network.eval(), config


def load_weights(network, state, path):
    """Load the model state ``state`` read from checkpoint ``path`` into ``network``, after checking
    what ``load_state_dict`` lets through (it casts dtypes and copies any value, as PyTorch's does):
    every entry must be a numeric array of the network's kind of dtype (floating point for weights
    and running statistics, integer for counters) with only finite values. Missing or unexpected
    entries and shape mismatches are refused too; every error names ``path`` and the entry."""
    if not isinstance(state, dict):
        raise ValueError(f"{path}: its model state is a {type(state).__name__}, not a dict of arrays; "
                         "the checkpoint is damaged (use an intact copy or train again)")
    own = network.state_dict()
    problems = []
    for key, value in state.items():
        if key not in own:
            continue  # reported by load_state_dict with the other missing and unexpected keys
        array = value.data if isinstance(value, Tensor) else value
        expected = np.dtype(own[key].dtype)
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
            problems.append(f"{key} is {type(array).__name__ if not isinstance(array, np.ndarray) else array.dtype}, "
                            "not an array of numbers")
        elif np.issubdtype(expected, np.floating) != np.issubdtype(array.dtype, np.floating):
            problems.append(f"{key} is {array.dtype} but the network needs {expected}")
        elif array.dtype.kind == "f" and not np.isfinite(array).all():
            bad = int(array.size - np.isfinite(array).sum())
            problems.append(f"{key} holds {bad:,} NaN or infinite value{'s' if bad > 1 else ''} of {array.size:,}")
    if problems:
        raise ValueError(f"{path}: the model state is unusable: {'; '.join(problems)}. The file is damaged or "
                         "was saved from a diverged run; use another checkpoint (e.g. an earlier run) or train again")
    try:
        network.load_state_dict(state)
    except (KeyError, ValueError) as e:
        message = e.args[0] if e.args else str(e)
        raise ValueError(f"{path} does not fit the network its config describes: {message}") from None


def history_of(run_dir_or_model):
    """The History stored in a checkpoint."""
    return History.from_dict(load_checkpoint(model_path(run_dir_or_model))["history"])
