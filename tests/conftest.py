"""Shared fixtures: a seeded random generator and input makers that keep values away from kinks;
and the markers each test gets from where it lives (``pytest -m "not parity and not mpi and not
browser" tests/core tests/nn`` runs the fast core).

The folders follow the package's layers: core (tensor, ops, autograd), nn, optim, data, train, app
(CLI, run directories, presets), lab, compat (PyTorch scripts via as-torch), serve, distributed.
Helpers shared by several folders sit here: tolerance.py, browser.py, torchvision_standin/.
"""

import contextlib
import sys
import zlib

import numpy as np
import pytest


@pytest.fixture
def rng(request):
    """A numpy Generator seeded from the test's name (stable from run to run, different per case);
    PyTorch, when a test module imported it, is seeded the same (its module initialisation)."""
    seed = zlib.crc32(request.node.name.encode())
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    return np.random.default_rng(seed)


@contextlib.contextmanager
def _on_path(path, monkeypatch):
    """Ops on NumPy alone ("numpy"), with the compiled kernels ("compiled", skipped where numba is
    not installed), or with those and Winograd's algorithm for every convolution it applies to
    ("winograd": 3x3, stride 1; its threshold of channels set aside, so that small test layers take
    it too)."""
    from nnscratch.functional import compiled, conv_winograd
    if path != "numpy" and not compiled.available():
        pytest.skip("numba is not installed: the compiled kernels cannot run")
    if path == "winograd":
        monkeypatch.setattr(conv_winograd, "MIN_CHANNEL_RATIO", 0)
    previous = compiled.set_enabled(path != "numpy")
    try:
        yield
    finally:
        compiled.set_enabled(previous)


@pytest.fixture(params=["numpy", "compiled"])
def kernel_path(request, monkeypatch):
    """Run the test on NumPy alone, then with the compiled kernels (``nnscratch.functional.compiled``)."""
    with _on_path(request.param, monkeypatch):
        yield request.param


@pytest.fixture(params=["numpy", "compiled", "winograd"])
def conv_path(request, monkeypatch):
    """``kernel_path`` for convolutions, with a third run on Winograd's algorithm (``conv_winograd``)."""
    with _on_path(request.param, monkeypatch):
        yield request.param


def _away_from(x, points, margin):
    """Move every value closer than ``margin`` to one of ``points`` out to point ± 2·margin."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        near = np.abs(x - p) < margin
        x = np.where(near, p + np.where(x >= p, 2 * margin, -2 * margin), x)
    return x


def make_array(kind, shape, rng):
    """A float64 array of ``shape`` drawn for ``kind``.

    n        standard normal
    pos      uniform in [0.5, 2)              (log, sqrt, pow bases, fractional powers)
    nz       |x| in [0.3, 1.5), random sign   (denominators, abs, relu: no value near 0)
    big      normal * 10                      (sigmoid/tanh saturation, softmax shift)
    gridA    k/2 + 0.25 ± 0.05                (maximum/minimum: gridA and gridB are never
    gridB    k/2        ± 0.05                 within 0.15 of each other, so no ties)
    distinct distinct values at least 0.05 apart (max/min reductions: no ties)
    clip     normal, kept 0.1 away from the clip bounds used in the tests (±0.5, 0.3, -0.2)
    mask     a random boolean array (a ``where`` condition), not a float input
    """
    shape = tuple(shape)
    if kind == "n":
        return rng.standard_normal(shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "nz":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 1.5, shape)
    if kind == "big":
        return 10 * rng.standard_normal(shape)
    if kind == "gridA":
        return rng.integers(-4, 4, shape) * 0.5 + 0.25 + rng.uniform(-0.05, 0.05, shape)
    if kind == "gridB":
        return rng.integers(-4, 4, shape) * 0.5 + rng.uniform(-0.05, 0.05, shape)
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(-0.02, 0.02, n)).reshape(shape)
    if kind == "clip":
        return _away_from(rng.standard_normal(shape), [-0.5, 0.5, 0.3, -0.2], 0.05)
    if kind == "mask":
        return rng.random(shape) < 0.5
    raise ValueError(f"unknown input kind {kind!r}")


@pytest.fixture
def make_inputs(rng):
    """``make_inputs(specs)``: one input per spec. A spec is ``(kind, shape)`` for a float64 array
    (see ``make_array``) or a ready ndarray (an index, a mask), which is passed through unchanged."""

    def make(specs):
        return [s if isinstance(s, np.ndarray) else np.asarray(make_array(s[0], s[1], rng)) for s in specs]

    return make


def _marker_of(path):
    """The marker a test file gets from its name and folder."""
    if path.name.endswith("_parity.py") or path.name in ("test_as_torch_scripts.py", "test_torch_dtypes.py"):
        return pytest.mark.parity
    if path.parent.name == "distributed":
        return pytest.mark.mpi
    if path.name == "test_serve_browser.py":
        return pytest.mark.browser
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        marker = _marker_of(item.path)
        if marker is not None:
            item.add_marker(marker)
