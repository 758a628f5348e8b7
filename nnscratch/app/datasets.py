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
    "spirals": lambda seed: toy.spirals(n=1000, seed=seed), "moons": lambda seed: toy.moons(n=1000, seed=seed),
    "circles": lambda seed: toy.circles(n=1000, seed=seed),
}


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
