"""Small synthetic datasets for demos and tests: logic gates, two spirals, two moons, two circles
and noisy sine windows.

Each returns ``(x, t)``: x float32, t int64 class labels (float32 next values for
``sine_sequences``), or a TensorDataset with ``as_dataset=True``. Random ones take ``seed``: an
int (or a ``numpy.random.Generator``) for a fixed result, or None to draw from nnscratch's
generator (``nnscratch.manual_seed`` makes that reproducible).
"""

import numpy as np

from .. import backend
from .dataset import TensorDataset

GATES = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
    "XOR": [0, 1, 1, 0],
    "XNOR": [1, 0, 0, 1],
}
# The book's order of the four inputs: (0, 0), (1, 0), (0, 1), (1, 1)
GATE_INPUTS = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)


def _rng(seed):
    if seed is None:
        return backend.generator()
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _result(x, t, as_dataset):
    x = np.ascontiguousarray(x, dtype=np.float32)
    return TensorDataset(x, t) if as_dataset else (x, t)


def _split(n, classes=2):
    """How many of ``n`` samples each class gets (the first classes get the remainder)."""
    return [n // classes + (k < n % classes) for k in range(classes)]


def logic_gate(name, as_dataset=False):
    """The truth table of gate ``name`` (AND, OR, NAND, NOR, XOR, XNOR; any case):
    x = [[0, 0], [1, 0], [0, 1], [1, 1]] (float32), t = the gate's outputs (int64).
    Deterministic, so no seed. XOR is the classic problem a single perceptron cannot solve."""
    key = name.upper()
    if key not in GATES:
        raise ValueError(f"unknown gate {name!r}; choose one of {', '.join(GATES)}")
    return _result(GATE_INPUTS.copy(), np.array(GATES[key], dtype=np.int64), as_dataset)


def _shuffled(x, t, rng):
    order = rng.permutation(len(t))
    return x[order], t[order]


def spirals(n=200, noise=0.1, turns=1.5, seed=None, as_dataset=False):
    """Two interleaved spirals, ``n`` points in all (class 0 and 1, shuffled).

    For class k, with s ~ U(0, 1) and angle a = 2π·turns·s:
    x = s·(cos(a + kπ), sin(a + kπ)) + noise·N(0, 1) per coordinate (radius grows from 0 to 1)."""
    rng = _rng(seed)
    counts = _split(n)
    t = np.repeat(np.arange(2, dtype=np.int64), counts)
    s = rng.random(n)
    angle = 2 * np.pi * turns * s + np.pi * t
    x = s[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x += noise * rng.standard_normal((n, 2))
    return _result(*_shuffled(x, t, rng), as_dataset)


def moons(n=200, noise=0.1, seed=None, as_dataset=False):
    """Two interleaving half circles (scikit-learn's make_moons), ``n`` points, shuffled.

    Class 0: (cos θ, sin θ); class 1: (1 - cos θ, 0.5 - sin θ); θ evenly spaced in [0, π];
    plus noise·N(0, 1) per coordinate."""
    rng = _rng(seed)
    n0, n1 = _split(n)
    a, b = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    x = np.concatenate([np.stack([np.cos(a), np.sin(a)], 1), np.stack([1 - np.cos(b), 0.5 - np.sin(b)], 1)])
    t = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    x += noise * rng.standard_normal((n, 2))
    return _result(*_shuffled(x, t, rng), as_dataset)


def circles(n=200, noise=0.05, factor=0.5, seed=None, as_dataset=False):
    """Two concentric circles (scikit-learn's make_circles), ``n`` points, shuffled.

    Class 0 on the unit circle, class 1 on the circle of radius ``factor``, at evenly spaced
    angles, plus noise·N(0, 1) per coordinate."""
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1 (the inner radius), got {factor}")
    rng = _rng(seed)
    n0, n1 = _split(n)
    a = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    b = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    x = np.concatenate([np.stack([np.cos(a), np.sin(a)], 1), factor * np.stack([np.cos(b), np.sin(b)], 1)])
    t = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    x += noise * rng.standard_normal((n, 2))
    return _result(*_shuffled(x, t, rng), as_dataset)


def sine_sequences(n=1000, length=20, noise=0.05, seed=None, period=25.0, as_dataset=False):
    """``n`` windows of a noisy sine wave, for sequence models: x (n, length, 1), t (n, 1), float32.

    Window i starts at a random phase φ_i ~ U(0, 2π); with y_k = sin(φ_i + 2πk/period) +
    noise·N(0, 1), x[i] = y_0 … y_{length-1} and t[i] = y_length, the next value."""
    rng = _rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    steps = 2 * np.pi / period * np.arange(length + 1)
    y = np.sin(phase + steps) + noise * rng.standard_normal((n, length + 1))
    y = y.astype(np.float32)
    x, t = y[:, :length, None].copy(), y[:, length:].copy()
    return TensorDataset(x, t) if as_dataset else (x, t)
