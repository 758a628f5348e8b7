"""The tutorial scripts in examples/torch run unmodified through `nnscratch as-torch` on a few
hundred images and print the same losses as real PyTorch from the same initial weights.

Each script is plain PyTorch code. The test gives it a dataset root in torchvision's layout
(ROOT/MNIST/raw, ROOT/FashionMNIST/raw, linked to the files in $NNSCRATCH_DATA), runs it first
under real PyTorch (saving its initial weights with --save-init), then under `nnscratch as-torch`
from those weights (--init-weights), in the fixed data order and without dropout, and compares
every printed loss. Where torchvision is not installed, the reference run imports the small
stand-in in tests/torchvision_standin (MNIST items, ToTensor, Normalize, save_image on PyTorch).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tolerance import tolerance

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "torch"
STANDIN = Path(__file__).resolve().parents[1] / "torchvision_standin"
LOSS = re.compile(r"[Ll]oss: *(-?[0-9.]+(?:e[-+]?\d+)?)")

SMALL = ["--train-size", "256", "--test-size", "200"]
# script, arguments, the largest sum of products in one forward/backward value, training steps
SCRIPTS = {
    # lr 0.1 instead of the quickstart's 1e-3, so that the weights move enough for a wrong step to show
    "quickstart_fashion_mnist.py": (["--epochs", "2", "--log-interval", "1", "--lr", "0.1", *SMALL], 784, 8),
    "mnist_cnn.py": (["--epochs", "2", "--log-interval", "1", "--dropout", "0", "0", "--test-batch-size", "100",
                      *SMALL], 9216, 8),
    "lstm_rows.py": (["--epochs", "2", "--log-interval", "1", "--batch-size", "64", *SMALL], 28 * 64, 8),
    "autoencoder.py": (["--epochs", "3", "--batch-size", "64", "--train-size", "256"], 784, 12),
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """A torchvision-style root whose raw folders link to $NNSCRATCH_DATA's IDX files."""
    source = os.environ.get("NNSCRATCH_DATA")
    if not source:
        pytest.skip("NNSCRATCH_DATA is not set (the folder holding mnist/ and fashion-mnist/)")
    root = tmp_path_factory.mktemp("torchvision-root")
    for ours, theirs in (("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")):
        files = sorted((Path(source) / ours).glob("*-ubyte.gz"))
        if len(files) != 4:
            pytest.skip(f"{Path(source) / ours} lacks the four IDX files")
        raw = root / theirs / "raw"
        raw.mkdir(parents=True)
        for f in files:
            (raw / f.name).symlink_to(f)
    return root


def _has_torchvision():
    code = "import torchvision, torchvision.datasets, torchvision.transforms, torchvision.utils"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def _run(command, cwd, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _losses(output):
    return [float(v) for v in LOSS.findall(output)]


def run_as_torch(script, args, cwd):
    return _run([sys.executable, "-m", "nnscratch.cli", "as-torch", str(EXAMPLES / script), *args], cwd)


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_script_matches_pytorch(script, data_root, tmp_path):
    pytest.importorskip("torch")
    args, reduction, steps = SCRIPTS[script]
    args = [*args, "--data", str(data_root)]
    if script == "autoencoder.py":
        args += ["--out", str(tmp_path / "images")]
    init = tmp_path / "init.npz"
    env = {} if _has_torchvision() else {"PYTHONPATH": os.pathsep.join(filter(None, [str(STANDIN),
                                                                                   os.environ.get("PYTHONPATH")]))}
    reference = _run([sys.executable, str(EXAMPLES / script), *args, "--save-init", str(init)], tmp_path, env)
    ours = run_as_torch(script, [*args, "--init-weights", str(init)], tmp_path)
    expected, got = _losses(reference), _losses(ours)
    assert len(expected) >= 3 and len(got) == len(expected), (reference, ours)
    # float32 rounding grows with the reductions and with the optimizer steps that carry it on
    for step, (a, b) in enumerate(zip(got, expected)):
        assert abs(a - b) <= tolerance(reduction * steps, max(1.0, abs(b))) + 1e-6, (step, a, b, ours)


def test_autoencoder_saves_image_grids(data_root, tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image
    out = tmp_path / "images"
    run_as_torch("autoencoder.py", ["--epochs", "2", "--train-size", "128", "--data", str(data_root),
                                    "--out", str(out)], tmp_path)
    grids = sorted(out.glob("image_*.png"))
    assert [g.name for g in grids] == ["image_1.png", "image_2.png"]
    image = Image.open(grids[0])
    # 16 images of 28x28, 8 per row, 2 pixels of padding: (2 * 30 + 2) x (8 * 30 + 2), RGB
    assert image.size == (242, 62) and image.mode == "RGB"


def test_scripts_train(data_root, tmp_path):
    """Under as-torch the CNN learns (also where PyTorch is absent): its test loss falls over two
    epochs of 256 images."""
    out = run_as_torch("mnist_cnn.py", ["--epochs", "2", "--train-size", "256", "--test-size", "200",
                                        "--log-interval", "100", "--data", str(data_root)], tmp_path)
    test_losses = [float(v) for v in re.findall(r"Average loss: ([0-9.]+)", out)]
    assert len(test_losses) == 2 and test_losses[1] < test_losses[0] < 2.3
