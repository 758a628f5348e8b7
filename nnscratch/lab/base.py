"""The shape every lab demo returns: numbers (what the report and the tests use), the report text,
and the figures as drawing functions, so that computing never needs matplotlib and drawing is
one call (``result.save(out_dir)``)."""

import os
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Result:
    """One demo's outcome.

    ``numbers``: every number the report and the tests use (floats, lists, small arrays).
    ``report``: the short text ``nnscratch lab NAME`` prints.
    ``figures``: ``{"file.png": draw}`` where ``draw(fig)`` draws on a fresh matplotlib ``Figure``
    (it may call ``fig.set_size_inches`` to change the default 8x5 inches).
    """

    name: str
    numbers: dict
    report: str
    figures: dict = field(default_factory=dict)

    def save(self, out_dir):
        """Draw every figure into ``out_dir`` (created if needed) as a PNG, written atomically;
        returns the paths in the order of ``figures``. matplotlib is imported here (Agg backend
        unless ``MPLBACKEND`` is set)."""
        from ..viz import _pyplot, save_figure

        plt = _pyplot()
        os.makedirs(out_dir, exist_ok=True)
        paths = []
        for filename, draw in self.figures.items():
            fig = plt.figure(figsize=(8, 5))
            try:
                draw(fig)
            except BaseException:
                plt.close(fig)
                raise
            paths.append(save_figure(fig, os.path.join(out_dir, filename)))
        return paths


def mnist_subset(n_train, n_test=0, seed=0, flatten=True):
    """``(x_train, t_train, x_test, t_test)``: ``n_train`` training and ``n_test`` test images of
    MNIST (from ``load_mnist``, pixels in [0, 1], float32) drawn without replacement by a
    generator seeded with ``seed``; images (N, 784), or (N, 1, 28, 28) with ``flatten=False``.
    Used by the lab's MNIST demos."""
    from ..data import load_mnist
    (x, t), (xt, tt) = load_mnist(normalize=True, flatten=flatten)
    rng = np.random.default_rng(seed)
    i = np.sort(rng.choice(len(x), n_train, replace=False))
    j = np.sort(rng.choice(len(xt), n_test, replace=False))
    return x[i], t[i], xt[j], tt[j]
