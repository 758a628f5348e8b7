"""Seven optimizers on the book's test function and on MNIST (*Deep Learning from Scratch* 6.1).

1. Paths on f(x, y) = x²/20 + y² from (-7, 2), 30 steps each, with ``nnscratch.optim``
   (the book's ``optimizer_compare_naive.py``; its learning rates where it has the optimizer).
   f is 20 times steeper in y than in x, so plain SGD zig-zags across the valley in y while it
   creeps along x: for SGD the path is exactly x_k = -7(1 - lr/10)^k, y_k = 2(1 - 2 lr)^k.
   Momentum accumulates the consistent x-direction; AdaGrad, RMSprop, AdaDelta and Adam scale
   each coordinate by its own gradient history, so both axes move at a similar pace.
2. Loss curves on MNIST (the book's ``optimizer_compare_mnist.py``): a 784-100-100-100-100-10
   ReLU network (He init), batches of 128, the same initial weights for every optimizer.
"""

import numpy as np

from .. import backend, nn, optim
from .. import functional as F
from ..tensor import tensor
from .base import Result, mnist_subset

TITLE = "SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam: paths on x²/20 + y² and MNIST curves"

START = (-7.0, 2.0)

# Learning rates for the 2-D function: the book's for SGD, Momentum, AdaGrad and Adam.
# AdaDelta has no real learning rate; its first steps are about sqrt(10 eps) long, so with the
# default eps = 1e-6 it would barely move in 30 steps (see numbers["adadelta_default_eps_moved"]).
PATH_OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.95),
    "Momentum": lambda p: optim.Momentum(p, lr=0.1, momentum=0.9),
    "Nesterov": lambda p: optim.Nesterov(p, lr=0.1, momentum=0.9),
    "AdaGrad": lambda p: optim.AdaGrad(p, lr=1.5),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.1, alpha=0.99),
    "AdaDelta": lambda p: optim.AdaDelta(p, lr=1.0, rho=0.9, eps=0.1),
    "Adam": lambda p: optim.Adam(p, lr=0.3),
}

# Learning rates for MNIST (the book's where it has them: SGD/Momentum/AdaGrad 0.01, Adam 0.001).
MNIST_OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.01),
    "Momentum": lambda p: optim.Momentum(p, lr=0.01, momentum=0.9),
    "Nesterov": lambda p: optim.Nesterov(p, lr=0.01, momentum=0.9),
    "AdaGrad": lambda p: optim.AdaGrad(p, lr=0.01),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.001),
    "AdaDelta": lambda p: optim.AdaDelta(p, lr=1.0),
    "Adam": lambda p: optim.Adam(p, lr=0.001),
}


def f(x, y):
    """The book's test function x²/20 + y² (minimum 0 at the origin)."""
    return x * x / 20 + y * y


def optimizer_path(make_optimizer, start=START, steps=30):
    """The points visited by the optimizer ``make_optimizer([p])`` minimising f from ``start``:
    an array (steps + 1, 2), float64 (the gradient comes from autograd on a float64 tensor)."""
    p = tensor(start, requires_grad=True, dtype=np.float64)
    optimizer = make_optimizer([p])
    points = [p.data.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(p[0], p[1]).backward()
        optimizer.step()
        points.append(p.data.copy())
    return np.array(points)


def mnist_curves(iterations, n_train, batch_size, seed, names=None):
    """{name: [training loss of each iteration]} for each MNIST optimizer, all starting from the
    same He-initialised 784-100x4-10 ReLU network and seeing the same batches."""
    x, t, _, _ = mnist_subset(n_train, 0, seed)
    backend.manual_seed(seed)
    initial = nn.MLP([784, 100, 100, 100, 100, 10], activation="relu", init="he").state_dict()
    batches = np.random.default_rng(seed).choice(len(x), (iterations, batch_size))
    curves = {}
    for name in names or MNIST_OPTIMIZERS:
        model = nn.MLP([784, 100, 100, 100, 100, 10], activation="relu", init="he")
        model.load_state_dict(initial)
        optimizer = MNIST_OPTIMIZERS[name](model.parameters())
        losses = []
        for idx in batches:
            loss = F.cross_entropy(model(x[idx]), t[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        curves[name] = losses
    return curves


def smooth(values, window=20):
    """Moving average of the last ``window`` points (fewer at the start), like the book's smooth_curve."""
    values = np.asarray(values, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(values)])
    end = np.arange(1, len(values) + 1)
    begin = np.maximum(end - window, 0)
    return (c[end] - c[begin]) / (end - begin)


def run(seed=0, full=False, iterations=None, n_train=None, batch_size=128, steps=30, mnist=True):
    """Paths on f (``steps`` each) and, unless ``mnist=False``, MNIST loss curves over
    ``iterations`` (default 200 on 5,000 images; 2,000 on all 60,000 with ``full``).

    numbers: "paths" {name: [[x, y], ...]}, "final_f" {name: f at the last point},
    "adadelta_default_eps_moved" (distance moved in ``steps`` steps with eps = 1e-6), and with
    MNIST "mnist_loss" {name: [per-iteration losses]}, "mnist_final" {name: mean of the last 20}."""
    paths = {name: optimizer_path(make, steps=steps) for name, make in PATH_OPTIMIZERS.items()}
    default_adadelta = optimizer_path(lambda p: optim.AdaDelta(p), steps=steps)
    numbers = {"start": list(START), "steps": steps,
               "paths": {name: path.tolist() for name, path in paths.items()},
               "final_f": {name: float(f(*path[-1])) for name, path in paths.items()},
               "adadelta_default_eps_moved": float(np.linalg.norm(default_adadelta[-1] - default_adadelta[0]))}
    lines = [f"f(x, y) = x²/20 + y² from {START}, {steps} steps (minimum 0 at (0, 0)):"]
    for name, path in paths.items():
        x_end, y_end = path[-1]
        lines.append(f"  {name:9s} ends at ({x_end:8.4f}, {y_end:8.4f})  f = {numbers['final_f'][name]:.2e}")
    lines.append(f"  (AdaDelta with its default eps 1e-6 moves only {numbers['adadelta_default_eps_moved']:.3f} "
                 f"in {steps} steps; eps 0.1 is used above)")

    if mnist:
        iterations = iterations or (2000 if full else 200)
        n_train = n_train or (60_000 if full else 5_000)
        curves = mnist_curves(iterations, n_train, batch_size, seed)
        numbers.update(iterations=iterations, n_train=n_train, batch_size=batch_size, mnist_loss=curves,
                       mnist_final={name: float(np.mean(c[-20:])) for name, c in curves.items()})
        lines.append(f"MNIST, 784-100-100-100-100-10 ReLU, {iterations} iterations of batch {batch_size} "
                     f"on {n_train} images; mean loss of the last 20 iterations:")
        for name, value in sorted(numbers["mnist_final"].items(), key=lambda item: item[1]):
            lines.append(f"  {name:9s} {value:.4f}")

    def draw_paths(fig):
        fig.set_size_inches(13, 6.5)
        axes = fig.subplots(2, 4).ravel()
        xs, ys = np.meshgrid(np.linspace(-10, 10, 200), np.linspace(-5, 5, 200))
        for ax, (name, path) in zip(axes, paths.items()):
            ax.contour(xs, ys, f(xs, ys), levels=np.linspace(0.5, 30, 12) ** 1.3 / 5, colors="0.75",
                       linewidths=0.7)
            ax.plot(path[:, 0], path[:, 1], "o-", color="C3", ms=3, lw=1)
            ax.plot(0, 0, "+", color="k", ms=10)
            ax.set(xlim=(-10, 10), ylim=(-5, 5), title=name)
        axes[-1].axis("off")
        axes[-1].text(0.0, 0.5, f"f(x, y) = x²/20 + y²\nfrom {START}, {steps} steps", fontsize=11)
        fig.tight_layout()

    def draw_mnist(fig):
        ax = fig.subplots()
        for name, losses in numbers["mnist_loss"].items():
            ax.plot(np.arange(1, len(losses) + 1), smooth(losses), label=name)
        ax.set(xlabel="iteration", ylabel="training loss (moving average of 20)", yscale="log",
               title=f"MNIST, 784-100x4-10 ReLU, batch {batch_size}")
        ax.legend()
        ax.grid(alpha=0.3)

    figures = {"optimizer_paths.png": draw_paths}
    if mnist:
        figures["optimizer_mnist.png"] = draw_mnist
    return Result("optimizers", numbers, "\n".join(lines), figures)
