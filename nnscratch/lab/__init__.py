"""The concept lab: one small module per idea of how networks learn, each a ``run(seed=0,
full=False)`` returning a :class:`Result` (numbers, a short report, figures).

``nnscratch.lab.run("gradient-descent").numbers`` computes; ``.save("out/")`` draws the PNGs.
Demo modules are imported only when run, so listing the demos imports none of them.
"""

import importlib

from .base import Result

DEMOS = {
    "loss-functions": "loss_functions",
    "numerical-diff": "numerical_diff",
    "gradient-field": "gradient_field",
    "gradient-descent": "gradient_descent",
    "accuracy-vs-loss": "accuracy_vs_loss",
    "perceptron": "perceptron",
    "activations": "activations",
    "vanishing-gradient": "vanishing_gradient",
    "weight-init": "weight_init",
    "batch-modes": "batch_modes",
    "optimizers": "optimizers",
    "learning-rate": "learning_rate",
    "overfitting": "overfitting",
    "batchnorm": "batchnorm",
    "backprop-vs-numerical": "backprop_vs_numerical",
    "how-a-network-learns": "how_a_network_learns",
    "cnn-filters": "cnn_filters",
    "lstm-vs-rnn": "lstm_vs_rnn",
    "rbm-features": "rbm_features",
    "computational-graph": "computational_graph",
    "backprop-by-hand": "backprop_by_hand",
    "local-minima": "local_minima",
    "partial-derivatives": "partial_derivatives",
    "dying-relu": "dying_relu",
    "exploding-gradient": "exploding_gradient",
    "two-layer-chapter": "two_layer_chapter",
}
"""CLI name -> module name under ``nnscratch.lab``, in the order the lab presents them."""


def _module(name):
    if name not in DEMOS:
        raise KeyError(f"unknown demo {name!r}; see 'nnscratch lab list'")
    return importlib.import_module(f"{__name__}.{DEMOS[name]}")


def run(name, seed=0, full=False):
    """Run the demo ``name`` (a key of :data:`DEMOS`) with ``seed``; ``full`` selects its full-size
    variant. Returns its :class:`Result`."""
    return _module(name).run(seed=seed, full=full)


def titles():
    """``{name: one-line title}`` for every demo (imports each demo module, not its data); a demo
    whose module is not installed is titled "(not available)"."""
    result = {}
    for name, module in DEMOS.items():
        try:
            result[name] = _module(name).TITLE
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{module}":
                raise
            result[name] = "(not available)"
    return result


__all__ = ["DEMOS", "Result", "run", "titles"]
