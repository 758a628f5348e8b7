"""Training presets for ``nnscratch train --model NAME``: a network and the settings it trains
with. Command-line options override any of them."""

PRESETS = {
    "two-layer": dict(
        description="the book's TwoLayerNet (ch. 4): 784-50-10, sigmoid, N(0, 0.01²) weights, SGD lr 0.1, "
                    "batch 100 drawn with replacement, 10 x 1,000 = 10,000 iterations",
        hidden=[50], activation="sigmoid", init=0.01, dropout=0.0, batchnorm=False,
        optimizer="sgd", lr=0.1, batch_size=100, epochs=10, sampling="replacement", iterations_per_epoch=1000,
        validation_split=0.0),
    "mlp": dict(
        description="the default: standardised input, 784-512-256-10, ReLU, He init, dropout 0.2, Adam 1e-3 "
                    "with cosine decay, batch 128, 15 epochs",
        hidden=[512, 256], activation="relu", init="he", dropout=0.2, batchnorm=False, standardize=True,
        optimizer="adam", lr=1e-3, schedule="cosine", batch_size=128, epochs=15, sampling="shuffle",
        validation_split=0.1),
    "deep-mlp": dict(
        description="standardised input, 784-512-512-256-128-10 with batch norm and dropout 0.2, Adam 1e-3 with "
                    "cosine decay, batch 128, 20 epochs",
        hidden=[512, 512, 256, 128], activation="relu", init="he", dropout=0.2, batchnorm=True, standardize=True,
        optimizer="adam", lr=1e-3, schedule="cosine", batch_size=128, epochs=20, sampling="shuffle",
        validation_split=0.1),
}

# What every run has unless the preset or the command line says otherwise.
DEFAULTS = dict(weight_decay=0.0, augment=False, patience=None, seed=0, limit=None, clip_grad_norm=None,
                momentum=0.9, iterations_per_epoch=None, schedule="constant", standardize=False)


def resolve(model, overrides):
    """The full run settings: DEFAULTS, then the preset ``model``, then the non-None ``overrides``."""
    if model not in PRESETS:
        raise ValueError(f"unknown model preset {model!r}; choose one of {', '.join(PRESETS)}")
    settings = dict(DEFAULTS)
    settings.update({k: v for k, v in PRESETS[model].items() if k != "description"})
    settings.update({k: v for k, v in overrides.items() if v is not None})
    settings["model"] = model
    return settings
