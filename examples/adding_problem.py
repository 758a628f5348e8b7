"""The adding problem: can a recurrent network remember a number for 100 steps?

Each input sequence has two rows: random values in [0, 1) and a marker row with exactly two 1s,
one in each half. The target is the sum of the two marked values. Predicting the mean (1) gives
MSE ≈ 0.167; to do better, the network must hold the first marked value in its state until the
end of the sequence.

A plain tanh RNN cannot learn this: the gradient of the final loss with respect to an early
hidden state, dL/dh_t = dL/dh_T · Π_k (dh_{k+1}/dh_k), is a product of T - t Jacobians that
shrinks exponentially (the vanishing gradient). The LSTM's cell state
c_t = f · c_{t-1} + i · g carries the gradient along an additive path gated by f, so it does not
vanish; the GRU's update h_t = (1 - z) · n + z · h_{t-1} does the same.

    python examples/adding_problem.py            # lengths 50 and 100 (several minutes)
    python examples/adding_problem.py --quick    # a small fast variant (length 20)

Prints the test MSE of each model and writes the per-step gradient norms ||dL/dh_t|| of the tanh
RNN and the LSTM to a PNG (``--plot``).
"""

import argparse
import time

import numpy as np

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn
import nnscratch.optim as optim
from nnscratch.data import adding_problem
from nnscratch.lab.lstm_vs_rnn import gradient_per_step  # ||dL/dh_t|| of every step
from nnscratch.optim import clip_grad_norm_

BASELINE = 1 / 6   # the MSE of always predicting 1 = Var(u1 + u2)


def make_model(cell, hidden):
    """An RNN over the sequence and a Linear on its last hidden state: one output, a regressor."""
    return nn.SequenceClassifier(2, hidden, 1, cell=cell)


def test_mse(model, x, t):
    model.eval()
    with ns.no_grad():
        mse = float(np.mean((model(x).data - t) ** 2))
    model.train()
    return mse


def train(cell, length, args, x_test, t_test):
    """Adam on fresh random batches; stops early once the test MSE is below args.target."""
    ns.manual_seed(args.seed)
    model = make_model(cell, args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    start, mse, history = time.perf_counter(), test_mse(model, x_test, t_test), []
    for step in range(1, args.steps + 1):
        x, t = adding_problem(args.batch, length, seed=rng)
        loss = F.mse_loss(model(x), t)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % args.eval_every == 0:
            mse = test_mse(model, x_test, t_test)
            history.append((step, mse))
            if mse < args.target:
                break
    seconds = time.perf_counter() - start
    print(f"  {cell.upper():4s} length {length:3d}: test MSE {mse:.4f} after {step} steps "
          f"({seconds:.0f} s; baseline {BASELINE:.3f})", flush=True)
    return model, mse, history


def plot_gradients(curves, path, length):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for (label, style), norms in curves.items():
        ax.semilogy(np.arange(1, len(norms) + 1), norms, style, label=label)
    ax.set_xlabel("step t")
    ax.set_ylabel("||dL/dh_t||")
    ax.set_title(f"Adding problem, length {length}: the gradient reaching each hidden state\n"
                 f"(loss at the last step only; log scale)", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="length 20, hidden 32, at most 2000 steps")
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--steps", type=int, default=3000, help="most training steps per model")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--target", type=float, default=0.002, help="stop a model's training below this test MSE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="adding_problem_gradients.png")
    args = parser.parse_args()
    if args.quick:
        args.lengths, args.hidden, args.steps, args.eval_every = [40], 32, 2000, 50

    results = {}
    for length in args.lengths:
        x_test, t_test = adding_problem(1000, length, seed=10_000 + length)
        print(f"length {length}:", flush=True)
        for cell in args.cells:
            model, mse, _ = train(cell, length, args, x_test, t_test)
            results[cell, length] = (model, mse)

    print("\ntest MSE        " + "".join(f"  length {n:<4d}" for n in args.lengths))
    for cell in args.cells:
        print(f"{cell.upper():15s} " + "".join(f"  {results[cell, n][1]:11.4f}" for n in args.lengths))
    print(f"{'predict 1':15s} " + "".join(f"  {BASELINE:11.4f}" for _ in args.lengths))

    if {"rnn", "lstm"} <= set(args.cells):
        length = args.lengths[-1]
        x, t = adding_problem(200, length, seed=1)
        curves = {}
        for cell, style in (("rnn", "C0"), ("lstm", "C1")):
            curves[f"{cell.upper()} trained", style + "-"] = gradient_per_step(results[cell, length][0], x, t)
            ns.manual_seed(args.seed)
            curves[f"{cell.upper()} at initialisation", style + "--"] = gradient_per_step(
                make_model(cell, args.hidden), x, t)
        for (label, _), norms in curves.items():
            print(f"||dL/dh_t|| {label:26s} t=1: {norms[0]:.2e}  t={length // 2}: {norms[length // 2 - 1]:.2e}  "
                  f"t={length}: {norms[-1]:.2e}  (first / last {norms[0] / norms[-1]:.1e})")
        plot_gradients(curves, args.plot, length)


if __name__ == "__main__":
    main()
