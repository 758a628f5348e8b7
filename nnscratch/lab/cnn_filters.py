"""What a CNN's first layer learns (the book's 7.6, ``visualize_filter.py``).

The book's SimpleConvNet (conv 30@5x5 - ReLU - max-pool 2 - fc 100 - ReLU - fc 10,
``models.simple_cnn``, first-layer filters drawn from N(0, 0.01²) as in the book) is trained
briefly on an MNIST subset. Its 30 first-layer filters start
as random noise and become smooth blob and edge detectors: neighbouring weights of a filter
become correlated. The demo measures that as the mean correlation between horizontally and
vertically adjacent weights of each filter (about 0 for noise), draws the filters before and
after training, and the 30 feature maps (the filters' responses, after ReLU) of one test digit.
"""

import numpy as np

from .. import backend, models, nn, optim
from .. import functional as F
from ..data import DataLoader, TensorDataset
from ..tensor import no_grad
from ..train import evaluate, fit
from .base import Result, mnist_subset

TITLE = "SimpleConvNet's 30 first-layer filters before and after training, and their feature maps"


def neighbour_correlation(filters):
    """Mean over filters of the correlation between each weight and its right and lower neighbour
    (filters (K, h, w)): about 0 for random noise, towards 1 for smooth patterns."""
    values = []
    for f in filters:
        pairs = [(f[:, :-1].ravel(), f[:, 1:].ravel()), (f[:-1, :].ravel(), f[1:, :].ravel())]
        a = np.concatenate([p[0] for p in pairs])
        b = np.concatenate([p[1] for p in pairs])
        values.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(values))


def run(seed=0, full=False, n_train=None, n_test=None, epochs=None, lr=1e-3, init_std=0.01):
    """Train SimpleConvNet (first-layer filters drawn from N(0, init_std²) as in the book) with
    Adam(lr), batch 100, on ``n_train`` images (default 3,000; 60,000 with ``full``) for ``epochs``
    (default 2; 5 with ``full``). numbers: "test_accuracy" (on ``n_test`` images, default 1,000;
    10,000 with ``full``), "filters_before" / "filters_after" (30, 5, 5),
    "smoothness_before" / "smoothness_after" (neighbour_correlation), "feature_maps" (30, 24, 24)
    of the first test image, "digit" (its label)."""
    n_train = n_train or (60_000 if full else 3_000)
    n_test = n_test or (10_000 if full else 1_000)
    epochs = epochs or (5 if full else 2)
    x, t, x_test, t_test = mnist_subset(n_train, n_test, seed, flatten=False)
    backend.manual_seed(seed)
    model = models.simple_cnn()
    conv = model[0]
    nn.init.normal_(conv.weight, 0.0, init_std)   # the book's weight_init_std: small noise to start from
    nn.init.zeros_(conv.bias)
    before = conv.weight.data[:, 0].copy()
    fit(model, DataLoader(TensorDataset(x, t), batch_size=100, shuffle=True), loss=F.cross_entropy,
        optimizer=optim.Adam(model.parameters(), lr=lr), epochs=epochs, verbose=False)
    after = conv.weight.data[:, 0].copy()
    test_accuracy = evaluate(model, DataLoader(TensorDataset(x_test, t_test), batch_size=500))["accuracy"]
    with no_grad():
        maps = conv(x_test[:1]).relu().data[0]
    numbers = {"test_accuracy": test_accuracy, "filters_before": before, "filters_after": after,
               "smoothness_before": neighbour_correlation(before), "smoothness_after": neighbour_correlation(after),
               "feature_maps": maps, "digit": int(t_test[0]), "n_train": n_train, "n_test": n_test,
               "epochs": epochs}
    lines = [f"SimpleConvNet (conv 30@5x5 - ReLU - pool - fc 100 - fc 10), Adam lr {lr}, {epochs} epochs on "
             f"{n_train} MNIST images: test accuracy {test_accuracy:.1%} ({n_test} images).",
             f"first-layer filters, mean correlation of neighbouring weights: {numbers['smoothness_before']:.3f} "
             f"at initialisation (noise) -> {numbers['smoothness_after']:.3f} after training (smooth blobs and "
             "edges)."]

    def draw_filters(fig):
        fig.set_size_inches(10, 6.5)
        top, bottom = fig.subfigures(2, 1)
        for sub, filters, title in ((top, before, "before training (random)"), (bottom, after, "after training")):
            axes = sub.subplots(3, 10).ravel()
            for f, ax in zip(filters, axes):
                ax.imshow(f, cmap="gray")
                ax.axis("off")
            sub.suptitle(f"{title}: neighbour correlation {neighbour_correlation(filters):.2f}")

    def draw_maps(fig):
        fig.set_size_inches(10, 4.5)
        axes = fig.subplots(3, 11).ravel()
        axes[0].imshow(x_test[0, 0], cmap="gray")
        axes[0].set_title(f"input ({numbers['digit']})", fontsize=8)
        for m, ax in zip(maps, axes[1:]):
            ax.imshow(m, cmap="gray")
        for ax in axes:
            ax.axis("off")
        fig.suptitle("the 30 feature maps of one test digit (after ReLU)")

    return Result("cnn-filters", numbers, "\n".join(lines),
                  {"cnn_filters.png": draw_filters, "cnn_feature_maps.png": draw_maps})
