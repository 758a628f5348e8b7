"""F.conv2d, F.conv_transpose2d, nn.Conv2d and nn.ConvTranspose2d, without torch.

Gradients: central differences in float64 (``nnscratch.gradcheck``) over a grid of kernel sizes
(1, 3, 5 and the non-square (3, 2)), strides 1-3, paddings 0-2, dilations 1-2, groups 1-2,
batches of 1 and several, 1, 2, 3 or 8 channels and odd input sizes. Values: hand-computed
examples, the output-size formula, and the defining identity of the transposed convolution
(it is the adjoint of the convolution). Plus the error messages, the skipped input gradient,
float32 throughout, and the modules.
"""

import itertools

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn
from nnscratch import gradcheck
from nnscratch.functional import conv as conv_module
from nnscratch.functional import conv_direct, conv_winograd

pytestmark = pytest.mark.usefixtures("conv_path")  # every test on NumPy alone, with the compiled kernels, with Winograd

def out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def transpose_out_size(n, k, s, p, d, op):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def _grid():
    """One case per (kernel, stride, padding); dilation, groups, batch and channels cycle so that
    every value meets every other often. Small sizes keep the numerical gradients quick."""
    shapes = [  # (groups, N, C, O, H, W)
        (1, 1, 1, 2, 7, 5),
        (2, 2, 2, 4, 5, 7),
        (1, 3, 3, 2, 5, 5),
        (2, 1, 8, 2, 5, 5),
        (1, 2, 1, 3, 9, 6),
        (2, 1, 2, 2, 7, 7),
    ]
    cases = []
    for n, (k, s, p) in enumerate(itertools.product([1, 3, 5, (3, 2)], [1, 2, 3], [0, 1, 2])):
        d = (1, 2)[(n // 2) % 2]  # with groups alternating every case, all four pairs occur
        g, N, C, O, H, W = shapes[n % len(shapes)]
        kh, kw = (k, k) if isinstance(k, int) else k
        if out_size(H, kh, s, p, d) < 1 or out_size(W, kw, s, p, d) < 1:
            d = 1
        case_id = f"k{kh}x{kw}-s{s}-p{p}-d{d}-g{g}-N{N}-C{C}-O{O}-{H}x{W}"
        cases.append(pytest.param((kh, kw), s, p, d, g, N, C, O, H, W, id=case_id))
    return cases


GRID = _grid()


@pytest.mark.parametrize("kernel, stride, padding, dilation, groups, N, C, O, H, W", GRID)
def test_conv2d_gradcheck(kernel, stride, padding, dilation, groups, N, C, O, H, W, rng):
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((O, C // groups) + kernel)
    b = rng.standard_normal(O)
    conv = lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups)
    y = conv(ns.tensor(x), ns.tensor(w), ns.tensor(b))
    assert y.shape == (N, O, out_size(H, kernel[0], stride, padding, dilation),
                       out_size(W, kernel[1], stride, padding, dilation))
    assert gradcheck(conv, x, w, b)


@pytest.mark.parametrize("kernel, stride, padding, dilation, groups, N, C, O, H, W", GRID)
def test_conv_transpose2d_gradcheck(kernel, stride, padding, dilation, groups, N, C, O, H, W, rng):
    output_padding = max(stride, dilation) - 1  # the largest allowed: rows no window reaches
    H_out = transpose_out_size(H, kernel[0], stride, padding, dilation, output_padding)
    W_out = transpose_out_size(W, kernel[1], stride, padding, dilation, output_padding)
    if H_out < 1 or W_out < 1:
        output_padding, padding = 0, 0
        H_out = transpose_out_size(H, kernel[0], stride, 0, dilation, 0)
        W_out = transpose_out_size(W, kernel[1], stride, 0, dilation, 0)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((C, O // groups) + kernel)
    b = rng.standard_normal(O)
    deconv = lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups,
                                                dilation)
    assert deconv(ns.tensor(x), ns.tensor(w), ns.tensor(b)).shape == (N, O, H_out, W_out)
    assert gradcheck(deconv, x, w, b)


@pytest.mark.parametrize("groups", [1, 2])
def test_gradcheck_without_bias_and_with_tuple_arguments(groups, rng):
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((4, 4 // groups, 3, 2))
    assert gradcheck(lambda x, w: F.conv2d(x, w, None, (2, 1), (1, 0), (1, 2), groups), x, w)
    assert gradcheck(lambda x, w: F.conv_transpose2d(x, w, None, (2, 1), (1, 0), (1, 0), groups, (1, 2)), x, w)


# ----------------------------------------------------------------------------- values


def test_known_values():
    x = ns.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    y = F.conv2d(x, ns.ones(1, 1, 2, 2))  # sums of 2x2 windows
    np.testing.assert_array_equal(y.data[0, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])
    y = F.conv2d(x, ns.ones(1, 1, 2, 2), ns.tensor([0.5]), stride=2)
    np.testing.assert_array_equal(y.data[0, 0], [[10.5, 18.5], [42.5, 50.5]])
    # padding 1: the corner window sees only x[0, 0] = 0 and x[0, 1] = 1 and x[1, 0] = 4, x[1, 1] = 5
    y = F.conv2d(x, ns.ones(1, 1, 3, 3), padding=1)
    assert y.shape == (1, 1, 4, 4) and y.data[0, 0, 0, 0] == 0 + 1 + 4 + 5
    assert y.data[0, 0, 1, 1] == sum(range(3)) + sum(range(4, 7)) + sum(range(8, 11))
    # dilation 2: the 2x2 kernel reads x[r, c], x[r, c + 2], x[r + 2, c], x[r + 2, c + 2]
    y = F.conv2d(x, ns.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), dilation=2)
    np.testing.assert_array_equal(y.data[0, 0], [[0 + 2 * 2 + 3 * 8 + 4 * 10, 1 + 2 * 3 + 3 * 9 + 4 * 11],
                                                 [4 + 2 * 6 + 3 * 12 + 4 * 14, 5 + 2 * 7 + 3 * 13 + 4 * 15]])
    # cross-correlation, not flipped: a kernel with a single 1 at (0, 1) shifts the image left
    k = np.zeros((1, 1, 1, 2))
    k[..., 1] = 1
    np.testing.assert_array_equal(F.conv2d(x, ns.tensor(k)).data[0, 0], x.data[0, 0, :, 1:])


def test_multichannel_and_groups_values(rng):
    x = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    y = F.conv2d(ns.tensor(x), ns.tensor(w), groups=2).data
    # direct definition: output channel o of group o // 3 reads input channels 2·(o // 3) + (0, 1)
    ref = np.zeros((2, 6, 3, 4), np.float32)
    for o in range(6):
        ch = slice(2 * (o // 3), 2 * (o // 3) + 2)
        for r in range(3):
            for c in range(4):
                ref[:, o, r, c] = np.einsum("nchw,chw->n", x[:, ch, r:r + 3, c:c + 3], w[o])
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride, padding, dilation, output_padding, groups",
                         [(1, 0, 1, 0, 1), (2, 1, 1, 1, 1), (3, 2, 2, 2, 2), (1, 1, 2, 1, 2),
                          ((2, 1), (0, 1), 1, (1, 0), 1)])
def test_transpose_is_the_adjoint_of_conv(stride, padding, dilation, output_padding, groups, rng):
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)> for every x and y. (With stride 1 and
    output_padding, conv2d of the larger output has extra rows that conv_transpose2d never
    reads: the identity holds for the rows y has.)"""
    f64 = lambda a: ns.tensor(a, dtype=np.float64)
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    y = rng.standard_normal((2, 4, 4, 5))
    xt = F.conv_transpose2d(f64(y), f64(w), None, stride, padding, output_padding, groups, dilation)
    x = rng.standard_normal(xt.shape)
    conv = F.conv2d(f64(x), f64(w), None, stride, padding, dilation, groups)
    assert conv.shape[:2] == y.shape[:2] and conv.shape[2] >= y.shape[2] and conv.shape[3] >= y.shape[3]
    assert np.vdot(conv.data[:, :, :4, :5], y) == pytest.approx(np.vdot(x, xt.data), rel=1e-10)


def test_upstream_gradient_of_input_equals_conv_transpose(rng):
    x = ns.tensor(rng.standard_normal((2, 3, 9, 8)), requires_grad=True)
    w = ns.tensor(rng.standard_normal((5, 3, 3, 3)))
    y = F.conv2d(x, w, stride=2, padding=1)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    ref = F.conv_transpose2d(ns.tensor(g), w, stride=2, padding=1, output_padding=(0, 1))
    np.testing.assert_allclose(x.grad.data, ref.data, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel, dilation", [(3, 1), (4, 1), ((2, 5), (2, 1)), (1, 1)])
def test_padding_same_and_valid(kernel, dilation, rng):
    x = ns.tensor(rng.standard_normal((2, 3, 7, 6)))
    w = ns.tensor(rng.standard_normal((4, 3) + ((kernel,) * 2 if isinstance(kernel, int) else kernel)))
    y = F.conv2d(x, w, padding="same", dilation=dilation)
    assert y.shape == (2, 4, 7, 6)
    # 'same' = explicit zero padding, the odd extra row/column at the bottom/right
    kh, kw = w.shape[2:]
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    th, tw = dh * (kh - 1), dw * (kw - 1)
    padded = np.pad(x.data, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    np.testing.assert_allclose(y.data, F.conv2d(ns.tensor(padded), w, dilation=dilation).data, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(F.conv2d(x, w, padding="valid").data, F.conv2d(x, w, padding=0).data)
    assert gradcheck(lambda x, w: F.conv2d(x, w, padding="same", dilation=dilation),
                     x.data[:1, :, :5, :4], w.data)


def test_unbatched_input(rng):
    x, w, b = rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    y = F.conv2d(ns.tensor(x), ns.tensor(w), ns.tensor(b), padding=1)
    assert y.shape == (2, 6, 5)
    np.testing.assert_allclose(y.data, F.conv2d(ns.tensor(x[None]), ns.tensor(w), ns.tensor(b), padding=1).data[0])
    assert gradcheck(lambda x, w: F.conv2d(x, w, padding=1), x, w)
    assert F.conv_transpose2d(ns.tensor(x), ns.tensor(rng.standard_normal((3, 2, 3, 3))), stride=2).shape == (2, 13, 11)


# ----------------------------------------------------------------------------- errors


def test_channel_mismatch_message():
    x, w = ns.zeros(8, 3, 28, 28), ns.zeros(30, 1, 5, 5)
    with pytest.raises(ns.ShapeError) as e:
        F.conv2d(x, w)
    assert str(e.value) == ("conv2d: input has 3 channels (shape (8, 3, 28, 28)) but the weight expects 1 "
                            "(weight shape (30, 1, 5, 5))")
    with pytest.raises(ns.ShapeError,
                       match=r"input has 3 channels .* expects 4 \(weight shape \(6, 2, 3, 3\), groups=2\)"):
        F.conv2d(x, ns.zeros(6, 2, 3, 3), groups=2)
    with pytest.raises(ns.ShapeError, match=r"conv_transpose2d: input has 3 channels \(shape \(8, 3, 28, 28\)\) "
                                            r"but the weight expects 4 \(weight shape \(4, 2, 3, 3\)\)"):
        F.conv_transpose2d(x, ns.zeros(4, 2, 3, 3))


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: F.conv2d(ns.zeros(1, 2, 5, 5), ns.zeros(3, 2, 3, 3), ns.zeros(4)), ns.ShapeError,
     r"bias has shape \(4,\) but the layer has 3 output channels .* expected bias shape \(3,\)"),
    (lambda: F.conv2d(ns.zeros(1, 2, 4, 4), ns.zeros(3, 2, 5, 5)), ns.ShapeError,
     r"padded input is 4x4 but the kernel \(5, 5\) with dilation \(1, 1\) spans 5x5"),
    (lambda: F.conv2d(ns.zeros(1, 2, 5, 5), ns.zeros(3, 2, 3, 3), dilation=3), ns.ShapeError, r"spans 7x7"),
    (lambda: F.conv2d(ns.zeros(2, 5, 5), ns.zeros(3, 2, 3)), ns.ShapeError, r"weight of 4 axes, got shape \(3, 2, 3\)"),
    (lambda: F.conv2d(ns.zeros(5, 5), ns.zeros(3, 2, 3, 3)), ns.ShapeError,
     r"\(N, C, H, W\) or \(C, H, W\), got shape \(5, 5\)"),
    (lambda: F.conv2d(ns.zeros(1, 4, 5, 5), ns.zeros(3, 2, 3, 3), groups=2), ns.ShapeError,
     r"3 output channels .* do not split into groups=2"),
    (lambda: F.conv2d(ns.zeros(1, 2, 5, 5), ns.zeros(3, 2, 3, 3), stride=2, padding="same"), ValueError,
     r"padding='same' needs stride 1"),
    (lambda: F.conv2d(ns.zeros(1, 2, 5, 5), ns.zeros(3, 2, 3, 3), padding="full"), ValueError, r"'valid' or 'same'"),
    (lambda: F.conv2d(ns.zeros(1, 2, 5, 5), ns.zeros(3, 2, 3, 3), stride=0), ValueError, r"at least 1"),
    (lambda: F.conv2d(ns.zeros(1, 2, 5, 5), ns.zeros(3, 2, 3, 3), padding=(1, 2, 3)), ValueError,
     r"conv2d: padding must be an int or a pair of ints, got \(1, 2, 3\)"),
    (lambda: F.conv_transpose2d(ns.zeros(1, 2, 5, 5), ns.zeros(2, 3, 3, 3), stride=1.5), ValueError,
     r"conv_transpose2d: stride must be an int or a pair"),
    (lambda: F.conv2d(ns.tensor(np.zeros((1, 2, 5, 5), np.int64)), ns.zeros(3, 2, 3, 3)), TypeError, r"floating"),
    (lambda: F.conv_transpose2d(ns.zeros(1, 2, 5, 5), ns.zeros(2, 3, 3, 3), stride=2, output_padding=2), ValueError,
     r"output_padding \(2, 2\) must be smaller than the stride \(2, 2\) or the dilation"),
    (lambda: F.conv_transpose2d(ns.zeros(1, 2, 2, 2), ns.zeros(2, 3, 3, 3), padding=3), ns.ShapeError,
     r"output would be -2x-2"),
])
def test_argument_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_no_second_derivative():
    x = ns.randn(1, 1, 5, 5, requires_grad=True)
    y = F.conv2d(x, ns.randn(1, 1, 3, 3)).sum()
    with pytest.raises(RuntimeError, match="create_graph"):
        ns.grad(y, x, create_graph=True)


# ----------------------------------------------------------------------------- speed-related behaviour


def test_input_gradient_skipped_when_not_needed(monkeypatch, rng):
    calls = []
    for owner, name in [(conv_module, "_col2im"), (conv_direct.Grid, "input_grad"),   # every path's dL/dx
                        (conv_winograd.Winograd, "input_grad")]:
        real = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, real=real, **k: calls.append(1) or real(*a, **k))
    x = ns.tensor(rng.standard_normal((2, 1, 6, 6)))  # data: no gradient wanted
    w, b = ns.tensor(rng.standard_normal((3, 1, 3, 3)), requires_grad=True), ns.zeros(3, requires_grad=True)
    F.conv2d(x, w, b).sum().backward()
    assert calls == [] and x.grad is None
    # dL/dW of sum(y) is the sum of the inputs each weight touched; dL/db the number of outputs
    ref = np.array([[x.data[:, 0, i:i + 4, j:j + 4].sum() for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(w.grad.data[0, 0], ref, rtol=1e-5)
    np.testing.assert_allclose(b.grad.data, [2 * 16] * 3)
    x.requires_grad = True
    F.conv2d(x, w, b).sum().backward()
    assert calls == [1] and x.grad.shape == x.shape


def test_frozen_weight_still_gives_input_and_bias_gradients(rng):
    x = ns.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    w, b = ns.tensor(rng.standard_normal((3, 2, 3, 3))), ns.zeros(3, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    assert w.grad is None
    np.testing.assert_allclose(b.grad.data, g.sum((0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(x.grad.data, F.conv_transpose2d(ns.tensor(g), w, padding=1).data, rtol=1e-5, atol=1e-5)


def test_float32_throughout(rng):
    x = ns.tensor(rng.standard_normal((4, 3, 9, 9)), requires_grad=True)
    layer = nn.Conv2d(3, 5, 3, padding=1)
    up = nn.ConvTranspose2d(5, 2, 2, stride=2)
    y = up(layer(x))
    assert x.dtype == y.dtype == np.float32 and y.shape == (4, 2, 18, 18)
    y.sum().backward()
    for t in (x, layer.weight, layer.bias, up.weight, up.bias):
        assert t.grad.dtype == np.float32
    with ns.no_grad():
        assert F.conv2d(x, layer.weight.double()).dtype == np.float64  # float64 on request


def test_repeated_steps_are_identical_and_outputs_stay_untouched(rng):
    """Each step makes its own column matrix and outputs: the same step gives the same results
    bit for bit, and a later step never overwrites what an earlier one returned."""
    x = ns.tensor(rng.random((16, 8, 16, 16), dtype=np.float32), requires_grad=True)
    w = ns.tensor(rng.standard_normal((8, 8, 3, 3), dtype=np.float32), requires_grad=True)
    b = ns.zeros(8, requires_grad=True)
    results = []
    for _ in range(3):
        x.grad = w.grad = b.grad = None
        y = F.conv2d(x, w, b, padding=1)
        y.backward(np.ones(y.shape, np.float32))
        results.append((y.data, x.grad.data, w.grad.data, b.grad.data))
    first = [a.copy() for a in results[0]]
    with ns.no_grad():
        y2 = F.conv2d(ns.tensor(x.data * 2), w, b, padding=1)
    for a, c, d in zip(first, results[0], results[2]):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(a, d)
    np.testing.assert_allclose(y2.data - b.data[:, None, None], 2 * (first[0] - b.data[:, None, None]),
                               rtol=1e-5, atol=1e-5)


def test_backward_twice_with_retain_graph(rng):
    x = ns.tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    w = ns.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, stride=2).sum()
    y.backward(retain_graph=True)
    first = w.grad.data.copy(), x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(w.grad.data, 2 * first[0])
    np.testing.assert_allclose(x.grad.data, 2 * first[1])


# ----------------------------------------------------------------------------- modules


def test_conv2d_module():
    ns.manual_seed(0)
    layer = nn.Conv2d(3, 30, 5)
    assert layer.weight.shape == (30, 3, 5, 5) and layer.bias.shape == (30,)
    assert layer.weight.dtype == np.float32
    bound = 1 / np.sqrt(3 * 25)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound  # uses the whole range
    assert np.std(layer.weight.data) == pytest.approx(bound / np.sqrt(3), rel=0.05)  # U(-a, a): std a/sqrt(3)
    assert repr(layer) == "Conv2d(3, 30, kernel_size=(5, 5), stride=(1, 1))"  # as PyTorch prints it
    assert layer.summary() == "Conv2d(3, 30, kernel_size=(5, 5), stride=(1, 1))  # 2,280 parameters"
    assert list(layer.state_dict()) == ["weight", "bias"]
    x = ns.randn(2, 3, 28, 28)
    np.testing.assert_array_equal(layer(x).data, F.conv2d(x, layer.weight, layer.bias).data)
    assert layer(x).shape == (2, 30, 24, 24)

    he = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=2, groups=2, bias=False, init="he")
    assert he.weight.shape == (6, 2, 3, 2) and he.bias is None
    assert he.extra_repr() == ("4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
                               "groups=2, bias=False")
    assert nn.Conv2d(2, 2, 3, padding="same").extra_repr() == "2, 2, kernel_size=(3, 3), stride=(1, 1), padding=same"
    assert nn.Conv2d(2, 2, 3, padding="same")(ns.randn(1, 2, 5, 4)).shape == (1, 2, 5, 4)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a pair of ints, got \(3,\)"):
        nn.Conv2d(3, 4, (3,))
    with pytest.raises(ValueError, match="ConvTranspose2d: padding must be an int or a pair of ints, got 'same'"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ValueError, match="needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")


def test_conv_transpose2d_module():
    ns.manual_seed(0)
    layer = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert layer.weight.shape == (8, 2, 3, 3) and layer.bias.shape == (4,)
    bound = 1 / np.sqrt(2 * 9)  # fan_in from weight.shape[1], as PyTorch computes it
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound
    assert layer.extra_repr() == ("8, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                                  "output_padding=(1, 1), groups=2")
    x = ns.randn(2, 8, 7, 7)
    y = layer(x)
    assert y.shape == (2, 4, 14, 14)
    np.testing.assert_array_equal(y.data, F.conv_transpose2d(x, layer.weight, layer.bias, 2, 1, 1, 2).data)


def test_small_cnn_learns(rng):
    """conv -> relu -> flatten -> linear fits a small labelled set (the loss falls a lot)."""
    ns.manual_seed(1)
    x = ns.tensor(rng.standard_normal((32, 1, 8, 8)))
    labels = (x.data[:, 0, :4].sum((1, 2)) > x.data[:, 0, 4:].sum((1, 2))).astype(np.int64)  # top vs bottom
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 64, 2))
    opt = ns.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(60):
        loss = F.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
