"""The compiled kernels (``nnscratch.functional.compiled``, numba) against the NumPy path they stand
in for, on convolutions large enough for several grid chunks per thread (and pointwise ops with
PARALLEL_MIN lowered), with the cases the small grids of test_conv.py do not reach: channel counts
that are not multiples of the kernels' tiles, 'same' padding with an even kernel, dilation, NaN
and ties; the LSTM step's bit-for-bit equality; the switch (NNSCRATCH_COMPILED=0) and the parking
of OpenBLAS's threads.

Winograd's algorithm (``conv_winograd``) is checked here on odd sizes and batches, with its
threshold of channels set aside. test_recurrent.py and test_recurrent_parity.py run all their cases on both
paths too (the ``kernel_path`` fixture), test_conv.py and test_conv_parity.py on the three (the
``conv_path`` fixture: NumPy, compiled, Winograd), gradchecks in float64 and PyTorch parity
included."""

import os
import subprocess
import sys

import numpy as np
import pytest
from tolerance import assert_close

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn
from nnscratch.functional import compiled, conv_winograd

pytest.importorskip("numba")


@pytest.fixture
def low_threshold(monkeypatch):
    """The pointwise kernels run from 1,000 elements on (PARALLEL_MIN), so that small arrays test them."""
    monkeypatch.setattr(compiled, "PARALLEL_MIN", 1000)


@pytest.fixture
def ran(monkeypatch):
    """The names of the compiled kernels run during the test."""
    names, real = [], compiled.run
    monkeypatch.setattr(compiled, "run", lambda name, *args: names.append(name) or real(name, *args))
    return names


def both_paths(fn, *arrays):
    """fn's output and the gradients of (output · G) for a fixed random G, on NumPy alone and with
    the compiled kernels: [numpy results, compiled results]."""
    results = []
    g = None
    for on in (False, True):
        previous = compiled.set_enabled(on)
        try:
            tensors = [ns.tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays]
            y = fn(*tensors)
            if g is None:
                g = np.random.default_rng(7).standard_normal(y.shape).astype(y.dtype)
            (y * ns.tensor(g)).sum().backward()
            results.append([y.detach().numpy()] + [t.grad.numpy() for t in tensors])
        finally:
            compiled.set_enabled(previous)
    return results


CONVS = [  # (N, C, O, H, W, kernel, options): grids wider than two threads' chunks, odd channel counts
    (20, 5, 6, 30, 30, 3, dict(padding=1)),
    (6, 3, 7, 17, 23, (3, 2), dict(padding="same")),
    (4, 6, 5, 21, 19, 4, dict(padding="same")),               # even kernel: 'same' pads 1 before, 2 after
    (5, 4, 9, 19, 19, 3, dict(padding=2, dilation=2)),
    (8, 1, 30, 28, 28, 5, dict()),                            # SimpleConvNet's first layer
    (3, 9, 4, 12, 12, 1, dict(padding=1)),                    # 1x1 with padding
]


@pytest.mark.parametrize("N, C, O, H, W, k, options", CONVS)
def test_conv2d_compiled_equals_numpy(rng, ran, N, C, O, H, W, k, options):
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((O, C, kh, kw)).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32)
    numpy_path, compiled_path = both_paths(lambda x, w, b: F.conv2d(x, w, b, **options), x, w, b)
    assert {"conv_grid", "correlate_grid"} <= set(ran)
    assert_conv_results_close(compiled_path, numpy_path, kh * kw)


def assert_conv_results_close(ours, ref, taps):
    """conv2d's output and its input, weight and bias gradients, each within the float32 tolerance
    of its sum's length (C·taps, O·taps, and the output positions for the last two)."""
    (N, O, OH, OW), C = ref[0].shape, ref[1].shape[1]
    for what, a, b, n in zip(["output", "input grad", "weight grad", "bias grad"], ours, ref,
                             [C * taps, O * taps, N * OH * OW, N * OH * OW]):
        assert a.shape == b.shape and a.dtype == np.float32
        assert_close(a, b, n=n, what=what)


@pytest.mark.parametrize("stride, padding, output_padding, dilation", [(1, 0, 0, 1), (1, 2, 0, 1), (1, 1, 0, 2)])
def test_conv_transpose2d_compiled_equals_numpy(rng, ran, stride, padding, output_padding, dilation):
    x = rng.standard_normal((10, 6, 16, 18)).astype(np.float32)
    w = rng.standard_normal((6, 5, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    numpy_path, compiled_path = both_paths(
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                                           dilation=dilation), x, w, b)
    assert {"conv_grid", "correlate_grid"} <= set(ran)
    for what, ours, ref in zip(["output", "input grad", "weight grad", "bias grad"], compiled_path, numpy_path):
        assert_close(ours, ref, n=10 * 18 * 20, what=what)


@pytest.mark.parametrize("kernel", ["conv_grid", "winograd_forward"])
def test_conv2d_compiled_float64_is_exact_to_rounding(rng, ran, monkeypatch, kernel):
    if kernel == "winograd_forward":   # Winograd's algorithm for this small layer too
        monkeypatch.setattr(conv_winograd, "MIN_CHANNEL_RATIO", 0)
    x, w = rng.standard_normal((11, 5, 24, 23)), rng.standard_normal((6, 5, 3, 3))
    numpy_path, compiled_path = both_paths(lambda x, w: F.conv2d(x, w, padding=1), x, w)
    assert kernel in ran
    for ours, ref in zip(compiled_path, numpy_path):
        assert ours.dtype == np.float64
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-10)


WINOGRAD = [  # (N, C, O, H, W, padding): odd output sizes (half tiles), batches that are not a
    # multiple of the lanes, odd channels, one row of tiles and rows enough for two threads
    (17, 5, 7, 9, 11, 1),
    (1, 3, 4, 6, 6, 0),
    (3, 33, 6, 7, 8, (2, 0)),
    (20, 8, 12, 14, 14, 2),
    (2, 4, 5, 4, 9, 0),
]


def winograd_run(rng, ran, N, C, O, H, W, padding, dtype=np.float32):
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((O, C, 3, 3)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    numpy_path, compiled_path = both_paths(lambda x, w, b: F.conv2d(x, w, b, padding=padding), x, w, b)
    assert {"winograd_pack", "winograd_forward", "winograd_unpack", "winograd_input_grad",
            "winograd_weight_grad"} <= set(ran) and "conv_grid" not in ran
    return numpy_path, compiled_path


@pytest.mark.parametrize("N, C, O, H, W, padding", WINOGRAD)
def test_winograd_equals_numpy(rng, ran, monkeypatch, N, C, O, H, W, padding):
    monkeypatch.setattr(conv_winograd, "MIN_CHANNEL_RATIO", 0)   # Winograd for these small layers too
    numpy_path, compiled_path = winograd_run(rng, ran, N, C, O, H, W, padding)
    assert_conv_results_close(compiled_path, numpy_path, 9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_in_chunks_smaller_than_a_position(rng, ran, monkeypatch, dtype):
    """Chunks of one register tile's tiles (32 float32 or 16 float64), so that a chunk ends
    inside the 48 images of a position and rows of tiles take several chunks."""
    monkeypatch.setattr(conv_winograd, "MIN_CHANNEL_RATIO", 0)
    monkeypatch.setattr(conv_winograd, "_CHUNK_BYTES", 0)
    numpy_path, compiled_path = winograd_run(rng, ran, 37, 6, 9, 10, 13, 1, dtype)
    if dtype == np.float32:
        assert_conv_results_close(compiled_path, numpy_path, 9)
    else:
        for ours, ref in zip(compiled_path, numpy_path):
            np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("shape, O, k, taken", [
    ((100, 64, 8, 8), 64, 3, True),         # DeepConvNet's last layers
    ((100, 32, 8, 8), 64, 3, True),
    ((100, 32, 14, 14), 32, 3, True),
    ((100, 16, 14, 14), 32, 3, True),       # C·O / (C + O) = 10.7
    ((100, 16, 28, 28), 16, 3, False),      # 8: the transforms cost more than they save
    ((100, 1, 28, 28), 16, 3, False),
    ((64, 32, 26, 26), 64, 3, True),        # the PyTorch-tutorial CNN's second layer
    ((100, 64, 8, 8), 64, 5, False),        # not a 3x3 kernel
])
def test_winograd_taken_where_it_pays(shape, O, k, taken):
    from nnscratch.functional.conv import _Geometry
    geo = _Geometry(shape, (O, shape[1], k, k), (1, 1), (1, 1, 1, 1), (1, 1), 1)
    assert (conv_winograd.winograd_for(geo, np.float32) is not None) is taken


def test_compiled_path_is_taken_for_stride_1_only(rng, monkeypatch):
    from nnscratch.functional import conv_direct
    calls = []
    real = conv_direct.Grid.forward
    monkeypatch.setattr(conv_direct.Grid, "forward", lambda *a: calls.append(1) or real(*a))
    x, w = ns.tensor(rng.standard_normal((2, 3, 9, 9))), ns.tensor(rng.standard_normal((4, 3, 3, 3)))
    F.conv2d(x, w, stride=2)
    F.conv2d(ns.tensor(rng.standard_normal((2, 4, 9, 9))), w[:, :2], groups=2)
    assert calls == []
    F.conv2d(x, w)
    assert calls == [1]
    compiled.set_enabled(False)
    try:
        F.conv2d(x, w)
    finally:
        compiled.set_enabled(True)
    assert calls == [1]


def test_relu_compiled_equals_numpy(rng, ran, low_threshold):
    x = rng.standard_normal(3001).astype(np.float32)
    x[:6] = [np.nan, -np.inf, np.inf, -0.0, 0.0, -1e-30]
    numpy_path, compiled_path = both_paths(F.relu, x)
    assert {"relu", "relu_grad"} <= set(ran)
    np.testing.assert_array_equal(compiled_path[0], numpy_path[0])   # NaN stays NaN, -inf -> 0
    np.testing.assert_array_equal(compiled_path[1], numpy_path[1])
    assert np.isnan(compiled_path[0][0]) and compiled_path[0][1] == 0


def test_max_pool_backward_runs_compiled_by_the_input_size(rng, ran):
    """The scatter writes every input element, so the input's size (not the pooled gradient's, 4
    times smaller) decides whether threads pay: LeNet-5's first pooling, (100, 6, 28, 28)."""
    x = rng.standard_normal((100, 6, 28, 28)).astype(np.float32)
    assert x.size // 4 < compiled.PARALLEL_MIN <= x.size
    numpy_path, compiled_path = both_paths(lambda x: F.max_pool2d(x, 2), x)
    assert {"max_pool_2x2", "max_pool_scatter"} <= set(ran)
    for a, b in zip(compiled_path, numpy_path):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kernel, shape", [(2, (6, 8, 29, 30)), (3, (4, 16, 25, 27)), ((2, 3), (5, 9, 20, 31))])
def test_max_pool_compiled_equals_numpy(rng, ran, low_threshold, kernel, shape):
    x = rng.integers(-3, 3, shape).astype(np.float32)   # many ties: the first maximum gets the gradient
    x.reshape(-1)[::97] = np.nan                          # a NaN wins its window
    numpy_path, compiled_path = both_paths(lambda x: F.max_pool2d(x, kernel), x)
    assert "max_pool_scatter" in ran and ("max_pool_2x2" in ran) == (kernel == 2)
    indices = []
    for on in (False, True):
        previous = compiled.set_enabled(on)
        indices.append(F.max_pool2d(ns.tensor(x), kernel, return_indices=True)[1].numpy())
        compiled.set_enabled(previous)
    np.testing.assert_array_equal(indices[1], indices[0])
    np.testing.assert_array_equal(compiled_path[0], numpy_path[0])
    np.testing.assert_array_equal(compiled_path[1], numpy_path[1])


def test_bias_gradient_compiled_equals_numpy(rng, ran, low_threshold):
    x = rng.standard_normal((16, 3, 40, 40)).astype(np.float32)
    w = rng.standard_normal((64, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    numpy_path, compiled_path = both_paths(lambda x, w, b: F.conv2d(x, w, b), x, w, b)
    assert "to_grid" in ran   # dL/db summed while dL/dy is placed on the grid (NumPy: from the weight gradient's product)
    assert_close(compiled_path[3], numpy_path[3], n=16 * 38 * 38, what="bias grad")


def test_small_arrays_stay_on_numpy(rng, ran):
    x = ns.tensor(rng.standard_normal((4, 100)).astype(np.float32), requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (x.data > 0).astype(np.float32))
    assert ran == []


def test_switch_by_environment():
    code = ("import sys, nnscratch\nfrom nnscratch.functional import compiled\n"
            "print('numba' in sys.modules, compiled.kernels() is None, compiled.available())")
    env = dict(os.environ, NNSCRATCH_COMPILED="0")
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert off.stdout.split() == ["False", "True", "True"]   # import nnscratch never loads numba
    env["NNSCRATCH_COMPILED"] = "1"
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert on.stdout.split() == ["False", "False", "True"]


PARK = """
import os, threading, numpy as np
from nnscratch import backend
threads = lambda: len(os.listdir("/proc/self/task"))
libs = [lib for lib in backend._blas_libraries() if lib.internal_api == "openblas"]
a = np.random.default_rng(0).standard_normal((400, 400)).astype(np.float32)
a @ a                                   # a product large enough for OpenBLAS's threads
running = threads()
backend.park_blas_threads()
parked = threads()
right = np.allclose(a @ a, a.astype(np.float64) @ a, rtol=1e-4, atol=1e-3)
again = threads()                       # the next product started them again
t = threading.Thread(target=lambda: None); t.start(); t.join()
threading.Thread(target=lambda: threading.Event().wait(5), daemon=True).start()
a @ a
backend.park_blas_threads()             # another Python thread is alive: nothing is stopped
print(len(libs), libs[0].get_num_threads() if libs else 0, running, parked, right, again, threads() - 1)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_park_blas_threads_stops_openblas_workers_and_products_still_work():
    out = subprocess.run([sys.executable, "-c", PARK], capture_output=True, text=True, check=True).stdout.split()
    libraries, blas_threads, running, parked, right, again, with_other_thread = out
    if libraries == "0" or blas_threads == "1":
        pytest.skip("needs a multi-threaded OpenBLAS")
    assert int(parked) < int(running) and right == "True" and again == running
    assert with_other_thread == running


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bidirectional, h0", [(False, False), (True, True)])
def test_lstm_compiled_step_equals_numpy_to_the_bit(rng, dtype, bidirectional, h0):
    """The fused step kernels do the NumPy path's operations in the same order: equal results."""
    lstm = nn.LSTM(7, 16, num_layers=2, bidirectional=bidirectional).to(dtype)
    x = rng.standard_normal((9, 5, 7)).astype(dtype)
    state = [rng.standard_normal((4 if bidirectional else 2, 5, 16)).astype(dtype) for _ in range(2)]
    results = []
    for on in (False, True):
        previous = compiled.set_enabled(on)
        try:
            xt = ns.tensor(x, dtype=dtype, requires_grad=True)
            hx = tuple(ns.tensor(s, dtype=dtype, requires_grad=True) for s in state) if h0 else None
            lstm.zero_grad()
            out, (h, c) = lstm(xt, hx)
            (out * out).sum().add(h.sum()).add((c * c).sum()).backward()
            results.append([out.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]
                           + ([t.grad.numpy() for t in hx] if h0 else []))
        finally:
            compiled.set_enabled(previous)
    for ours, ref in zip(results[1], results[0]):
        np.testing.assert_array_equal(ours, ref)
