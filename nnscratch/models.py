"""Ready-made networks, rebuilt from a small JSON-able config (stored in every checkpoint).

``build_model({"arch": "mlp", "sizes": [784, 100, 10], "activation": "relu"})`` gives the same
network in any process, so ``nnscratch eval`` and ``predict`` can reload a trained model from its
``model.npz`` alone.
"""

from . import nn


def _input_layers(input_mean, input_std):
    return [nn.Standardize(input_mean, input_std)] if input_mean is not None else []


def mlp(sizes, activation="relu", dropout=0.0, batchnorm=False, init="he", input_mean=None, input_std=None):
    """A multilayer perceptron on flattened images (see ``nn.MLP``), standardising its input
    first when ``input_mean`` and ``input_std`` are given."""
    return nn.Sequential(*_input_layers(input_mean, input_std), nn.Flatten(),
                         nn.MLP(sizes, activation=activation, dropout=dropout, batchnorm=batchnorm, init=init))


ARCHITECTURES = {"mlp": mlp}


def build_model(config):
    """The network described by ``config`` (a dict with ``arch`` and that builder's arguments)."""
    config = dict(config)
    arch = config.pop("arch", None)
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**config)
