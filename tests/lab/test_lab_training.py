"""The concept lab, demos 10-17 (batch modes ... RBM features): their numbers, checked against
closed forms, hand-computed gradient steps, PyTorch's optimizers and exact identities between
runs, on small MNIST subsets (seconds each). Rendering is checked once per demo (Agg backend)."""

import os

import numpy as np
import pytest

from nnscratch import backend, lab, nn
from nnscratch.lab import (
    backprop_vs_numerical,
    batch_modes,
    batchnorm,
    cnn_filters,
    how_a_network_learns,
    learning_rate,
    lstm_vs_rnn,
    optimizers,
    overfitting,
    rbm_features,
)

DATA = os.environ.get("NNSCRATCH_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "mnist")),
                                 reason="NNSCRATCH_DATA with mnist/ is not set")

# Each demo with small knobs (documented in its run()); lstm-vs-rnn runs its defaults.
SMALL = {
    "batch-modes": lambda: batch_modes.run(n_train=200, epochs=3),
    "optimizers": lambda: optimizers.run(iterations=40, n_train=1000, batch_size=64),
    "learning-rate": lambda: learning_rate.run(n_train=300, steps=30, learning_rates=(1e-3, 1.0, 30.0)),
    "overfitting": lambda: overfitting.run(epochs=30, n_test=500),
    "batchnorm": lambda: batchnorm.run(scales=(0.01,), n_train=1000, epochs=5),
    "backprop-vs-numerical": lambda: backprop_vs_numerical.run(w1_sample=200),
    "how-a-network-learns": lambda: how_a_network_learns.run(n_train=2000, n_test=500, epochs=2),
    "cnn-filters": lambda: cnn_filters.run(n_train=2000, n_test=300, epochs=1),
    "lstm-vs-rnn": lambda: lstm_vs_rnn.run(),
    "rbm-features": lambda: rbm_features.run(n_train=1000, n_test=300, epochs=2),
}
MNIST_DEMOS = [name for name in SMALL if name != "lstm-vs-rnn"]

_cache = {}


def result(name):
    """Each demo is run once per test session (seed 0) and shared by the tests that read it."""
    if name not in _cache:
        _cache[name] = SMALL[name]()
    return _cache[name]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- 10 batch modes

@needs_mnist
def test_batch_modes_first_epoch_of_batch_gd_is_one_exact_gradient_step():
    r = result("batch-modes").numbers["batch GD"]
    x, t, _, _ = batch_modes.mnist_subset(200, 0, 0)
    backend.manual_seed(0)
    layer = nn.Linear(784, 10)
    W, b = layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64)
    x = x.astype(np.float64)

    def loss(W, b):
        p = softmax(x @ W.T + b)
        return -np.log(p[np.arange(len(t)), t]).mean()

    p = softmax(x @ W.T + b)
    p[np.arange(len(t)), t] -= 1          # dL/dz = softmax - one-hot, averaged over the batch
    W1, b1 = W - 0.1 * p.T @ x / len(t), b - 0.1 * p.mean(axis=0)
    assert r["loss"][0] == pytest.approx(loss(W, b), rel=1e-5)
    assert r["loss"][1] == pytest.approx(loss(W1, b1), rel=1e-5)
    assert r["updates"] == 1 and r["epoch"] == [0.0, 1.0, 2.0, 3.0]


@needs_mnist
def test_batch_modes_progress_per_epoch_orders_sgd_minibatch_batch():
    n = result("batch-modes").numbers
    assert [n[m]["updates"] for m in ("batch GD", "mini-batch", "SGD")] == [1, 7, 200]   # ceil(200 / 32) = 7
    after_one = [n[m]["loss_after_1_epoch"] for m in ("SGD", "mini-batch", "batch GD")]
    assert after_one == sorted(after_one) and after_one[0] < 0.8 and after_one[2] > 2.0
    assert np.all(np.diff(n["batch GD"]["loss"]) < 0)        # exact gradient steps on a convex loss
    assert all(np.all(np.diff(n[m]["time"]) >= 0) for m in ("batch GD", "mini-batch", "SGD"))


# ----------------------------------------------------------------------------- 11 optimizers

def test_optimizers_sgd_path_is_the_closed_form_zigzag():
    path = optimizers.optimizer_path(optimizers.PATH_OPTIMIZERS["SGD"], steps=30)
    k = np.arange(31)
    # ∂f/∂x = x/10, ∂f/∂y = 2y, so SGD(0.95) multiplies x by 0.905 and y by -0.9 each step
    np.testing.assert_allclose(path[:, 0], -7 * 0.905 ** k, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], 2 * (-0.9) ** k, rtol=1e-12)


def test_optimizers_paths_match_torch_optim():
    torch = pytest.importorskip("torch")
    settings = {"SGD": (torch.optim.SGD, dict(lr=0.95)),
                "Momentum": (torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
                "Nesterov": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
                "AdaGrad": (torch.optim.Adagrad, dict(lr=1.5)),
                "RMSprop": (torch.optim.RMSprop, dict(lr=0.1, alpha=0.99)),
                "AdaDelta": (torch.optim.Adadelta, dict(lr=1.0, rho=0.9, eps=0.1)),
                "Adam": (torch.optim.Adam, dict(lr=0.3))}
    assert set(settings) == set(optimizers.PATH_OPTIMIZERS)
    for name, (cls, kwargs) in settings.items():
        p = torch.tensor([-7.0, 2.0], dtype=torch.float64, requires_grad=True)
        opt = cls([p], **kwargs)
        expected = [p.detach().numpy().copy()]
        for _ in range(30):
            opt.zero_grad()
            (p[0] ** 2 / 20 + p[1] ** 2).backward()
            opt.step()
            expected.append(p.detach().numpy().copy())
        np.testing.assert_allclose(optimizers.optimizer_path(optimizers.PATH_OPTIMIZERS[name]), expected,
                                   rtol=1e-9, atol=1e-12, err_msg=name)


@needs_mnist
def test_optimizers_numbers_paths_and_mnist_curves():
    n = result("optimizers").numbers
    f0 = optimizers.f(*optimizers.START)
    assert f0 == pytest.approx(2.45 + 4.0)
    assert all(len(path) == 31 and path[0] == [-7.0, 2.0] for path in n["paths"].values())
    assert all(value < 0.02 * f0 for value in n["final_f"].values())
    assert np.sign(np.diff(np.array(n["paths"]["SGD"])[:, 1])).tolist()[:4] == [-1, 1, -1, 1]   # zig-zag
    assert n["adadelta_default_eps_moved"] < 0.3          # eps 1e-6: steps of about sqrt(10 eps)
    assert set(n["mnist_loss"]) == set(optimizers.MNIST_OPTIMIZERS)
    assert all(len(c) == 40 for c in n["mnist_loss"].values())
    # the book's finding: plain SGD is the slowest; the adaptive methods and momentum beat it
    for name in ("Adam", "AdaGrad", "RMSprop", "Momentum"):
        assert n["mnist_final"][name] < n["mnist_final"]["SGD"] - 0.3, name


def test_smooth_is_a_trailing_moving_average():
    values = np.arange(1.0, 8.0)
    np.testing.assert_allclose(optimizers.smooth(values, window=3), [1, 1.5, 2, 3, 4, 5, 6])


# ----------------------------------------------------------------------------- 12 learning rate

@needs_mnist
def test_learning_rate_too_small_good_too_large():
    n = result("learning-rate").numbers
    small, good, large = n["final_loss"]
    assert small > 0.95 * n["initial_loss"]           # lr 1e-3: the weights barely move
    assert good < 0.25 * n["initial_loss"]            # lr 1: the loss falls
    assert np.isnan(large) or large > n["initial_loss"]   # lr 30: worse than where it started
    assert n["best_lr"] == 1.0 and n["diverged"] == [30.0]


@needs_mnist
def test_learning_rate_is_reproducible_from_the_seed():
    a = learning_rate.run(n_train=300, steps=10, learning_rates=(0.1,), seed=3)
    b = learning_rate.run(n_train=300, steps=10, learning_rates=(0.1,), seed=3)
    assert a.numbers["curves"] == b.numbers["curves"]


# ----------------------------------------------------------------------------- 13 over-fitting

@needs_mnist
def test_overfitting_gap_and_remedies():
    n = result("overfitting").numbers
    base = n["baseline"]
    assert base["final_train"] == 1.0 and base["gap"] > 0.1           # 300 images learned by heart
    assert base["final_test_loss"] > min(base["test_loss"]) + 0.03    # the test loss rises again
    assert base["loss_gap"] == pytest.approx(base["final_test_loss"] - base["final_train_loss"])
    for remedy in ("dropout", "weight decay (L2)", "L1", "early stopping", "augmentation"):
        assert n[remedy]["loss_gap"] < base["loss_gap"] - 0.02, remedy
    assert n["augmentation"]["gap"] < 0.75 * base["gap"]              # more (shifted) images: a real gain
    assert n["augmentation"]["final_test"] > base["final_test"]
    under = n["under-fitting"]
    assert under["final_train"] < 0.6 and under["gap"] < 0.1


@needs_mnist
def test_overfitting_early_stopping_is_the_baseline_stopped_at_its_best_validation_epoch():
    n = result("overfitting").numbers
    base, early = n["baseline"], n["early stopping"]
    stop, best = early["epochs_run"], early["best_epoch"]
    assert best + n["patience"] == stop < n["epochs"]
    assert early["train_acc"] == base["train_acc"][:stop]        # same seed, same batches: same run
    assert early["final_test_loss"] == pytest.approx(base["test_loss"][best - 1], rel=1e-6)   # restored
    assert early["final_test_loss"] < base["final_test_loss"]


# ----------------------------------------------------------------------------- 14 batch norm

@needs_mnist
def test_batchnorm_learns_where_the_plain_network_cannot():
    n = result("batchnorm").numbers
    with_bn, without_bn = n["with_bn"][0.01], n["without_bn"][0.01]
    assert len(with_bn) == len(without_bn) == 6
    assert with_bn[0] == pytest.approx(without_bn[0], abs=0.15)   # both start at chance
    assert with_bn[-1] > 0.5                                      # weights N(0, 0.01²): BN learns
    assert without_bn[-1] < 0.2                                   # ... the plain signal vanishes


# ----------------------------------------------------------------------------- 15 backprop vs numerical

@needs_mnist
def test_backprop_and_numerical_gradients_agree_on_the_books_two_layer_net():
    n = result("backprop-vs-numerical").numbers
    assert n["parameters"] == 784 * 50 + 50 + 50 * 10 + 10 == 39_760
    assert n["checked"] == {"W1": 200, "b1": 50, "W2": 200, "b2": 10} and n["extrapolated"]
    assert all(value < 1e-9 for value in n["mean_abs_diff"].values())
    assert all(value < 1e-8 for value in n["max_abs_diff"].values())
    assert n["backprop_seconds"] > 0 and n["numerical_seconds"] > 0


@needs_mnist
def test_backprop_vs_numerical_full_check_on_a_small_hidden_layer():
    n = backprop_vs_numerical.run(hidden=3, full=True).numbers
    assert n["checked"] == {"W1": 3 * 784, "b1": 3, "W2": 30, "b2": 10} and not n["extrapolated"]
    assert all(value < 1e-9 for value in n["mean_abs_diff"].values())


# ----------------------------------------------------------------------------- 16 how a network learns

@needs_mnist
def test_how_a_network_learns_cost_is_the_lessons_sum_of_squares():
    n = result("how-a-network-learns").numbers
    assert n["parameters"] == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13_002
    x, t, _, _ = batch_modes.mnist_subset(2000, 500, 0)
    backend.manual_seed(0)
    model = how_a_network_learns.network()
    layers = [m for m in model[0] if isinstance(m, nn.Linear)]
    a = x.astype(np.float64)
    for layer in layers:                      # sigmoid after every layer, the output included
        a = 1 / (1 + np.exp(-(a @ layer.weight.data.T + layer.bias.data)))
    expected = ((a - np.eye(10)[t]) ** 2).sum(axis=1).mean()
    assert n["initial_cost"] == pytest.approx(expected, rel=1e-5)


@needs_mnist
def test_how_a_network_learns_cost_falls_and_accuracy_rises():
    n = result("how-a-network-learns").numbers
    assert n["final_cost"] < n["initial_cost"] / 5
    assert n["cost"][0] > n["epoch_cost"][0] > n["epoch_cost"][1] == n["cost"][-1]
    assert n["final_accuracy"] > 0.75
    assert n["weight_images"].shape == (16, 28, 28)
    assert n["class_response"].shape == (16, 10)
    assert np.all((n["class_response"] > 0) & (n["class_response"] < 1))


# ----------------------------------------------------------------------------- 17 cnn, lstm, rbm

def test_neighbour_correlation_of_known_patterns():
    i, j = np.mgrid[0:5, 0:5]
    assert cnn_filters.neighbour_correlation((i + j)[None].astype(float)) == pytest.approx(1.0)   # a ramp
    assert cnn_filters.neighbour_correlation(((-1.0) ** (i + j))[None]) == pytest.approx(-1.0)  # checkerboard


@needs_mnist
def test_cnn_filters_become_smooth_when_trained():
    n = result("cnn-filters").numbers
    assert n["filters_before"].shape == n["filters_after"].shape == (30, 5, 5)
    assert abs(n["smoothness_before"]) < 0.1
    assert n["smoothness_after"] > n["smoothness_before"] + 0.15
    assert n["test_accuracy"] > 0.7
    assert n["feature_maps"].shape == (30, 24, 24) and n["feature_maps"].min() >= 0   # after ReLU


def test_lstm_solves_the_adding_problem_and_the_rnn_does_not():
    n = result("lstm-vs-rnn").numbers
    assert n["baseline"] == pytest.approx(1 / 6)
    assert n["test_mse"]["lstm"] < 0.02
    assert n["test_mse"]["rnn"] > 0.1
    assert n["grad_norms"]["rnn"].shape == n["grad_norms"]["lstm"].shape == (30,)
    assert n["grad_ratio"]["rnn"] < n["grad_ratio"]["lstm"] / 10   # the RNN's gradient fades with distance


@needs_mnist
def test_rbm_learns_features_without_labels():
    n = result("rbm-features").numbers
    assert n["reconstruction_error_after"] < n["reconstruction_error_before"] / 3
    assert n["reconstruction_history"][-1] < n["reconstruction_history"][0]
    assert n["pseudo_likelihood_after"] > n["pseudo_likelihood_before"] + 100
    assert abs(n["smoothness_before"]) < 0.05 and n["smoothness_after"] > 0.5
    assert n["weights"].shape == (100, 28, 28)
    assert n["accuracy_features"] > 0.6


# ----------------------------------------------------------------------------- registry and rendering

def test_registry_runs_these_demos_with_their_titles():
    titles = lab.titles()
    for name in SMALL:
        module = lab._module(name)
        assert titles[name] == module.TITLE and "\n" not in module.TITLE


@pytest.mark.parametrize("name", list(SMALL))
def test_demo_renders_its_figures(name, tmp_path):
    pytest.importorskip("matplotlib")
    if name in MNIST_DEMOS and not (DATA and os.path.isdir(os.path.join(DATA, "mnist"))):
        pytest.skip("NNSCRATCH_DATA with mnist/ is not set")
    r = result(name)
    assert r.name == name and r.report and r.figures
    paths = r.save(tmp_path)
    assert [os.path.basename(p) for p in paths] == list(r.figures)
    for path in paths:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert os.path.getsize(path) > 5000
