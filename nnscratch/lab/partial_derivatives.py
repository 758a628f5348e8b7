"""Partial derivatives (*Deep Learning from Scratch*, 4.3.3): for f(x0, x1) = x0² + x1², ∂f/∂x0 at
(3, 4) is the ordinary derivative of the one-variable function made by fixing x1 = 4,
x0 ↦ x0² + 4², and ∂f/∂x1 that of x1 ↦ 3² + x1². The central difference with h = 1e-4 prints
6.00000000000378 and 7.999999999999119 (exact: 2·3 = 6 and 2·4 = 8); together they are the
gradient (6, 8). On the surface, each is the slope of the curve cut by the plane x1 = 4 or x0 = 3.
"""

import numpy as np

from ..gradcheck import numerical_diff
from .base import Result

TITLE = "partial derivatives of x0² + x1² at (3, 4) by fixing one variable: 6.00000000000378, 7.999999999999119"


def function_2(x):
    """The book's f(x0, x1) = x0² + x1²."""
    return x[0] ** 2 + x[1] ** 2


def function_tmp1(x0):
    """f with x1 fixed at 4: x0² + 4²."""
    return x0 * x0 + 4.0 ** 2.0


def function_tmp2(x1):
    """f with x0 fixed at 3: 3² + x1²."""
    return 3.0 ** 2.0 + x1 * x1


def run(seed=0, full=False):
    """The two partial derivatives at (3, 4) as the book computes them (float64, h = 1e-4)."""
    d0, d1 = numerical_diff(function_tmp1, 3.0), numerical_diff(function_tmp2, 4.0)
    numbers = {"point": [3.0, 4.0], "df_dx0": d0, "df_dx1": d1, "exact": [6.0, 8.0], "f": function_2([3.0, 4.0])}
    report = "\n".join([
        "f(x0, x1) = x0² + x1² at (x0, x1) = (3, 4), f = 25",
        f"  ∂f/∂x0: numerical_diff(lambda x0: x0*x0 + 4.0**2.0, 3.0) = {d0!r}   (exact 6)",
        f"  ∂f/∂x1: numerical_diff(lambda x1: 3.0**2.0 + x1*x1, 4.0) = {d1!r}   (exact 8)",
        "fixing one variable turns f into a function of the other; its slope is the partial derivative"])

    def draw(fig):
        fig.set_size_inches(11, 5)
        ax = fig.add_subplot(1, 2, 1, projection="3d")
        g = np.linspace(-5, 5, 41)
        x0, x1 = np.meshgrid(g, g)
        ax.plot_surface(x0, x1, function_2([x0, x1]), cmap="viridis", alpha=0.6, linewidth=0)
        ax.plot(g, np.full_like(g, 4.0), function_tmp1(g), color="C3", lw=2, label="x1 = 4: x0² + 16")
        ax.plot(np.full_like(g, 3.0), g, function_tmp2(g), color="C1", lw=2, label="x0 = 3: 9 + x1²")
        ax.scatter([3], [4], [25], color="black", s=30)
        ax.set(xlabel="x0", ylabel="x1", zlabel="f(x0, x1)", title="f(x0, x1) = x0² + x1²")
        ax.legend(fontsize=8, loc="upper left")
        ax2 = fig.add_subplot(1, 2, 2)
        for f, at, slope, label, color in [(function_tmp1, 3.0, d0, "x0 (x1 = 4)", "C3"),
                                           (function_tmp2, 4.0, d1, "x1 (x0 = 3)", "C1")]:
            ax2.plot(g, f(g), color=color, label=f"f as a function of {label}")
            ax2.plot(g, f(at) + slope * (g - at), "--", color=color, label=f"slope at {at:g}: {slope:.6f}")
            ax2.plot([at], [f(at)], "o", color="black")
        ax2.set(xlabel="the free variable", ylabel="f", ylim=(-5, 45), title="partial derivatives as slopes")
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=8)
        fig.tight_layout()

    return Result("partial-derivatives", numbers, report, {"partial_derivatives.png": draw})
