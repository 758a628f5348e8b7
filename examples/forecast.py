"""Forecasting a noisy seasonal series with an LSTM, against naive baselines.

The series is y_k = sin(2πk/24) + 0.5 sin(4πk/24 + 1) + trend·k + noise (``seasonal_series``).
An LSTM reads a window of the last 48 values and predicts the next one. Each window is shifted so
that its last value is 0 (the model predicts the change from the last value), which makes the
trend harmless: the test set lies above anything seen in training, but its windows look the same.

- one-step forecast: predict y_{k+1} from the true y_{k-47..k}, for every k of the test part;
- multi-step forecast: predict 48 steps ahead by feeding each prediction back in as the newest
  input (recursive forecasting), from many starting points of the test part.

Both are compared with the naive last-value forecast (ŷ_{k+h} = y_k) and, for the multi-step case,
with the seasonal naive forecast (the last observed season repeated: ŷ_{k+h} = y_{k+h-24·m}, the
latest observed value 24·m steps before). Prints root-mean-square errors and writes
a figure (``--plot``).

    python examples/forecast.py [--epochs 30] [--plot forecast.png]
"""

import argparse
import time

import numpy as np

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn
import nnscratch.optim as optim
from nnscratch.data import DataLoader, SequenceDataset, seasonal_series
from nnscratch.train import fit

PERIOD = 24


class Forecaster(nn.Module):
    """ŷ_{k+1} = y_k + Linear(h_n), h_n the LSTM's last state over the window shifted by -y_k."""

    def __init__(self, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):                      # x: (N, window, 1)
        last = x[:, -1]                        # (N, 1)
        _, (h, _) = self.lstm(x - last.reshape(-1, 1, 1))
        return last + self.head(h[-1])         # (N, 1)


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def predict_one_step(model, series, window, start):
    """ŷ_{k+1} for k = start-1 .. len-2 from true windows: predictions of series[start:]."""
    ds = SequenceDataset(series[start - window:], window)
    model.eval()
    with ns.no_grad():
        return np.concatenate([model(x).data[:, 0] for x, _ in DataLoader(ds, batch_size=256)])


def predict_recursive(model, series, window, origins, horizon):
    """For each origin k: ŷ_{k}, …, ŷ_{k+horizon-1} from series[k-window:k], feeding predictions back."""
    inputs = np.stack([series[k - window:k] for k in origins])[:, :, None]   # (B, window, 1)
    out = np.empty((len(origins), horizon), np.float32)
    model.eval()
    with ns.no_grad():
        for h in range(horizon):
            out[:, h] = model(inputs).data[:, 0]
            inputs = np.concatenate([inputs[:, 1:], out[:, h, None, None]], axis=1)
    return out


def plot(series, start, one_step, origin, multi, horizon, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(2, 1, figsize=(9, 6))
    k = np.arange(start, start + 150)
    a.plot(k, series[k], "k.", ms=3, label="truth")
    a.plot(k, one_step[:150], "C1-", label="LSTM one-step forecast")
    a.plot(k, series[k - 1], "C0:", label="naive (last value)")
    a.set_title("one step ahead (test part)")
    a.legend(loc="upper left", fontsize=8)
    k = np.arange(origin - 2 * PERIOD, origin + horizon)
    b.plot(k, series[k], "k.", ms=3, label="truth")
    b.plot(np.arange(origin, origin + horizon), multi, "C1-", label=f"LSTM, {horizon} steps, recursive")
    b.axhline(series[origin - 1], color="C0", ls=":", label="naive (last value)")
    b.plot(np.arange(origin, origin + horizon), series[origin - PERIOD + np.arange(horizon) % PERIOD], "C2:",
           label="seasonal naive (last season repeated)")
    b.axvline(origin - 0.5, color="gray", lw=0.5)
    b.set_title(f"{horizon} steps ahead from step {origin}")
    b.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=1500)
    parser.add_argument("--trend", type=float, default=0.002)
    parser.add_argument("--noise", type=float, default=0.15)
    parser.add_argument("--window", type=int, default=48)
    parser.add_argument("--horizon", type=int, default=48)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="forecast.png")
    args = parser.parse_args()

    series = seasonal_series(args.length, PERIOD, args.trend, args.noise, seed=args.seed)
    split = int(0.8 * args.length)                      # train on the first 80 %, test on the rest
    train = SequenceDataset(series[:split], args.window)
    ns.manual_seed(args.seed)
    model = Forecaster(args.hidden)
    start = time.perf_counter()
    fit(model, DataLoader(train, batch_size=32, shuffle=True), loss=F.mse_loss,
        optimizer=optim.Adam(model.parameters(), lr=args.lr), epochs=args.epochs, metrics=(), verbose=False)
    print(f"trained on {len(train)} windows for {args.epochs} epochs in {time.perf_counter() - start:.0f} s")

    one_step = predict_one_step(model, series, args.window, split)
    truth = series[split:]
    print(f"\none step ahead, {len(truth)} test steps (noise std {args.noise}):")
    print(f"  LSTM                      RMSE {rmse(one_step, truth):.4f}")
    print(f"  naive last value          RMSE {rmse(series[split - 1:-1], truth):.4f}")

    origins = np.arange(split, args.length - args.horizon + 1, 4)
    multi = predict_recursive(model, series, args.window, origins, args.horizon)
    future = np.stack([series[k:k + args.horizon] for k in origins])
    last = series[origins - 1][:, None]
    seasonal = np.stack([series[k - PERIOD + np.arange(args.horizon) % PERIOD] for k in origins])
    print(f"\n{args.horizon} steps ahead (recursive), {len(origins)} starting points:")
    print(f"  LSTM                      RMSE {rmse(multi, future):.4f}")
    print(f"  naive last value          RMSE {rmse(np.broadcast_to(last, future.shape), future):.4f}")
    print(f"  seasonal naive            RMSE {rmse(seasonal, future):.4f}")
    by_h = np.sqrt(np.mean((multi - future) ** 2, axis=0))
    print("  LSTM RMSE by horizon h:   " + "  ".join(f"h={h + 1}: {by_h[h]:.3f}" for h in (0, 11, 23, 47)
                                                    if h < args.horizon))

    plot(series, split, one_step, origins[len(origins) // 2], multi[len(origins) // 2], args.horizon, args.plot)


if __name__ == "__main__":
    main()
