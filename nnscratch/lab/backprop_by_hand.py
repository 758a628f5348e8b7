"""Backpropagation by hand on the 2-2-1 network the introduction to neural networks draws:
two inputs, two sigmoid hidden units, one sigmoid output, loss L = ½(y - t)².

Forward: z1 = W1·x + b1, h = σ(z1), z2 = w2·h + b2, y = σ(z2). Backward is the chain rule, one
local derivative per step, multiplied from the loss back:

    dL/dy = y - t,   dy/dz2 = y(1 - y),   dz2/dw2_j = h_j,   dz2/dh_j = w2_j,
    dh_j/dz1_j = h_j(1 - h_j),   dz1_j/dW1_jk = x_k,

so dL/dW1_jk = (y - t) · y(1 - y) · w2_j · h_j(1 - h_j) · x_k. Every product equals autograd's
gradient (to rounding) and the central-difference numerical gradient (to about 1e-10).
"""

import numpy as np

from ..gradcheck import numerical_gradient
from ..tensor import tensor
from .base import Result

TITLE = "a 2-2-1 sigmoid network: each local derivative and chain-rule product, equal to autograd and numerical"

X = np.array([0.05, 0.10])
TARGET = 0.01
PARAMS = {"W1": np.array([[0.15, 0.20], [0.25, 0.30]]), "b1": np.array([0.35, 0.35]),
          "w2": np.array([0.40, 0.45]), "b2": np.array(0.60)}


def sigmoid(z):
    """σ(z) = 1 / (1 + e^-z)."""
    return 1 / (1 + np.exp(-z))


def forward(p, x=X):
    """The forward pass in NumPy: a dict of z1, h, z2, y and the loss L = ½(y - t)²."""
    z1 = p["W1"] @ x + p["b1"]
    h = sigmoid(z1)
    z2 = p["w2"] @ h + p["b2"]
    y = sigmoid(z2)
    return {"z1": z1, "h": h, "z2": z2, "y": y, "L": 0.5 * (y - TARGET) ** 2}


def by_hand(p, x=X):
    """The chain rule written out: (local derivatives, steps, gradients). Each step is
    (gradient name, [(factor name, value), ...], product)."""
    f = forward(p, x)
    h, y = f["h"], f["y"]
    local = {"dL/dy": y - TARGET, "dy/dz2": y * (1 - y), "dz2/dw2": h, "dz2/dh": p["w2"], "dh/dz1": h * (1 - h)}
    delta2 = local["dL/dy"] * local["dy/dz2"]
    steps, grads = [], {"W1": np.zeros((2, 2)), "b1": np.zeros(2), "w2": np.zeros(2)}
    steps.append(("dL/db2", [("dL/dy", local["dL/dy"]), ("dy/dz2", local["dy/dz2"]), ("dz2/db2", 1.0)], delta2))
    grads["b2"] = np.array(delta2)
    for j in range(2):
        factors = [("dL/dy", local["dL/dy"]), ("dy/dz2", local["dy/dz2"]), (f"dz2/dw2_{j}", h[j])]
        grads["w2"][j] = np.prod([v for _, v in factors])
        steps.append((f"dL/dw2_{j}", factors, grads["w2"][j]))
    for j in range(2):
        upstream = [("dL/dy", local["dL/dy"]), ("dy/dz2", local["dy/dz2"]), (f"dz2/dh_{j}", p["w2"][j]),
                    (f"dh_{j}/dz1_{j}", local["dh/dz1"][j])]
        for k in range(2):
            factors = upstream + [(f"dz1_{j}/dW1_{j}{k}", x[k])]
            grads["W1"][j, k] = np.prod([v for _, v in factors])
            steps.append((f"dL/dW1_{j}{k}", factors, grads["W1"][j, k]))
        grads["b1"][j] = np.prod([v for _, v in upstream])
        steps.append((f"dL/db1_{j}", upstream + [(f"dz1_{j}/db1_{j}", 1.0)], grads["b1"][j]))
    return local, steps, grads


def autograd(p, x=X):
    """The same gradients from nnscratch's ``loss.backward()`` in float64."""
    t = {k: tensor(v, dtype=np.float64, requires_grad=True) for k, v in p.items()}
    h = (t["W1"] @ tensor(x, dtype=np.float64) + t["b1"]).sigmoid()
    y = ((t["w2"] * h).sum() + t["b2"]).sigmoid()
    (0.5 * (y - TARGET) ** 2).backward()
    return {k: v.grad.data for k, v in t.items()}


def numerical(p, x=X):
    """The same gradients by central differences (h = 1e-4) on the NumPy forward pass."""
    p = {k: np.array(v, dtype=np.float64) for k, v in p.items()}
    return {k: numerical_gradient(lambda _: forward(p, x)["L"], p[k]) for k in p}


def run(seed=0, full=False):
    """Forward values, local derivatives, every chain-rule product, and the largest differences from
    autograd ("max_diff_autograd") and from the numerical gradient ("max_diff_numerical")."""
    f = forward(PARAMS)
    local, steps, hand = by_hand(PARAMS)
    auto, numeric = autograd(PARAMS), numerical(PARAMS)
    diff_auto = max(float(np.abs(hand[k] - auto[k]).max()) for k in hand)
    diff_num = max(float(np.abs(hand[k] - numeric[k]).max()) for k in hand)
    numbers = {"forward": {k: np.asarray(v).tolist() for k, v in f.items()},
               "local": {k: np.asarray(v).tolist() for k, v in local.items()},
               "by_hand": {k: v.tolist() for k, v in hand.items()},
               "autograd": {k: v.tolist() for k, v in auto.items()},
               "numerical": {k: v.tolist() for k, v in numeric.items()},
               "steps": [(name, [v for _, v in factors], float(product)) for name, factors, product in steps],
               "max_diff_autograd": diff_auto, "max_diff_numerical": diff_num}
    lines = [f"x = {X.tolist()}, target {TARGET}; W1 = {PARAMS['W1'].tolist()}, b1 = {PARAMS['b1'].tolist()}, "
             f"w2 = {PARAMS['w2'].tolist()}, b2 = {float(PARAMS['b2'])}",
             f"forward: z1 = {np.round(f['z1'], 6).tolist()}, h = σ(z1) = {np.round(f['h'], 6).tolist()}, "
             f"z2 = {f['z2']:.6f}, y = σ(z2) = {f['y']:.6f}, L = ½(y - t)² = {f['L']:.6f}",
             "local derivatives:"]
    lines += [f"  {k:8s} = {np.round(v, 6).tolist()}" for k, v in local.items()]
    lines.append("chain rule, factor by factor:")
    for name, factors, product in steps:
        lines.append(f"  {name:9s} = " + " · ".join(f"{v:.6f}" for _, v in factors) + f" = {product:.10f}"
                     f"   ({' · '.join(n for n, _ in factors)})")
    lines.append(f"largest |by hand - autograd| = {diff_auto:.1e}, |by hand - numerical| = {diff_num:.1e}")

    def draw(fig):
        fig.set_size_inches(10, 4.5)
        ax = fig.add_subplot()
        names = [name for name, _, _ in steps]
        flat = lambda g: np.concatenate([np.ravel(g[k]) for k in ("b2", "w2")] +  # noqa: E731
                                        [np.r_[g["W1"][j], g["b1"][j]] for j in range(2)])
        pos = np.arange(len(names))
        for offset, (label, g) in zip((-0.27, 0, 0.27), [("by hand", hand), ("autograd", auto),
                                                         ("numerical", numeric)]):
            ax.bar(pos + offset, flat(g), width=0.27, label=label)
        ax.set_xticks(pos, names, rotation=30)
        ax.set_ylabel("gradient of L")
        ax.set_title(f"three ways to the same gradient (largest difference {max(diff_auto, diff_num):.0e})")
        ax.axhline(0, color="black", lw=0.8)
        ax.grid(alpha=0.3, axis="y")
        ax.legend()
        fig.tight_layout()

    return Result("backprop-by-hand", numbers, "\n".join(lines), {"backprop_by_hand.png": draw})
