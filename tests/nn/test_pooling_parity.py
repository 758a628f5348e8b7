"""Pooling and BatchNorm2d against PyTorch, in float32: forward values, input gradients (and for
BatchNorm2d the parameter gradients and running statistics) must agree to float32 rounding: the
bound of tolerance.assert_close, which grows with the number of terms summed into each value (the
pooling window, N*H*W for BatchNorm2d's statistics and parameter gradients) and their magnitude.

max_pool2d is checked on random inputs and on inputs full of ties (constants and rounded values),
where PyTorch gives each window's gradient to its first maximum, and with NaN and -inf; with
overlapping windows, padding, dilation and ceil_mode, and its return_indices. avg_pool2d with count_include_pad both
ways, ceil_mode and divisor_override; adaptive_avg_pool2d with sizes that do not divide.
BatchNorm2d: three training steps (outputs, gradients, running statistics), then evaluation,
with and without affine parameters and running statistics.

Dropout2d is not here: its mask comes from nnscratch's generator, which cannot match torch's.
Skipped when torch is not installed (``pip install torch==2.13.0``, the CPU build).
"""


import numpy as np
import pytest

from tolerance import assert_close

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def f32(a):
    return np.asarray(a, dtype=np.float32)


def close(got, expected, what, n):
    """Same shape, dtype and values, to the float32 rounding of sums of ``n`` terms."""
    a = got.data if isinstance(got, ns.Tensor) else got
    b = expected.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != torch {b.dtype}"
    assert_close(a, b, n, what=what)


def compare(n_fn, t_fn, x, rng, n):
    """Forward and backward (a random upstream gradient) of both on the same float32 input; ``n`` is
    the most terms summed into one output or input-gradient value."""
    x_n, x_t = ns.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_n, y_t = n_fn(x_n), t_fn(x_t)
    close(y_n, y_t, "output", n)
    gy = f32(rng.standard_normal(tuple(y_t.shape)))
    y_n.backward(ns.tensor(gy))
    y_t.backward(torch.from_numpy(gy))
    close(x_n.grad, x_t.grad, "input gradient", n)
    return x_n.grad.data


def window(k):
    """Elements in a pooling window: an average sums that many; overlapping windows add at most
    that many gradients into one input."""
    return int(np.prod(np.broadcast_to(k, 2)))


def make_input(kind, shape, rng):
    if kind == "random":
        return f32(rng.standard_normal(shape))
    if kind == "constant":  # every element ties
        return np.full(shape, 0.25, np.float32)
    return f32(np.round(rng.standard_normal(shape)))  # "rounded": many ties, not all


# ----------------------------------------------------------------------------- max_pool2d

# (input shape, kernel, stride, padding, dilation, ceil_mode)
MAX_CONFIGS = {
    "2x2-exact": ((4, 3, 8, 8), 2, None, 0, 1, False),
    "2x2-odd": ((2, 3, 7, 9), 2, None, 0, 1, False),
    "2x2-odd-ceil": ((2, 3, 7, 9), 2, None, 0, 1, True),
    "3x3-s1": ((2, 2, 6, 7), 3, 1, 0, 1, False),
    "3x3-s2-pad1": ((2, 3, 9, 9), 3, 2, 1, 1, False),
    "3x3-s2-pad1-ceil": ((2, 3, 8, 10), 3, 2, 1, 1, True),
    "2x2-s1-pad1": ((2, 2, 5, 5), 2, 1, 1, 1, False),
    "(2,3)-s(1,2)-pad(1,1)": ((2, 2, 6, 9), (2, 3), (1, 2), (1, 1), 1, False),
    "3x3-dil2-pad1": ((2, 2, 9, 8), 3, 1, 1, 2, False),
    "2x2-dil(1,3)-s2-ceil": ((2, 2, 8, 9), 2, 2, 1, (1, 3), True),
    "5x5-s3-pad2-ceil": ((1, 2, 12, 11), 5, 3, 2, 1, True),
    "unbatched-3x3-s2": ((3, 9, 9), 3, 2, 0, 1, False),
}


@pytest.mark.parametrize("kind", ["random", "constant", "rounded"])
@pytest.mark.parametrize("cfg", list(MAX_CONFIGS.values()), ids=list(MAX_CONFIGS))
def test_max_pool2d(cfg, kind, rng):
    shape, k, s, p, d, ceil_mode = cfg
    x = make_input(kind, shape, rng)
    gx = compare(lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode),
                 lambda t: TF.max_pool2d(t, k, s, p, d, ceil_mode), x, rng, window(k))
    if kind == "constant" and s is None:  # non-overlapping windows, all tied: one element per window
        n_windows = int(np.prod(F.max_pool2d(ns.tensor(x), k, s, p, d, ceil_mode).shape))
        assert np.count_nonzero(gx) == n_windows
    y_n, i_n = F.max_pool2d(ns.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
    y_t, i_t = TF.max_pool2d(torch.from_numpy(x), k, s, p, d, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(i_n.data, i_t.numpy())


@pytest.mark.parametrize("cfg", list(MAX_CONFIGS.values()), ids=list(MAX_CONFIGS))
def test_max_pool2d_with_nan_and_minus_infinity(cfg, rng):
    """PyTorch's rule: a NaN wins its window (the last NaN); a window of -inf (and padding) picks
    its first element inside the input."""
    shape, k, s, p, d, ceil_mode = cfg
    x = make_input("rounded", shape, rng)
    u = rng.random(shape)
    x[u < 0.1] = np.nan
    x[(u >= 0.1) & (u < 0.6)] = -np.inf
    x_n, x_t = ns.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (y_n, i_n), (y_t, i_t) = (F.max_pool2d(x_n, k, s, p, d, ceil_mode, return_indices=True),
                              TF.max_pool2d(x_t, k, s, p, d, ceil_mode, return_indices=True))
    np.testing.assert_array_equal(y_n.data, y_t.detach().numpy())  # NaN == NaN here
    np.testing.assert_array_equal(i_n.data, i_t.numpy())
    gy = f32(rng.standard_normal(tuple(y_t.shape)))
    y_n.backward(ns.tensor(gy))
    y_t.backward(torch.from_numpy(gy))
    close(x_n.grad, x_t.grad, "input gradient", window(k))


@pytest.mark.parametrize("cfg", list(MAX_CONFIGS.values())[:6], ids=list(MAX_CONFIGS)[:6])
def test_maxpool2d_module(cfg, rng):
    shape, k, s, p, d, ceil_mode = cfg
    compare(nn.MaxPool2d(k, s, p, d, ceil_mode=ceil_mode), torch.nn.MaxPool2d(k, s, p, d, ceil_mode=ceil_mode),
            make_input("rounded", shape, rng), rng, window(k))


# ----------------------------------------------------------------------------- avg_pool2d

# (input shape, kernel, stride, padding, ceil_mode)
AVG_CONFIGS = {
    "2x2-exact": ((4, 3, 8, 8), 2, None, 0, False),
    "2x2-odd": ((2, 3, 7, 9), 2, None, 0, False),
    "2x2-odd-ceil": ((2, 3, 7, 9), 2, None, 0, True),
    "3x3-s1": ((2, 2, 6, 7), 3, 1, 0, False),
    "3x3-s2-pad1": ((2, 3, 9, 9), 3, 2, 1, False),
    "3x3-s2-pad1-ceil": ((2, 3, 8, 10), 3, 2, 1, True),
    "2x2-s1-pad1": ((2, 2, 5, 5), 2, 1, 1, False),
    "(2,3)-s(1,2)-pad(1,1)-ceil": ((2, 2, 6, 9), (2, 3), (1, 2), (1, 1), True),
    "5x5-s3-pad2-ceil": ((1, 2, 12, 11), 5, 3, 2, True),
    "unbatched-3x3-s2-pad1": ((3, 9, 9), 3, 2, 1, False),
}


@pytest.mark.parametrize("count_include_pad", [True, False], ids=["incl-pad", "excl-pad"])
@pytest.mark.parametrize("cfg", list(AVG_CONFIGS.values()), ids=list(AVG_CONFIGS))
def test_avg_pool2d(cfg, count_include_pad, rng):
    shape, k, s, p, ceil_mode = cfg
    compare(lambda t: F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad),
            lambda t: TF.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad), f32(rng.standard_normal(shape)), rng,
            window(k))


@pytest.mark.parametrize("divisor", [1, 3, 7])
def test_avg_pool2d_divisor_override(divisor, rng):
    compare(lambda t: F.avg_pool2d(t, 3, 2, 1, True, divisor_override=divisor),
            lambda t: TF.avg_pool2d(t, 3, 2, 1, True, divisor_override=divisor),
            f32(rng.standard_normal((2, 2, 8, 7))), rng, window(3))


def test_avgpool2d_module(rng):
    compare(nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
            torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
            f32(rng.standard_normal((2, 3, 8, 9))), rng, window(3))


# ----------------------------------------------------------------------------- adaptive_avg_pool2d

ADAPTIVE = {
    "global": ((4, 3, 7, 9), 1),
    "7x9->3x4": ((2, 3, 7, 9), (3, 4)),
    "10x6->4x4": ((2, 2, 10, 6), 4),
    "13x13->5x3": ((2, 2, 13, 13), (5, 3)),
    "5x5->(2,None)": ((2, 2, 5, 5), (2, None)),
    "(None,3)": ((2, 2, 6, 7), (None, 3)),
    "3x4->5x7-up": ((2, 2, 3, 4), (5, 7)),
    "8x8->4-divisible": ((2, 3, 8, 8), 4),
    "same-size": ((2, 2, 5, 6), (5, 6)),
    "unbatched": ((3, 11, 7), (4, 3)),
}


@pytest.mark.parametrize("shape,out", list(ADAPTIVE.values()), ids=list(ADAPTIVE))
def test_adaptive_avg_pool2d(shape, out, rng):
    x = f32(rng.standard_normal(shape))
    # the largest window (forward), or the most windows overlapping one input (backward)
    sizes = [o or i for o, i in zip(np.broadcast_to(np.array(out, dtype=object), 2), shape[-2:])]
    n = int(np.prod([max(-(-i // o), -(-o // i)) + 1 for i, o in zip(shape[-2:], sizes)]))
    compare(lambda t: F.adaptive_avg_pool2d(t, out), lambda t: TF.adaptive_avg_pool2d(t, out), x, rng, n)
    compare(nn.AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out), x, rng, n)


# ----------------------------------------------------------------------------- BatchNorm2d

def bn_input(shape, rng):
    """Per-channel offsets and scales far from 0 / 1, so that the statistics matter."""
    c_shape = (1, shape[1], 1, 1)
    return f32(rng.standard_normal(shape) * rng.uniform(0.5, 3, c_shape) + rng.uniform(-4, 4, c_shape))


def bn_pair(rng, **kwargs):
    t = torch.nn.BatchNorm2d(5, **kwargs)
    if t.affine:
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(f32(rng.uniform(0.5, 2, 5))))
            t.bias.copy_(torch.from_numpy(f32(rng.standard_normal(5))))
    n = nn.BatchNorm2d(5, **kwargs)
    missing, unexpected = n.load_state_dict(t.state_dict())
    assert missing == [] and unexpected == []
    assert list(n.state_dict()) == list(t.state_dict())
    return n, t


def per_channel(x):
    """The terms BatchNorm2d sums per channel (its statistics, its parameter gradients): N*H*W."""
    return x.size // x.shape[1]


def bn_step(n, t, x, rng):
    """One forward + backward through both; compare output, input and parameter gradients."""
    for m in (n, t):
        m.zero_grad()
    compare(n, t, x, rng, per_channel(x))
    if t.affine:
        close(n.weight.grad, t.weight.grad, "weight gradient", per_channel(x))
        close(n.bias.grad, t.bias.grad, "bias gradient", per_channel(x))


def check_buffers(n, t, what, terms):
    close(n.running_mean, t.running_mean, f"{what}: running_mean", terms)
    close(n.running_var, t.running_var, f"{what}: running_var", terms)
    assert int(n.num_batches_tracked.data) == int(t.num_batches_tracked), what


@pytest.mark.parametrize("shape", [(8, 5, 6, 7), (3, 5, 2, 3), (16, 5, 12, 12)], ids=["8x5x6x7", "3x5x2x3", "16x5x12x12"])
@pytest.mark.parametrize("momentum", [0.1, 0.4])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "noaffine"])
def test_batchnorm2d_three_training_steps_then_eval(affine, momentum, shape, rng):
    n, t = bn_pair(rng, affine=affine, momentum=momentum)
    for step in range(1, 4):
        bn_step(n, t, bn_input(shape, rng), rng)
        check_buffers(n, t, f"after training step {step}", per_channel(np.empty(shape)))
    assert int(n.num_batches_tracked.data) == 3
    assert not np.allclose(n.running_mean.data, 0) and not np.allclose(n.running_var.data, 1)
    n.eval()
    t.eval()
    bn_step(n, t, bn_input(shape, rng), rng)
    check_buffers(n, t, "after an eval step (no update)", per_channel(np.empty(shape)))


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "noaffine"])
def test_batchnorm2d_without_running_stats_uses_batch_statistics_in_eval(affine, rng):
    n, t = bn_pair(rng, affine=affine, track_running_stats=False)
    assert n.running_mean is None and t.running_mean is None
    bn_step(n, t, bn_input((6, 5, 4, 4), rng), rng)
    n.eval()
    t.eval()
    bn_step(n, t, bn_input((6, 5, 4, 4), rng), rng)


def test_batchnorm2d_large_mean_small_spread(rng):
    """|mean| / std = 100. (At 1000 the cancellation in the variance makes PyTorch's own float32
    error, ~7e-5, larger than sums' rounding; nnscratch's is checked against float64 in
    test_pooling.py.)"""
    n, t = bn_pair(rng)
    x = f32(rng.standard_normal((8, 5, 7, 7)) * 0.05 + 5.0)
    bn_step(n, t, x, rng)
    check_buffers(n, t, "large mean", per_channel(x))


def test_cnn_block_end_to_end(rng):
    """BatchNorm2d -> ReLU -> MaxPool2d -> Dropout2d (eval) -> AdaptiveAvgPool2d, as one model."""
    t = torch.nn.Sequential(torch.nn.BatchNorm2d(5), torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2, 1),
                            torch.nn.Dropout2d(0.3), torch.nn.AdaptiveAvgPool2d((2, 3)), torch.nn.Flatten())
    n = nn.Sequential(nn.BatchNorm2d(5), nn.ReLU(), nn.MaxPool2d(3, 2, 1), nn.Dropout2d(0.3),
                      nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten())
    with torch.no_grad():
        t[0].weight.copy_(torch.from_numpy(f32(rng.uniform(0.5, 2, 5))))
    n.load_state_dict(t.state_dict())
    n.eval()
    t.eval()
    x = bn_input((4, 5, 11, 9), rng)
    compare(n, t, x, rng, window(3) * window((3, 2)))  # overlapping 3x3 max windows, 3x2 average windows
    close(n[0].weight.grad, t[0].weight.grad, "weight gradient", per_channel(x))
