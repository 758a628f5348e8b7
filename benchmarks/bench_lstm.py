"""One LSTM training step as for row-by-row MNIST: 28 steps of 28 inputs, hidden 128, batch 100,
then a Linear 128 -> 10 on the last hidden state, cross-entropy, Adam 1e-3:
nnscratch vs PyTorch (2 threads) in the same run.

    python benchmarks/bench_lstm.py [--steps 100] [--repeats 5] [--hidden 128] [--batch 100] [--cell lstm]

Same initial weights (copied with load_state_dict), same batch; each step is forward,
cross-entropy, zero_grad, backward and Adam's update. Reported: milliseconds per step (best of the
repeats), the forward alone, and the ratio nnscratch / PyTorch.
"""

import argparse

import numpy as np
from common import best_time, import_torch, nnscratch_training_step, torch_training_step, torch_twin

import nnscratch as ns
import nnscratch.nn as nn


def make_batch(batch, steps=28, features=28, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, steps, features), dtype=np.float32), rng.integers(0, 10, batch)


def forward_only(library, model, x):
    """One forward pass without a graph; ``library`` is nnscratch or torch."""
    x = library.tensor(x)

    def forward():
        with library.no_grad():
            model(x)
    return forward


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    args = parser.parse_args()
    ns.manual_seed(0)
    ours = nn.SequenceClassifier(28, args.hidden, 10, cell=args.cell)
    x, t = make_batch(args.batch)
    torch = import_torch()
    theirs = torch_twin(torch, ours) if torch else None
    label = f"{args.cell.upper()} 28x28 -> {args.hidden} -> 10, Adam, batch {args.batch}"

    results = {}
    for name, library, model, make_step in (("nnscratch", ns, ours, nnscratch_training_step),
                                            ("PyTorch", torch, theirs, lambda *a: torch_training_step(torch, *a))):
        if model is None:
            continue
        step = best_time(make_step(model, x, t), args.steps, args.repeats)
        forward = best_time(forward_only(library, model, x), args.steps, args.repeats)
        results[name] = step
        print(f"{name:10s} {label}: {step * 1e3:7.3f} ms/step (forward alone {forward * 1e3:6.3f} ms)")
    if "PyTorch" in results:
        print(f"ratio nnscratch / PyTorch: {results['nnscratch'] / results['PyTorch']:.2f}x")


if __name__ == "__main__":
    main()
