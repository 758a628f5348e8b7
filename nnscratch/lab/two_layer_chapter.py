"""The ending of *Deep Learning from Scratch*, ch. 4 (``ch04/train_neuralnet.py``): the book's
TwoLayerNet trained by mini-batch SGD, with its figure of train and test accuracy per epoch.

- the network: 784-50-10, sigmoid, weights N(0, 0.01²), zero biases, float64 (``two_layer_net``);
- each iteration: a mini-batch of 100 images drawn *with replacement*
  (``np.random.choice(train_size, batch_size)``, as the book does), loss
  ``cross_entropy_error(softmax(y), t)``, one SGD step w ← w - 0.1 ∂L/∂w;
- an epoch is train_size / batch_size iterations: 60,000 / 100 = 600 on all of MNIST, the
  number of steps that would see as many images as the training set holds;
- as in the book, the accuracy on the whole training set and on the test set is measured each
  time an epoch's worth of iterations has run (at iterations 0, 600, 1,200, ...: the first point
  is after one step), so 10,000 iterations give 17 points.

The two curves rise together and stay within a point or two of each other: this network does
not over-fit, which the book remarks on its figure. By default a tenth of the book's run, which
takes seconds: 6,000 training images (60 iterations per epoch), 1,000 iterations, the same 17
points, about 86% test accuracy; ``full=True`` is the book's run (60,000 images, 10,000
iterations, under two minutes, about 94.4% test accuracy, as the book's own code reaches).
"""

import numpy as np

from .. import functional as F
from .. import optim
from ..tensor import tensor
from .backprop_vs_numerical import two_layer_net
from .base import Result, mnist_subset
from .how_a_network_learns import accuracy

TITLE = "the book's ch. 4 ending: TwoLayerNet by mini-batch SGD, train and test accuracy per 600-iteration epoch"


def run(seed=0, full=False, n_train=None, n_test=10_000, iterations=None, batch_size=100, lr=0.1):
    """Train TwoLayerNet for ``iterations`` (default 1,000; 10,000 with ``full``) SGD steps on
    ``n_train`` MNIST images (default 6,000; 60,000 with ``full``), testing on ``n_test``.
    numbers: "iterations_per_epoch" (n_train // batch_size), "epochs" (evaluations), "iterations",
    "n_train", "n_test", "train_acc" and "test_acc" (one per epoch, the book's lists),
    "loss" (the mini-batch loss of every iteration), "final_train_acc", "final_test_acc"."""
    n_train = n_train or (60_000 if full else 6_000)
    iterations = iterations or (10_000 if full else 1_000)
    x, t, x_test, t_test = mnist_subset(n_train, n_test, seed)
    x, x_test = x.astype(np.float64), x_test.astype(np.float64)   # the book's dtype, as the network's
    per_epoch = max(n_train // batch_size, 1)
    model = two_layer_net(50, seed)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    losses, train_acc, test_acc = [], [], []
    for i in range(iterations):
        batch = rng.choice(n_train, batch_size)
        loss = F.cross_entropy(model(tensor(x[batch])), t[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if i % per_epoch == 0:
            train_acc.append(accuracy(model, x, t))
            test_acc.append(accuracy(model, x_test, t_test))

    numbers = {"iterations_per_epoch": per_epoch, "epochs": len(train_acc), "iterations": iterations,
               "n_train": n_train, "n_test": n_test, "batch_size": batch_size, "lr": lr,
               "train_acc": train_acc, "test_acc": test_acc, "loss": losses,
               "final_train_acc": train_acc[-1], "final_test_acc": test_acc[-1]}
    lines = [f"TwoLayerNet 784-50-10, SGD lr {lr:g}, batches of {batch_size} drawn with replacement from "
             f"{n_train:,} images: an epoch is {n_train:,} / {batch_size} = {per_epoch} iterations; "
             f"{iterations:,} iterations.", "epoch   train acc   test acc"]
    lines += [f"{e:5d}   {a:9.4f}   {b:8.4f}" for e, (a, b) in enumerate(zip(train_acc, test_acc))]
    gap = train_acc[-1] - test_acc[-1]
    lines.append(f"after the last epoch: train {train_acc[-1]:.2%}, test {test_acc[-1]:.2%} "
                 f"(gap {abs(gap) * 100:.1f} points: {'over-fitting' if gap > 0.03 else 'no over-fitting'})")

    def draw(fig):
        ax = fig.subplots()
        epochs = np.arange(len(train_acc))
        ax.plot(epochs, train_acc, marker="o", label="train acc")
        ax.plot(epochs, test_acc, marker="s", linestyle="--", label="test acc")
        ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0),
               title=f"TwoLayerNet on {n_train:,} MNIST images ({per_epoch} iterations per epoch)")
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)

    return Result("two-layer-chapter", numbers, "\n".join(lines), {"two_layer_chapter.png": draw})
