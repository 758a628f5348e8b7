"""Tolerances for comparing two computations of the same floating-point values: nnscratch against
PyTorch, or float32 against a float64 reference. One rule for every test that does this.

Two correct float32 computations of a value differ only by rounding, and how much depends on the
order in which each library (and the BLAS kernel that OpenBLAS picks for the CPU: Haswell,
SkylakeX, Sandybridge, ...) adds up its terms. A fixed ``rtol = atol = 1e-5`` is therefore tuned to
one machine: a BatchNorm2d weight gradient, a sum of 2,304 products (16 images x 12 x 12) in a
tensor whose largest value is 71, came out 1.801056 here and 1.801092 in PyTorch. Instead, the bound grows the way rounding error grows:

    |ours - theirs| <= SAFETY * eps * sqrt(n) * max(|theirs|, scale)        (element by element)

eps     the machine epsilon of the compared dtype: 2**-23 ~ 1.2e-7 for float32, 2**-52 ~ 2.2e-16
        for float64 (so float64 comparisons stay ~1e9 times tighter).
n       the number of terms summed into each compared value (the size of the reduction): 1 for an
        elementwise result, in_features for a linear layer's output and the batch size for its
        weight gradient, C/groups*kh*kw for a convolution's output and N*OH*OW for its weight
        gradient, N*H*W for a BatchNorm2d parameter gradient, and so on. Where a value goes
        through several reductions, the largest one.
sqrt(n) how rounding error grows with the length of a sum. Each addition rounds with a relative
        error of at most eps/2 of the partial sum; the roundings are independent and of either
        sign, so they add up like a random walk, sqrt(n) and not n (the probabilistic bound of
        Higham and Mary, "A new approach to probabilistic rounding error analysis", SIAM J. Sci.
        Comput. 2019; the worst case, n*eps, needs every rounding to go the same way). NumPy's
        pairwise and BLAS's blocked summation grow slower still, so this is an upper estimate.
scale   the magnitude of what was summed. By default the largest |theirs| in the tensor: the
        partial sums, where the rounding happens, are of the order of the largest result, and
        an element that is small only because its terms cancelled still carries their rounding.
        A caller that knows better (the sum of |terms|, or the size of the non-saturated values
        next to +-1e12 gradients) passes ``scale``.
SAFETY  8: a margin for what the formula leaves out: the few-ulp differences between NumPy's and
        PyTorch's exp, log, tanh and pow, the short chains of operations inside a layer
        (normalise, scale, shift), and the tail of the random walk. The largest error seen over
        the parity suite, with OpenBLAS's SkylakeX, Haswell, Sandybridge and Prescott kernels
        and PyTorch's AVX2 kernels, is 0.22 of the bound (1.8 * eps * sqrt(n) * scale); set
        NNSCRATCH_TOLERANCE_LOG=file to write each comparison's error / bound and see.

Still tight enough to catch a bug: for n = 64 and values of order 1 the bound is 7.6e-6; for the
BatchNorm2d weight gradient above (n = 2,304, largest value 71) it is 3.2e-3, 4.6e-5 relative to
that value (the two libraries differ by 3.7e-5 there). Adding 1e-3 to BatchNorm's weight gradient,
scaling it by 1 + 1e-4, adding 1e-5 to tanh's derivative or scaling a matmul gradient by 1 + 1e-4
each fails parity tests.
"""

import math
import os

import numpy as np

SAFETY = 8.0


def eps_of(dtype):
    """Machine epsilon of a floating dtype (float32 for anything that is not float64)."""
    dtype = np.dtype(dtype)
    return float(np.finfo(dtype if dtype.kind == "f" else np.float32).eps)


def tolerance(n=1, scale=1.0, dtype=np.float32):
    """The absolute tolerance for values of magnitude ``scale`` summed from ``n`` terms:
    SAFETY * eps(dtype) * sqrt(n) * scale."""
    return SAFETY * eps_of(dtype) * math.sqrt(max(n, 1)) * scale


def _as_array(x):
    if hasattr(x, "detach"):  # a torch tensor
        return x.detach().numpy()
    if hasattr(x, "data") and not isinstance(x, np.ndarray):  # an nnscratch Tensor
        return np.asarray(x.data)
    return np.asarray(x)


def assert_close(actual, expected, n=1, scale=None, what="", dtype=None):
    """Assert |actual - expected| <= SAFETY * eps * sqrt(n) * max(|expected|, scale) everywhere.

    ``expected`` is the reference (PyTorch's result, or a float64 computation); ``n`` the number
    of terms summed into each value; ``scale`` defaults to the largest |expected|. ``dtype`` (whose
    eps is used) defaults to the dtype of ``actual``. NaNs must be in the same places; infinities
    must be equal."""
    a, b = _as_array(actual), _as_array(expected)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != expected {b.shape}"
    dtype = a.dtype if dtype is None else np.dtype(dtype)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(a64), np.isnan(b64)
    assert np.array_equal(nan_a, nan_b), f"{what}: NaN at different places"
    inf = np.isinf(a64) | np.isinf(b64)
    assert np.array_equal(a64[inf], b64[inf]), f"{what}: infinities differ"
    finite = ~(nan_b | inf)
    if not finite.any():
        return
    a64, b64 = a64[finite], b64[finite]
    if scale is None:
        scale = float(np.abs(b64).max())
    scale = max(float(scale), float(np.finfo(np.float32).tiny))
    allowed = tolerance(n, 1.0, dtype) * np.maximum(np.abs(b64), scale)
    error = np.abs(a64 - b64)
    _record(what, n, error, allowed)
    worst = int(np.argmax(error - allowed))
    assert error[worst] <= allowed[worst], (
        f"{what}: |actual - expected| = {error[worst]:.3g} > allowed {allowed[worst]:.3g} "
        f"(actual {a64[worst]:.8g}, expected {b64[worst]:.8g}; n = {n}, scale {scale:.3g}, "
        f"{int(np.count_nonzero(error > allowed))} of {error.size} values outside)")


def _record(what, n, error, allowed):
    """With NNSCRATCH_TOLERANCE_LOG set, append the largest error / allowed of each comparison to
    that file (to see how much of the bound a run uses)."""
    path = os.environ.get("NNSCRATCH_TOLERANCE_LOG")
    if path:
        ratio = float(np.max(error / allowed))
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
        with open(path, "a") as f:
            f.write(f"{ratio:.4g}\t{n}\t{test}\t{what}\n")
