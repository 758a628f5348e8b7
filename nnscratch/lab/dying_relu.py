"""Dying ReLU (the introduction to neural networks, on activations): a ReLU unit whose
pre-activation is negative on every input outputs 0 and gets gradient 0 for every input, so no
update can bring it back: it is dead. A too-high learning rate kills them: one large step pushes a
unit's weights and bias where it is negative on the whole data set. A 2-64-64-2 MLP on the two
moons (400 points, mini-batches of 32) trained at lr 3.0: the dead fraction of its 128 hidden units
rises from the few dead at initialisation to most of them, and the network fits worse than the same
network with LeakyReLU (slope 0.01 for negative inputs), whose units always pass some gradient and
so never die; at lr 0.1 the ReLU network keeps its units.
"""

import numpy as np

from .. import backend, nn, optim
from .. import functional as F
from ..data import toy
from ..tensor import no_grad, tensor
from .base import Result

TITLE = "dying ReLU: a too-high learning rate leaves most ReLU units dead; LeakyReLU keeps them alive"

RUNS = {"ReLU, lr 3.0": ("relu", 3.0), "LeakyReLU, lr 3.0": ("leaky", 3.0), "ReLU, lr 0.1": ("relu", 0.1)}


def dead_fraction(linears, activation, x):
    """Fraction of the hidden units (outputs of ``linears``, each followed by ``activation`` in the
    network) whose activation has derivative 0 on every row of ``x``: for ReLU, the units never
    positive; LeakyReLU's derivative is never 0, so none of its units is dead."""
    dead = []
    h = tensor(x)
    with no_grad():
        for linear in linears:
            z = linear(h)
            slope = np.where(z.data > 0, 1.0, getattr(activation, "negative_slope", 0.0))
            dead.append((slope == 0).all(axis=0))
            h = activation(z)
    return float(np.mean(np.concatenate(dead)))


def train(kind, lr, x, t, epochs, seed):
    """Train a seeded 2-64-64-2 MLP with ``kind`` ("relu" or "leaky") activations by SGD at ``lr``
    on (x, t); returns (dead fraction before training and after every epoch, final accuracy)."""
    backend.manual_seed(seed)
    activation = nn.ReLU() if kind == "relu" else nn.LeakyReLU(0.01)
    linears = [nn.Linear(2, 64), nn.Linear(64, 64)]
    model = nn.Sequential(linears[0], activation, linears[1], activation, nn.Linear(64, 2))
    optimizer = optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    dead = [dead_fraction(linears, activation, x)]
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 32):
            batch = order[i:i + 32]
            loss = F.cross_entropy(model(tensor(x[batch])), tensor(t[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        dead.append(dead_fraction(linears, activation, x))
    with no_grad():
        accuracy = float((model(tensor(x)).data.argmax(axis=1) == t).mean())
    return dead, accuracy


def run(seed=0, full=False):
    """Each run of :data:`RUNS` on the same moons and initialisation, 20 epochs (60 with ``full``);
    numbers: dead fraction per epoch (index 0 = at initialisation) and final training accuracy."""
    epochs = 60 if full else 20
    x, t = toy.moons(n=400, noise=0.1, seed=seed)
    dead, accuracy = {}, {}
    for name, (kind, lr) in RUNS.items():
        dead[name], accuracy[name] = train(kind, lr, x, t, epochs, seed)
    numbers = {"epochs": epochs, "dead_fraction": dead, "accuracy": accuracy,
               "dead_before": {k: v[0] for k, v in dead.items()}, "dead_after": {k: v[-1] for k, v in dead.items()}}
    lines = [f"2-64-64-2 MLP on 400 two-moons points, SGD, batches of 32, {epochs} epochs; a unit is dead when its",
             "activation's derivative is 0 on every point (never positive, for ReLU)"]
    lines += [f"  {name:18s} dead {dead[name][0]:5.1%} -> {dead[name][-1]:5.1%}, accuracy {accuracy[name]:.1%}"
              for name in RUNS]

    def draw(fig):
        ax = fig.subplots()
        for name in RUNS:
            ax.plot(range(epochs + 1), np.array(dead[name]) * 100, ".-", label=f"{name} (accuracy {accuracy[name]:.0%})")
        ax.set(xlabel="epoch (0 = initialisation)", ylabel="dead hidden units (%)", ylim=(-3, 100),
               title="dying ReLU: a unit negative on every input gets no gradient")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()

    return Result("dying-relu", numbers, "\n".join(lines), {"dying_relu.png": draw})
