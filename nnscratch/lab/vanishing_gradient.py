"""Vanishing gradients (the introduction to neural networks): the gradient that reaches a layer is the product of the
derivatives of every layer above it. With sigmoid each factor carries σ' ≤ 0.25, so in a
10-layer network the first layers get a gradient thousands of times smaller than the last ones
and barely learn; tanh (tanh' ≤ 1) loses less, ReLU (slope exactly 1 where active, with He
initialisation) keeps the gradient's size through all layers. The two other remedies the seed
names: batch normalisation (re-scales every layer's pre-activations, so the sigmoid works near
its steep middle and the gradient is re-scaled on the way back) and residual connections
(y = x + f(x): the "+ x" passes the gradient straight through, 1 + f'(x) per block).
"""

import numpy as np

from .. import backend, nn
from .. import functional as F
from ..nn.activation import activation as make_activation
from ..tensor import grad, tensor
from .base import Result

TITLE = "per-layer gradient norms of a 10-layer net: sigmoid, tanh, ReLU, + batch norm, + residual"

CONFIGS = {
    "sigmoid": ("sigmoid", "xavier", False, False),
    "tanh": ("tanh", "xavier", False, False),
    "relu": ("relu", "he", False, False),
    "sigmoid + batch norm": ("sigmoid", "xavier", True, False),
    "sigmoid + residual": ("sigmoid", "xavier", False, True),
}


def build(activation, init, batchnorm=False, residual=False, depth=10, width=100, classes=10):
    """``depth`` hidden blocks Linear(width, width) [+ BatchNorm1d] + activation, each wrapped in
    nn.Residual when ``residual``, then Linear(width, classes). Returns (model, hidden Linears)."""
    blocks, linears = [], []
    for _ in range(depth):
        linear = nn.Linear(width, width, init=init)
        layers = [linear] + ([nn.BatchNorm1d(width)] if batchnorm else []) + [make_activation(activation)]
        block = nn.Sequential(*layers)
        blocks.append(nn.Residual(block) if residual else block)
        linears.append(linear)
    return nn.Sequential(*blocks, nn.Linear(width, classes, init="xavier")), linears


def gradient_norms(model, linears, x, t):
    """For the cross-entropy loss on (x, t): ‖dL/dW_l‖ (Frobenius) of every hidden layer's weight,
    and ‖dL/dh_l‖ of the signal entering every hidden block (h_0 = x)."""
    h = tensor(x, requires_grad=True)
    block_inputs = []
    for block in list(model)[:-1]:
        block_inputs.append(h)
        h = block(h)
    loss = F.cross_entropy(model[-1](h), t)
    grads = grad(loss, block_inputs + [layer.weight for layer in linears])
    norms = [float(np.linalg.norm(g.data)) for g in grads]
    return norms[len(block_inputs):], norms[:len(block_inputs)]


def run(seed=0, full=False):
    """For each configuration: a fresh 10 x 100-unit network (seeded), one batch of 256 inputs
    drawn from N(0, 1) with random labels of 10 classes, the loss's gradient norms per layer
    (float32). ``full`` averages over 10 batches and initialisations instead of 1."""
    repeats = 10 if full else 1
    rng = np.random.default_rng(seed)
    norms, signals = {}, {}
    for name, (activation, init, batchnorm, residual) in CONFIGS.items():
        runs = []
        for r in range(repeats):
            backend.manual_seed(seed * 1000 + r)
            model, linears = build(activation, init, batchnorm, residual)
            x = rng.standard_normal((256, 100)).astype(np.float32)
            t = rng.integers(0, 10, 256)
            runs.append(gradient_norms(model, linears, x, t))
        norms[name] = np.mean([w for w, _ in runs], axis=0).tolist()
        signals[name] = np.mean([h for _, h in runs], axis=0).tolist()
    ratio = {k: v[0] / v[-1] for k, v in norms.items()}
    numbers = {"layers": list(range(1, 11)), "grad_norms": norms, "signal_norms": signals,
               "first_over_last": ratio, "signal_first_over_last": {k: v[0] / v[-1] for k, v in signals.items()},
               "first_layer": {k: v[0] for k, v in norms.items()}}
    header = "  " + " " * 21 + "".join(f"{i:>9d}" for i in range(1, 11)) + "   layer1/layer10"
    lines = ["a 10 x 100 network at initialisation, one batch; layer 1 is nearest the input",
             "‖dL/dW‖ per hidden layer:", header]
    for k, v in norms.items():
        lines.append(f"  {k:21s}" + "".join(f"{g:9.1e}" for g in v) + f"   {ratio[k]:.1e}")
    lines += ["‖dL/dh‖, the gradient signal entering each hidden layer:", header]
    for k, v in signals.items():
        lines.append(f"  {k:21s}" + "".join(f"{g:9.1e}" for g in v) + f"   {v[0] / v[-1]:.1e}")
    lines.append(f"the first layer's weight gradient with sigmoid is {norms['sigmoid'][0] / norms['relu'][0]:.1e} "
                 f"times ReLU's; with batch norm it is {ratio['sigmoid + batch norm']:.2f} of the last layer's, with "
                 f"residual connections the signal reaching layer 1 is "
                 f"{numbers['signal_first_over_last']['sigmoid + residual']:.2f} of layer 10's")

    def draw(fig):
        fig.set_size_inches(11, 4.5)
        for k, (values, label) in enumerate([(norms, "‖dL/dW‖ of the layer's weight"),
                                             (signals, "‖dL/dh‖ entering the layer")]):
            ax = fig.add_subplot(1, 2, k + 1)
            for name, v in values.items():
                ax.semilogy(range(1, 11), v, "o-", label=name)
            ax.set_xticks(range(1, 11))
            ax.set_xlabel("hidden layer (1 = nearest the input)")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3, which="both")
        fig.axes[0].legend(fontsize=8)
        fig.suptitle("gradient reaching each layer of a 10-layer network")
        fig.tight_layout()

    return Result("vanishing-gradient", numbers, "\n".join(lines), {"vanishing_gradient.png": draw})
