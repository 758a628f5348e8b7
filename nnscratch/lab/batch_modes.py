"""Batch gradient descent vs stochastic vs mini-batch, on the same problem (the PyTorch textbook chapter, 4.2.3).

Softmax regression (one Linear 784→10 layer, cross-entropy, a convex loss) on ``n_train`` MNIST
images, plain SGD with the same learning rate for all three; only the batch size differs:

- batch GD: batch = all N images, one update per epoch, the exact gradient;
- SGD: batch = 1, N updates per epoch, each from one random image (noisy);
- mini-batch: batch = 32, N/32 updates per epoch: an averaged, vectorised gradient.

After every epoch the loss on the whole training subset is recorded with the wall time spent
training so far (evaluation time excluded), so the loss can be plotted against epochs and
against seconds. Per epoch, batch GD makes the least progress; per second, mini-batch wins,
because a batch of 32 costs about as much as one image (the work is one matrix product).
"""

import time

from .. import backend, nn, optim
from .. import functional as F
from ..data import DataLoader, TensorDataset
from ..tensor import no_grad
from .base import Result, mnist_subset

TITLE = "batch GD vs SGD vs mini-batch: loss against epochs and against wall time"


def full_loss(model, x, t):
    """The mean cross-entropy of ``model`` over all of ``x`` (no graph)."""
    with no_grad():
        return F.cross_entropy(model(x), t).item()


def train_mode(x, t, batch_size, epochs, lr, seed, points_per_epoch=10):
    """Train a fresh softmax regression with SGD(lr) on (x, t) in shuffled batches of
    ``batch_size``. The loss on all of x is measured before training and then about
    ``points_per_epoch`` times per epoch (at most once per update). Returns {"epoch": [fractional
    epochs of each measurement], "loss": [...], "time": [training seconds so far], "updates":
    updates per epoch, "us_per_image": training microseconds per image}."""
    backend.manual_seed(seed)
    model = nn.Linear(x.shape[1], 10)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(x, t), batch_size=batch_size, shuffle=True)
    updates = len(loader)
    every = max(1, -(-updates // points_per_epoch))
    out = {"epoch": [0.0], "loss": [full_loss(model, x, t)], "time": [0.0], "updates": updates}
    elapsed = 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        for k, (xb, tb) in enumerate(loader, 1):
            loss = F.cross_entropy(model(xb), tb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if k % every == 0 or k == updates:
                elapsed += time.perf_counter() - start
                out["epoch"].append(epoch + k / updates)
                out["loss"].append(full_loss(model, x, t))
                out["time"].append(elapsed)
                start = time.perf_counter()
    out["us_per_image"] = elapsed / (epochs * len(x)) * 1e6
    return out


def time_to_reach(curve, target):
    """The training time at the first measurement with loss <= target (None if never)."""
    hits = [s for s, v in zip(curve["time"], curve["loss"]) if v <= target]
    return hits[0] if hits else None


def run(seed=0, full=False, n_train=None, epochs=None, lr=0.1, minibatch=32, target=0.5):
    """Train the three modes on ``n_train`` images (default 1,000; 10,000 with ``full``) for
    ``epochs`` (default 10). numbers[mode] = {"epoch", "loss", "time", "updates", "us_per_image",
    "batch_size", "loss_after_1_epoch", "final_loss", "time_to_target"} where time_to_target is the
    training time until the loss is <= ``target`` (None if never); plus "n_train", "epochs", "lr",
    "target"."""
    n_train = n_train or (10_000 if full else 1_000)
    epochs = epochs or 10
    x, t, _, _ = mnist_subset(n_train, 0, seed)
    modes = {"batch GD": n_train, "mini-batch": minibatch, "SGD": 1}
    numbers = {"n_train": n_train, "epochs": epochs, "lr": lr, "target": target}
    for mode, batch_size in modes.items():
        r = train_mode(x, t, batch_size, epochs, lr, seed)
        r.update(batch_size=batch_size, loss_after_1_epoch=r["loss"][r["epoch"].index(1.0)],
                 final_loss=r["loss"][-1], time_to_target=time_to_reach(r, target))
        numbers[mode] = r

    def seconds(value):
        return "never" if value is None else f"{value:.3f}s"

    lines = [f"Softmax regression on {n_train} MNIST images, SGD lr {lr}, {epochs} epochs: the same problem "
             f"and learning rate, three batch sizes (initial loss {numbers['SGD']['loss'][0]:.3f}).",
             f"{'mode':11s} {'batch':>6s} {'updates/epoch':>13s} {'loss, 1 epoch':>13s} {'final loss':>10s} "
             f"{'us/image':>9s} {'time to loss<=' + str(target):>17s}"]
    for mode in modes:
        r = numbers[mode]
        lines.append(f"{mode:11s} {r['batch_size']:6d} {r['updates']:13d} {r['loss_after_1_epoch']:13.4f} "
                     f"{r['final_loss']:10.4f} {r['us_per_image']:9.1f} {seconds(r['time_to_target']):>17s}")
    reached = {mode: numbers[mode]["time_to_target"] for mode in modes if numbers[mode]["time_to_target"] is not None}
    first = min(reached, key=reached.get) if reached else "none of them"
    lines.append("Per epoch, batch GD (one exact step) learns least and SGD (N noisy steps) most. Per image, a "
                 f"mini-batch of {minibatch} costs far less than SGD's single images (one matrix product instead of "
                 f"{minibatch} steps' overhead), so per second mini-batches usually get furthest; here {first} "
                 f"reached loss <= {target} first.")

    def draw(fig):
        fig.set_size_inches(11, 4.5)
        ax1, ax2 = fig.subplots(1, 2)
        for mode in modes:
            r = numbers[mode]
            ax1.plot(r["epoch"], r["loss"], ".-", ms=3, label=f"{mode} (batch {r['batch_size']})")
            ax2.plot(r["time"], r["loss"], ".-", ms=3, label=mode)
        ax1.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="loss against epochs")
        ax2.set(xlabel="training time (s, log scale)", ylabel="training loss", title="loss against wall time")
        ax2.set_xscale("symlog", linthresh=1e-3)
        for ax in (ax1, ax2):
            ax.legend()
            ax.grid(alpha=0.3)

    return Result("batch-modes", numbers, "\n".join(lines), {"batch_modes.png": draw})
