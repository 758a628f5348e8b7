"""Numerical differentiation, gradient descent on plain functions, and gradient checking.

``numerical_diff``, ``numerical_gradient`` and ``gradient_descent`` are *Deep Learning from Scratch*'s (ch. 4) functions
(chapter 4 of *Deep Learning from Scratch*), generalised to arrays of any shape.
``gradcheck`` uses the same central difference to prove that autograd's gradients are right.
"""

import numpy as np

from .tensor import Tensor, grad, no_grad


def numerical_diff(f, x, h=1e-4):
    """The central difference (f(x + h) - f(x - h)) / 2h, an O(h²) estimate of f'(x).

    h = 1e-4 balances the truncation error (which shrinks with h) against rounding error
    (which grows as h shrinks: in float32, 1e-50 is simply 0.0).
    """
    return (f(x + h) - f(x - h)) / (2 * h)


def _scalar(value):
    return value.item() if isinstance(value, Tensor) else float(np.asarray(value))


def numerical_gradient(f, x, h=1e-4):
    """∂f/∂x_i ≈ (f(x + h·e_i) - f(x - h·e_i)) / 2h for every element of ``x``.

    ``x`` (an ndarray or a Tensor, any shape) is perturbed in place one element at a time and
    each element is restored afterwards, so ``f`` may read ``x`` directly or ignore its argument
    and read a network's weights (as the seed's ``lambda W: net.loss(x, t)`` does).
    """
    array = x.data if isinstance(x, Tensor) else x
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        raise TypeError("numerical_gradient needs a floating-point ndarray or Tensor to perturb in place, "
                        f"got {type(x).__name__}; pass e.g. np.array([3.0, 4.0])")
    out = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        original = array[idx]
        array[idx] = original + h
        f_plus = _scalar(f(x))
        array[idx] = original - h
        f_minus = _scalar(f(x))
        array[idx] = original
        out[idx] = (f_plus - f_minus) / (2 * h)
    return out


def gradient_descent(f, init_x, lr=0.01, step_num=100, return_history=False):
    """Repeat x ← x - lr · ∇f(x) for ``step_num`` steps from ``init_x`` (not modified).

    Returns the final x, and with ``return_history=True`` also the path: an array of
    ``step_num + 1`` points starting at ``init_x``.
    """
    x = np.array(init_x, dtype=None if np.asarray(init_x).dtype.kind == "f" else np.float64)
    history = [x.copy()]
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
        if return_history:
            history.append(x.copy())
    return (x, np.array(history)) if return_history else x


class GradcheckError(AssertionError):
    """Autograd and the numerical gradient disagree."""


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check the gradients autograd computes for ``fn(*inputs)`` against central differences.

    Works in float64. The inputs checked are arrays and tensors with ``requires_grad=True``;
    other tensors are constants and other arguments are passed as they are. For a random
    fixed weighting r of the output, the scalar L = Σ r · fn(*inputs) is differentiated both
    ways; each element must satisfy |autograd - numerical| <= atol + rtol · |numerical|.
    Returns True, or raises ``GradcheckError`` naming the input, the worst element and both values.
    """
    args, checked = [], []
    for x in inputs:
        if isinstance(x, np.ndarray) or (isinstance(x, Tensor) and x.requires_grad):
            t = Tensor(np.asarray(x.data if isinstance(x, Tensor) else x), dtype=np.float64, requires_grad=True)
            checked.append(len(args))
        elif isinstance(x, Tensor) and x.dtype.kind == "f":
            t = Tensor(x.data, dtype=np.float64)
        else:
            t = x
        args.append(t)
    if not checked:
        raise ValueError("gradcheck found nothing to check: pass arrays or tensors with requires_grad=True")

    out = fn(*args)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    analytic = grad((out * weights).sum(), [args[i] for i in checked], allow_unused=True)

    def weighted_output():
        with no_grad():
            return float(np.sum(fn(*args).data * weights))

    for i, g in zip(checked, analytic):
        x = args[i].data
        g = np.zeros_like(x) if g is None else g.data
        if g.shape != x.shape:
            raise GradcheckError(f"input {i}: autograd gradient has shape {tuple(g.shape)}, input has shape {tuple(x.shape)}")
        numeric = numerical_gradient(lambda _: weighted_output(), x, h=eps)
        error = np.abs(g - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and error.max() > 0:
            worst = np.unravel_index(np.argmax(error), x.shape)
            raise GradcheckError(f"gradient of input {i} (shape {tuple(x.shape)}) is wrong at index {worst}: "
                                 f"autograd {g[worst]!r}, numerical {numeric[worst]!r} "
                                 f"(tolerance atol={atol}, rtol={rtol})")
    return True
