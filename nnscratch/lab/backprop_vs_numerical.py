"""Backpropagation against numerical differentiation (the book's ``gradient_check.py``, 5.7.3).

The book's TwoLayerNet (784-50-10, sigmoid, weights N(0, 0.01²), zero biases, loss
``cross_entropy_error(softmax(y), t)``) on the first 3 training images, in float64. Its
gradient is computed twice:

- numerically, ∂L/∂w ≈ (L(w + h) - L(w - h)) / 2h with h = 1e-4, two forward passes per
  parameter (``numerical_gradient`` / ``numerical_diff``): 2 x 39,760 forward passes;
- by backpropagation (``loss.backward()``): one forward and one backward pass for all of them.

The two agree to about 1e-10 on average (the book prints W1 ~4e-10, b1 ~3e-9, W2 ~5e-9,
b2 ~1e-7), which is how one knows the backward code is right; and backprop is thousands of
times faster, which is why networks are trained with it.

By default every b1, W2 and b2 entry but only a random sample of W1's 39,200 entries is
differentiated numerically, and the numerical time for all parameters is extrapolated from the
measured time per entry; ``full=True`` differentiates every parameter (about a minute).
"""

import time

import numpy as np

from .. import backend, nn
from .. import functional as F
from ..data import load_mnist
from ..gradcheck import numerical_diff, numerical_gradient
from ..tensor import no_grad, tensor
from .base import Result

TITLE = "the book's TwoLayerNet: backprop and numerical gradients agree (~1e-10), backprop is far faster"

NAMES = {"0.weight": "W1", "0.bias": "b1", "2.weight": "W2", "2.bias": "b2"}


def two_layer_net(hidden=50, seed=0):
    """The book's TwoLayerNet(784, hidden, 10) in float64: Linear-sigmoid-Linear, N(0, 0.01²) weights."""
    previous = backend.get_default_dtype()
    backend.set_default_dtype(np.float64)
    try:
        backend.manual_seed(seed)
        return nn.MLP([784, hidden, 10], activation="sigmoid", init=0.01)
    finally:
        backend.set_default_dtype(previous)


def sampled_numerical_gradient(loss, array, indices, h=1e-4):
    """∂loss/∂array at the given flat ``indices`` by central differences (``numerical_diff``),
    each entry perturbed in place and restored."""
    flat = array.reshape(-1)
    out = np.empty(len(indices))
    for k, i in enumerate(indices):
        original = flat[i]

        def at(value, i=i):
            flat[i] = value
            return loss()
        out[k] = numerical_diff(at, original, h)
        flat[i] = original
    return out


def run(seed=0, full=False, hidden=50, w1_sample=1500, n_images=3, repeats=20):
    """Compare the two gradients. ``w1_sample`` W1 entries are differentiated numerically (all with
    ``full``). numbers: "mean_abs_diff" {W1, b1, W2, b2}, "max_abs_diff", "checked" {name: entries},
    "backprop_seconds" (one gradient, mean of ``repeats``), "numerical_seconds" (all parameters;
    measured with ``full``, else extrapolated per entry), "speedup", "parameters", "extrapolated"."""
    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    x = tensor(x_train[:n_images], dtype=np.float64)
    t = t_train[:n_images].astype(np.float64)
    model = two_layer_net(hidden, seed)
    params = dict(model.named_parameters())

    def loss():
        return F.cross_entropy_error(F.softmax(model(x), axis=1), t)

    def loss_value():
        with no_grad():
            return loss().item()

    start = time.perf_counter()
    for _ in range(repeats):
        model.zero_grad()
        loss().backward()
    backprop_seconds = (time.perf_counter() - start) / repeats
    backprop = {name: p.grad.data.copy() for name, p in params.items()}

    rng = np.random.default_rng(seed)
    diffs, max_diffs, checked, numerical_seconds = {}, {}, {}, 0.0
    for name, p in params.items():
        label = NAMES[name]
        start = time.perf_counter()
        if full or p.size <= w1_sample:
            numeric = numerical_gradient(lambda _: loss_value(), p.data).reshape(-1)
            indices = np.arange(p.size)
        else:
            indices = np.sort(rng.choice(p.size, w1_sample, replace=False))
            numeric = sampled_numerical_gradient(loss_value, p.data, indices)
        elapsed = time.perf_counter() - start
        numerical_seconds += elapsed * p.size / len(indices)   # = elapsed unless sampled
        difference = np.abs(backprop[name].reshape(-1)[indices] - numeric)
        diffs[label], max_diffs[label], checked[label] = float(difference.mean()), float(difference.max()), len(indices)

    total = sum(p.size for p in params.values())
    extrapolated = sum(checked.values()) < total
    numbers = {"mean_abs_diff": diffs, "max_abs_diff": max_diffs, "checked": checked, "parameters": total,
               "backprop_seconds": backprop_seconds, "numerical_seconds": numerical_seconds,
               "speedup": numerical_seconds / backprop_seconds, "extrapolated": extrapolated,
               "loss": loss_value(), "n_images": n_images, "hidden": hidden}
    lines = [f"TwoLayerNet 784-{hidden}-10 (sigmoid, float64, {total:,} parameters) on {n_images} MNIST images, "
             f"loss {numbers['loss']:.6f}.",
             "mean |backprop - numerical| per parameter (the book: W1 ~4e-10, b1 ~3e-9, W2 ~5e-9, b2 ~1e-7):"]
    for label in diffs:
        lines.append(f"  {label}: {diffs[label]:.2e}   (max {max_diffs[label]:.1e}; {checked[label]:,} entries "
                     "checked)")
    how = "extrapolated from the entries checked" if extrapolated else "measured"
    lines.append(f"one gradient: backprop {backprop_seconds * 1e3:.2f} ms, numerical {numerical_seconds:.1f} s "
                 f"({how}): backprop is {numbers['speedup']:,.0f} times faster.")

    def draw(fig):
        fig.set_size_inches(11, 4.2)
        ax1, ax2 = fig.subplots(1, 2)
        labels = list(diffs)
        ax1.bar(labels, [diffs[k] for k in labels], color="C0")
        ax1.set(yscale="log", ylabel="mean |backprop - numerical|", title="the two gradients agree")
        ax2.bar(["backprop", "numerical"], [backprop_seconds, numerical_seconds], color=["C2", "C3"])
        ax2.set(yscale="log", ylabel="seconds for one gradient",
                title=f"backprop is {numbers['speedup']:,.0f}x faster")
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3, axis="y")

    return Result("backprop-vs-numerical", numbers, "\n".join(lines), {"backprop_vs_numerical.png": draw})
