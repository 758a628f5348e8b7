"""How a network learns (the gradient-descent lesson after 3Blue1Brown's "Gradient descent, how neural networks learn").

The network of the seed: 784 pixels - 16 - 16 - 10 outputs, sigmoid everywhere, 13,002 weights
and biases (784·16 + 16 + 16·16 + 16 + 16·10 + 10). Its cost for one image is the seed's
Σ_k (a_k - y_k)² (output minus the wanted one-hot output, squared, summed over the 10
outputs), averaged over the training images. Training is gradient descent on that cost: every
step moves all 13,002 numbers a little along the negative gradient, here computed by backprop
on mini-batches of 10 (SGD, lr 3, as in Nielsen's book on which the video is based; the step
uses ½ of the cost, ``sum_squares_error``, whose gradient is half as large).

The demo prints the cost falling and the accuracy reached, and draws what each of the 16 first
hidden units "looks for": its 784 incoming weights as a 28x28 image (blue negative, red
positive), and each unit's mean activation on the test images of each digit. As the video the
seed follows shows, they look far less like clean strokes or edges than one might hope: the
network found *a* low point of the cost, not a human-readable decomposition of digits.
"""

import numpy as np

from .. import backend, nn, optim
from .. import functional as F
from ..data import DataLoader, TensorDataset
from ..tensor import no_grad
from .base import Result, mnist_subset

TITLE = "the seed's 784-16-16-10 sigmoid network: cost falling, accuracy, what hidden units look for"


def network():
    """784-16-16-10 with a sigmoid after every layer (outputs in (0, 1), like the video's)."""
    return nn.Sequential(nn.MLP([784, 16, 16, 10], activation="sigmoid", init="xavier"), nn.Sigmoid())


def seed_cost(model, x, t):
    """The seed's cost: mean over images of Σ_k (a_k - y_k)², y the one-hot label."""
    with no_grad():
        return 2 * F.sum_squares_error(model(x), t).item() / len(x)


def accuracy(model, x, t):
    """The fraction of images whose largest output is at the label."""
    with no_grad():
        return float((model(x).data.argmax(axis=1) == t).mean())


def run(seed=0, full=False, n_train=None, n_test=None, epochs=None, lr=3.0, batch_size=10, points_per_epoch=5):
    """Train on ``n_train`` images (default 10,000; 60,000 with ``full``) for ``epochs`` (default 3;
    30 with ``full``), testing on ``n_test`` (default 2,000; 10,000 with ``full``). numbers:
    "parameters", "cost" [seed cost on the training images, measured about ``points_per_epoch`` times
    per epoch, from before training], "cost_epochs" (when), "epoch_cost" (after each epoch),
    "initial_cost", "final_cost",
    "test_accuracy" (per epoch), "final_accuracy", "weight_images" (16, 28, 28),
    "class_response" (16, 10): each first-layer unit's mean activation on test images of each digit."""
    n_train = n_train or (60_000 if full else 10_000)
    n_test = n_test or (10_000 if full else 2_000)
    epochs = epochs or (30 if full else 3)
    x, t, x_test, t_test = mnist_subset(n_train, n_test, seed)
    backend.manual_seed(seed)
    model = network()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(x, t), batch_size=batch_size, shuffle=True)
    probe = slice(0, min(n_train, 5000))   # the cost is tracked on (up to) 5,000 training images
    every = max(1, len(loader) // points_per_epoch)
    cost, when, epoch_cost, test_acc = [seed_cost(model, x[probe], t[probe])], [0.0], [], []
    for epoch in range(epochs):
        for k, (xb, tb) in enumerate(loader, 1):
            loss = F.sum_squares_error(model(xb), tb) / len(tb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if k % every == 0 or k == len(loader):
                cost.append(seed_cost(model, x[probe], t[probe]))
                when.append(epoch + k / len(loader))
        epoch_cost.append(cost[-1])
        test_acc.append(accuracy(model, x_test, t_test))

    first = model[0][0]
    weights = first.weight.data.reshape(16, 28, 28).copy()
    with no_grad():
        hidden = first(x_test).sigmoid().data
    class_response = np.stack([hidden[t_test == c].mean(axis=0) for c in range(10)], axis=1)
    numbers = {"parameters": model.num_parameters(), "cost": cost, "cost_epochs": when, "epoch_cost": epoch_cost,
               "initial_cost": cost[0],
               "final_cost": cost[-1], "test_accuracy": test_acc, "final_accuracy": test_acc[-1],
               "weight_images": weights, "class_response": class_response, "n_train": n_train,
               "n_test": n_test, "epochs": epochs, "lr": lr, "batch_size": batch_size}
    favourite = class_response.argmax(axis=1)
    lines = [f"784-16-16-10 sigmoid network, {numbers['parameters']:,} weights and biases; cost = mean over images "
             f"of Σ(output - wanted)²; SGD lr {lr}, batches of {batch_size}, {n_train} images, {epochs} epochs.",
             f"cost: {cost[0]:.3f} before training -> " + " -> ".join(f"{c:.3f}" for c in epoch_cost)
             + " (after each epoch)",
             "test accuracy after each epoch: " + ", ".join(f"{a:.1%}" for a in test_acc),
             "digit each first-layer unit responds to most (mean activation): "
             + " ".join(str(d) for d in favourite)]

    def draw_cost(fig):
        fig.set_size_inches(10, 4)
        ax1, ax2 = fig.subplots(1, 2)
        ax1.plot(when, cost, ".-")
        ax1.set(xlabel="epoch", ylabel="cost: mean Σ(a - y)²", title="the cost falls")
        ax2.plot(np.arange(1, epochs + 1), test_acc, "o-", color="C1")
        ax2.set(xlabel="epoch", ylabel="test accuracy", title=f"accuracy reached: {test_acc[-1]:.1%}")
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)
        fig.tight_layout()

    def draw_weights(fig):
        fig.set_size_inches(8, 8.6)
        axes = fig.subplots(4, 4).ravel()
        for i, ax in enumerate(axes):
            limit = np.abs(weights[i]).max()
            ax.imshow(weights[i], cmap="bwr", vmin=-limit, vmax=limit)
            ax.set_title(f"unit {i + 1} (likes {favourite[i]})", fontsize=9)
            ax.axis("off")
        fig.suptitle("what the 16 first hidden units look for: their weights (red +, blue -)")
        fig.tight_layout()

    def draw_response(fig):
        ax = fig.subplots()
        image = ax.imshow(class_response, cmap="viridis", aspect="auto")
        ax.set(xlabel="digit", ylabel="first-layer hidden unit", xticks=range(10),
               yticks=range(16), yticklabels=range(1, 17), title="mean activation of each unit per digit (test images)")
        fig.colorbar(image, ax=ax)

    return Result("how-a-network-learns", numbers, "\n".join(lines),
                  {"network_cost.png": draw_cost, "hidden_weights.png": draw_weights,
                   "hidden_response.png": draw_response})
