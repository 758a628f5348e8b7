"""Activation functions and their derivatives (the introduction to neural networks): step, sigmoid,
tanh, ReLU, Leaky ReLU and softmax.

The derivative is what backpropagation multiplies by at every layer. The step's is 0 (except at
0, where it does not exist): nothing flows back. The sigmoid's, σ'(x) = σ(x)(1 - σ(x)), peaks at
0.25 at x = 0, so each sigmoid layer shrinks the gradient by at least 4x; tanh's, 1 - tanh²(x),
peaks at 1 but still vanishes for large |x|; ReLU's is exactly 1 for x > 0 (0 below: "dying
ReLU"), and Leaky ReLU keeps a small slope (0.01) below 0. Softmax turns scores into
probabilities; its derivative is the Jacobian diag(y) - y yᵀ, whose rows sum to 0.
"""

import numpy as np

from .. import functional as F
from ..gradcheck import numerical_diff
from ..tensor import tensor
from .base import Result

TITLE = "step, sigmoid, tanh, ReLU, Leaky ReLU, softmax and their derivatives (sigmoid' peaks at 0.25)"

ELEMENTWISE = {"step": F.step_function, "sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu,
               "leaky_relu": F.leaky_relu}
SOFTMAX_INPUT = [0.3, 2.9, 4.0]  # the book's softmax example


def derivative(f, x):
    """dy/dx of an elementwise activation at every x by autograd: the gradient of Σ f(x)
    (elementwise, so d Σ_j f(x_j) / dx_i = f'(x_i)). The step function has no gradient graph;
    its derivative is taken numerically (0 away from x = 0)."""
    xt = tensor(x, dtype=np.float64, requires_grad=True)
    y = f(xt)
    if not y.requires_grad:
        return numerical_diff(lambda v: f(tensor(v, dtype=np.float64)).data, np.asarray(x, dtype=np.float64))
    y.sum().backward()
    return xt.grad.data


def softmax_jacobian(z):
    """J_ij = dy_i/dz_j of y = softmax(z), built row by row from autograd (one backward per output)."""
    rows = []
    for i in range(len(z)):
        zt = tensor(z, dtype=np.float64, requires_grad=True)
        F.softmax(zt)[i].backward()
        rows.append(zt.grad.data)
    return np.array(rows)


def run(seed=0, full=False):
    """Each activation and its derivative (autograd, float64) on x in [-6, 6] (1,201 points, so
    x = 0 is on the grid); softmax of the book's [0.3, 2.9, 4.0] and its Jacobian."""
    x = np.linspace(-6.0, 6.0, 1201)
    values = {name: f(tensor(x, dtype=np.float64)).data for name, f in ELEMENTWISE.items()}
    slopes = {name: derivative(f, x) for name, f in ELEMENTWISE.items()}
    y = F.softmax(tensor(SOFTMAX_INPUT, dtype=np.float64)).data
    jac = softmax_jacobian(SOFTMAX_INPUT)
    two_class = F.softmax(tensor(np.stack([np.zeros_like(x), x], axis=1), dtype=np.float64), axis=1).data[:, 1]
    away = np.abs(x) > 1e-3  # the step and (leaky) ReLU have no derivative at exactly 0
    where = {k: (slice(None) if k in ("sigmoid", "tanh") else away) for k in ELEMENTWISE}
    numbers = {"x": x, "values": values, "derivatives": slopes,
               "max_derivative": {k: float(v[where[k]].max()) for k, v in slopes.items()},
               "argmax_derivative": {k: float(x[np.argmax(v)]) for k, v in slopes.items() if k in ("sigmoid", "tanh")},
               "min_derivative": {k: float(v[where[k]].min()) for k, v in slopes.items()},
               "sigmoid_derivative_at_5": float(derivative(F.sigmoid, [5.0])[0]),
               "softmax_input": SOFTMAX_INPUT, "softmax": y.tolist(), "softmax_sum": float(y.sum()),
               "softmax_jacobian": jac, "jacobian_row_sums": jac.sum(axis=1).tolist(),
               "jacobian_error": float(np.abs(jac - (np.diag(y) - np.outer(y, y))).max()),
               "two_class_softmax_vs_sigmoid": float(np.abs(two_class - values["sigmoid"]).max())}
    lines = ["activation     derivative range on [-6, 6] (step, ReLUs: x != 0)"]
    for k in ELEMENTWISE:
        lines.append(f"  {k:12s} {numbers['min_derivative'][k]:.4f} ... {numbers['max_derivative'][k]:.4f}")
    lines.append(f"sigmoid' peaks at x = {numbers['argmax_derivative']['sigmoid']:g} with "
                 f"{numbers['max_derivative']['sigmoid']:.4f} (at x = 5 it is "
                 f"{numbers['sigmoid_derivative_at_5']:.4f}): through 10 sigmoid layers the σ' factors alone "
                 f"multiply a gradient by at most 0.25^10 = {0.25 ** 10:.1e}")
    lines.append(f"tanh' peaks at x = {numbers['argmax_derivative']['tanh']:g} with "
                 f"{numbers['max_derivative']['tanh']:.4f}; ReLU' is 1 for x > 0, 0 below; Leaky ReLU' 1 or 0.01")
    lines.append(f"softmax({SOFTMAX_INPUT}) = [{', '.join(f'{v:.8f}' for v in y)}], sum {y.sum():.6f}")
    lines.append("its Jacobian diag(y) - y yᵀ (autograd): rows sum to "
                 f"{max(abs(v) for v in numbers['jacobian_row_sums']):.1e}; softmax([0, x])[1] = sigmoid(x) "
                 f"to {numbers['two_class_softmax_vs_sigmoid']:.1e}")

    def draw(fig):
        fig.set_size_inches(11, 7)
        names = list(ELEMENTWISE)
        for k, name in enumerate(names):
            ax = fig.add_subplot(2, 3, k + 1)
            ax.plot(x, values[name], label=name)
            d = slopes[name].copy()
            if name in ("step", "relu", "leaky_relu"):
                d[~away] = np.nan  # undefined at 0: leave a gap instead of a spike
            ax.plot(x, d, "--", label="derivative")
            if name == "sigmoid":
                ax.plot([0], [0.25], "o", color="tab:red")
                ax.annotate("0.25", (0, 0.25), textcoords="offset points", xytext=(6, 4))
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        ax = fig.add_subplot(2, 3, 6)
        ax.bar(range(3), y)
        ax.set_xticks(range(3), [str(v) for v in SOFTMAX_INPUT])
        ax.set_xlabel("score")
        ax.set_title("softmax: scores -> probabilities")
        for i, v in enumerate(y):
            ax.text(i, v + 0.01, f"{v:.3f}", ha="center")
        fig.tight_layout()

    return Result("activations", numbers, "\n".join(lines), {"activations.png": draw})
