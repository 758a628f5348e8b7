"""Numerical differentiation (*Deep Learning from Scratch*, 4.3): f(x) = 0.01x² + 0.1x has f'(x) = 0.02x + 0.1, so the
slopes at x = 5 and x = 10 are 0.2 and 0.3; the central difference with h = 1e-4 gets them to
about 1e-12.

Why not an ever smaller h: the forward difference (f(x+h) - f(x)) / h has a truncation error
f''(x)·h/2 (here exactly 0.01h), the central one (f(x+h) - f(x-h)) / 2h an O(h²) error (here 0,
f being quadratic); but both divide a difference of nearly equal numbers by h, so their rounding
error grows like eps/h. In float32 (eps ≈ 1.2e-7) that wins much sooner, and h = 1e-50 is not
even representable: float32(1e-50) == 0.0.
"""

import numpy as np

from ..gradcheck import numerical_diff
from .base import Result

TITLE = "numerical differentiation: tangents of 0.01x² + 0.1x, forward vs central error, the float32 trap"


def function_1(x):
    """The seed's f(x) = 0.01x² + 0.1x."""
    return 0.01 * x ** 2 + 0.1 * x


def exact_derivative(x):
    """f'(x) = 0.02x + 0.1."""
    return 0.02 * x + 0.1


def forward_diff(f, x, h):
    """(f(x + h) - f(x)) / h, the one-sided difference the seed warns about."""
    return (f(x + h) - f(x)) / h


def _errors(dtype, x0, hs):
    x = dtype(x0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fwd = [abs(float(forward_diff(function_1, x, dtype(h))) - exact_derivative(x0)) for h in hs]
        cen = [abs(float(numerical_diff(function_1, x, dtype(h))) - exact_derivative(x0)) for h in hs]
    return fwd, cen


def run(seed=0, full=False):
    """Slopes at 5 and 10 (float64, h = 1e-4), tangent lines, the errors of both differences for
    h = 1e-1 ... 1e-12 in float64 and float32 at x = 5, and what h = 1e-50 does."""
    points = [5.0, 10.0]
    slopes = [float(numerical_diff(function_1, np.float64(x))) for x in points]
    hs = [10.0 ** -k for k in range(1, 13)]
    fwd64, cen64 = _errors(np.float64, 5.0, hs)
    fwd32, cen32 = _errors(np.float32, 5.0, hs)
    with np.errstate(divide="ignore", invalid="ignore"):
        tiny64 = float(numerical_diff(function_1, np.float64(5.0), 1e-50))
        tiny32 = float(numerical_diff(function_1, np.float32(5.0), np.float32(1e-50)))
    best = {name: hs[int(np.nanargmin(e))] for name, e in
            [("forward64", fwd64), ("central64", cen64), ("forward32", fwd32), ("central32", cen32)]}
    numbers = {"points": points, "slopes": slopes, "exact_slopes": [exact_derivative(x) for x in points],
               "intercepts": [function_1(x) - s * x for x, s in zip(points, slopes)],
               "h": hs, "forward_error_float64": fwd64, "central_error_float64": cen64,
               "forward_error_float32": fwd32, "central_error_float32": cen32, "best_h": best,
               "float32_of_1e-50": float(np.float32(1e-50)),
               "h_1e-50_float64": tiny64, "h_1e-50_float32": tiny32}
    lines = ["f(x) = 0.01x² + 0.1x, central difference with h = 1e-4 (float64):"]
    for x, s in zip(points, slopes):
        exact = exact_derivative(x)
        lines.append(f"  f'({x:g}) ≈ {s:.16f}  (exact {exact:.1f}, error {abs(s - exact):.1e})")
    for x, s, b in zip(points, slopes, numbers["intercepts"]):
        lines.append(f"  tangent at x = {x:g}: y = {s:.4f} x {b:+.4f}")
    lines.append("error at x = 5 as h shrinks:      forward64  central64  forward32  central32")
    for h, a, b, c, d in zip(hs, fwd64, cen64, fwd32, cen32):
        lines.append(f"  h = {h:7.0e}                   {a:9.1e}  {b:9.1e}  {c:9.1e}  {d:9.1e}")
    lines.append("best h: " + ", ".join(f"{k} {v:.0e}" for k, v in best.items()))
    lines.append(f"float32(1e-50) = {numbers['float32_of_1e-50']}; with h = 1e-50 the central difference "
                 f"gives {tiny64} in float64 (x + h == x) and {tiny32} in float32 (0 / 0)")

    def draw_tangents(fig):
        ax = fig.add_subplot()
        x = np.arange(0.0, 20.0, 0.1)
        ax.plot(x, function_1(x), label="f(x) = 0.01x² + 0.1x")
        for x0, s, b in zip(points, slopes, numbers["intercepts"]):
            ax.plot(x, s * x + b, "--", label=f"tangent at x = {x0:g}, slope {s:.4f}")
            ax.plot([x0], [function_1(x0)], "o", color="black")
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        ax.set_ylim(-1, 6)
        ax.grid(alpha=0.3)
        ax.legend()

    def draw_errors(fig):
        ax = fig.add_subplot()
        floor = 1e-18  # an exact 0 cannot be drawn on a log axis
        for label, e, style in [("forward, float64", fwd64, "o-"), ("central, float64", cen64, "s-"),
                                ("forward, float32", fwd32, "o--"), ("central, float32", cen32, "s--")]:
            ax.loglog(hs, np.maximum(np.nan_to_num(e, nan=1.0), floor), style, label=label)
        ax.invert_xaxis()
        ax.set_xlabel("h (shrinking to the right)")
        ax.set_ylabel("|numerical - exact| at x = 5")
        ax.set_title("truncation error falls with h, rounding error rises")
        ax.grid(alpha=0.3, which="both")
        ax.legend()

    return Result("numerical-diff", numbers, "\n".join(lines),
                  {"tangents.png": draw_tangents, "diff_error.png": draw_errors})
