"""Exploding gradients (the PyTorch textbook chapter, on gradient clipping): backpropagation multiplies
the gradient by every layer's weight matrix on its way down, so with weights scaled too large
(here N(0, (2/√32)²): each layer doubles a signal's size) the gradient reaching the first layer of a
10-layer linear stack is hundreds of times the one leaving the last. The first SGD step is then so
large that the loss overflows to inf and nan; ``clip_grad_norm_`` (nnscratch.nn.utils) rescales the
whole gradient to norm at most 1 before each step, and the same network at the same learning rate
trains.
"""

import warnings

import numpy as np

from .. import nn, optim
from .. import functional as F
from ..nn.utils import clip_grad_norm_
from ..tensor import grad, no_grad, tensor
from .base import Result

TITLE = "exploding gradients in a deep stack with large weights; clip_grad_norm_ makes it train"

DEPTH, WIDTH, GAIN, LR, STEPS, MAX_NORM = 10, 32, 2.0, 0.01, 100, 1.0


def build(seed):
    """A stack of DEPTH Linear(WIDTH, WIDTH) layers, weights N(0, (GAIN/√WIDTH)²), biases 0."""
    rng = np.random.default_rng(seed)
    layers = [nn.Linear(WIDTH, WIDTH) for _ in range(DEPTH)]
    with no_grad():
        for layer in layers:
            layer.weight.data[...] = rng.standard_normal(layer.weight.shape) * GAIN / np.sqrt(WIDTH)
            layer.bias.data[...] = 0
    return nn.Sequential(*layers)


def signal_gradient_norms(model, x, y):
    """‖dL/dh_l‖ of the signal entering every layer (h_1 = x) for the MSE loss on (x, y)."""
    h = tensor(x, requires_grad=True)
    inputs = []
    for layer in model:
        inputs.append(h)
        h = layer(h)
    return [float(np.linalg.norm(g.data)) for g in grad(F.mse_loss(h, tensor(y)), inputs)]


def train(model, x, y, steps, max_norm=None):
    """Full-batch SGD at LR for ``steps`` steps, clipping the gradient's norm to ``max_norm`` if
    given; returns the loss before every step (inf/nan once it has blown up)."""
    optimizer = optim.SGD(model.parameters(), lr=LR)
    losses = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(steps):
            loss = F.mse_loss(model(tensor(x)), tensor(y))
            optimizer.zero_grad()
            loss.backward()
            if max_norm is not None:
                clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            losses.append(float(loss.data))
    return losses


def run(seed=0, full=False):
    """Regression of 256 points y = x·A (A ~ N(0, 1/32)); per-layer signal gradients at
    initialisation, then STEPS SGD steps (4x as many with ``full``) without and with clipping from
    the same initialisation."""
    steps = STEPS * (4 if full else 1)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((256, WIDTH)).astype(np.float32)
    y = (x @ (rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH))).astype(np.float32)
    norms = signal_gradient_norms(build(seed), x, y)
    plain, clipped = train(build(seed), x, y, steps), train(build(seed), x, y, steps, MAX_NORM)
    numbers = {"layers": list(range(1, DEPTH + 1)), "gradient_norms": norms, "first_over_last": norms[0] / norms[-1],
               "loss_plain": plain, "loss_clipped": clipped, "steps": steps,
               "plain_finite": bool(np.isfinite(plain[-1])), "clipped_final_over_initial": clipped[-1] / clipped[0]}
    lines = [f"{DEPTH} Linear({WIDTH}, {WIDTH}) layers, weights N(0, ({GAIN:g}/√{WIDTH})²), MSE regression of 256 points",
             "‖dL/dh‖ entering each layer (1 = first):"]
    lines += [f"  layer {i:2d}: {v:.3e}" for i, v in enumerate(norms, 1)]
    lines += [f"  first / last = {numbers['first_over_last']:.0f}",
              f"SGD lr {LR}, {steps} steps: loss {plain[0]:.3g} -> {plain[-1]:.3g} without clipping, "
              f"{clipped[0]:.3g} -> {clipped[-1]:.3g} with clip_grad_norm_(max_norm={MAX_NORM:g})"]

    def draw(fig):
        fig.set_size_inches(13, 4.6)
        ax1, ax2 = fig.subplots(1, 2)
        ax1.semilogy(numbers["layers"], norms, "o-")
        ax1.set(xlabel="layer (1 = nearest the input)", ylabel="‖dL/dh‖ entering the layer",
                title=f"gradient grows ×{GAIN:g} per layer on the way down")
        finite = [v if np.isfinite(v) else np.nan for v in plain]
        ax2.semilogy(range(steps), finite, "o-", color="C3", label="no clipping (inf/nan after the points shown)")
        ax2.semilogy(range(steps), clipped, color="C1", label=f"clip_grad_norm_(max_norm={MAX_NORM:g})")
        ax2.set(xlabel="SGD step", ylabel="MSE loss", title=f"training at lr {LR}")
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3, which="both")
        ax2.legend()
        fig.tight_layout()

    return Result("exploding-gradient", numbers, "\n".join(lines), {"exploding_gradient.png": draw})
