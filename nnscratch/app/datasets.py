"""The datasets a run trains on, as arrays: the MNIST family and the toy sets by name."""

import warnings
from dataclasses import dataclass

import numpy as np

from ..data import toy
from ..data.mnist import DATASETS as IMAGE_DATASETS
from ..data.mnist import load_mnist

TOY_DATASETS = {
    "xor": lambda seed: toy.logic_gate("XOR"), "and": lambda seed: toy.logic_gate("AND"),
    "or": lambda seed: toy.logic_gate("OR"), "nand": lambda seed: toy.logic_gate("NAND"),
    # noise 0.05: at the function's default 0.1 the arms overlap near the centre and no classifier passes ~88%
    "spirals": lambda seed: toy.spirals(n=1000, noise=0.05, seed=seed), "moons": lambda seed: toy.moons(n=1000, seed=seed),
    "circles": lambda seed: toy.circles(n=1000, seed=seed),
}

GATES = ("xor", "and", "or", "nand")

# How the default (mlp) preset trains a toy set, where MNIST's settings would not do: the gates' four
# points are all of the data (no validation split, one batch, a small tanh net, Adam 0.1); the 2-D
# sets of 1,000 points want a wider ReLU net without dropout, small batches and more epochs.
_GATE_SETTINGS = dict(hidden=[8], activation="tanh", dropout=0.0, lr=0.1, batch_size=4,
                      epochs=100, validation_split=0.0)
_PLANE_SETTINGS = dict(hidden=[128, 128], activation="relu", dropout=0.0, lr=1e-3,
                       batch_size=16, epochs=30, validation_split=0.1)
TOY_SETTINGS = {**{gate: _GATE_SETTINGS for gate in GATES}, "spirals": {**_PLANE_SETTINGS, "epochs": 100},
                "moons": _PLANE_SETTINGS, "circles": _PLANE_SETTINGS}


def toy_settings(name, model):
    """The settings the preset ``model`` trains the toy set ``name`` with, over the preset's own
    ({} for other datasets): all of TOY_SETTINGS for the default mlp preset; for another preset only
    what the data needs (the gates' four points leave none for validation)."""
    if name not in TOY_SETTINGS:
        return {}
    if model == "mlp":
        return dict(TOY_SETTINGS[name])
    return {"validation_split": 0.0} if name in GATES else {}


def dataset_names():
    """Every dataset ``nnscratch train`` accepts: the MNIST family, then the toy sets."""
    return list(IMAGE_DATASETS) + list(TOY_DATASETS)


@dataclass
class Data:
    """Train and test arrays of a dataset and its class names."""
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    classes: list

    @property
    def is_image(self):
        """Whether the samples are images (N, C, H, W)."""
        return self.x_train.ndim == 4


def load_data(name, limit=None, seed=0):
    """Train and test arrays of a dataset: MNIST family as (N, 1, 28, 28) float32 in [0, 1];
    toy sets as (N, 2) with a test set drawn with another seed (the gates' four points are both)."""
    if name in IMAGE_DATASETS:
        (x, t), (x_test, t_test) = load_mnist(flatten=False, name=name)
        classes = list(IMAGE_DATASETS[name].classes)
    elif name in TOY_DATASETS:
        x, t = TOY_DATASETS[name](seed)
        x_test, t_test = TOY_DATASETS[name](seed + 1)
        classes = [str(c) for c in range(int(t.max()) + 1)]
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}")
    if limit is not None:
        if limit < 1:
            raise ValueError(f"--limit must be at least 1, got {limit}")
        if limit > len(x):
            warnings.warn(f"--limit {limit:,} is more than the {len(x):,} training samples of {name}; "
                          f"training on all {len(x):,}", stacklevel=2)
        x, t = x[:limit], t[:limit]
    return Data(x, t, x_test, t_test, classes)
