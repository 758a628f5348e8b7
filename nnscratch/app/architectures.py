"""The architectures ``nnscratch train`` can build, one record each.

A record says everything the application needs about a network: the class that builds it
(``nnscratch.models``), the command-line options it takes, the run settings every preset of it
starts from (such as ``threads``), and how it reads the data's shape. The presets, the
``train`` options and their help, the presets table of the docs and model loading
(``build_model(config["net"])``) are all derived from ``REGISTRY``.

To add an architecture: write its class in ``nnscratch/models.py``, add one ``Architecture``
here, and a preset that uses it in ``nnscratch/presets.py``.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import models


@dataclass(frozen=True)
class Option:
    """A command-line option that only some architectures take. ``kind`` says how the command line
    reads it: 'sizes' (256,128), 'fraction' ([0, 1)), 'count' (>= 1), 'flag', 'choice' (of
    ``choices``); None keeps it off the command line (a setting of the Python API only)."""
    help: str = ""
    kind: str = None
    choices: tuple = ()
    metavar: str = None

    def flag(self, name):
        """How the command line spells the option: ``--cd-k``."""
        return "--" + name.replace("_", "-")


# The options that belong to some architectures only, in the order they are checked.
OPTIONS = {
    "hidden": Option("hidden layer sizes, e.g. 256,256", "sizes"),
    "activation": Option("hidden layers' activation", "choice", ("relu", "sigmoid", "tanh", "leaky_relu")),
    "dropout": Option("dropout probability after each hidden layer", "fraction"),
    "batchnorm": Option("batch norm after hidden layers", "flag"),
    "init": Option("weight initialisation ('he' or 'xavier')"),
    "pretrain_epochs": Option("epochs of unsupervised pre-training per RBM", "count", metavar="N"),
    "cd_k": Option("Gibbs steps per update, CD-k", "count", metavar="K"),
    "pcd": Option("persistent contrastive divergence (chains kept between mini-batches)", "flag"),
}


@dataclass(frozen=True)
class Architecture:
    """One architecture. ``name`` is what checkpoints store as ``config["net"]["arch"]`` (``aliases``
    are older spellings still read); ``builder`` the network's class; ``input`` how it reads the
    data: 'flat' (``sizes`` = [features, *hidden, classes], any dataset) or 'image' (``in_channels``
    and ``num_classes``, image datasets only); ``options`` the ``OPTIONS`` it takes, of which
    ``net_options`` are passed to ``builder``; ``defaults`` the run settings of all its presets;
    ``title`` how messages name its presets; ``prepare(settings, data, network, out, verbose, log)``
    runs before a new network is trained; ``summary(settings)`` adds lines to summary.txt."""
    name: str
    builder: type
    input: str = "image"
    options: tuple = ()
    net_options: tuple = ()
    defaults: dict = field(default_factory=dict)
    aliases: tuple = ()
    title: str = None
    prepare: Callable = None
    summary: Callable = None

    def refused(self, overrides):
        """The architecture-specific options among the non-None ``overrides`` it does not take."""
        return [k for k in OPTIONS if overrides.get(k) is not None and k not in self.options]

    def net_config(self, settings, data):
        """What ``build_model`` needs to rebuild the network for ``data`` (a ``datasets.Data``), with
        the training set's mean and std when the settings standardise the input."""
        if self.input == "flat":
            config = {"arch": self.name, "sizes": [int(np.prod(data.x_train.shape[1:])), *settings["hidden"],
                                                   len(data.classes)],
                      **{k: settings[k] for k in self.net_options}}
        elif not data.is_image:
            raise ValueError(f"the {settings['model']} preset is an image network: it needs an image dataset "
                             f"(mnist or fashion-mnist), not {settings['dataset']}")
        else:
            config = {"arch": self.name, "in_channels": data.x_train.shape[1], "num_classes": len(data.classes)}
        if settings["standardize"]:
            config.update(input_mean=float(data.x_train.mean()), input_std=float(data.x_train.std()))
        return config


def _pretrain_dbn(*args, **kwargs):
    from . import pretraining  # looked up at call time: a sweep may replace it (benchmarks/bench_rbm.py)
    return pretraining.pretrain_dbn(*args, **kwargs)


def _dbn_summary(settings):
    return [f"pre-training: {len(settings['hidden'])} RBMs, {settings['pretrain_epochs']} epochs each, "
            f"{'PCD' if settings['pcd'] else 'CD'}-{settings['cd_k']}, lr {settings['pretrain_lr']} (see pretrain.csv)"]


# "threads": the convolutional networks without batch norm compute each batch in one thread per core
# (nn.DataParallel): their elementwise work (ReLU, pooling, im2col) is most of a step and runs on one
# core otherwise; their gradients stay the whole batch's.
_CORES = {"threads": "cores"}

REGISTRY = {arch.name: arch for arch in [
    Architecture("mlp", models.MultiLayerNet, input="flat", title="MLP",
                 options=("hidden", "activation", "dropout", "batchnorm", "init"),
                 net_options=("activation", "dropout", "batchnorm", "init")),
    Architecture("simple_cnn", models.SimpleConvNet, defaults=_CORES),
    Architecture("lenet5", models.LeNet5, defaults=_CORES),
    Architecture("deep_cnn", models.DeepConvNet, defaults=_CORES),
    Architecture("vgg", models.VGG),
    Architecture("resnet", models.ResNet),
    Architecture("row_lstm", models.RowLSTM),
    Architecture("dbn", models.DBNClassifier, input="flat", options=("hidden", "dropout", "pretrain_epochs", "cd_k",
                                                                      "pcd"),
                 net_options=("dropout",), prepare=_pretrain_dbn, summary=_dbn_summary),
]}

ARCHITECTURES = {name: arch.builder for name, arch in REGISTRY.items()}  # name -> class, as models had it


def architecture(name):
    """The record of the architecture called ``name`` (or an older name of it)."""
    for arch in REGISTRY.values():
        if name == arch.name or name in arch.aliases:
            return arch
    raise ValueError(f"unknown architecture {name!r}; known: {', '.join(REGISTRY)}")


def build_model(config):
    """The network described by ``config`` (a dict with ``arch`` and that class's arguments)."""
    config = dict(config)
    return architecture(config.pop("arch", None)).builder(**config)


def net_config(settings, data):
    """The architecture part of a run's settings: what ``build_model`` needs to rebuild the network."""
    return architecture(settings["arch"]).net_config(settings, data)
