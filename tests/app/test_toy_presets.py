"""The toy sets train well with the plain command: their own settings (app.datasets.TOY_SETTINGS)
replace MNIST's unless the command line says otherwise."""

import pytest

from nnscratch import presets
from nnscratch.app import report
from nnscratch.app.datasets import GATES, TOY_SETTINGS
from nnscratch.cli import main


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    monkeypatch.setattr(report, "write_plots", lambda *args: None)  # matplotlib's time is not what is tested


def _test_accuracy(out):
    last = (out / "summary.txt").read_text().splitlines()[-1]
    return float(last.removeprefix("test accuracy: ").rstrip("%")) / 100


@pytest.mark.parametrize("dataset, target", [(gate, 1.0) for gate in GATES]
                         + [("spirals", 0.95), ("moons", 0.95), ("circles", 0.95)])
def test_the_plain_command_trains_each_toy_set(tmp_path, dataset, target):
    out = tmp_path / dataset
    assert main(["train", dataset, "--out", str(out), "--quiet"]) == 0
    assert _test_accuracy(out) >= target


def test_toy_settings_apply_under_the_command_lines_own():
    settings = presets.resolve("mlp", {"hidden": [32, 32], "lr": None}, dataset="spirals")
    assert settings["hidden"] == [32, 32] and settings["lr"] == TOY_SETTINGS["spirals"]["lr"]
    assert settings["batch_size"] == TOY_SETTINGS["spirals"]["batch_size"] and settings["dropout"] == 0.0
    assert presets.resolve("mlp", {}, dataset="mnist") == presets.resolve("mlp", {})


def test_other_presets_keep_their_settings_but_leave_the_gates_whole():
    two_layer = presets.resolve("two-layer", {})
    assert presets.resolve("two-layer", {}, dataset="spirals") == two_layer
    assert presets.resolve("deep-mlp", {}, dataset="xor")["validation_split"] == 0.0
