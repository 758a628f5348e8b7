"""Loss functions on the two example outputs of *Deep Learning from Scratch*, 4.2: both guess over the digits 0-9,
the answer is 2. The first puts 0.6 on the 2, the second 0.6 on the 7 (and 0.1 on the 2).

Sum of squares E = ½ Σ_k (y_k - t_k)² gives 0.0975 and 0.5975; cross-entropy E = -Σ_k t_k log y_k
only looks at the output for the right answer: -log 0.6 = 0.51 and -log 0.1 = 2.30. The -log y
curve shows why: it is 0 at y = 1 and grows without bound as y -> 0.
"""

import numpy as np

from .. import functional as F
from ..tensor import tensor
from .base import Result

TITLE = "sum of squares and cross-entropy on the book's two outputs, and the -log y curve"

T = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
Y_GOOD = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]  # highest output at 2: right
Y_BAD = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]   # highest output at 7: wrong


def run(seed=0, full=False):
    """SSE and CEE (with the book's 1e-7 inside the log) of both outputs, in float64 as in the
    book's NumPy code; and -log y on (0, 1]. ``seed`` and ``full`` change nothing (nothing random)."""
    t = tensor(T, dtype=np.float64)
    outputs = {"right (0.6 on the 2)": Y_GOOD, "wrong (0.6 on the 7)": Y_BAD}
    sse = [F.sum_squares_error(tensor(y, dtype=np.float64), t).item() for y in outputs.values()]
    cee = [F.cross_entropy_error(tensor(y, dtype=np.float64), t).item() for y in outputs.values()]
    y = np.linspace(0.001, 1.0, 1000)
    neg_log = -F.log(tensor(y, dtype=np.float64)).data
    numbers = {"sse": sse, "cross_entropy": cee, "p_correct": [Y_GOOD[2], Y_BAD[2]],
               "curve_y": y, "curve_neg_log_y": neg_log,
               "cross_entropy_of_zero": F.cross_entropy_error(tensor([0.0, 1.0], dtype=np.float64),
                                                              tensor([1.0, 0.0], dtype=np.float64)).item()}
    lines = ["answer: 2 (one-hot t = " + str(T) + ")"]
    for name, s, c in zip(outputs, sse, cee):
        lines.append(f"  {name:22s} sum of squares {s:.4f}   cross-entropy {c:.4f}")
    lines.append("both losses prefer the right output; cross-entropy depends only on y[answer]: "
                 f"-log 0.6 = {cee[0]:.2f}, -log 0.1 = {cee[1]:.2f}")
    lines.append(f"y[answer] = 0 would give -log(0 + 1e-7) = {numbers['cross_entropy_of_zero']:.2f} "
                 "(the 1e-7 keeps it finite)")

    def draw_outputs(fig):
        fig.set_size_inches(10, 4)
        for k, (name, out) in enumerate(outputs.items()):
            ax = fig.add_subplot(1, 2, k + 1)
            colors = ["tab:green" if i == 2 else "tab:gray" for i in range(10)]
            ax.bar(range(10), out, color=colors)
            ax.set_xticks(range(10))
            ax.set_ylim(0, 1)
            ax.set_xlabel("digit")
            ax.set_title(f"{name}\nSSE {sse[k]:.4f}, CE {cee[k]:.2f}")
        fig.axes[0].set_ylabel("network output y (answer 2 in green)")

    def draw_curve(fig):
        ax = fig.add_subplot()
        ax.plot(y, neg_log, label="-log y")
        for p, c in zip(numbers["p_correct"], cee):
            ax.plot([p], [c], "o", color="tab:red")
            ax.annotate(f"-log {p} = {c:.2f}", (p, c), textcoords="offset points", xytext=(8, 6))
        ax.set_ylim(0, 5)
        ax.set_xlabel("y, the output for the right answer")
        ax.set_ylabel("cross-entropy error")
        ax.set_title("cross-entropy: small when the right answer is likely, huge when not")
        ax.grid(alpha=0.3)
        ax.legend()

    return Result("loss-functions", numbers, "\n".join(lines),
                  {"loss_outputs.png": draw_outputs, "neg_log.png": draw_curve})
