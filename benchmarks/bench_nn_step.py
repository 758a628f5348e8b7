"""One full training step of MLP 784-256-256-10 (ReLU, dropout 0.2), batch 128, Adam 1e-3:
nnscratch.nn + nnscratch.optim vs torch.nn + torch.optim, in the same run.

    python benchmarks/bench_nn_step.py [--steps 500] [--repeats 5]

Same initial weights (copied with load_state_dict), same batch; each step is forward,
cross-entropy, zero_grad, backward and Adam's update. Reported: milliseconds per step (best of the
repeats) and the ratio nnscratch / PyTorch.
"""

import argparse

import numpy as np
from common import best_time, import_torch, nnscratch_training_step, torch_training_step

import nnscratch as ns
import nnscratch.nn as nn

SIZES = [784, 256, 256, 10]


def make_batch(batch=128, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, 784), dtype=np.float32), rng.integers(0, 10, batch)


def torch_model(torch, ours):
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers += [torch.nn.ReLU(), torch.nn.Dropout(0.2)]
    model = torch.nn.Sequential(*layers)
    model.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()})
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ns.manual_seed(0)
    ours = nn.MLP(SIZES, dropout=0.2, init="default")
    x, t = make_batch()
    torch = import_torch()
    theirs = torch_model(torch, ours) if torch else None

    t_ours = best_time(nnscratch_training_step(ours, x, t), args.steps, args.repeats)
    print(f"nnscratch  MLP 784-256-256-10 dropout 0.2, Adam, batch 128: {t_ours * 1e3:7.3f} ms/step")
    if torch is None:
        return
    t_torch = best_time(torch_training_step(torch, theirs, x, t), args.steps, args.repeats)
    print(f"PyTorch    MLP 784-256-256-10 dropout 0.2, Adam, batch 128: {t_torch * 1e3:7.3f} ms/step")
    print(f"ratio nnscratch / PyTorch: {t_ours / t_torch:.2f}x  "
          f"(torch {torch.__version__}, {torch.get_num_threads()} threads, numpy {np.__version__})")


if __name__ == "__main__":
    main()
