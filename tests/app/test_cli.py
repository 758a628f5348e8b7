"""The command line end to end, as a user types it: train on a subset, eval, predict, info, data,
and every error path (one line, non-zero exit, no traceback)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nnscratch import __version__
from nnscratch.cli import main

DATA = os.environ.get("NNSCRATCH_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "mnist")),
                                 reason="NNSCRATCH_DATA with mnist/ is not set")


def run(*args):
    return subprocess.run([sys.executable, "-m", "nnscratch.cli", *args], capture_output=True, text=True)


def test_version_and_help_from_the_installed_script():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"nnscratch {__version__}"
    out = run("--help")
    assert out.returncode == 0 and all(c in out.stdout for c in ("train", "eval", "predict", "info", "data"))
    for command in ("train", "eval", "predict", "info", "data", "check"):
        out = run(command, "--help")
        assert out.returncode == 0 and out.stdout.startswith(f"usage: nnscratch {command}")


def test_check_agrees_with_numerical_gradient(capsys):
    assert main(["check"]) == 0
    text = capsys.readouterr().out
    assert "simpleNet loss 0.92806" in text and "OK" in text


def test_import_loads_no_optional_packages():
    code = ("import sys, nnscratch, nnscratch.cli, nnscratch.runner; "
            "print(sorted(m for m in ('matplotlib', 'torch', 'tqdm', 'scipy', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("args, message", [
    (["train", "cifar"], "invalid choice: 'cifar'"),
    (["train", "--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
    (["train", "--model", "huge"], "invalid choice: 'huge'"),
    (["train", "--epochs", "0"], "must be at least 1"),
    (["train", "--dropout", "1.5"], "must be in [0, 1)"),
    (["train", "--hidden", "a,b"], "expected comma-separated integers"),
    (["train", "--resume"], "--resume needs --out DIR"),
    (["eval", "/nonexistent/run"], "no model at /nonexistent/run: give a run directory"),
    (["predict", "/nonexistent/model.npz", "x.png"], "no model at /nonexistent/model.npz"),
    (["info", "/nonexistent"], "no model at /nonexistent"),
    (["data", "verify", "cifar"], "unknown dataset 'cifar'"),
    (["bogus"], "invalid choice: 'bogus'"),
])
def test_errors_are_one_clear_line(args, message):
    out = run(*args)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_missing_dataset_error_says_where_it_looked(tmp_path):
    env = {**os.environ, "NNSCRATCH_DATA": str(tmp_path / "empty"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "nnscratch.cli", "data", "list", "mnist"], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0 and "mnist: MNIST - 0/4 files present" in out.stdout
    out = subprocess.run([sys.executable, "-m", "nnscratch.cli", "data", "where", "mnist"], capture_output=True,
                         text=True, env=env)
    assert str(tmp_path / "empty" / "mnist") in out.stdout and str(tmp_path / "cache" / "nnscratch" / "mnist") in out.stdout


def test_toy_training_run_writes_its_directory(tmp_path):
    out = tmp_path / "xor"
    assert main(["train", "xor", "--hidden", "8", "--activation", "tanh", "--optimizer", "adam", "--lr", "0.05",
                 "--epochs", "300", "--batch-size", "4", "--validation-split", "0", "--out", str(out),
                 "--quiet"]) == 0
    summary = (out / "summary.txt").read_text().splitlines()
    assert summary[-1] == "test accuracy: 100.0000%"
    config = json.loads((out / "config.json").read_text())
    assert config["net"]["sizes"] == [2, 8, 2] and config["settings"]["optimizer"] == "adam"


@needs_mnist
def test_train_eval_info_predict_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--limit", "2000", "--epochs", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "epoch 3/3" in printed and str(out / "model.npz") in printed
    for name in ("config.json", "history.csv", "history.json", "model.npz", "last.npz", "loss.png",
                 "accuracy.png", "confusion.png", "mistakes.png", "summary.txt"):
        assert (out / name).stat().st_size > 0, name
    last_line = (out / "summary.txt").read_text().splitlines()[-1]
    assert last_line.startswith("test accuracy: ")
    accuracy = float(last_line.split(": ")[1].rstrip("%")) / 100
    assert 0.8 < accuracy < 1.0  # 1,800 training images, 3 epochs
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 3 and history["loss"][2] < history["loss"][0]
    assert (out / "history.csv").read_text().splitlines()[0].startswith("epoch,loss,accuracy,val_loss")

    assert main(["eval", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"test accuracy: {accuracy:.4%}" in printed

    assert main(["info", str(out / "model.npz")]) == 0
    printed = capsys.readouterr().out
    assert "Linear(in_features=784, out_features=512" in printed and "535,818 parameters in total" in printed

    # a "1" drawn as a dark stroke on light paper, larger than 28x28, as a PNG
    from PIL import Image
    canvas = np.full((120, 90), 255, np.uint8)
    canvas[15:105, 40:52] = 0
    Image.fromarray(canvas).save(tmp_path / "one.png")
    assert main(["predict", str(out), str(tmp_path / "one.png")]) == 0
    printed = capsys.readouterr().out
    top = printed.split(": ")[1].split(",")[0]
    assert top.split()[0] == "1", printed


@needs_mnist
def test_resume_continues_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--limit", "500", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    assert main(["train", "--limit", "500", "--epochs", "2", "--out", str(out), "--resume", "--quiet"]) == 0
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == [1, 2]
