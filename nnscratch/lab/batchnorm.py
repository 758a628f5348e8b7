"""Batch normalisation: training curves with and without it (the introduction to neural networks,
2.3; *Deep Learning from Scratch*, 6.3).

The book's experiment (``batch_norm_test.py``): a 784-100x5-10 ReLU network trained with SGD
(lr 0.01, batch 100) on 1,000 MNIST images for 20 epochs, its weights drawn from N(0, s²) for
several scales s, once plain and once with ``BatchNorm1d`` between each Linear layer and its
ReLU. Batch norm re-centres and re-scales every hidden layer's pre-activations over the batch,
x̂ = (x - mean) / sqrt(var + eps), y = γ x̂ + β, so the signal reaching the next layer has the
same spread whatever the weights' scale: the network learns quickly with tiny or huge initial
weights, where the plain network barely learns (signals vanish, s = 0.01) or blows up (s = 1).
"""

import numpy as np

from .. import backend, nn, optim
from .. import functional as F
from ..data import DataLoader, TensorDataset
from ..train import evaluate
from .base import Result, mnist_subset

TITLE = "training curves with and without batch normalisation, for several weight scales"


def train_curve(x, t, scale, batchnorm, epochs, lr, seed):
    """Training accuracy (eval mode, on all of x) after each epoch of SGD on 784-100x5-10 ReLU with
    N(0, scale²) weights, with or without batch norm; a list of epochs + 1 values (the first is
    before training). A loss that overflows leaves nan weights, whose accuracy is chance."""
    backend.manual_seed(seed)
    model = nn.MLP([784] + [100] * 5 + [10], activation="relu", init=scale, batchnorm=batchnorm)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(x, t), batch_size=100, shuffle=True)
    everything = DataLoader(TensorDataset(x, t), batch_size=len(x))
    curve = [evaluate(model, everything)["accuracy"]]
    with np.errstate(all="ignore"):  # the plain network with large weights overflows on purpose
        for _ in range(epochs):
            for xb, tb in loader:
                loss = F.cross_entropy(model(xb), tb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            curve.append(evaluate(model, everything)["accuracy"])
    return curve


def run(seed=0, full=False, scales=None, n_train=1000, epochs=20, lr=0.01):
    """Train with and without batch norm for each weight scale (default 1, 0.1, 0.01, 0.001; the
    book's 16 scales from 1 to 1e-4 with ``full``). numbers: "scales", "with_bn" / "without_bn"
    {scale: [train accuracy before training and after each epoch]}, "final_with_bn",
    "final_without_bn" (lists in the order of scales)."""
    scales = list(scales or (np.logspace(0, -4, 16) if full else (1.0, 0.1, 0.01, 0.001)))
    x, t, _, _ = mnist_subset(n_train, 0, seed)
    with_bn = {s: train_curve(x, t, s, True, epochs, lr, seed) for s in scales}
    without_bn = {s: train_curve(x, t, s, False, epochs, lr, seed) for s in scales}
    numbers = {"scales": [float(s) for s in scales], "with_bn": with_bn, "without_bn": without_bn,
               "final_with_bn": [with_bn[s][-1] for s in scales],
               "final_without_bn": [without_bn[s][-1] for s in scales],
               "n_train": n_train, "epochs": epochs, "lr": lr}
    lines = [f"784-100x5-10 ReLU, SGD lr {lr}, batch 100, {n_train} MNIST images, {epochs} epochs; weights "
             "N(0, s²). Training accuracy:",
             f"{'s':>8s} {'with BN, epoch 5':>17s} {'final':>6s} {'without BN, epoch 5':>20s} {'final':>6s}"]
    for s in scales:
        lines.append(f"{s:8.4g} {with_bn[s][min(5, epochs)]:17.3f} {with_bn[s][-1]:6.3f} "
                     f"{without_bn[s][min(5, epochs)]:20.3f} {without_bn[s][-1]:6.3f}")
    stuck_plain = [f"{s:.4g}" for s in scales if without_bn[s][-1] < 0.2]
    stuck_bn = [f"{s:.4g}" for s in scales if with_bn[s][-1] < 0.2]
    lines.append(f"Still at chance (train accuracy < 0.2) after {epochs} epochs: without batch norm at s = "
                 f"{', '.join(stuck_plain) or 'none'} (signals explode or vanish layer by layer); with it at s = "
                 f"{', '.join(stuck_bn) or 'none'}.")

    def draw(fig):
        cols = min(4, len(scales))
        rows = -(-len(scales) // cols)
        fig.set_size_inches(3.2 * cols, 2.8 * rows)
        axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel()
        for ax, s in zip(axes, scales):
            ax.plot(with_bn[s], label="batch norm", color="C0")
            ax.plot(without_bn[s], "--", label="plain", color="C1")
            ax.set(title=f"weight std {s:.4g}", ylim=(0, 1.02))
            ax.grid(alpha=0.3)
        for ax in axes[len(scales):]:
            ax.axis("off")
        axes[0].legend(loc="lower right", fontsize=8)
        axes[0].set_ylabel("train accuracy")
        axes[min(len(scales), len(axes)) - 1].set_xlabel("epoch")
        fig.tight_layout()

    return Result("batchnorm", numbers, "\n".join(lines), {"batchnorm.png": draw})
