"""Local minima and saddle points (the gradient-descent lesson: the start decides which minimum
you reach). Gradient descent (``gradient_descent``, numerical gradients, float64) on

- f(x) = x⁴ - 3x² + x: a global minimum near x = -1.30 (f = -3.51) and a local one near x = 1.13
  (f = -1.07); starts left of the maximum at x ≈ 0.17 roll to the first, starts right of it to the
  second, which is no better than its neighbourhood but not the best;
- Himmelblau's function (x² + y - 11)² + (x + y² - 7)²: four minima of value 0, each reached from
  the starts in its own basin;
- the saddle x² - y²: started on the x axis, descent walks to (0, 0), where the gradient is 0 and
  it stalls (though f falls away along y); a start 0.001 off the axis escapes.
"""

import numpy as np

from ..gradcheck import gradient_descent
from .base import Result

TITLE = "gradient descent on non-convex functions: the start decides the minimum; a saddle stalls descent"

STARTS_1D = [-2.0, -0.5, 0.0, 0.5, 2.0]
STARTS_2D = [(4.0, 4.0), (-4.0, 4.0), (-4.0, -4.0), (4.0, -4.0), (0.0, 0.0)]
SADDLE_STARTS = [(1.0, 0.0), (1.0, 0.001)]


def quartic(x):
    """f(x) = x⁴ - 3x² + x (of a 1-element array)."""
    return x[0] ** 4 - 3 * x[0] ** 2 + x[0]


def himmelblau(p):
    """(x² + y - 11)² + (x + y² - 7)²: minima at (3, 2), (-2.805, 3.131), (-3.779, -3.283), (3.584, -1.848)."""
    x, y = p[0], p[1]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def saddle(p):
    """x² - y²: a saddle point at (0, 0)."""
    return p[0] ** 2 - p[1] ** 2


def _descend(f, starts, lr, steps):
    return [gradient_descent(f, np.array(s, dtype=np.float64), lr=lr, step_num=steps, return_history=True)[1]
            for s in starts]


def run(seed=0, full=False):
    """Paths from every start; numbers: the end points and values of each, and for the saddle the
    end points and gradient norms."""
    paths_1d = _descend(quartic, [[s] for s in STARTS_1D], lr=0.01, steps=300)
    paths_2d = _descend(himmelblau, STARTS_2D, lr=0.01, steps=300)
    paths_saddle = _descend(saddle, SADDLE_STARTS, lr=0.1, steps=40)
    ends_1d = [float(p[-1, 0]) for p in paths_1d]
    ends_2d = [p[-1].tolist() for p in paths_2d]
    numbers = {"starts_1d": STARTS_1D, "ends_1d": ends_1d, "values_1d": [float(quartic(p[-1])) for p in paths_1d],
               "starts_2d": STARTS_2D, "ends_2d": ends_2d, "values_2d": [float(himmelblau(p[-1])) for p in paths_2d],
               "saddle_starts": SADDLE_STARTS, "saddle_ends": [p[-1].tolist() for p in paths_saddle],
               "saddle_values": [float(saddle(p[-1])) for p in paths_saddle],
               "saddle_gradient_norms": [float(np.hypot(2 * p[-1][0], 2 * p[-1][1])) for p in paths_saddle]}
    lines = ["f(x) = x⁴ - 3x² + x, lr 0.01, 300 steps:"]
    lines += [f"  from x = {s:5.1f} to x = {e:8.5f}, f = {v:8.5f}" for s, e, v in
              zip(STARTS_1D, ends_1d, numbers["values_1d"])]
    lines.append("Himmelblau's function, lr 0.01, 300 steps:")
    lines += [f"  from {str(s):12s} to ({e[0]:8.5f}, {e[1]:8.5f}), f = {v:.1e}" for s, e, v in
              zip(STARTS_2D, ends_2d, numbers["values_2d"])]
    lines.append("saddle x² - y², lr 0.1, 40 steps:")
    lines += [f"  from {str(s):12s} to ({e[0]:.2e}, {e[1]:.4f}), f = {v:9.4f}, |gradient| {g:.1e}" for s, e, v, g in
              zip(SADDLE_STARTS, numbers["saddle_ends"], numbers["saddle_values"], numbers["saddle_gradient_norms"])]

    def draw(fig):
        fig.set_size_inches(15, 4.6)
        ax1, ax2, ax3 = fig.subplots(1, 3)
        x = np.linspace(-2.2, 2.2, 300)
        ax1.plot(x, quartic([x]), color="gray")
        for s, p in zip(STARTS_1D, paths_1d):
            ax1.plot(p[:, 0], quartic([p[:, 0]]), ".-", ms=3, label=f"start {s:g} → {p[-1, 0]:.2f}")
        ax1.set(xlabel="x", ylabel="f(x)", title="x⁴ - 3x² + x: two minima", ylim=(-4, 6))
        for ax, f, paths, lim, title in [(ax2, himmelblau, paths_2d, 5, "Himmelblau: four minima"),
                                         (ax3, saddle, paths_saddle, 1.6, "saddle x² - y²: stalls on the axis")]:
            g = np.linspace(-lim, lim, 200)
            gx, gy = np.meshgrid(g, g)
            z = f([gx, gy])
            ax.contour(gx, gy, np.log1p(z) if f is himmelblau else z, levels=25, cmap="viridis", linewidths=0.7)
            for p in paths:
                ax.plot(p[:, 0], p[:, 1], ".-", ms=3, label=f"({p[0, 0]:g}, {p[0, 1]:g}) → "
                                                           f"({p[-1, 0]:.2f}, {p[-1, 1]:.2f})")
            ax.set(xlabel="x", ylabel="y", title=title, xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
        for ax in (ax1, ax2, ax3):
            ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
        fig.tight_layout()

    return Result("local-minima", numbers, "\n".join(lines), {"local_minima.png": draw})
