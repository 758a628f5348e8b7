"""What the run plots draw: integer epoch ticks, the saved epoch marked, the most confident
mistakes with their probabilities, the decision regions of 2-D sets, the confusion matrix per row."""

import os

import numpy as np
import pytest

from nnscratch import nn
from nnscratch.app import report
from nnscratch.app.datasets import Data
from nnscratch.train import History, predict_proba

matplotlib = pytest.importorskip("matplotlib")
from nnscratch import viz  # noqa: E402


def _visible_ticks(ax):
    low, high = ax.get_xlim()
    return [t for t in ax.get_xticks() if low <= t <= high]


@pytest.mark.parametrize("epochs", [1, 2, 3, 5, 12, 40])
def test_epoch_ticks_are_whole_epochs_and_one_epoch_is_centred(epochs):
    fig = viz.curves_figure({"train": np.linspace(1, 0.5, epochs), "validation": [None] * epochs}, "loss")
    ax = fig.axes[0]
    ticks = _visible_ticks(ax)
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert ax.get_xlim() == (0.5, epochs + 0.5)
    if epochs == 1:
        assert ticks == [1]
    matplotlib.pyplot.close(fig)


def test_the_saved_epoch_is_marked_on_the_curves():
    history = {"loss": [0.9, 0.5, 0.4, 0.45], "val_accuracy": [0.7, 0.9, 0.85, 0.9]}
    best = report.best_epoch(_history(**history))
    assert best == 2  # the first best validation accuracy: what ModelCheckpoint(save_best_only) kept
    assert report.best_epoch(_history(loss=[0.9, 0.3, 0.3, 0.5])) == 2  # without validation: the lowest loss
    fig = viz.curves_figure({"validation": history["val_accuracy"]}, "accuracy", best=best)
    ax = fig.axes[0]
    marks = [line for line in ax.get_lines() if line.get_label().startswith("saved model")]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [2, 2]
    assert "saved model (epoch 2)" in [text.get_text() for text in ax.get_legend().get_texts()]
    matplotlib.pyplot.close(fig)


def _history(loss, val_accuracy=None):
    history = History()
    for k, value in enumerate(loss):
        history.append({"epoch": k + 1, "loss": value, "accuracy": 0.5, "lr": 0.1, "time": 1.0,
                        "val_accuracy": None if val_accuracy is None else val_accuracy[k]})
    return history


def test_confusion_matrix_is_shown_in_counts_and_normalised_per_row():
    cm = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])
    fig = viz.confusion_figure(cm, ["a", "b", "c"])
    counts, shares = [ax for ax in fig.axes if ax.get_title()]
    np.testing.assert_array_equal(counts.images[0].get_array(), cm)
    np.testing.assert_allclose(shares.images[0].get_array(), [[0.8, 0.2, 0], [0.25, 0.75, 0], [0, 0, 0]])
    assert [t.get_text() for t in shares.texts][:6] == ["80%", "20%", "0", "25%", "75%", "0"]
    matplotlib.pyplot.close(fig)


def _image_run(n=60, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, n)
    proba = rng.dirichlet(np.ones(3), n)
    pred = proba.argmax(axis=1)
    data = Data(rng.random((n, 1, 4, 4), dtype=np.float32), t, rng.random((n, 1, 4, 4), dtype=np.float32), t,
                ["zero", "one", "two"])
    return {"pred": pred, "confidence": proba.max(axis=1)}, data


def test_mistakes_are_the_most_confident_with_their_probabilities(tmp_path, monkeypatch):
    result, data = _image_run()
    wrong = np.flatnonzero(result["pred"] != data.t_test)
    shown = report.confident_mistakes(result, data, n=10)
    assert len(shown) == 10 and set(shown) <= set(wrong)
    assert list(result["confidence"][shown]) == sorted(result["confidence"][wrong], reverse=True)[:10]
    drawn = {}
    monkeypatch.setattr(viz, "plot_image_grid", lambda images, path, titles, **kw: drawn.update(titles=titles))
    report.write_mistakes(str(tmp_path), result, data)
    first = shown[0]
    assert drawn["titles"][0] == (f"true {data.classes[data.t_test[first]]}\npred "
                                  f"{data.classes[result['pred'][first]]} {result['confidence'][first]:.0%}")
    assert len(drawn["titles"]) == min(40, len(wrong))


def test_decision_regions_are_the_models_predictions_over_the_plane(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    t = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    network = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    grid_x, grid_y, grid_class = report.decision_grid(network, x, steps=50)
    assert grid_class.shape == (50, 50) and grid_x[0] < x[:, 0].min() and grid_y[-1] > x[:, 1].max()
    i, j = 7, 31  # row i is grid_y[i], column j is grid_x[j]
    point = np.array([[grid_x[j], grid_y[i]]], dtype=np.float32)
    assert grid_class[i, j] == predict_proba(network, point).argmax()

    data = Data(x, t, x, t, ["0", "1"])
    result = {"pred": t, "confidence": np.ones(len(t)), "accuracy": 1.0,
              "confusion": np.diag(np.bincount(t))}
    fig = viz.decision_figure(grid_x, grid_y, grid_class, x, t, data.classes)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), grid_class)
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == len(x)  # every training point on top
    matplotlib.pyplot.close(fig)

    report.write_plots(str(tmp_path), _history([0.5, 0.4]), result, data, network)
    picture = matplotlib.image.imread(os.path.join(tmp_path, "decision.png"))
    assert 500 <= picture.shape[1] <= 900 and 500 <= picture.shape[0] <= 900  # 6 x 5.5 in at 110 dpi
    assert not os.path.exists(tmp_path / "mistakes.png")  # points are no images
