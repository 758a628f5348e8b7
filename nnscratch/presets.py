"""Training presets for ``nnscratch train --model NAME``: a network and the settings it trains
with. Command-line options override any of them.

Each preset names an architecture (``nnscratch.app.architectures``), whose record adds the
settings all its presets share (such as ``threads``) and says which options it takes.
``python -m nnscratch.presets --markdown`` prints the presets as a Markdown table.
"""

import sys

from .app.architectures import OPTIONS, REGISTRY
from .app.datasets import toy_settings

# Each preset's own settings; PRESETS below adds its architecture's defaults.
_PRESETS = {
    "two-layer": dict(
        description="the book's TwoLayerNet (ch. 4): 784-50-10, sigmoid, N(0, 0.01²) weights, SGD lr 0.1, "
                    "batch 100 drawn with replacement, 10 x 1,000 = 10,000 iterations",
        arch="mlp", hidden=[50], activation="sigmoid", init=0.01, dropout=0.0, batchnorm=False,
        optimizer="sgd", lr=0.1, batch_size=100, epochs=10, sampling="replacement", iterations_per_epoch=1000,
        validation_split=0.0),
    "mlp": dict(
        description="the default: standardised input, 784-512-256-10, ReLU, He init, dropout 0.2, Adam 1e-3 "
                    "with cosine decay, batch 128, 15 epochs",
        arch="mlp", hidden=[512, 256], activation="relu", init="he", dropout=0.2, batchnorm=False, standardize=True,
        optimizer="adam", lr=1e-3, schedule="cosine", batch_size=128, epochs=15, sampling="shuffle",
        validation_split=0.1),
    "deep-mlp": dict(
        description="standardised input, 784-512-512-256-128-10 with batch norm and dropout 0.2, Adam 1e-3 with "
                    "cosine decay, batch 128, 20 epochs",
        arch="mlp", hidden=[512, 512, 256, 128], activation="relu", init="he", dropout=0.2, batchnorm=True, standardize=True,
        optimizer="adam", lr=1e-3, schedule="cosine", batch_size=128, epochs=20, sampling="shuffle",
        validation_split=0.1),
    "cnn": dict(
        description="the book's SimpleConvNet: conv 30@5x5 - ReLU - max-pool 2 - fc 100 - ReLU - fc 10, Adam 1e-3 "
                    "with cosine decay, batch 100, 10 epochs",
        arch="simple_cnn", standardize=True, optimizer="adam", lr=1e-3, schedule="cosine", batch_size=100,
        epochs=10, sampling="shuffle", validation_split=0.1),
    "lenet5": dict(
        description="LeNet-5 (conv 6@5x5 - pool - conv 16@5x5 - pool - fc 120 - fc 84 - fc 10, ReLU), Adam 1e-3 "
                    "with cosine decay, batch 128, 12 epochs",
        arch="lenet5", standardize=True, optimizer="adam", lr=1e-3, schedule="cosine", batch_size=128, epochs=12,
        sampling="shuffle", validation_split=0.1),
    "deep-cnn": dict(
        description="the book's DeepConvNet (six 3x3 convs 16-16-32-32-64-64, pooling, fc 50, dropout 0.5), "
                    "Adam 1e-3 with cosine decay, batch 100, 20 epochs, random shifts and rotations",
        arch="deep_cnn", standardize=True, augment=True, optimizer="adam", lr=1e-3, schedule="cosine",
        batch_size=100, epochs=20, sampling="shuffle", validation_split=0.1),
    "vgg": dict(
        description="a small VGG-style network (two blocks of two 3x3 convs with batch norm, 32 and 64 "
                    "channels, max-pooling, fc 256, dropout 0.5), Adam 1e-3 with cosine decay, batch 100, 8 epochs",
        arch="vgg", standardize=True, optimizer="adam", lr=1e-3, schedule="cosine", batch_size=100, epochs=8,
        sampling="shuffle", validation_split=0.1),
    "resnet": dict(
        description="a small residual network (stem, 2 ResidualBlocks of 32 and 2 of 64 channels, global "
                    "average pooling), Adam 1e-3 with cosine decay, batch 128, 15 epochs, augmentation",
        arch="resnet", standardize=True, augment=True, optimizer="adam", lr=1e-3, schedule="cosine",
        batch_size=128, epochs=15, sampling="shuffle", validation_split=0.1),
    "lstm": dict(
        description="row-by-row MNIST: an LSTM (hidden 128) reads the 28 rows as 28 steps, fc 10 from the last "
                    "state; Adam 1e-3 with cosine decay, batch 100, 12 epochs, gradient norm clipped at 5",
        arch="row_lstm", standardize=True, optimizer="adam", lr=1e-3, schedule="cosine", batch_size=100,
        epochs=12, clip_grad_norm=5.0, sampling="shuffle", validation_split=0.1),
    "dbn": dict(
        description="a deep belief net: RBMs 784-500-500-2000 pre-trained one by one without labels (CD-1, lr 0.1, "
                    "momentum 0.5 then 0.9, weight decay 2e-4, batch 100, 10 epochs each), then the sigmoid MLP "
                    "784-500-500-2000-10 they initialise fine-tuned by backpropagation with dropout 0.2: Adam "
                    "1e-3 with cosine decay, batch 100, 30 epochs, all 60,000 training images",
        arch="dbn", hidden=[500, 500, 2000], dropout=0.2, pretrain_epochs=10, cd_k=1, pcd=False, pretrain_lr=0.1,
        pretrain_momentum=0.9, pretrain_weight_decay=2e-4, pretrain_batch_size=100, optimizer="adam", lr=1e-3,
        schedule="cosine", batch_size=100, epochs=30, sampling="shuffle", validation_split=0.0),
}

# What every run has unless the architecture, the preset or the command line says otherwise.
# threads: slices of each batch computed in parallel threads (nn.DataParallel); "cores" = one per core (per
# MPI rank).
DEFAULTS = dict(arch="mlp", weight_decay=0.0, augment=False, patience=None, seed=0, limit=None, clip_grad_norm=None,
                momentum=0.9, iterations_per_epoch=None, schedule="constant", standardize=False, threads=1)

PRESETS = {name: {**own, **{k: v for k, v in REGISTRY[own["arch"]].defaults.items() if k not in own}}
           for name, own in _PRESETS.items()}


def presets_of(arch):
    """The names of the presets built on the architecture ``arch``."""
    return [name for name, preset in PRESETS.items() if preset["arch"] == arch]


def presets_taking(option):
    """The names of the presets whose architecture takes the option ``option`` (e.g. "hidden")."""
    return [name for name, preset in PRESETS.items() if option in REGISTRY[preset["arch"]].options]


def _refusal(option, model):
    """The error for ``--option`` given to the preset ``model``, naming the presets that take it."""
    owner = next(arch for arch in REGISTRY.values() if option in arch.options)
    names = presets_of(owner.name)
    if len(names) == 1:
        return (f"{OPTIONS[option].flag(option)} applies to the {names[0]} preset only "
                f"(nnscratch train --model {names[0]}), not to the {model} preset")
    return f"{OPTIONS[option].flag(option)} applies to the {owner.title} presets only, not to the {model} preset"


def resolve(model, overrides, dataset=None):
    """The full run settings: DEFAULTS, then the preset ``model`` (with its architecture's
    defaults), then what suits ``dataset`` if it is a toy set (``app.datasets.toy_settings``), then
    the non-None ``overrides``. An option the architecture does not take is an error."""
    if model not in PRESETS:
        raise ValueError(f"unknown model preset {model!r}; choose one of {', '.join(PRESETS)}")
    preset = PRESETS[model]
    refused = REGISTRY[preset["arch"]].refused(overrides)
    if refused:
        raise ValueError(_refusal(refused[0], model))
    settings = dict(DEFAULTS)
    settings.update({k: v for k, v in preset.items() if k != "description"})
    settings.update(toy_settings(dataset, model))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    settings["model"] = model
    return settings


def markdown_table():
    """The presets as a Markdown table: name, architecture (and its class), and the description."""
    rows = ["| preset | architecture | network and training |", "| --- | --- | --- |"]
    for name, preset in PRESETS.items():
        arch = REGISTRY[preset["arch"]]
        default = " (default)" if name == "mlp" else ""
        rows.append(f"| `{name}`{default} | `{arch.name}` (`{arch.builder.__name__}`) | {preset['description']} |")
    return "\n".join(rows)


def main(argv=None):
    """``python -m nnscratch.presets --markdown``: print the presets table for the docs."""
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["--markdown"]:
        print("usage: python -m nnscratch.presets --markdown", file=sys.stderr)
        return 2
    print(markdown_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
