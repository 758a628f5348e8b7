"""Convolutions against PyTorch: F.conv2d and F.conv_transpose2d forward and backward (input,
weight and bias gradients for a random upstream gradient) in float32 over the same grid as
test_conv.py, plus nn.Conv2d / nn.ConvTranspose2d initialisation, repr and state_dict interchange.

Values agree to float32 rounding (tolerance.assert_close): the bound grows with the number of
products summed into each value, C/groups*kh*kw for an output, O/groups*kh*kw for an input
gradient, the batch times the positions for a weight or bias gradient."""

import numpy as np
import pytest
from test_conv import GRID, transpose_out_size
from tolerance import assert_close as assert_within_rounding

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.usefixtures("conv_path")  # NumPy alone, the compiled kernels, Winograd: against PyTorch

def assert_close(ours, theirs, what, n):
    """Same shape, float32, and the values to the rounding of sums of ``n`` float32 products."""
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs PyTorch's {theirs.shape}"
    assert ours.dtype == np.float32, f"{what}: dtype {ours.dtype}"
    assert_within_rounding(ours, theirs, n, what=what)


def products_summed(x, w, y, transposed):
    """How many products each value of the output and of each gradient adds up."""
    window = w.shape[-1] * w.shape[-2]
    groups = x.shape[-3] * y.shape[-3] // (w.shape[0] * w.shape[1])
    positions = (x if transposed else y).size // (x if transposed else y).shape[-3]  # batch * positions
    return {"output": x.shape[-3] // groups * window, "input": y.shape[-3] // groups * window,
            "weight": positions, "bias": y.size // y.shape[-3]}


def run_both(ns_fn, torch_fn, arrays, rng, need_input_grad=True, transposed=False):
    """Forward and backward on both sides with the same upstream gradient; compare everything."""
    ours = [ns.tensor(a, requires_grad=(i > 0 or need_input_grad)) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=(i > 0 or need_input_grad)) for i, a in enumerate(arrays)]
    y, ty = ns_fn(*ours), torch_fn(*theirs)
    n = products_summed(arrays[0], arrays[1], y, transposed)
    assert_close(y.data, ty, "output", n["output"])
    g = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    for name, a, t in zip(["input", "weight", "bias"], ours, theirs):
        if t.grad is None:
            assert a.grad is None, f"{name} got a gradient it did not ask for"
        else:
            assert_close(a.grad.data, t.grad, f"{name} gradient", n[name])


def f32(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("kernel, stride, padding, dilation, groups, N, C, O, H, W", GRID)
def test_conv2d(kernel, stride, padding, dilation, groups, N, C, O, H, W, bias, rng):
    arrays = [f32(rng, (N, C, H + 4, W + 3)), f32(rng, (O, C // groups) + kernel)] + ([f32(rng, O)] if bias else [])
    run_both(lambda x, w, b=None: F.conv2d(x, w, b, stride, padding, dilation, groups),
             lambda x, w, b=None: TF.conv2d(x, w, b, stride, padding, dilation, groups), arrays, rng)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("kernel, stride, padding, dilation, groups, N, C, O, H, W", GRID)
def test_conv_transpose2d(kernel, stride, padding, dilation, groups, N, C, O, H, W, bias, rng):
    output_padding = max(stride, dilation) - 1
    if min(transpose_out_size(n, k, stride, padding, dilation, output_padding) for n, k in zip((H, W), kernel)) < 1:
        padding = output_padding = 0
    arrays = [f32(rng, (N, C, H, W)), f32(rng, (C, O // groups) + kernel)] + ([f32(rng, O)] if bias else [])
    run_both(lambda x, w, b=None: F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
             lambda x, w, b=None: TF.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
             arrays, rng, transposed=True)


@pytest.mark.parametrize("shape, out_channels, kernel, padding, need_input_grad", [
    ((100, 1, 28, 28), 30, 5, 0, False),  # the book's SimpleConvNet first layer
    ((20, 16, 14, 14), 16, 3, 1, True),  # a DeepConvNet-style inner layer
    ((8, 3, 32, 32), 8, (5, 3), (2, 1), True),
])
def test_realistic_layers(shape, out_channels, kernel, padding, need_input_grad, rng):
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    arrays = [rng.random(shape, dtype=np.float32), 0.1 * f32(rng, (out_channels, shape[1]) + kernel),
              f32(rng, out_channels)]
    run_both(lambda x, w, b: F.conv2d(x, w, b, padding=padding),
             lambda x, w, b: TF.conv2d(x, w, b, padding=padding), arrays, rng, need_input_grad)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's note on its own speed
@pytest.mark.parametrize("kernel, dilation", [(3, 1), (4, 1), ((2, 5), 1), (4, 2), ((3, 2), (1, 3))])
def test_padding_same_and_valid(kernel, dilation, rng):
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    arrays = [f32(rng, (2, 3, 9, 8)), f32(rng, (4, 3) + kernel), f32(rng, 4)]
    for padding in ("same", "valid"):
        run_both(lambda x, w, b, padding=padding: F.conv2d(x, w, b, padding=padding, dilation=dilation),
                 lambda x, w, b, padding=padding: TF.conv2d(x, w, b, padding=padding, dilation=dilation), arrays, rng)


def test_unbatched_input(rng):
    arrays = [f32(rng, (3, 7, 6)), f32(rng, (4, 3, 3, 3)), f32(rng, 4)]
    run_both(lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: TF.conv2d(x, w, b, padding=1),
             arrays, rng)
    arrays = [f32(rng, (3, 7, 6)), f32(rng, (3, 4, 3, 3)), f32(rng, 4)]
    run_both(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2),
             lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2), arrays, rng, transposed=True)


# ----------------------------------------------------------------------------- modules


@pytest.mark.parametrize("make, make_torch, fan_in", [
    (lambda: nn.Conv2d(64, 32, 3), lambda: torch.nn.Conv2d(64, 32, 3), 64 * 9),
    (lambda: nn.Conv2d(8, 64, (5, 3), groups=4), lambda: torch.nn.Conv2d(8, 64, (5, 3), groups=4), 2 * 15),
    (lambda: nn.ConvTranspose2d(64, 32, 4, stride=2), lambda: torch.nn.ConvTranspose2d(64, 32, 4, stride=2), 32 * 16),
])
def test_default_init_statistics(make, make_torch, fan_in):
    """kaiming_uniform(a=sqrt(5)) is U(±1/sqrt(fan_in)) for the weight, and the bias is drawn from
    the same range: our samples and PyTorch's have the same bound, mean and spread."""
    ns.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = make(), make_torch()
    bound = 1 / np.sqrt(fan_in)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    for a, t in ((ours.weight.data, theirs.weight.detach().numpy()), (ours.bias.data, theirs.bias.detach().numpy())):
        assert np.abs(a).max() <= bound and np.abs(t).max() <= bound
        assert np.abs(a).max() > 0.8 * bound
    w, tw = ours.weight.data, theirs.weight.detach().numpy()
    assert np.std(w) == pytest.approx(bound / np.sqrt(3), rel=0.03)
    assert np.std(w) == pytest.approx(np.std(tw), rel=0.05)
    assert abs(np.mean(w)) < 0.05 * bound


@pytest.mark.parametrize("make, make_torch", [
    (lambda nn: nn.Conv2d(3, 6, 5), None),
    (lambda nn: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=2, groups=2, bias=False), None),
    (lambda nn: nn.Conv2d(3, 4, 4, padding="same"), None),
    (lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), None),
    (lambda nn: nn.ConvTranspose2d(4, 2, (2, 3), bias=False, dilation=(1, 2)), None),
])
def test_state_dict_interchange_and_repr(make, make_torch, rng):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours).split("  #")[0] == repr(theirs)
    x = f32(rng, (2, 4 if ours.in_channels == 4 else 3, 9, 8))
    n = theirs.in_channels // theirs.groups * theirs.kernel_size[0] * theirs.kernel_size[1]  # products per output
    # PyTorch -> nnscratch
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        assert_within_rounding(ours(ns.tensor(x)), theirs(torch.from_numpy(x)), n, what="output")
    # nnscratch -> PyTorch, after changing our weights
    ours.reset_parameters("he")
    theirs.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()})
    with torch.no_grad():
        assert_within_rounding(ours(ns.tensor(x)), theirs(torch.from_numpy(x)), n, what="output")


def test_training_step_matches(rng):
    """One SGD step of conv -> relu -> conv_transpose -> mse from the same weights gives the same
    new weights. The largest sums: the loss's mean over 512 values; the weight gradients, 64
    positions (4 images x 4x4) each."""
    ns_model = nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.ReLU(), nn.ConvTranspose2d(4, 2, 2, stride=2))
    t_model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, stride=2, padding=1), torch.nn.ReLU(),
                                  torch.nn.ConvTranspose2d(4, 2, 2, stride=2))
    t_model.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in ns_model.state_dict().items()})
    x, target = rng.random((4, 2, 8, 8), dtype=np.float32), rng.random((4, 2, 8, 8), dtype=np.float32)
    ns_opt = ns.optim.SGD(ns_model.parameters(), lr=0.5)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.5)
    for _ in range(3):
        loss = F.mse_loss(ns_model(ns.tensor(x)), ns.tensor(target))
        ns_opt.zero_grad()
        loss.backward()
        ns_opt.step()
        t_loss = TF.mse_loss(t_model(torch.from_numpy(x)), torch.from_numpy(target))
        t_opt.zero_grad()
        t_loss.backward()
        t_opt.step()
        assert_within_rounding(loss, t_loss, x.size, what="loss")
    for (name, p), tp in zip(ns_model.state_dict().items(), t_model.state_dict().values()):
        assert_within_rounding(p, tp, 4 * 4 * 4, what=name)
