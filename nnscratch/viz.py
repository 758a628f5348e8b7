"""Plots of training runs: curves, confusion matrix, decision regions, image grids. matplotlib is
imported here, when a plot is drawn, never at ``import nnscratch``; figures are drawn with the Agg
backend and written atomically. Each ``*_figure`` returns the figure its ``plot_*`` saves."""

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


def curves_figure(series, ylabel, title=None, xlabel="epoch", best=None):
    """The figure of ``plot_curves``: epochs 1, 2, ... on integer ticks (a one-epoch run is a point in
    the middle of [0.5, 1.5]), and ``best``, the epoch whose weights were saved, marked by a line."""
    from matplotlib.ticker import MaxNLocator
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = 0
    for name, values in series.items():
        values = [v for v in values if v is not None]
        if values:
            epochs = max(epochs, len(values))
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3 if len(values) > 1 else 6,
                    label=name)
    if best is not None:
        ax.axvline(best, color="0.4", linestyle="--", linewidth=1, label=f"saved model (epoch {best})")
    ax.set_xlim(0.5, max(epochs, 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_curves(series, path, ylabel, title=None, xlabel="epoch", best=None):
    """Line plot of named series ({"train": [...], "validation": [...]}) per epoch, skipping empty
    ones; ``best`` marks the saved epoch (``curves_figure``)."""
    return save_figure(curves_figure(series, ylabel, title, xlabel, best), path)


def confusion_figure(cm, classes, title="confusion matrix (test set)"):
    """The figure of ``plot_confusion``: the counts, and beside them each row divided by its sum
    (the share of each true class given each prediction; the diagonal is per-class accuracy)."""
    plt = _pyplot()
    cm = np.asarray(cm)
    rows = cm.sum(axis=1, keepdims=True)
    normalised = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    fig, (counts, shares) = plt.subplots(1, 2, figsize=(13, 6))
    _confusion_panel(fig, counts, cm, classes, "counts", [str(n) for n in cm.ravel()])
    _confusion_panel(fig, shares, normalised, classes, "normalised per row (true class)",
                     [_share(v) for v in normalised.ravel()], vmax=1)
    fig.suptitle(title)
    return fig


def _share(v):
    """A share of a row as the confusion figure writes it: 0, <1%, 37%."""
    return "0" if v == 0 else "<1%" if v < 0.005 else f"{v:.0%}"


def _confusion_panel(fig, ax, values, classes, title, labels, vmax=None):
    """One confusion-matrix heat map with ``labels`` written in its cells."""
    im = ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax)
    fig.colorbar(im, ax=ax, fraction=0.046)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, [str(c) for c in classes], rotation=45, ha="right")
    ax.set_yticks(ticks, [str(c) for c in classes])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = (vmax if vmax is not None else values.max()) / 2 if values.size else 0
    for ((i, j), v), label in zip(np.ndenumerate(values), labels):
        ax.text(j, i, label, ha="center", va="center", fontsize=7, color="white" if v > threshold else "black")


def plot_confusion(cm, classes, path, title="confusion matrix (test set)"):
    """A confusion matrix, rows = true class, columns = predicted: counts, and normalised per row."""
    return save_figure(confusion_figure(cm, classes, title), path)


def decision_figure(grid_x, grid_y, grid_class, x, t, classes, title="decision regions"):
    """The class a model predicts over a grid of the plane (``grid_class[i, j]`` at ``(grid_x[j],
    grid_y[i])``) as coloured regions, with the points ``x`` (N, 2) of classes ``t`` on top."""
    plt = _pyplot()
    from matplotlib.colors import ListedColormap
    colours = plt.get_cmap("tab10").colors[:len(classes)]
    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.imshow(grid_class, origin="lower", extent=(grid_x[0], grid_x[-1], grid_y[0], grid_y[-1]), aspect="auto",
              cmap=ListedColormap(colours), vmin=-0.5, vmax=len(classes) - 0.5, alpha=0.35, interpolation="nearest")
    for k, name in enumerate(classes):
        ax.scatter(*x[t == k].T, s=12, color=colours[k], edgecolors="black", linewidths=0.3, label=f"class {name}")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    return fig


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


from .compgraph import draw_graph  # noqa: E402  (the computational-graph drawer, re-exported here)
