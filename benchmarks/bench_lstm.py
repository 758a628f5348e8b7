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
from common import best_time, import_torch

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn
import nnscratch.optim as optim


def make_batch(batch, steps=28, features=28, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, steps, features), dtype=np.float32), rng.integers(0, 10, batch)


def nnscratch_step(model, x, t, forward_only=False):
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = ns.tensor(x)

    def forward():
        with ns.no_grad():
            model(x)

    def step():
        loss = F.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return forward if forward_only else step


class TorchClassifier:
    """torch.nn.LSTM (batch_first) + Linear on h_n[-1], the same network as nn.SequenceClassifier."""

    def __init__(self, torch, ours, cell):
        layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
        self.rnn = layer(ours.rnn.input_size, ours.rnn.hidden_size, batch_first=True)
        self.fc = torch.nn.Linear(ours.fc.in_features, ours.fc.out_features)
        state = {k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()}
        self.rnn.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("rnn.")})
        self.fc.load_state_dict({k[3:]: v for k, v in state.items() if k.startswith("fc.")})

    def parameters(self):
        return list(self.rnn.parameters()) + list(self.fc.parameters())

    def __call__(self, x):
        _, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state
        return self.fc(h[-1])


def torch_step(torch, model, x, t, forward_only=False):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, t = torch.from_numpy(x), torch.from_numpy(t)

    def forward():
        with torch.no_grad():
            model(x)

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return forward if forward_only else step


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
    theirs = TorchClassifier(torch, ours, args.cell) if torch else None
    label = f"{args.cell.upper()} 28x28 -> {args.hidden} -> 10, Adam, batch {args.batch}"

    results = {}
    for name, make in (("nnscratch", lambda f: nnscratch_step(ours, x, t, f)),
                       ("PyTorch", (lambda f: torch_step(torch, theirs, x, t, f)) if torch else None)):
        if make is None:
            continue
        step = best_time(make(False), args.steps, args.repeats)
        forward = best_time(make(True), args.steps, args.repeats)
        results[name] = step
        print(f"{name:10s} {label}: {step * 1e3:7.3f} ms/step (forward alone {forward * 1e3:6.3f} ms)")
    if "PyTorch" in results:
        print(f"ratio nnscratch / PyTorch: {results['nnscratch'] / results['PyTorch']:.2f}x")


if __name__ == "__main__":
    main()
