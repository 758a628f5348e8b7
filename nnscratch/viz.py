"""Plots of training runs: curves, confusion matrix, image grids. matplotlib is imported here,
when a plot is drawn, never at ``import nnscratch``; figures are drawn with the Agg backend and
written atomically."""

import os

import numpy as np

from .fileio import atomic_write


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'nnscratch[plot]'") from None
    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path):
    """Write ``fig`` to ``path`` as a PNG, atomically, then close it."""
    plt = _pyplot()
    try:
        with atomic_write(path) as f:
            fig.savefig(f, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    return os.fspath(path)


def plot_curves(series, path, ylabel, title=None, xlabel="epoch"):
    """Line plot of named series ({"train": [...], "validation": [...]}), skipping empty ones."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in series.items():
        values = [v for v in values if v is not None]
        if values:
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def plot_confusion(cm, classes, path, title="confusion matrix (test set)"):
    """A confusion matrix, rows = true class, columns = predicted, with counts in the cells."""
    plt = _pyplot()
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, [str(c) for c in classes], rotation=45, ha="right")
    ax.set_yticks(ticks, [str(c) for c in classes])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = cm.max() / 2 if cm.size else 0
    for (i, j), n in np.ndenumerate(cm):
        ax.text(j, i, str(n), ha="center", va="center", fontsize=7, color="white" if n > threshold else "black")
    return save_figure(fig, path)


def plot_image_grid(images, path, titles=None, cols=8, cmap="gray", title=None, symmetric=False):
    """Images (an (N, H, W) array, or a list of 2-D arrays of any sizes) in a grid with optional
    per-image titles; ``symmetric`` centres the colour scale on 0 (for weights and filters)."""
    plt = _pyplot()
    n = len(images)
    cols = max(1, min(cols, n))
    rows = max(1, int(np.ceil(n / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.6 * rows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= n:
            continue
        image = np.asarray(images[k])
        if symmetric:
            m = np.abs(image).max() or 1
            ax.imshow(image, cmap="RdBu_r", vmin=-m, vmax=m)
        else:
            ax.imshow(image, cmap=cmap)
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
