"""Weight initialisation and the activations it produces (*Deep Learning from Scratch*, 6.2; the
introduction to neural networks).

Feed 1,000 random inputs through 5 layers of 100 units and look at each layer's activations.
Sigmoid with weights of std 1: the weighted sums are large, the outputs pile up at 0 and 1,
where σ' ≈ 0 (vanishing gradients). Std 0.01: every output is ≈ 0.5, all units say the same
thing ("limited expressiveness"). Xavier (std 1/sqrt(n) for n inputs) keeps them spread through
every layer. ReLU with Xavier loses half the variance per layer (ReLU zeroes half the inputs),
so activations shrink with depth; He (std sqrt(2/n)) makes up for it and keeps them the same.
"""

import numpy as np

from .. import backend, nn
from ..nn.activation import activation as make_activation
from ..tensor import no_grad, tensor
from .base import Result

TITLE = "activation histograms per layer for std 1, std 0.01, Xavier (sigmoid) and Xavier/He (ReLU) init"

CONFIGS = {
    "std 1, sigmoid": (1.0, "sigmoid"),
    "std 0.01, sigmoid": (0.01, "sigmoid"),
    "Xavier, sigmoid": ("xavier", "sigmoid"),
    "Xavier, ReLU": ("xavier", "relu"),
    "He, ReLU": ("he", "relu"),
}
LAYERS, WIDTH, SAMPLES, BINS = 5, 100, 1000, 30


def activations(init, activation, x):
    """Outputs of each of LAYERS Linear(WIDTH, WIDTH, init) + activation layers for input ``x``."""
    out, h = [], tensor(x)
    with no_grad():
        for _ in range(LAYERS):
            h = make_activation(activation)(nn.Linear(WIDTH, WIDTH, init=init)(h))
            out.append(h.data)
    return out


def run(seed=0, full=False):
    """Each configuration on the same 1,000 x 100 inputs from N(0, 1) (float32, seeded); per
    layer: std, mean, the share of sigmoid outputs saturated (< 0.01 or > 0.99), the share of
    ReLU outputs that are 0, and a 30-bin histogram (sigmoid on [0, 1], ReLU's non-zero outputs
    on [0, 3])."""
    x = np.random.default_rng(seed).standard_normal((SAMPLES, WIDTH)).astype(np.float32)
    stats = {}
    for k, (name, (init, act)) in enumerate(CONFIGS.items()):
        backend.manual_seed(seed * 100 + k)
        layers = activations(init, act, x)
        edges = np.linspace(0, 1 if act == "sigmoid" else 3, BINS + 1)
        stats[name] = {
            "std": [float(a.std()) for a in layers], "mean": [float(a.mean()) for a in layers],
            "saturated": [float(np.mean((a < 0.01) | (a > 0.99))) for a in layers],
            "zero": [float(np.mean(a == 0)) for a in layers],
            "edges": edges,
            # ReLU's exact zeros (half of them) are counted in "zero", not drawn: they would dwarf the rest
            "histograms": [np.histogram(a if act == "sigmoid" else a[a > 0], bins=edges)[0] for a in layers],
        }
    numbers = {"configs": list(CONFIGS), "stats": stats}
    lines = [f"{SAMPLES} inputs from N(0, 1) through {LAYERS} layers of {WIDTH} units; per layer 1..{LAYERS}:"]
    for name, s in stats.items():
        extra = ("saturated " + " ".join(f"{v:4.0%}" for v in s["saturated"]) if "sigmoid" in name
                 else "zero " + " ".join(f"{v:4.0%}" for v in s["zero"]))
        lines.append(f"  {name:18s} std " + " ".join(f"{v:.3f}" for v in s["std"]) + f"   {extra}")
    lines.append("std 1 saturates the sigmoid, std 0.01 collapses it to 0.5, Xavier keeps it spread; "
                 "for ReLU only He keeps the spread from shrinking layer by layer")

    def draw(fig):
        fig.set_size_inches(2.3 * LAYERS, 1.9 * len(CONFIGS))
        for r, (name, s) in enumerate(stats.items()):
            edges = s["edges"]
            for c, counts in enumerate(s["histograms"]):
                ax = fig.add_subplot(len(CONFIGS), LAYERS, r * LAYERS + c + 1)
                ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge")
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(f"layer {c + 1}")
                if c == 0:
                    ax.set_ylabel(name, fontsize=8)
        fig.suptitle("activation histograms per layer (ReLU: its zeros, about half, not drawn)")
        fig.tight_layout()

    return Result("weight-init", numbers, "\n".join(lines), {"weight_init.png": draw})
