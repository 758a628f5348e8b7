"""The learning rate: too small, good, too large (*Deep Learning from Scratch*, 4.4.1).

The same network (784-50-10 tanh, Xavier init, the same initial weights and the same batches) is
trained with plain SGD for a fixed number of steps at learning rates from 1e-3 to 30 on a small
MNIST subset. The final training loss against the learning rate is a U: with lr 1e-3 the weights
barely move (the loss stays near its initial ln 10 ≈ 2.3), around 1 it is lowest, and beyond
that the steps overshoot the valley: the loss ends above where it started, or becomes nan/inf.
"""

import math

import numpy as np

from .. import backend, nn, optim
from .. import functional as F
from ..tensor import no_grad
from .base import Result, mnist_subset

TITLE = "final loss against learning rate: too small, good, too large"

LEARNING_RATES = (1e-3, 1e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def train_with_lr(lr, x, t, initial, batches):
    """Train 784-50-10 tanh from the state dict ``initial`` with SGD(lr) on the given batches;
    returns (loss on all of x after each step, stopping at the first non-finite one)."""
    model = nn.MLP([x.shape[1], 50, 10], activation="tanh", init="xavier")
    model.load_state_dict(initial)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    losses = []
    with np.errstate(all="ignore"):  # a diverging run overflows on purpose
        for idx in batches:
            loss = F.cross_entropy(model(x[idx]), t[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with no_grad():
                value = F.cross_entropy(model(x), t).item()
            losses.append(value)
            if not math.isfinite(value):
                break
    return losses


def run(seed=0, full=False, n_train=None, steps=None, batch_size=100, learning_rates=LEARNING_RATES):
    """Train at each of ``learning_rates`` for ``steps`` SGD steps (default 100 on 1,000 images;
    1,000 on 10,000 with ``full``). numbers: "learning_rates", "final_loss" (nan when it diverged),
    "curves" {lr: losses}, "initial_loss", "best_lr", "diverged" (the rates whose loss became
    nan/inf or ended above the initial loss)."""
    n_train = n_train or (10_000 if full else 1_000)
    steps = steps or (1000 if full else 100)
    x, t, _, _ = mnist_subset(n_train, 0, seed)
    backend.manual_seed(seed)
    model = nn.MLP([x.shape[1], 50, 10], activation="tanh", init="xavier")
    initial = model.state_dict()
    with no_grad():
        initial_loss = F.cross_entropy(model(x), t).item()
    batches = np.random.default_rng(seed).choice(n_train, (steps, batch_size))
    curves = {lr: train_with_lr(lr, x, t, initial, batches) for lr in learning_rates}
    final = [c[-1] if len(c) == steps and math.isfinite(c[-1]) else float("nan") for c in curves.values()]
    finite = [(v, lr) for v, lr in zip(final, learning_rates) if not math.isnan(v)]
    best_lr = min(finite)[1]
    diverged = [lr for v, lr in zip(final, learning_rates) if math.isnan(v) or v > initial_loss]
    numbers = {"learning_rates": list(learning_rates), "final_loss": final, "initial_loss": initial_loss,
               "curves": curves, "best_lr": best_lr, "diverged": diverged, "steps": steps, "n_train": n_train}

    lines = [f"784-50-10 tanh, plain SGD, {steps} steps of batch {batch_size} on {n_train} MNIST images, the same "
             f"start (loss {initial_loss:.3f}) and batches for every learning rate.",
             f"{'lr':>8s}  final loss"]
    for lr, value in zip(learning_rates, final):
        note = ("diverged (nan/inf)" if math.isnan(value) else "worse than the start" if value > initial_loss
                else "best" if lr == best_lr else "")
        lines.append(f"{lr:8g}  {value:10.4f}  {note}")
    lines.append("Too small: hardly moves. Too large: each step jumps past the minimum and the loss blows up.")

    def draw(fig):
        fig.set_size_inches(11, 4.5)
        ax1, ax2 = fig.subplots(1, 2)
        ok = [not math.isnan(v) for v in final]
        lrs = np.array(learning_rates)
        ax1.plot(lrs[ok], np.array(final)[ok], "o-", color="C0")
        for lr in lrs[~np.array(ok)]:
            ax1.axvline(lr, color="C3", ls=":", lw=1)
        ax1.axhline(initial_loss, color="0.5", ls="--", lw=1, label="loss at the start")
        ax1.set(xscale="log", yscale="log", xlabel="learning rate", ylabel=f"training loss after {steps} steps",
                title="final loss against learning rate (dotted red: nan/inf)")
        ax1.legend()
        for lr, losses in curves.items():
            ax2.plot(np.arange(1, len(losses) + 1), losses, label=f"lr {lr:g}")
        ax2.set(xlabel="step", ylabel="training loss", yscale="log", ylim=(0.05, 2000), title="loss during training")
        ax2.legend(fontsize=7, ncol=2)
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)

    return Result("learning-rate", numbers, "\n".join(lines), {"learning_rate.png": draw})
