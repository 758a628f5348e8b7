"""What an RBM learns without labels (``nn.RBM``; the unsupervised pre-training of the PyTorch textbook chapter).

A restricted Boltzmann machine with 784 binary visible units (the pixels of binarised MNIST
digits) and ``n_hidden`` hidden units is trained by contrastive divergence (CD-1) on images
alone. Each hidden unit's 784 weights become a feature detector, drawn as a 28x28 image: pen
strokes and blob parts of digits. The demo measures

- the reconstruction error Σ_i (v_i - v̂_i)² of test digits (v → p(h|v) → mean of p(v|h))
  before and after training (``RBM.reconstruction_error``), and the pseudo-likelihood;
- how smooth the weight images are: the mean correlation of neighbouring weights (0 for the
  random initial weights; see ``lab.cnn_filters.neighbour_correlation``);
- whether the features are useful: a softmax classifier on the hidden probabilities
  ``RBM.transform(x)`` against the same classifier on the raw pixels, trained on a few
  labelled images.
"""

import numpy as np

from .. import backend, nn, optim
from .. import functional as F
from ..tensor import no_grad
from .base import Result, mnist_subset
from .cnn_filters import neighbour_correlation

TITLE = "an RBM trained by contrastive divergence: its features, reconstructions, and their use for classification"


def softmax_accuracy(x, t, x_test, t_test, seed, epochs=100, lr=0.5):
    """Test accuracy of softmax regression (one Linear layer, full-batch gradient descent) trained
    on (x, t); the probe of how linearly useful a representation is."""
    backend.manual_seed(seed)
    model = nn.Linear(x.shape[1], 10)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = F.cross_entropy(model(x), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with no_grad():
        return float((model(x_test).data.argmax(axis=1) == t_test).mean())


def run(seed=0, full=False, n_train=None, n_test=1000, n_hidden=100, epochs=None, lr=0.05, n_labelled=500):
    """Train RBM(784, ``n_hidden``) with CD-1 (batch 20, momentum 0.5) on ``n_train`` binarised
    images (default 5,000; 60,000 with ``full``) for ``epochs`` (default 5; 20 with ``full``).
    numbers: "reconstruction_error_before" / "_after" (test images), "reconstruction_history"
    (per epoch, training images), "pseudo_likelihood_before" / "_after" (mean, test),
    "smoothness_before" / "_after", "accuracy_features" / "accuracy_pixels" (softmax regression
    on ``n_labelled`` labelled images), "weights" (n_hidden, 28, 28)."""
    n_train = n_train or (60_000 if full else 5_000)
    epochs = epochs or (20 if full else 5)
    x, t, x_test, t_test = mnist_subset(n_train, n_test, seed)
    x, x_test = (x > 0.5).astype(np.float32), (x_test > 0.5).astype(np.float32)   # binary pixels
    backend.manual_seed(seed)
    rbm = nn.RBM(784, n_hidden)
    weights_before = rbm.weight.data.reshape(n_hidden, 28, 28).copy()
    before = {"error": rbm.reconstruction_error(x_test),
              "pl": float(rbm.pseudo_likelihood(x_test, random_state=seed).mean())}
    history = rbm.fit(x, epochs=epochs, batch_size=20, lr=lr, k=1, momentum=0.5)
    weights = rbm.weight.data.reshape(n_hidden, 28, 28).copy()
    labelled = slice(0, n_labelled)
    acc_features = softmax_accuracy(rbm.transform(x[labelled]), t[labelled], rbm.transform(x_test), t_test, seed)
    acc_pixels = softmax_accuracy(x[labelled], t[labelled], x_test, t_test, seed)
    numbers = {"reconstruction_error_before": before["error"], "reconstruction_error_after":
               rbm.reconstruction_error(x_test),
               "reconstruction_history": [row["reconstruction_error"] for row in history],
               "pseudo_likelihood_before": before["pl"],
               "pseudo_likelihood_after": float(rbm.pseudo_likelihood(x_test, random_state=seed).mean()),
               "smoothness_before": neighbour_correlation(weights_before),
               "smoothness_after": neighbour_correlation(weights),
               "accuracy_features": acc_features, "accuracy_pixels": acc_pixels, "weights": weights,
               "n_train": n_train, "n_hidden": n_hidden, "epochs": epochs, "n_labelled": n_labelled}
    lines = [f"RBM 784-{n_hidden}, CD-1, lr {lr}, {epochs} epochs on {n_train} binarised MNIST images (no labels).",
             f"reconstruction error of {n_test} test digits: {numbers['reconstruction_error_before']:.1f} before -> "
             f"{numbers['reconstruction_error_after']:.1f} after (per epoch on training images: "
             + ", ".join(f"{e:.1f}" for e in numbers["reconstruction_history"]) + ")",
             f"pseudo-likelihood: {numbers['pseudo_likelihood_before']:.1f} -> {numbers['pseudo_likelihood_after']:.1f}"
             f"; weight images' neighbour correlation: {numbers['smoothness_before']:.3f} -> "
             f"{numbers['smoothness_after']:.3f} (noise -> strokes)",
             f"softmax regression on {n_labelled} labelled images: {acc_features:.1%} on the {n_hidden} RBM features, "
             f"{acc_pixels:.1%} on the 784 raw pixels."]

    def draw_weights(fig):
        shown = min(n_hidden, 100)
        cols = 10
        rows = -(-shown // cols)
        fig.set_size_inches(8, 0.85 * rows + 0.6)
        axes = fig.subplots(rows, cols).ravel()
        for i, ax in enumerate(axes):
            if i < shown:
                limit = np.abs(weights[i]).max()
                ax.imshow(weights[i], cmap="bwr", vmin=-limit, vmax=limit)
            ax.axis("off")
        fig.suptitle(f"RBM hidden units: their weights (red +, blue -), after {epochs} epochs of CD-1")

    def draw_reconstructions(fig):
        fig.set_size_inches(8, 2.2)
        axes = fig.subplots(2, 10)
        recon = rbm.reconstruct(x_test[:10])
        for i in range(10):
            axes[0, i].imshow(x_test[i].reshape(28, 28), cmap="gray")
            axes[1, i].imshow(recon[i].reshape(28, 28), cmap="gray")
            for ax in axes[:, i]:
                ax.axis("off")
        fig.suptitle("test digits (top) and the RBM's reconstructions (bottom)")

    return Result("rbm-features", numbers, "\n".join(lines),
                  {"rbm_weights.png": draw_weights, "rbm_reconstructions.png": draw_reconstructions})
