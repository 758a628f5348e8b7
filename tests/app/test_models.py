"""The ready-made networks (nnscratch.models) and their presets: the book's and the literature's
parameter counts, output shapes, rebuilding from a config, a residual block's gradients, and the
CNN and LSTM presets trained for one epoch on a few hundred images through the command line."""

import json
import os

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import models, nn, numerical_gradient
from nnscratch.cli import main

DATA = os.environ.get("NNSCRATCH_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "mnist")),
                                 reason="NNSCRATCH_DATA with mnist/ is not set")


def conv_params(c_in, c_out, k, bias=True):
    return c_out * c_in * k * k + (c_out if bias else 0)


def linear_params(n_in, n_out):
    return n_in * n_out + n_out


def bn_params(c):
    return 2 * c


PARAMETERS = {
    # the book's SimpleConvNet: conv 30@5x5 on 28x28 -> 30x12x12 after pooling
    "simple_cnn": conv_params(1, 30, 5) + linear_params(30 * 12 * 12, 100) + linear_params(100, 10),
    # LeNet-5 as LeCun et al. count it: 61,706
    "lenet5": 61_706,
    # the book's DeepConvNet: six 3x3 convs, fc 1024-50-10
    "deep_cnn": (conv_params(1, 16, 3) + conv_params(16, 16, 3) + conv_params(16, 32, 3) + conv_params(32, 32, 3)
                 + conv_params(32, 64, 3) + conv_params(64, 64, 3) + linear_params(64 * 4 * 4, 50)
                 + linear_params(50, 10)),
    "vgg": (conv_params(1, 32, 3, False) + conv_params(32, 32, 3, False) + conv_params(32, 64, 3, False)
            + conv_params(64, 64, 3, False) + bn_params(32) * 2 + bn_params(64) * 2
            + linear_params(64 * 7 * 7, 256) + linear_params(256, 10)),
    # stem, two blocks of 32, two of 64 (the first with a 1x1 projection shortcut)
    "resnet": (conv_params(1, 32, 3, False) + bn_params(32)
               + 2 * (2 * conv_params(32, 32, 3, False) + 2 * bn_params(32))
               + conv_params(32, 64, 3, False) + conv_params(64, 64, 3, False) + 2 * bn_params(64)
               + conv_params(32, 64, 1, False) + bn_params(64)
               + 2 * conv_params(64, 64, 3, False) + 2 * bn_params(64) + linear_params(64, 10)),
    # LSTM 28 -> 128 (4 gates, two biases) and fc 128 -> 10
    "row_lstm": 4 * 128 * (28 + 128) + 2 * 4 * 128 + linear_params(128, 10),
}


def test_the_book_and_lenet_counts():
    assert PARAMETERS["simple_cnn"] == 433_890
    assert PARAMETERS["deep_cnn"] == 123_552


@pytest.mark.parametrize("arch", sorted(PARAMETERS))
def test_parameter_count_and_output_shape(arch, rng):
    network = models.build_model({"arch": arch})
    assert network.num_parameters() == PARAMETERS[arch]
    network.eval()
    x = ns.tensor(rng.random((3, 1, 28, 28), dtype=np.float32))
    with ns.no_grad():
        y = network(x)
    assert y.shape == (3, 10) and y.dtype == np.float32


@pytest.mark.parametrize("arch", sorted(PARAMETERS))
def test_rebuilt_from_config_and_state_dict_gives_the_same_outputs(arch, rng, tmp_path):
    config = {"arch": arch, "input_mean": 0.13, "input_std": 0.31}
    first = models.build_model(config)
    ns.save(first.state_dict(), tmp_path / "w.npz")
    second = models.build_model(json.loads(json.dumps(config)))
    second.load_state_dict(ns.load(tmp_path / "w.npz"))
    x = ns.tensor(rng.random((2, 1, 28, 28), dtype=np.float32))
    first.eval()
    second.eval()
    with ns.no_grad():
        np.testing.assert_array_equal(first(x).data, second(x).data)


def test_unknown_architecture_is_named():
    with pytest.raises(ValueError, match="unknown architecture 'alexnet'; known: mlp, simple_cnn"):
        models.build_model({"arch": "alexnet"})


@pytest.mark.parametrize("stride, c_out", [(1, 4), (2, 6)])
def test_residual_block_gradients_equal_numerical_ones(stride, c_out, rng):
    """y = ReLU(F(x) + shortcut(x)) in float64, train mode (batch statistics), identity and
    projection shortcuts: the input's and every parameter's gradient equal central differences."""
    block = models.ResidualBlock(4, c_out, stride=stride)
    for p in block.parameters():
        p.data = rng.standard_normal(p.shape) * 0.5
    x = rng.standard_normal((3, 4, 5, 5))
    w = rng.standard_normal(block(ns.tensor(x)).shape)
    assert ns.gradcheck(lambda x: block(x), x)

    def loss(_=None):
        return (block(ns.tensor(x)).data * w).sum()

    (block(ns.tensor(x)) * w).sum().backward()
    for name, p in block.named_parameters():
        numeric = numerical_gradient(loss, p.data)   # perturbs p.data in place, element by element
        np.testing.assert_allclose(p.grad.data, numeric, rtol=1e-5, atol=1e-6, err_msg=name)


def test_residual_connection_keeps_the_gradient_of_a_deep_stack(rng):
    """The introduction to neural networks: the skip path carries the gradient past layers that
    would shrink it. Twenty blocks deep, the input still gets a gradient of the same order as the output's."""
    ns.manual_seed(0)
    stack = nn.Sequential(*[models.ResidualBlock(4, 4) for _ in range(20)])
    x = ns.tensor(rng.standard_normal((4, 4, 6, 6)).astype(np.float32), requires_grad=True)
    y = stack(x)
    y.backward(ns.ones_like(y))
    assert np.abs(x.grad.data).mean() > 0.1   # dL/dy is 1 everywhere


def test_a_linear_after_flatten_with_wrong_in_features_names_both_shapes(rng):
    network = nn.Sequential(nn.Conv2d(1, 30, 5), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(30 * 13 * 13, 10))
    with pytest.raises(ns.ShapeError, match=r"4320.*5070|5070.*4320"):
        network(ns.tensor(rng.random((2, 1, 28, 28), dtype=np.float32)))


@needs_mnist
@pytest.mark.parametrize("preset, limit, files", [
    ("cnn", 600, ("filters.png", "features.png")),
    ("lenet5", 1500, ("filters.png", "features.png")),
    ("lstm", 3000, ()),
])
def test_preset_trains_from_the_command_line(preset, limit, files, tmp_path, capsys):
    out = tmp_path / preset
    assert main(["train", "mnist", "--model", preset, "--limit", str(limit), "--epochs", "2", "--out", str(out),
                 "--seed", "1"]) == 0
    for name in ("model.npz", "last.npz", "summary.txt", "history.json", *files):
        assert (out / name).stat().st_size > 0, name
    history = json.loads((out / "history.json").read_text())
    assert history["loss"][1] < history["loss"][0]
    accuracy = float((out / "summary.txt").read_text().splitlines()[-1].split(": ")[1].rstrip("%")) / 100
    assert accuracy > 0.5   # 2 epochs on 90% of `limit` images; chance is 0.1
    capsys.readouterr()
    assert main(["eval", str(out)]) == 0
    assert f"test accuracy: {accuracy:.4%}" in capsys.readouterr().out


def test_cnn_and_lstm_training_steps_lower_the_loss(rng):
    """A few Adam steps on one fixed batch lower the loss of every image network (a smoke test of
    the whole forward and backward pass of each)."""
    x = ns.tensor(rng.random((16, 1, 28, 28), dtype=np.float32))
    t = rng.integers(0, 10, 16)
    for arch in ("simple_cnn", "lenet5", "deep_cnn", "vgg", "resnet", "row_lstm"):
        ns.manual_seed(0)
        network = models.build_model({"arch": arch})
        if arch == "deep_cnn":
            network.eval()   # its dropout on the logits makes single-batch losses noisy
        optimizer = ns.optim.Adam(network.parameters(), lr=1e-3)
        losses = []
        for _ in range(5):
            loss = F.cross_entropy(network(x), t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        assert losses[-1] < losses[0], arch
