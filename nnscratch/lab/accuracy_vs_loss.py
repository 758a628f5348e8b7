"""Why the loss, not the accuracy, is what training minimises (*Deep Learning from Scratch*, 4.2.5).

Training moves each weight by the derivative of the objective. Nudge one weight of a classifier:
the cross-entropy loss changes a little for every nudge, but the accuracy (the fraction of the
100 points classified right) stays put until some point crosses the decision boundary, then
jumps by 1%. Its derivative is 0 almost everywhere, so it gives no direction to move in. The
same holds inside the network for the step activation against the sigmoid: the step's output
is flat except for one jump, the sigmoid's slope is never 0.
"""

import numpy as np

from .. import functional as F
from ..gradcheck import numerical_diff
from ..tensor import tensor
from ..train.metrics import accuracy
from .base import Result

TITLE = "why accuracy can't be the objective: loss moves smoothly, accuracy in steps (and step vs sigmoid)"


def _blobs(rng, n=100):
    """Two overlapping Gaussian classes in 2-D, n/2 points each."""
    t = np.repeat([0, 1], n // 2)
    x = rng.normal(0.0, 1.0, (n, 2)) + np.where(t[:, None] == 1, 1.0, -1.0) * np.array([0.8, 0.4])
    return x, t


def _loss_and_accuracy(x, t, w, b):
    logits = tensor(x, dtype=np.float64) @ tensor(w, dtype=np.float64) + tensor(b, dtype=np.float64)
    return F.cross_entropy(logits, t).item(), accuracy(logits.data, t)


def run(seed=0, full=False):
    """A linear 2-class classifier on 100 points (float64) with weights drawn from ``seed``;
    W[0, 0] swept over ±1 around its value in 1,201 (``full``: 12,001) steps."""
    rng = np.random.default_rng(seed)
    x, t = _blobs(rng)
    w0 = rng.normal(0.0, 0.5, (2, 2))
    b = np.zeros(2)
    steps = 12001 if full else 1201
    sweep = w0[0, 0] + np.linspace(-1.0, 1.0, steps)
    losses, accs = [], []
    for value in sweep:
        w = w0.copy()
        w[0, 0] = value
        loss, acc = _loss_and_accuracy(x, t, w, b)
        losses.append(loss)
        accs.append(acc)
    losses, accs = np.array(losses), np.array(accs)

    W = tensor(w0, dtype=np.float64, requires_grad=True)
    F.cross_entropy(tensor(x, dtype=np.float64) @ W + tensor(b, dtype=np.float64), t).backward()
    h = 1e-4

    def acc_at(value):
        w = w0.copy()
        w[0, 0] = value
        return _loss_and_accuracy(x, t, w, b)[1]

    d_acc = (acc_at(w0[0, 0] + h) - acc_at(w0[0, 0] - h)) / (2 * h)
    acc_change = np.diff(accs) != 0
    loss_change = np.diff(losses) != 0

    # one neuron y = act(w·1 - 0.5), swept over w, and the slope dy/dw by central differences
    w_axis = np.linspace(-2.0, 3.0, 1001)
    step_y = F.step_function(w_axis - 0.5).data
    sigmoid_y = F.sigmoid(tensor(w_axis - 0.5)).data
    step_slope = numerical_diff(lambda w: F.step_function(w - 0.5).data, w_axis, 1e-4)
    sigmoid_slope = numerical_diff(lambda w: F.sigmoid(tensor(w - 0.5, dtype=np.float64)).data, w_axis, 1e-4)

    numbers = {"weight": sweep, "loss": losses, "accuracy": accs,
               "base_weight": float(w0[0, 0]), "base_loss": float(_loss_and_accuracy(x, t, w0, b)[0]),
               "base_accuracy": float(acc_at(w0[0, 0])),
               "dloss_dw": float(W.grad.data[0, 0]), "daccuracy_dw": float(d_acc),
               "accuracy_levels": len(np.unique(accs)),
               "fraction_accuracy_flat": float(1 - acc_change.mean()),
               "fraction_loss_flat": float(1 - loss_change.mean()),
               "accuracy_jump_sizes": sorted(set(np.round(np.abs(np.diff(accs)[acc_change]), 6).tolist())),
               "neuron_w": w_axis, "step_output": step_y, "sigmoid_output": sigmoid_y,
               "step_slope": step_slope, "sigmoid_slope": sigmoid_slope,
               "fraction_step_slope_zero": float(np.mean(step_slope == 0)),
               "min_sigmoid_slope": float(sigmoid_slope.min())}
    lines = [(f"linear classifier on 100 points; weight W[0,0] = {w0[0, 0]:.4f}: "
              f"loss {numbers['base_loss']:.4f}, accuracy {numbers['base_accuracy']:.0%}"),
             f"  dLoss/dw = {numbers['dloss_dw']:.4f} (autograd)   dAccuracy/dw = {d_acc:g} (h = 1e-4)",
             f"sweeping W[0,0] over ±1 in {steps} steps:",
             f"  loss changed at {1 - numbers['fraction_loss_flat']:.1%} of the steps",
             f"  accuracy changed at {1 - numbers['fraction_accuracy_flat']:.1%} of the steps, "
             f"taking {numbers['accuracy_levels']} values, in jumps of "
             + ", ".join(f"{j:.0%}" for j in numbers["accuracy_jump_sizes"]),
             "one neuron y = act(w - 0.5):",
             f"  step:    slope 0 at {numbers['fraction_step_slope_zero']:.1%} of 1001 points (a jump at w = 0.5)",
             f"  sigmoid: slope never 0 (smallest {numbers['min_sigmoid_slope']:.4f})"]

    def draw(fig):
        fig.set_size_inches(10, 7)
        ax1 = fig.add_subplot(2, 2, 1)
        ax1.plot(sweep, losses)
        ax1.axvline(w0[0, 0], color="gray", ls=":")
        ax1.set_ylabel("cross-entropy loss")
        ax1.set_title("loss: changes with every nudge")
        ax2 = fig.add_subplot(2, 2, 3, sharex=ax1)
        ax2.plot(sweep, accs, drawstyle="steps-post", color="tab:orange")
        ax2.axvline(w0[0, 0], color="gray", ls=":")
        ax2.set_ylabel("accuracy")
        ax2.set_xlabel("weight W[0,0]")
        ax2.set_title("accuracy: flat, then jumps (derivative 0)")
        ax3 = fig.add_subplot(2, 2, 2)
        ax3.plot(w_axis, step_y, label="step")
        ax3.plot(w_axis, sigmoid_y, label="sigmoid")
        ax3.set_title("one neuron's output y = act(w - 0.5)")
        ax3.legend()
        ax4 = fig.add_subplot(2, 2, 4, sharex=ax3)
        ax4.plot(w_axis, np.where(step_slope == 0, 0, np.nan), label="step (0 except at the jump)")
        ax4.plot(w_axis, sigmoid_slope, label="sigmoid")
        ax4.set_xlabel("w")
        ax4.set_title("dy/dw")
        ax4.legend()
        fig.tight_layout()

    return Result("accuracy-vs-loss", numbers, "\n".join(lines), {"accuracy_vs_loss.png": draw})
