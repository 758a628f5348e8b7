"""Nothing lost, nothing silent in a run directory: a kill at any checkpoint write resumes to the
uninterrupted run's files, stale temporaries are removed, and --resume continues exactly the run it
was given (other settings are refused; --epochs extends it with the schedule of the longer run)."""

import json
import math
import os

import numpy as np
import pytest

from nnscratch import runner
from nnscratch.app import report
from nnscratch.cli import main
from nnscratch.train import load_checkpoint

SETTINGS = dict(hidden=[8], epochs=3, batch_size=64, verbose=False)  # the mlp preset: dropout, Adam, cosine


class Killed(BaseException):
    """What the process sees when it is killed: nothing after this point runs."""


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    monkeypatch.setattr(report, "write_plots", lambda *args: None)  # matplotlib's time is not what is tested


def _state(path):
    checkpoint = load_checkpoint(path)
    return checkpoint["epoch"], checkpoint["model"], checkpoint["optimizer"], checkpoint["history"]["val_accuracy"]


def _assert_same_checkpoint(a, b):
    epoch_a, model_a, optimizer_a, val_a = _state(a)
    epoch_b, model_b, optimizer_b, val_b = _state(b)
    assert (epoch_a, val_a) == (epoch_b, val_b)
    assert list(model_a) == list(model_b)
    for name in model_a:
        np.testing.assert_array_equal(np.asarray(model_a[name].data), np.asarray(model_b[name].data), err_msg=name)
    for state_a, state_b in zip(optimizer_a["state"].values(), optimizer_b["state"].values()):
        for key in state_a:
            np.testing.assert_array_equal(np.asarray(state_a[key]), np.asarray(state_b[key]))


def _killing_replace(monkeypatch, kill_at, before):
    """os.replace that stops the run at the ``kill_at``-th checkpoint write: just before its rename
    (leaving the temporary, as a kill does) or just after it."""
    real = os.replace
    count = [0]

    def replace(src, dst):
        if os.fspath(dst).endswith(".npz"):
            count[0] += 1
            if count[0] == kill_at:
                if before:
                    real(src, os.fspath(src)[:-len(".part")] + "-killed.part")
                    raise Killed
                real(src, dst)
                raise Killed
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return count


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The run without a kill, and how many checkpoint writes it made."""
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(report, "write_plots", lambda *args: None)
        writes = _killing_replace(monkeypatch, kill_at=0, before=False)
        runner.train_run("spirals", out=str(out), **SETTINGS)
    return out, writes[0]


@pytest.mark.parametrize("before", [True, False], ids=["mid-write", "after-write"])
def test_a_kill_at_any_checkpoint_write_resumes_to_the_uninterrupted_files(tmp_path, uninterrupted, before):
    expected, writes = uninterrupted
    assert writes >= 4  # model.npz (when best) and last.npz after each of the 3 epochs
    for kill_at in range(1, writes + 1):
        out = tmp_path / f"run{kill_at}"
        with pytest.MonkeyPatch.context() as monkeypatch:
            _killing_replace(monkeypatch, kill_at, before)
            with pytest.raises(Killed):
                runner.train_run("spirals", out=str(out), **SETTINGS)
        if before:
            assert any(name.endswith(".part") for name in os.listdir(out))
        if (out / "last.npz").exists():
            runner.train_run("spirals", out=str(out), resume=True, verbose=False)
        else:  # killed before the first commit point: nothing to resume, the run starts again
            runner.train_run("spirals", out=str(out), **SETTINGS)
        _assert_same_checkpoint(out / "last.npz", expected / "last.npz")
        _assert_same_checkpoint(out / "model.npz", expected / "model.npz")
        assert not [name for name in os.listdir(out) if name.endswith(".part")], kill_at


def test_the_kill_points_cover_a_best_epoch_after_the_first(uninterrupted):
    """The kill test above matters where model.npz is rewritten after epoch 1: check it is."""
    assert load_checkpoint(uninterrupted[0] / "model.npz")["epoch"] > 1


def test_a_new_run_removes_stale_temporaries(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in (".last.npz.abc123.part", ".model.npz.x.part"):
        (out / name).write_bytes(b"half a file")
    (out / "notes.part").write_text("not ours: no leading dot")
    runner.train_run("spirals", out=str(out), **{**SETTINGS, "epochs": 1})
    assert sorted(name for name in os.listdir(out) if name.endswith(".part")) == ["notes.part"]


def _train(out, *options):
    return main(["train", "spirals", "--hidden", "8", "--batch-size", "64", "--out", str(out), "--quiet", *options])


@pytest.mark.parametrize("options, named", [
    (["moons"], ["dataset moons", "dataset spirals"]),
    (["--lr", "0.5"], ["--lr 0.5", "--lr 0.001", "--fine-tune-from"]),
    (["--model", "two-layer", "--lr", "0.5"], ["--model two-layer", "--lr 0.5", "--model mlp"]),
    (["--hidden", "16"], ["--hidden 16", "--hidden 8"]),
    (["--seed", "3"], ["--seed 3", "--seed 0"]),
    (["--batch-size", "32"], ["--batch-size 32", "--batch-size 64"]),
    (["--optimizer", "sgd"], ["--optimizer sgd", "--optimizer adam"]),
])
def test_resume_refuses_options_that_would_change_the_run(tmp_path, capsys, options, named):
    out = tmp_path / "run"
    assert _train(out, "--epochs", "1") == 0
    before = {name: (out / name).read_bytes() for name in ("last.npz", "model.npz", "config.json")}
    capsys.readouterr()
    dataset = options[:1] if not options[0].startswith("--") else []
    rest = options[len(dataset):]
    assert main(["train", *dataset, "--out", str(out), "--resume", "--quiet", *rest]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"nnscratch: error: cannot resume {out} with")
    for text in named:
        assert text in error, (text, error)
    assert ("--fine-tune-from" in error) == ("--model" not in options)  # another network cannot start from it
    assert {name: (out / name).read_bytes() for name in before} == before  # nothing touched


def test_resume_accepts_the_runs_own_options_and_says_where_it_continues(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "--epochs", "1") == 0
    assert main(["train", "spirals", "--hidden", "8", "--batch-size", "64", "--out", str(out), "--resume",
                 "--epochs", "2"]) == 0
    assert f"resuming {out} from epoch 1 of 2" in capsys.readouterr().out
    assert main(["train", "--out", str(out), "--resume", "--epochs", "1", "--quiet"]) == 1
    assert "it has already trained 2 epochs" in capsys.readouterr().err


def test_resume_without_epochs_keeps_the_runs_length(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "--epochs", "2") == 0
    assert main(["train", "--out", str(out), "--resume", "--quiet"]) == 0
    assert json.loads((out / "history.json").read_text())["epoch"] == [1, 2]  # not the preset's 15


def test_extending_a_run_gives_the_learning_rates_of_a_run_planned_that_long(tmp_path):
    short, planned = tmp_path / "short", tmp_path / "planned"
    runner.train_run("spirals", out=str(short), **{**SETTINGS, "epochs": 2})
    extended = runner.train_run("spirals", out=str(short), resume=True, epochs=4, verbose=False)["history"]
    longer = runner.train_run("spirals", out=str(planned), **{**SETTINGS, "epochs": 4})["history"]
    lr0 = 1e-3
    assert extended.lr[2:] == pytest.approx(longer.lr[2:], rel=1e-12)
    assert extended.lr[2:] == pytest.approx([lr0 * (1 + math.cos(math.pi * e / 4)) / 2 for e in (2, 3)], rel=1e-6)
    assert json.loads((short / "config.json").read_text())["settings"]["epochs"] == 4


def test_fine_tune_from_starts_a_new_run_from_the_weights(tmp_path, capsys):
    source, tuned = tmp_path / "source", tmp_path / "tuned"
    assert _train(source, "--epochs", "2") == 0
    assert main(["train", "--fine-tune-from", str(source), "--lr", "1e-4", "--epochs", "1", "--out", str(tuned),
                 "--quiet"]) == 0
    config = json.loads((tuned / "config.json").read_text())
    assert config["settings"]["lr"] == 1e-4 and config["settings"]["hidden"] == [8]
    assert config["settings"]["dataset"] == "spirals" and config["settings"]["fine_tune_from"] == str(source)
    history = json.loads((tuned / "history.json").read_text())
    assert history["epoch"] == [1] and history["lr"] == [1e-4]
    # the first epoch starts from the source's weights: its loss is near the source's last, far below a fresh start
    source_loss = json.loads((source / "history.json").read_text())["loss"][-1]
    fresh = runner.train_run("spirals", out=str(tmp_path / "fresh"), **{**SETTINGS, "epochs": 1, "lr": 1e-4})
    assert abs(history["loss"][0] - source_loss) < abs(fresh["history"].loss[0] - source_loss)
    assert (source / "history.json").exists() and json.loads((source / "history.json").read_text())["epoch"] == [1, 2]
    assert main(["train", "--fine-tune-from", str(source), "--model", "cnn", "--out", str(tmp_path / "x")]) == 1
    assert "the network is that run's (mlp)" in capsys.readouterr().err
