"""Pooling, channel dropout and BatchNorm2d, checked without PyTorch:

1. forward values and gradients against a plain-loop reference (one window at a time, exactly as
   the definitions read), ties included: max pooling sends each window's gradient to its first
   maximum in row-major order;
2. ``gradcheck`` in float64 (autograd against central differences) over overlapping and
   non-overlapping windows, padding, dilation, odd sizes and ceil_mode, on inputs without ties;
   second derivatives through create_graph=True (the backward of each pooling is itself
   differentiable);
3. dropout2d statistics: whole channels dropped at rate p, kept ones scaled by 1 / (1 - p);
4. BatchNorm2d: batch statistics, running estimates, gradcheck of the fused batch norm on images.

The PyTorch parity tests are in test_pooling_parity.py.
"""

import itertools

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn
from nnscratch import ShapeError, gradcheck

# ----------------------------------------------------------------------------- references

def out_size(size, k, s, p, d, ceil_mode):
    n = size + 2 * p - d * (k - 1) - 1
    out = (-(-n // s) if ceil_mode else n // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def windows(h, w, k, s, p, d, ceil_mode):
    """For every output (i, j): the in-bounds input positions of its window, in row-major order."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, s, p, d
    for i in range(out_size(h, kh, sh, ph, dh, ceil_mode)):
        for j in range(out_size(w, kw, sw, pw, dw, ceil_mode)):
            cells = [(i * sh - ph + a * dh, j * sw - pw + b * dw) for a in range(kh) for b in range(kw)]
            yield i, j, [(r, c) for r, c in cells if 0 <= r < h and 0 <= c < w]


def ref_max_pool(x, gy, k, s, p, d, ceil_mode):
    """Max pooling one window at a time: y, dL/dx (first maximum wins) and the flat indices."""
    n, c, h, w = x.shape
    y, idx, gx = np.zeros(gy.shape), np.zeros(gy.shape, np.int64), np.zeros(x.shape)
    for i, j, cells in windows(h, w, k, s, p, d, ceil_mode):
        vals = np.stack([x[:, :, r, q] for r, q in cells], axis=-1)
        first = vals.argmax(axis=-1)  # numpy's argmax: the first maximum
        y[:, :, i, j] = vals.max(axis=-1)
        for (nn_, cc), f in np.ndenumerate(first):
            r, q = cells[f]
            idx[nn_, cc, i, j] = r * w + q
            gx[nn_, cc, r, q] += gy[nn_, cc, i, j]
    return y, gx, idx


def ref_avg_pool(x, gy, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    y, gx = np.zeros(gy.shape), np.zeros(x.shape)
    for i, j, cells in windows(h, w, k, s, p, (1, 1), ceil_mode):
        r0, c0 = i * sh - ph, j * sw - pw
        if divisor_override:
            div = divisor_override
        elif count_include_pad:  # the window clipped to the padded input
            div = (min(r0 + kh, h + ph) - r0) * (min(c0 + kw, w + pw) - c0)
        else:
            div = len(cells)
        y[:, :, i, j] = sum(x[:, :, r, q] for r, q in cells) / div
        for r, q in cells:
            gx[:, :, r, q] += gy[:, :, i, j] / div
    return y, gx


def ref_adaptive(x, gy, out):
    n, c, h, w = x.shape
    y, gx = np.zeros(gy.shape), np.zeros(x.shape)
    for i in range(out[0]):
        r0, r1 = (i * h) // out[0], -(-((i + 1) * h) // out[0])
        for j in range(out[1]):
            c0, c1 = (j * w) // out[1], -(-((j + 1) * w) // out[1])
            y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
            gx[:, :, r0:r1, c0:c1] += gy[:, :, i, j][:, :, None, None] / ((r1 - r0) * (c1 - c0))
    return y, gx


def distinct(shape, rng):
    """Values at least 0.05 apart, shuffled: no ties anywhere, so max pooling is differentiable."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(-0.02, 0.02, n)).reshape(shape)


def run(fn, x, gy):
    """fn on a float64 tensor: (output, dL/dx) for the upstream gradient gy."""
    t = ns.tensor(x, dtype=np.float64, requires_grad=True)
    y = fn(t)
    y.backward(ns.tensor(gy, dtype=np.float64))
    return y.data, t.grad.data


def pair(v):
    return (v, v) if isinstance(v, int) else v


# (input shape, kernel, stride, padding, dilation, ceil_mode)
MAX_CONFIGS = {
    "2x2-exact": ((2, 3, 8, 6), 2, None, 0, 1, False),
    "2x2-odd-floor": ((2, 2, 7, 5), 2, None, 0, 1, False),
    "2x2-odd-ceil": ((2, 2, 7, 5), 2, None, 0, 1, True),
    "3x3-s1-overlap": ((2, 2, 6, 7), 3, 1, 0, 1, False),
    "3x3-s2-pad1": ((1, 3, 7, 7), 3, 2, 1, 1, False),
    "3x3-s2-pad1-ceil": ((1, 2, 8, 6), 3, 2, 1, 1, True),
    "2x3-s(1,2)": ((2, 2, 5, 9), (2, 3), (1, 2), 0, 1, False),
    "3x3-dil2": ((1, 2, 9, 8), 3, 1, 1, 2, False),
    "2x2-dil(2,1)-ceil": ((1, 2, 7, 6), 2, 2, 0, (2, 1), True),
    "4x4-s3-pad2-ceil": ((1, 2, 9, 10), 4, 3, 2, 1, True),
    "1x1": ((2, 2, 3, 4), 1, None, 0, 1, False),
    "kernel>stride-big": ((1, 1, 11, 11), 5, 2, 2, 1, False),
}

AVG_CONFIGS = {
    "2x2-exact": ((2, 3, 8, 6), 2, None, 0, False),
    "2x2-odd-floor": ((2, 2, 7, 5), 2, None, 0, False),
    "2x2-odd-ceil": ((2, 2, 7, 5), 2, None, 0, True),
    "3x3-s1-overlap": ((2, 2, 6, 7), 3, 1, 0, False),
    "3x3-s2-pad1": ((1, 3, 7, 7), 3, 2, 1, False),
    "3x3-s2-pad1-ceil": ((1, 2, 8, 6), 3, 2, 1, True),
    "2x3-s(1,2)-pad(1,0)": ((2, 2, 5, 9), (2, 3), (1, 2), (1, 0), False),
    "4x4-s3-pad2-ceil": ((1, 2, 9, 10), 4, 3, 2, True),
}


# ----------------------------------------------------------------------------- max pooling

@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("cfg", list(MAX_CONFIGS.values()), ids=list(MAX_CONFIGS))
def test_max_pool2d_matches_the_window_by_window_definition(cfg, ties, rng):
    shape, k, s, p, d, ceil_mode = cfg
    x = np.round(rng.standard_normal(shape)) if ties else distinct(shape, rng)  # ties: many equal values
    k2, s2 = pair(k), pair(s if s is not None else k)
    gy_shape = shape[:2] + tuple(out_size(shape[i + 2], k2[i], s2[i], pair(p)[i], pair(d)[i], ceil_mode)
                                 for i in range(2))
    gy = rng.standard_normal(gy_shape)
    y_ref, gx_ref, idx_ref = ref_max_pool(x, gy, k2, s2, pair(p), pair(d), ceil_mode)
    y, gx = run(lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode), x, gy)
    assert y.shape == gy_shape
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)
    _, idx = F.max_pool2d(ns.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.data, idx_ref)


@pytest.mark.parametrize("cfg", list(MAX_CONFIGS.values()), ids=list(MAX_CONFIGS))
def test_max_pool2d_gradcheck(cfg, rng):
    shape, k, s, p, d, ceil_mode = cfg
    assert gradcheck(lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode), distinct(shape, rng))


def test_max_pool2d_ties_send_the_whole_gradient_to_the_first_maximum():
    # one 2x2 window per 2x2 block; the maximum 3 appears twice in the first block, four times in the second
    x = ns.tensor([[[[1.0, 3.0, 3.0, 3.0],
                     [3.0, 2.0, 3.0, 3.0]]]], requires_grad=True)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.data, [[[[3.0, 3.0]]]])
    y.backward(ns.tensor([[[[5.0, 7.0]]]]))
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 5.0, 7.0, 0.0],
                                                    [0.0, 0.0, 0.0, 0.0]]]])


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 0), (3, 2, 1), (2, 1, 1)])
def test_max_pool2d_constant_input_one_element_per_window(k, s, p, rng):
    """On a constant input every element ties; each window gives its whole gradient to its first
    in-bounds element, so with gy = 1 the gradients count the windows starting at each element."""
    x = ns.full((2, 3, 6, 7), 0.5, requires_grad=True)
    y = F.max_pool2d(x, k, s, p)
    gy = rng.uniform(1, 2, y.shape).astype(np.float32)
    y.backward(ns.tensor(gy))
    g = x.grad.data
    np.testing.assert_allclose(g.sum(axis=(2, 3)), gy.sum(axis=(2, 3)), rtol=1e-6)  # nothing lost or doubled
    expected = np.zeros(x.shape, np.float32)
    for i, j in itertools.product(range(y.shape[2]), range(y.shape[3])):
        r, c = max(i * s - p, 0), max(j * s - p, 0)  # the window's first in-bounds element
        expected[:, :, r, c] += gy[:, :, i, j]
    np.testing.assert_allclose(g, expected, rtol=1e-6)
    assert np.count_nonzero(g) == np.count_nonzero(expected)


def test_max_pool2d_nan_wins_and_minus_infinity_windows_stay_inside():
    nan, inf = np.nan, np.inf
    x = ns.tensor([[[[1.0, nan, 5.0, 2.0],
                     [3.0, nan, 2.0, 2.0]]]], requires_grad=True)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(y.data[0, 0, 0, 0]) and y.data[0, 0, 0, 1] == 5.0
    np.testing.assert_array_equal(idx.data, [[[[5, 2]]]])  # the last NaN; the first 5
    y.backward(ns.tensor([[[[1.0, 2.0]]]]))
    np.testing.assert_array_equal(x.grad.data, [[[[0, 0, 2, 0], [0, 1, 0, 0]]]])
    # padding 1: the corner window holds three padding cells and x[0, 0] = -inf
    x = ns.tensor(np.full((1, 1, 3, 3), -inf), requires_grad=True)
    y, idx = F.max_pool2d(x, 2, 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx.data, [[[[0, 1], [3, 4]]]])  # each window's first cell inside
    y.backward(ns.ones(1, 1, 2, 2))
    np.testing.assert_array_equal(x.grad.data, [[[[1, 1, 0], [1, 1, 0], [0, 0, 0]]]])


def test_max_pool2d_float32_fast_path_and_unbatched_input(rng):
    x = rng.standard_normal((3, 8, 8)).astype(np.float32)
    t = ns.tensor(x, requires_grad=True)
    y = F.max_pool2d(t, 2)
    assert y.shape == (3, 4, 4) and y.dtype == np.float32
    np.testing.assert_array_equal(y.data, x.reshape(3, 4, 2, 4, 2).max(axis=(2, 4)))
    y.sum().backward()
    assert t.grad.dtype == np.float32
    # one 1 per 2x2 block, at the block's maximum
    np.testing.assert_array_equal(t.grad.data.reshape(3, 4, 2, 4, 2).sum(axis=(2, 4)), np.ones((3, 4, 4)))
    np.testing.assert_array_equal(t.grad.data == 1, x == np.repeat(np.repeat(y.data, 2, 1), 2, 2))
    with ns.no_grad():  # inference path (no argmax kept): the same values
        np.testing.assert_array_equal(F.max_pool2d(t, 2).data, y.data)


def test_max_pool2d_return_indices_by_hand():
    x = ns.tensor(np.arange(16.0).reshape(1, 1, 4, 4)[..., ::-1].copy())  # rows 3 2 1 0, 7 6 5 4, ...
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(y.data, [[[[7.0, 5.0], [15.0, 13.0]]]])
    np.testing.assert_array_equal(idx.data, [[[[4, 6], [12, 14]]]])
    m = nn.MaxPool2d(2, return_indices=True)
    np.testing.assert_array_equal(m(x)[1].data, idx.data)


# ----------------------------------------------------------------------------- average pooling

@pytest.mark.parametrize("count_include_pad", [True, False], ids=["incl-pad", "excl-pad"])
@pytest.mark.parametrize("cfg", list(AVG_CONFIGS.values()), ids=list(AVG_CONFIGS))
def test_avg_pool2d_matches_the_window_by_window_definition(cfg, count_include_pad, rng):
    shape, k, s, p, ceil_mode = cfg
    x = rng.standard_normal(shape)
    k2, s2, p2 = pair(k), pair(s if s is not None else k), pair(p)
    gy = rng.standard_normal(shape[:2] + tuple(out_size(shape[i + 2], k2[i], s2[i], p2[i], 1, ceil_mode)
                                               for i in range(2)))
    y_ref, gx_ref = ref_avg_pool(x, gy, k2, s2, p2, ceil_mode, count_include_pad)
    y, gx = run(lambda t: F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad), x, gy)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("count_include_pad", [True, False], ids=["incl-pad", "excl-pad"])
@pytest.mark.parametrize("cfg", list(AVG_CONFIGS.values()), ids=list(AVG_CONFIGS))
def test_avg_pool2d_gradcheck(cfg, count_include_pad, rng):
    shape, k, s, p, ceil_mode = cfg
    assert gradcheck(lambda x: F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad), rng.standard_normal(shape))


def test_avg_pool2d_divisor_override_and_values_by_hand(rng):
    x = ns.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).data, [[[[2.5, 4.5], [10.5, 12.5]]]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2, divisor_override=1).data, [[[[10.0, 18.0], [42.0, 50.0]]]])
    # padding 1, k 2, stride 2 on 4x4: the corner window holds x[0, 0] and three zeros
    np.testing.assert_array_equal(F.avg_pool2d(x, 2, 2, 1).data[0, 0, 0], [0 / 4, (1 + 2) / 4, 3 / 4])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2, 2, 1, count_include_pad=False).data[0, 0, 0], [0, 1.5, 3])
    xs, gy = rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((2, 2, 4, 3))  # rows: ceil(6 / 2) + 1
    y_ref, gx_ref = ref_avg_pool(xs, gy, (3, 2), (2, 2), (1, 0), True, True, divisor_override=5)
    y, gx = run(lambda t: F.avg_pool2d(t, (3, 2), 2, (1, 0), True, divisor_override=5), xs, gy)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12)


# ----------------------------------------------------------------------------- adaptive average pooling

ADAPTIVE = [((2, 3, 7, 9), 1), ((2, 3, 7, 9), (3, 4)), ((1, 2, 10, 6), (4, 4)), ((1, 2, 5, 5), (2, None)),
            ((1, 2, 3, 4), (5, 6)), ((2, 2, 8, 8), 4)]
ADAPTIVE_IDS = ["global", "7x9->3x4", "10x6->4x4", "5x5->2xNone", "3x4->5x6-up", "8x8->4-divisible"]


@pytest.mark.parametrize("shape,out", ADAPTIVE, ids=ADAPTIVE_IDS)
def test_adaptive_avg_pool2d_matches_the_window_by_window_definition(shape, out, rng):
    out2 = pair(out)
    out2 = tuple(shape[2 + i] if o is None else o for i, o in enumerate(out2))
    x, gy = rng.standard_normal(shape), rng.standard_normal(shape[:2] + out2)
    y_ref, gx_ref = ref_adaptive(x, gy, out2)
    y, gx = run(lambda t: F.adaptive_avg_pool2d(t, out), x, gy)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, out), x)


def test_adaptive_avg_pool2d_windows_overlap_when_the_size_does_not_divide():
    x = ns.tensor(np.arange(5.0).reshape(1, 1, 1, 5))
    # 5 -> 3: windows [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (1, 3)).data, [[[[0.5, 2.0, 3.5]]]])
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).data, [[[[2.0]]]])


# ----------------------------------------------------------------------------- second order

SECOND_ORDER = {
    "max-overlap-pad": lambda x: F.max_pool2d(x, 3, 2, 1),
    "max-exact": lambda x: F.max_pool2d(x, 2),
    "avg-overlap-ceil": lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    "avg-exact": lambda x: F.avg_pool2d(x, 2),
    "adaptive": lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    "global": lambda x: F.adaptive_avg_pool2d(x, 1),
}


@pytest.mark.parametrize("pool", list(SECOND_ORDER.values()), ids=list(SECOND_ORDER))
def test_pooling_backward_is_differentiable(pool, rng):
    """gx = backward(gy) is linear in gy; check its own gradient (create_graph=True) numerically."""
    x = ns.tensor(distinct((2, 2, 6, 6), rng), dtype=np.float64, requires_grad=True)
    gy_shape = pool(x).shape

    def input_gradient(gy):
        with ns.enable_grad():  # gradcheck evaluates under no_grad
            (gx,) = ns.grad((pool(x) * gy).sum(), [x], create_graph=True)
        return gx

    assert gradcheck(input_gradient, rng.standard_normal(gy_shape))
    (gx,) = ns.grad((pool(x) ** 2).sum(), [x], create_graph=True)  # d/dx of Σ y² is 2 · backward(y) ...
    (hx,) = ns.grad((gx * gx).sum(), [x])  # ... and differentiating again gives a real number
    assert hx.shape == x.shape and np.all(np.isfinite(hx.data)) and np.abs(hx.data).sum() > 0


# ----------------------------------------------------------------------------- errors and modules

def test_pooling_errors_name_the_problem():
    x = ns.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="padding"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="positive"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(ShapeError, match="too small"):
        F.max_pool2d(x, 5)
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        F.max_pool2d(ns.zeros(4, 4), 2)
    with pytest.raises(TypeError, match="floating-point"):
        F.avg_pool2d(ns.tensor(np.ones((1, 1, 4, 4), np.int64)), 2)


def test_modules_call_the_functions_and_print_like_pytorch(rng):
    x = ns.tensor(rng.standard_normal((2, 3, 7, 7)).astype(np.float32))
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1)(x).data, F.max_pool2d(x, 3, 2, 1).data)
    np.testing.assert_array_equal(nn.MaxPool2d(2, ceil_mode=True)(x).data, F.max_pool2d(x, 2, ceil_mode=True).data)
    np.testing.assert_array_equal(nn.AvgPool2d(3, 2, 1, count_include_pad=False)(x).data,
                                  F.avg_pool2d(x, 3, 2, 1, count_include_pad=False).data)
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d((2, 3))(x).data, F.adaptive_avg_pool2d(x, (2, 3)).data)
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((3, None))) == "AdaptiveAvgPool2d(output_size=(3, None))"
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3, inplace=False)"
    assert list(nn.MaxPool2d(2).parameters()) == []


# ----------------------------------------------------------------------------- dropout2d

def test_dropout2d_drops_whole_channels_at_rate_p_and_keeps_the_expectation():
    ns.manual_seed(0)
    p, n, c = 0.3, 400, 50
    x = ns.ones(n, c, 3, 4)
    y = F.dropout2d(x, p).data
    per_channel = y.reshape(n, c, -1)
    assert np.all(per_channel == per_channel[:, :, :1])  # each channel is all dropped or all kept
    kept = per_channel[:, :, 0] != 0
    np.testing.assert_allclose(per_channel[:, :, 0][kept], 1 / (1 - p), rtol=1e-6)  # kept: scaled by 1/(1-p)
    # 20,000 channel draws: the dropped fraction is within 4 standard deviations (0.013) of p
    assert abs((1 - kept.mean()) - p) < 4 * np.sqrt(p * (1 - p) / kept.size)
    assert abs(y.mean() - 1.0) < 4 * np.sqrt(p / (1 - p) / kept.size)  # E[y] = x
    assert not np.all(kept.all(axis=0)) and not np.all(kept.all(axis=1))  # masks differ across n and c


def test_dropout2d_gradient_is_the_channel_mask_and_eval_is_identity(rng):
    ns.manual_seed(1)
    x = ns.tensor(rng.standard_normal((8, 6, 2, 3)).astype(np.float32), requires_grad=True)
    y = F.dropout2d(x, 0.5)
    y.backward(ns.ones(*y.shape))
    mask = (y.data != 0).astype(np.float32) * 2.0
    np.testing.assert_allclose(y.data, x.data * mask, rtol=1e-6)
    np.testing.assert_array_equal(x.grad.data, mask)
    assert 0 < mask.mean() / 2 < 1
    m = nn.Dropout2d(0.5).eval()
    np.testing.assert_array_equal(m(x).data, x.data)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5, training=False).data, x.data)
    np.testing.assert_array_equal(F.dropout2d(x, 0.0).data, x.data)
    assert np.all(F.dropout2d(x, 1.0).data == 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.dropout2d(x, 1.5)
    # 3-D input is (N, C, L), as in PyTorch 2.x: one draw per x[n, c]
    y3 = F.dropout2d(ns.ones(200, 5, 7), 0.5).data
    assert np.all(y3 == y3[:, :, :1]) and 0.3 < (y3[:, :, 0] == 0).mean() < 0.7


# ----------------------------------------------------------------------------- BatchNorm2d

@pytest.mark.parametrize("affine", [True, False], ids=["affine", "noaffine"])
@pytest.mark.parametrize("shape,shift", [((8, 3, 4, 5), 3), ((3, 2, 2, 3), 3), ((8, 2, 4, 4), 40)],
                         ids=["N8-L20", "N3-L6", "N8-L16-mean>>std"])
def test_batch_norm_on_images_gradcheck(shape, shift, affine, rng):
    """Both layouts of the fused batch norm (long rows: BLAS sums; short rows: plain sums), and
    channels whose mean dwarfs their spread (the mean-correction pass)."""
    c_shape = (1, shape[1], 1, 1)
    x = rng.standard_normal(shape) * rng.uniform(0.5, 2, c_shape) + rng.uniform(-shift, shift, c_shape)
    if shift > 10:
        x += shift * np.sign(x.mean(axis=(0, 2, 3), keepdims=True))
    w, b = rng.uniform(0.5, 2, shape[1]), rng.standard_normal(shape[1])
    rm, rv = ns.zeros(shape[1], dtype=np.float64), ns.ones(shape[1], dtype=np.float64)
    if affine:
        assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True), x, w, b)
        assert gradcheck(lambda x, w: F.batch_norm(x, None, None, w, None, training=True), x, w)
        assert gradcheck(lambda x, b: F.batch_norm(x, None, None, None, b, training=True), x, b)
        assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), x, w, b)
    else:
        assert gradcheck(lambda x: F.batch_norm(x, rm, rv, training=True), x)


def test_batchnorm2d_normalises_each_channel_and_tracks_running_statistics(rng):
    c_mean, c_std = np.array([5.0, -2.0, 0.5]), np.array([3.0, 0.5, 1.0])
    bn = nn.BatchNorm2d(3, momentum=0.2)
    batches = [(rng.standard_normal((16, 3, 5, 4)) * c_std[:, None, None] + c_mean[:, None, None]).astype(np.float32)
               for _ in range(3)]
    rm, rv = np.zeros(3), np.ones(3)
    for xb in batches:
        y = bn(ns.tensor(xb)).data
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
        np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1 - 1e-5 / xb.var(axis=(0, 2, 3)), rtol=1e-4)
        x64 = xb.astype(np.float64)
        rm = 0.8 * rm + 0.2 * x64.mean(axis=(0, 2, 3))
        rv = 0.8 * rv + 0.2 * x64.var(axis=(0, 2, 3), ddof=1)  # unbiased in the running estimate
    np.testing.assert_allclose(bn.running_mean.data, rm, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, rv, rtol=1e-5)
    assert int(bn.num_batches_tracked.data) == 3
    bn.eval()
    xe = batches[0][:2]
    expected = (xe - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5)
    np.testing.assert_allclose(bn(ns.tensor(xe)).data, expected, rtol=1e-4, atol=1e-5)
    assert int(bn.num_batches_tracked.data) == 3
    with pytest.raises(ShapeError, match="4 axes and 3 channels"):
        bn(ns.zeros(2, 3, 4))
    assert repr(nn.BatchNorm2d(3)).startswith("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True")


def test_batchnorm2d_gradient_of_a_constant_upstream_is_zero_even_far_from_zero_mean(rng):
    """Σ over a channel of x̂ is 0, so with dL/dy = 1 the input gradient and dL/dγ vanish. Centring
    before every dot product keeps them ~0 in float32 even when |mean| >> std."""
    x = ns.tensor((rng.standard_normal((32, 4, 8, 8)) * 0.1 + 100).astype(np.float32), requires_grad=True)
    bn = nn.BatchNorm2d(4)
    bn(x).sum().backward()
    assert np.abs(x.grad.data).max() < 1e-2
    assert np.abs(bn.weight.grad.data).max() < 1.0  # vs. 2048 terms of size ~1
    np.testing.assert_allclose(bn.bias.grad.data, 32 * 8 * 8)


def test_batchnorm2d_float32_accuracy_when_the_mean_dwarfs_the_spread(rng):
    """|mean| / std = 1000 in float32: a float32 mean is off by up to half an ulp of 50 (2e-6),
    i.e. 4e-5 of a standard deviation; the correction pass keeps x̂ and dL/dx at float32 accuracy
    (float64 reference; PyTorch 2.13 is off by 7e-5 and 1e-4 here)."""
    x = (rng.standard_normal((8, 5, 7, 7)) * 0.05 + 50.0).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    t = ns.tensor(x, requires_grad=True)
    bn = nn.BatchNorm2d(5)
    y = bn(t)
    y.backward(ns.tensor(g))
    x64, axes = x.astype(np.float64), (0, 2, 3)
    mean, var = x64.mean(axis=axes, keepdims=True), x64.var(axis=axes, keepdims=True)
    x_hat = (x64 - mean) / np.sqrt(var + 1e-5)
    gx = (g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)) / np.sqrt(var + 1e-5)
    assert np.abs(y.data - x_hat).max() < 2e-6
    assert np.abs(t.grad.data - gx).max() < 5e-7 * np.abs(gx).max()
    np.testing.assert_allclose(bn.weight.grad.data, (g * x_hat).sum(axis=axes), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * mean.ravel(), rtol=1e-7)
