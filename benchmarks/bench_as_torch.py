"""A PyTorch script run unmodified on nnscratch against the same script on PyTorch: wall time of
the whole run (data loading, training, test) and its test accuracy.

The script is examples/torch/mnist_cnn.py (the pytorch/examples MNIST CNN: conv 32 and 64 @3x3,
max-pooling, dropout, fc 128, Adadelta lr 1.0 with StepLR, batch 64, ToTensor + Normalize). It
runs once as ``python SCRIPT`` (real PyTorch; torchvision from tests/torchvision_standin when the
real one does not import) and once as ``nnscratch as-torch SCRIPT``, alternating, ``--repeats``
times each, in the same session. Both print the test accuracy, which this script reads back.

    NNSCRATCH_DATA=../shared/data python benchmarks/bench_as_torch.py --epochs 1

The MNIST files are linked into a temporary torchvision-style root (ROOT/MNIST/raw/*.gz).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SCRIPT = os.path.join(REPO, "examples", "torch", "mnist_cnn.py")
STANDIN = os.path.join(REPO, "tests", "torchvision_standin")


def torchvision_path():
    """PYTHONPATH for the PyTorch run: nothing extra if torchvision imports, else the stand-in."""
    ok = subprocess.run([sys.executable, "-c", "import torchvision"], capture_output=True).returncode == 0
    return "" if ok else STANDIN


def data_root(folder):
    source = os.path.join(os.environ["NNSCRATCH_DATA"], "mnist")
    raw = os.path.join(folder, "MNIST", "raw")
    os.makedirs(raw)
    for name in os.listdir(source):
        if name.endswith(".gz"):
            os.symlink(os.path.join(source, name), os.path.join(raw, name))
    return folder


def run(command, env):
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    accuracy = re.findall(r"Accuracy: (\d+)/(\d+)", done.stdout)[-1]
    return seconds, int(accuracy[0]) / int(accuracy[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--train-size", type=int, help="first N training images (default all 60,000)")
    args = parser.parse_args()
    if not os.environ.get("NNSCRATCH_DATA"):
        sys.exit("set NNSCRATCH_DATA to the folder holding mnist/")
    options = ["--epochs", str(args.epochs), "--log-interval", "100000"]
    if args.train_size:
        options += ["--train-size", str(args.train_size)]
    with tempfile.TemporaryDirectory() as folder:
        options += ["--data", data_root(folder)]
        torch_env = {**os.environ, "PYTHONPATH": torchvision_path()}
        commands = {"PyTorch": ([sys.executable, SCRIPT, *options], torch_env),
                    "nnscratch as-torch": ([sys.executable, "-m", "nnscratch.cli", "as-torch", SCRIPT, *options],
                                           dict(os.environ))}
        results = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, (command, env) in commands.items():
                results[name].append(run(command, env))
                print(f"{name}: {results[name][-1][0]:.1f} s, test accuracy {results[name][-1][1]:.2%}", flush=True)
    best = {name: min(r[0] for r in runs) for name, runs in results.items()}
    accuracy = {name: runs[-1][1] for name, runs in results.items()}
    print(f"\nmnist_cnn.py, {args.epochs} epoch(s), batch 64, Adadelta; best of {args.repeats}")
    print("| engine | wall time | test accuracy |")
    print("| --- | --- | --- |")
    for name in commands:
        print(f"| {name} | {best[name]:.1f} s | {accuracy[name]:.2%} |")
    print(f"ratio nnscratch / PyTorch: {best['nnscratch as-torch'] / best['PyTorch']:.2f}x; accuracy difference "
          f"{100 * (accuracy['nnscratch as-torch'] - accuracy['PyTorch']):+.2f} points")


if __name__ == "__main__":
    main()
