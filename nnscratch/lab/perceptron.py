"""The perceptron and XOR (*Deep Learning from Scratch*, chapter 2, and the introduction to neural networks).

One perceptron y = step(w·x + b) draws one straight line: with the book's weights it computes
AND (w = (0.5, 0.5), b = -0.7), NAND (-0.5, -0.5, 0.7) and OR (0.5, 0.5, -0.2). XOR puts (0, 1)
and (1, 0) on one side and (0, 0), (1, 1) on the other, which no line does: an exhaustive search
over lines gets at most 3 of the 4 points right (75%). Two layers solve it: the hidden units
NAND and OR move the four points into a new plane (a "change of basis"):
(0, 0) lands on (1, 0), (1, 1) on (0, 1) and both XOR-true points on (1, 1), where one line
(AND) separates them. A 2-2-2 sigmoid network learns such a change of basis itself.
"""

import numpy as np

from .. import backend, nn, optim
from .. import functional as F
from ..data import logic_gate
from ..tensor import tensor
from .base import Result

TITLE = "AND/NAND/OR perceptrons, XOR beyond one line, and the 2-layer change of basis"

BOOK_WEIGHTS = {"AND": ([0.5, 0.5], -0.7), "NAND": ([-0.5, -0.5], 0.7), "OR": ([0.5, 0.5], -0.2)}


def perceptron(x, w, b):
    """step(x·w + b): 1 where the weighted sum exceeds 0."""
    return F.step_function(tensor(x) @ tensor(w, dtype=np.float32) + b).data.astype(int)


def best_single_line(x, t, angles=720, offsets=801):
    """The highest accuracy of any line step(cos θ·x1 + sin θ·x2 + c) on (x, t), found by trying
    every θ on a grid of ``angles`` directions and c on ``offsets`` values in [-2, 2] (all at once)."""
    theta = np.linspace(0, 2 * np.pi, angles, endpoint=False)
    w = np.stack([np.cos(theta), np.sin(theta)])                        # (2, A)
    c = np.linspace(-2, 2, offsets)                                     # (C,)
    scores = (x @ w)[:, :, None] + c[None, None, :]                     # (4, A, C)
    correct = ((scores > 0) == (t[:, None, None] == 1)).mean(axis=0)    # (A, C)
    return float(correct.max())


def _hand_built_xor(x):
    s1, s2 = (perceptron(x, *BOOK_WEIGHTS["NAND"]), perceptron(x, *BOOK_WEIGHTS["OR"]))
    hidden = np.stack([s1, s2], axis=1).astype(np.float32)
    return hidden, perceptron(hidden, *BOOK_WEIGHTS["AND"])


def _train_xor(x, t, seed, steps, attempts=10):
    """A 2-2-2 network (sigmoid hidden layer, Xavier init) trained with Adam (lr 0.1, full batch);
    a new initialisation is drawn if it ends stuck in a local minimum (2 hidden units can)."""
    backend.manual_seed(seed)
    X = tensor(x)
    for attempt in range(1, attempts + 1):
        hidden = nn.Sequential(nn.Linear(2, 2, init="xavier"), nn.Sigmoid())
        model = nn.Sequential(hidden, nn.Linear(2, 2, init="xavier"))
        opt = optim.Adam(model.parameters(), lr=0.1)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(X), t)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        pred = model(X).data.argmax(axis=1)
        if (pred == t).all():
            break
    return model, hidden, pred, losses, attempt


def run(seed=0, full=False):
    """Gates with the book's weights, the brute-force best line for each gate, the hand-built
    XOR = AND(NAND, OR), and a trained 2-2-2 net (1,000 Adam steps; ``full``: 5,000)."""
    gates = {}
    for name, (w, b) in BOOK_WEIGHTS.items():
        x, t = logic_gate(name)
        gates[name] = {"output": perceptron(x, w, b).tolist(), "target": t.tolist(),
                       "accuracy": float((perceptron(x, w, b) == t).mean()),
                       "best_line_accuracy": best_single_line(x, t)}
    x, t = logic_gate("XOR")
    hidden_hand, out_hand = _hand_built_xor(x)
    model, hidden, pred, losses, attempts = _train_xor(x, t, seed, 5000 if full else 1000)
    learned_hidden = hidden(tensor(x)).data
    numbers = {"gates": gates, "xor_best_line_accuracy": best_single_line(x, t),
               "xor_inputs": x.tolist(), "xor_target": t.tolist(),
               "hand_hidden": hidden_hand.tolist(), "hand_output": out_hand.tolist(),
               "hand_accuracy": float((out_hand == t).mean()),
               "trained_prediction": pred.tolist(), "trained_accuracy": float((pred == t).mean()),
               "trained_final_loss": losses[-1], "trained_attempts": attempts,
               "trained_hidden": learned_hidden.tolist(), "trained_losses": losses}
    lines = ["single perceptron, the book's weights (inputs (0,0), (1,0), (0,1), (1,1)):"]
    for name, g in gates.items():
        lines.append(f"  {name:4s} -> {g['output']}  (target {g['target']}, accuracy {g['accuracy']:.0%}; "
                     f"best line found by search {g['best_line_accuracy']:.0%})")
    lines.append(f"XOR target {t.tolist()}: best of 720 x 801 lines gets {numbers['xor_best_line_accuracy']:.0%}"
                 " - no single line separates it")
    lines.append(f"two layers by hand, XOR = AND(NAND, OR): hidden points {[tuple(map(int, h)) for h in hidden_hand]}"
                 f" -> output {out_hand.tolist()} ({numbers['hand_accuracy']:.0%})")
    lines.append(f"2-2-2 sigmoid net trained with Adam: prediction {pred.tolist()} "
                 f"({numbers['trained_accuracy']:.0%}), loss {losses[-1]:.2e}, "
                 f"initialisations tried {attempts}")

    def draw_gates(fig):
        fig.set_size_inches(12, 3.4)
        line = np.linspace(-0.5, 1.5, 2)
        for k, name in enumerate(list(BOOK_WEIGHTS) + ["XOR"]):
            ax = fig.add_subplot(1, 4, k + 1)
            gx, gt = logic_gate(name)
            ax.scatter(gx[:, 0], gx[:, 1], c=["tab:blue" if v else "white" for v in gt], edgecolors="black", s=120,
                       zorder=3)
            if name in BOOK_WEIGHTS:
                (w1, w2), b = BOOK_WEIGHTS[name]
                ax.plot(line, -(w1 * line + b) / w2, color="tab:red")
                ax.set_title(f"{name}: step({w1:g}x1 {w2:+g}x2 {b:+g})")
            else:
                ax.plot(line, -line + 0.5, color="tab:red", ls="--")
                ax.set_title("XOR: any one line, at best 75%")
            ax.set_xlim(-0.5, 1.5)
            ax.set_ylim(-0.5, 1.5)
            ax.set_aspect("equal")
            ax.set_xlabel("x1")
        fig.axes[0].set_ylabel("x2 (filled = 1)")
        fig.tight_layout()

    def draw_basis(fig):
        fig.set_size_inches(10, 9)
        colors = ["tab:blue" if v else "white" for v in t]
        grid = np.linspace(-0.5, 1.5, 2)
        ax = fig.add_subplot(2, 2, 1)
        ax.scatter(x[:, 0], x[:, 1], c=colors, edgecolors="black", s=120, zorder=3)
        for name, color in (("NAND", "tab:red"), ("OR", "tab:blue")):
            (w1, w2), b = BOOK_WEIGHTS[name]
            ax.plot(grid, -(w1 * grid + b) / w2, color=color, label=f"{name} line (hidden unit)")
        ax.set_title("data plane: two hidden lines")
        ax.legend(fontsize=8)
        ax2 = fig.add_subplot(2, 2, 2)
        jitter = np.array([[0, 0], [-0.04, 0], [0.04, 0], [0, 0]])  # (1,0) and (0,1) land on the same point
        ax2.scatter(hidden_hand[:, 0] + jitter[:, 0], hidden_hand[:, 1], c=colors, edgecolors="black", s=120,
                    zorder=3)
        (w1, w2), b = BOOK_WEIGHTS["AND"]
        ax2.plot(grid, -(w1 * grid + b) / w2, color="gold", lw=2, label="AND line (output unit)")
        ax2.set_xlim(-0.5, 1.5)
        ax2.set_ylim(-0.5, 1.5)
        ax2.set_xlabel("NAND(x)")
        ax2.set_ylabel("OR(x)")
        ax2.set_title("decision-boundary plane: one line now separates")
        ax2.legend(fontsize=8)
        ax3 = fig.add_subplot(2, 2, 3)
        u = np.linspace(-0.5, 1.5, 200)
        gx, gy = np.meshgrid(u, u)
        points = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
        h = hidden(tensor(points)).data
        for j, color in enumerate(("tab:red", "tab:blue")):
            ax3.contour(gx, gy, h[:, j].reshape(gx.shape), levels=[0.5], colors=color)
        ax3.contourf(gx, gy, model(tensor(points)).data.argmax(1).reshape(gx.shape), levels=[-0.5, 0.5, 1.5],
                     colors=["#ffffff", "#dde8f5"])
        ax3.scatter(x[:, 0], x[:, 1], c=colors, edgecolors="black", s=120, zorder=3)
        ax3.set_title("trained 2-2-2 net: its hidden lines and the XOR region")
        ax4 = fig.add_subplot(2, 2, 4)
        ax4.scatter(learned_hidden[:, 0], learned_hidden[:, 1], c=colors, edgecolors="black", s=120, zorder=3)
        W = model[1].weight.data
        bias = model[1].bias.data
        dw, db = W[1] - W[0], bias[1] - bias[0]  # boundary where both class scores are equal
        ax4.plot(u, -(dw[0] * u + db) / dw[1], color="gold", lw=2, label="output boundary")
        ax4.set_xlim(-0.1, 1.1)
        ax4.set_ylim(-0.1, 1.1)
        ax4.set_xlabel("hidden unit 1")
        ax4.set_ylabel("hidden unit 2")
        ax4.set_title("trained net's hidden plane")
        ax4.legend(fontsize=8)
        for a in (ax, ax3):
            a.set_xlim(-0.5, 1.5)
            a.set_ylim(-0.5, 1.5)
            a.set_xlabel("x1")
            a.set_ylabel("x2")
        fig.tight_layout()

    return Result("perceptron", numbers, "\n".join(lines),
                  {"perceptron_gates.png": draw_gates, "xor_change_of_basis.png": draw_basis})
