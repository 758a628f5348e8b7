"""The `two-layer-chapter` demo: the ending of *Deep Learning from Scratch*, ch. 4 (TwoLayerNet by
mini-batch SGD, train and test accuracy per epoch of train_size / 100 iterations). Runs the
default tenth of the book's run once (seconds); needs MNIST under NNSCRATCH_DATA."""

import os

import pytest

from nnscratch import lab
from nnscratch.cli import main

DATA = os.environ.get("NNSCRATCH_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "mnist")),
                                 reason="NNSCRATCH_DATA with mnist/ is not set")


@pytest.fixture(scope="module")
def result():
    return lab.run("two-layer-chapter")


def test_registered_and_titled():
    assert lab.DEMOS["two-layer-chapter"] == "two_layer_chapter"
    title = lab.titles()["two-layer-chapter"]
    assert "600" in title and "\n" not in title


@needs_mnist
def test_an_epoch_is_train_size_over_batch_size_and_accuracy_is_recorded_per_epoch(result):
    n = result.numbers
    assert (n["n_train"], n["batch_size"], n["lr"], n["iterations"]) == (6000, 100, 0.1, 1000)
    assert n["iterations_per_epoch"] == n["n_train"] // 100 == 60
    # as the book: measured at iterations 0, 60, ..., 960 -> 17 points, like 10,000 / 600 on all of MNIST
    assert n["epochs"] == len(n["train_acc"]) == len(n["test_acc"]) == 17
    assert len(n["loss"]) == 1000
    assert all(0.0 <= a <= 1.0 for a in n["train_acc"] + n["test_acc"])


@needs_mnist
def test_it_learns_without_over_fitting(result):
    n = result.numbers
    # measured on the default run: train 0.856, test 0.857 (starting near 0.11, chance)
    assert n["final_test_acc"] == n["test_acc"][-1] > 0.80
    assert n["test_acc"][0] < 0.3
    assert sum(n["loss"][-100:]) / 100 < sum(n["loss"][:100]) / 100 - 1.0
    assert all(abs(a - b) < 0.03 for a, b in zip(n["train_acc"], n["test_acc"]))
    assert "60 iterations" in result.report and "train acc" in result.report


@needs_mnist
def test_figure_is_the_books(result, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    fig = plt.figure()
    result.figures["two_layer_chapter.png"](fig)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["train acc", "test acc"]
    assert ax.get_ylim() == (0.0, 1.0) and ax.get_xlabel() == "epochs"
    assert list(ax.get_lines()[1].get_ydata()) == result.numbers["test_acc"]
    plt.close(fig)
    (path,) = result.save(tmp_path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@needs_mnist
def test_cli_runs_it(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    from nnscratch.lab import two_layer_chapter
    monkeypatch.setattr(two_layer_chapter, "run", lambda seed=0, full=False: lab.Result(
        "two-layer-chapter", {}, f"ran with seed {seed}, full {full}", {}))
    assert main(["lab", "two-layer-chapter", "--out", str(tmp_path), "--full"]) == 0
    assert "ran with seed 0, full True" in capsys.readouterr().out
