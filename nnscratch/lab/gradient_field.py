"""The gradient as a vector field (*Deep Learning from Scratch*, 4.4): for f(x0, x1) = x0² + x1² the gradient is
(2x0, 2x1), so at (3, 4), (0, 2) and (3, 0) it is (6, 8), (0, 4) and (6, 0). Drawn as -∇f, every
arrow points at the minimum (0, 0), and is longer the farther the point is: the gradient's
negative is the direction in which f falls fastest.
"""

import numpy as np

from ..gradcheck import numerical_gradient
from .base import Result

TITLE = "the vector field of -grad(x0² + x1²) and the seed's gradients at (3,4), (0,2), (3,0)"

POINTS = [(3.0, 4.0), (0.0, 2.0), (3.0, 0.0)]


def function_2(x):
    """The seed's f(x) = x0² + x1² (x0, x1 = x[0], x[1], scalars or arrays of points)."""
    return x[0] ** 2 + x[1] ** 2


def run(seed=0, full=False):
    """Numerical gradients (h = 1e-4, float64) at the seed's three points and on the grid
    -2 ... 2.25 step 0.25 (the book's figure); the angle between -∇f and the direction to the
    origin at every grid point."""
    gradients = [numerical_gradient(function_2, np.array(p)).tolist() for p in POINTS]
    axis = np.arange(-2.0, 2.5, 0.25)
    x0, x1 = np.meshgrid(axis, axis)
    grid = np.stack([x0.ravel(), x1.ravel()])  # (2, N)
    # f summed over the grid points: each point's coordinates only enter its own term, so the
    # gradient of the sum is every point's own gradient, in one numerical_gradient call.
    field = -numerical_gradient(lambda g: float(np.sum(function_2(g))), grid)
    to_origin = -grid
    norms = np.linalg.norm(field, axis=0) * np.linalg.norm(to_origin, axis=0)
    away = norms > 0
    cosines = np.sum(field * to_origin, axis=0)[away] / norms[away]
    numbers = {"points": [list(p) for p in POINTS], "gradients": gradients,
               "grid": grid, "field": field,
               "min_cosine_to_origin": float(cosines.min()),
               "max_abs_error": float(np.abs(field + 2 * grid).max())}
    lines = ["f(x0, x1) = x0² + x1², gradient by central differences (h = 1e-4):"]
    for p, g in zip(POINTS, gradients):
        lines.append(f"  grad f{p} = ({g[0]:.4f}, {g[1]:.4f})   exact ({2 * p[0]:g}, {2 * p[1]:g})")
    lines.append(f"on a {len(axis)}x{len(axis)} grid, -grad f points straight at the minimum (0, 0): smallest "
                 f"cosine with the direction to the origin {numbers['min_cosine_to_origin']:.6f}; "
                 f"largest error against 2x {numbers['max_abs_error']:.1e}")

    def draw(fig):
        fig.set_size_inches(6, 6)
        ax = fig.add_subplot()
        ax.quiver(grid[0], grid[1], field[0], field[1], angles="xy", color="#666666")
        for p in POINTS:
            if abs(p[0]) <= 2.5 and abs(p[1]) <= 2.5:
                ax.plot(*p, "o", color="tab:red")
        ax.plot(0, 0, "*", color="tab:green", markersize=14, label="minimum (0, 0)")
        ax.set_xlim(-2.5, 2.5)
        ax.set_ylim(-2.5, 2.5)
        ax.set_aspect("equal")
        ax.set_xlabel("x0")
        ax.set_ylabel("x1")
        ax.set_title("-grad f of f = x0² + x1²")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right")

    def draw_points(fig):
        fig.set_size_inches(6, 6)
        ax = fig.add_subplot()
        t = np.linspace(0, 2 * np.pi, 200)
        for r in (1, 2, 3, 4, 5):
            ax.plot(r * np.cos(t), r * np.sin(t), color="#cccccc", lw=0.8)
        for p, g in zip(POINTS, gradients):
            ax.annotate("", xy=(p[0] - 0.25 * g[0], p[1] - 0.25 * g[1]), xytext=p,
                        arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 2})
            ax.plot(*p, "o", color="tab:red")
            ax.annotate(f"{p}: grad ({g[0]:.0f}, {g[1]:.0f})", p, textcoords="offset points", xytext=(6, 6))
        ax.set_xlim(-1, 6)
        ax.set_ylim(-1, 6)
        ax.set_aspect("equal")
        ax.set_xlabel("x0")
        ax.set_ylabel("x1")
        ax.set_title("-grad f (x 0.25) at the seed's points, over contours of f")

    return Result("gradient-field", numbers, "\n".join(lines),
                  {"gradient_field.png": draw, "gradient_points.png": draw_points})
