"""Gradient descent x <- x - lr·∇f(x) on f = x0² + x1² from (-3, 4), 100 steps
(*Deep Learning from Scratch*, 4.4.1).

With lr = 0.1 every step multiplies x by (1 - 2·0.1) = 0.8: the first step goes to (-2.4, 3.2)
and after 100 steps x is about (-6.1e-10, 8.1e-10), the minimum. With lr = 10 the factor is
1 - 20 = -19: each step overshoots to the other side, 19 times farther, until the numerical
gradient itself breaks down (x ± h rounds to x once |x| ~ 1e12). With lr = 1e-10 the factor
is 1 - 2e-10: after 100 steps x has barely moved.
"""

import numpy as np

from ..gradcheck import gradient_descent
from .base import Result
from .gradient_field import function_2

TITLE = "gradient descent from (-3, 4): lr 0.1 converges, lr 10 diverges, lr 1e-10 barely moves"

LEARNING_RATES = [0.1, 10.0, 1e-10]


def run(seed=0, full=False):
    """The seed's gradient_descent (numerical gradients, float64) with each learning rate,
    100 steps from (-3, 4); the full paths are kept for the figure."""
    init = np.array([-3.0, 4.0])
    runs = {}
    for lr in LEARNING_RATES:
        with np.errstate(over="ignore", invalid="ignore"):
            final, path = gradient_descent(function_2, init, lr=lr, step_num=100, return_history=True)
        runs[lr] = (final, path)
    good_path = runs[0.1][1]
    numbers = {"init": init.tolist(), "learning_rates": LEARNING_RATES,
               "final": {lr: runs[lr][0].tolist() for lr in LEARNING_RATES},
               "final_f": {lr: float(function_2(runs[lr][0])) for lr in LEARNING_RATES},
               "first_step": good_path[1].tolist(),
               "paths": {lr: runs[lr][1] for lr in LEARNING_RATES},
               "distance_moved_small_lr": float(np.linalg.norm(runs[1e-10][0] - init)),
               "largest_norm_lr10": float(np.nanmax(np.linalg.norm(runs[10.0][1], axis=1)))}
    lines = ["f(x) = x0² + x1², start (-3, 4), 100 steps of x <- x - lr grad f(x):"]
    for lr in LEARNING_RATES:
        x = runs[lr][0]
        lines.append(f"  lr = {lr:<6g} -> x = ({x[0]: .9g}, {x[1]: .9g}), f = {numbers['final_f'][lr]:.3e}")
    lines.append(f"lr 0.1: first step to ({numbers['first_step'][0]:.1f}, {numbers['first_step'][1]:.1f}); "
                 "each step scales x by 0.8")
    lines.append(f"lr 10: each step scales x by -19; |x| reached {numbers['largest_norm_lr10']:.2e}")
    lines.append(f"lr 1e-10: moved {numbers['distance_moved_small_lr']:.1e} in 100 steps")

    def draw(fig):
        ax = fig.add_subplot()
        x0, x1 = np.meshgrid(np.linspace(-4.5, 4.5, 200), np.linspace(-4.5, 4.5, 200))
        ax.contour(x0, x1, x0 ** 2 + x1 ** 2, levels=[0.5, 2, 4.5, 8, 12.5, 18, 24.5], colors="#cccccc")
        ax.plot(good_path[:, 0], good_path[:, 1], "o", markersize=3, label="lr 0.1 (100 steps)")
        small = runs[1e-10][1]
        ax.plot(small[:, 0], small[:, 1], "s", color="tab:red", label="lr 1e-10: stays at the start")
        big = runs[10.0][1][:3]
        ax.plot(big[:, 0], big[:, 1], "x--", color="tab:purple", label="lr 10: first 2 steps, ×(-19) each")
        ax.plot(0, 0, "+", color="black", markersize=12)
        ax.set_xlim(-4.5, 4.5)
        ax.set_ylim(-4.5, 4.5)
        ax.set_aspect("equal")
        ax.set_xlabel("x0")
        ax.set_ylabel("x1")
        ax.set_title("gradient descent on x0² + x1² from (-3, 4)")
        ax.legend(loc="lower right", fontsize=8)

    def draw_f(fig):
        ax = fig.add_subplot()
        for lr in LEARNING_RATES:
            f = function_2(runs[lr][1].T)
            ax.semilogy(np.arange(len(f)), np.maximum(f, 1e-300), label=f"lr {lr:g}")
        ax.set_xlabel("step")
        ax.set_ylabel("f(x)")
        ax.set_title("f along the path: too large diverges, too small stalls")
        ax.grid(alpha=0.3, which="both")
        ax.legend()

    return Result("gradient-descent", numbers, "\n".join(lines),
                  {"gradient_descent.png": draw, "gradient_descent_f.png": draw_f})
