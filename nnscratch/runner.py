"""A training run as ``nnscratch train`` does it: data, network, optimizer, ``fit``, the test set,
and every file of the run directory.

Run directory::

    config.json              the settings of the run
    history.csv/.json        per-epoch loss, accuracy, val_loss, val_accuracy, lr, time
    model.npz                the best checkpoint (by val_accuracy, or train loss without validation)
    last.npz                 the checkpoint after the last epoch (what --resume continues from)
    loss.png, accuracy.png   train and validation curves
    confusion.png            the test set's confusion matrix
    mistakes.png             misclassified test images with true and predicted labels
    summary.txt              the run in words; its last line is the test accuracy
"""

import json
import os
import time
from dataclasses import dataclass

import numpy as np

from . import functional as F
from . import optim
from .data import DataLoader, TensorDataset, toy
from .data.mnist import DATASETS as IMAGE_DATASETS
from .data.mnist import load_mnist
from .data.transforms import Compose, RandomRotation, RandomShift
from .models import build_model
from .presets import resolve
from .train import evaluate, fit, load_checkpoint, predict_proba
from .train.callbacks import EarlyStopping, ModelCheckpoint
from .fileio import atomic_write_text
from .train.history import History
from .tensor import from_numpy, no_grad
from .train.metrics import confusion_matrix, per_class_accuracy

TOY_DATASETS = {
    "xor": lambda seed: toy.logic_gate("XOR"), "and": lambda seed: toy.logic_gate("AND"),
    "or": lambda seed: toy.logic_gate("OR"), "nand": lambda seed: toy.logic_gate("NAND"),
    "spirals": lambda seed: toy.spirals(n=1000, seed=seed), "moons": lambda seed: toy.moons(n=1000, seed=seed),
    "circles": lambda seed: toy.circles(n=1000, seed=seed),
}


def dataset_names():
    return list(IMAGE_DATASETS) + list(TOY_DATASETS)


@dataclass
class Data:
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    classes: list

    @property
    def is_image(self):
        return self.x_train.ndim == 4


def load_data(name, limit=None, seed=0):
    """Train and test arrays of a dataset: MNIST family as (N, 1, 28, 28) float32 in [0, 1];
    toy sets as (N, 2) with a test set drawn with another seed (the gates' four points are both)."""
    if name in IMAGE_DATASETS:
        (x, t), (x_test, t_test) = load_mnist(flatten=False, name=name)
        classes = list(IMAGE_DATASETS[name].classes)
    elif name in TOY_DATASETS:
        x, t = TOY_DATASETS[name](seed)
        x_test, t_test = TOY_DATASETS[name](seed + 1)
        classes = [str(c) for c in range(int(t.max()) + 1)]
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}")
    if limit is not None:
        if limit < 1:
            raise ValueError(f"--limit must be at least 1, got {limit}")
        x, t = x[:limit], t[:limit]
    return Data(x, t, x_test, t_test, classes)


def net_config(settings, data):
    """The architecture part of the settings: what ``build_model`` needs to rebuild the network
    (with the training set's mean and std when the input is standardised)."""
    arch = settings["arch"]
    if arch == "mlp":
        config = {"arch": "mlp", "sizes": [int(np.prod(data.x_train.shape[1:])), *settings["hidden"],
                                           len(data.classes)],
                  "activation": settings["activation"], "dropout": settings["dropout"],
                  "batchnorm": settings["batchnorm"], "init": settings["init"]}
    elif not data.is_image:
        raise ValueError(f"the {settings['model']} preset is an image network: it needs an image dataset "
                         f"(mnist or fashion-mnist), not {settings['dataset']}")
    else:
        config = {"arch": arch, "in_channels": data.x_train.shape[1], "num_classes": len(data.classes)}
    if settings["standardize"]:
        config.update(input_mean=float(data.x_train.mean()), input_std=float(data.x_train.std()))
    return config


SCHEDULES = {
    "constant": lambda optimizer, settings: None,
    "cosine": lambda optimizer, settings: optim.lr_scheduler.CosineAnnealingLR(optimizer, settings["epochs"]),
}


def make_scheduler(settings, optimizer):
    """The learning-rate schedule of the settings: constant, or cosine decay to 0 over the epochs."""
    if settings["schedule"] not in SCHEDULES:
        raise ValueError(f"unknown schedule {settings['schedule']!r}; choose one of {', '.join(SCHEDULES)}")
    return SCHEDULES[settings["schedule"]](optimizer, settings)


OPTIMIZERS = {
    "sgd": lambda p, s: optim.SGD(p, lr=s["lr"], weight_decay=s["weight_decay"]),
    "momentum": lambda p, s: optim.Momentum(p, lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"]),
    "nesterov": lambda p, s: optim.Nesterov(p, lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"]),
    "adagrad": lambda p, s: optim.Adagrad(p, lr=s["lr"], weight_decay=s["weight_decay"]),
    "rmsprop": lambda p, s: optim.RMSprop(p, lr=s["lr"], weight_decay=s["weight_decay"]),
    "adadelta": lambda p, s: optim.Adadelta(p, lr=s["lr"], weight_decay=s["weight_decay"]),
    "adam": lambda p, s: optim.Adam(p, lr=s["lr"], weight_decay=s["weight_decay"]),
    "adamw": lambda p, s: optim.AdamW(p, lr=s["lr"], weight_decay=s["weight_decay"]),
}


def make_optimizer(settings, params):
    """The optimizer named in the settings, with its learning rate and weight decay."""
    name = settings["optimizer"].lower()
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {settings['optimizer']!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, settings)


def make_train_loader(settings, data):
    transform = Compose([RandomShift(2), RandomRotation(10)]) if settings["augment"] and data.is_image else None
    dataset = TensorDataset(data.x_train, data.t_train, transform=transform)
    if settings["sampling"] == "replacement":  # the book: np.random.choice(train_size, batch_size) per step
        steps = settings["iterations_per_epoch"] or len(dataset) // settings["batch_size"]
        return DataLoader(dataset, settings["batch_size"], replacement=True,
                          num_samples=steps * settings["batch_size"])
    return DataLoader(dataset, settings["batch_size"], shuffle=True)


def _write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def train_run(dataset="mnist", model="mlp", out=None, resume=False, verbose=True, log=print, **overrides):
    """Train a preset on a dataset and write the run directory; returns a dict with the test
    accuracy, the run directory and the History. ``overrides`` are preset settings (lr=, epochs= ...)."""
    settings = resolve(model, overrides)
    settings["dataset"] = dataset
    out = out or os.path.join("runs", f"{dataset}-{model}-{time.strftime('%Y%m%d-%H%M%S')}")
    last = os.path.join(out, "last.npz")
    if resume:
        if not os.path.exists(last):
            raise FileNotFoundError(f"cannot resume: {last} does not exist (give --out the run directory to resume)")
        settings = {**load_checkpoint(last)["config"]["settings"], "epochs": settings["epochs"]}
    os.makedirs(out, exist_ok=True)

    data = load_data(dataset, settings["limit"], settings["seed"])
    net = net_config(settings, data)
    config = {"settings": settings, "net": net, "classes": data.classes}
    _write_json(os.path.join(out, "config.json"), config)
    network = build_model(net)
    optimizer = make_optimizer(settings, network.parameters())
    scheduler = make_scheduler(settings, optimizer)
    validation = settings["validation_split"] or None
    monitor = "val_accuracy" if validation else "loss"
    callbacks = [ModelCheckpoint(last, save_best_only=False),
                 ModelCheckpoint(os.path.join(out, "model.npz"), monitor=monitor, save_best_only=True)]
    if settings["patience"]:
        callbacks.append(EarlyStopping("val_loss" if validation else "loss", patience=settings["patience"]))
    if verbose:
        log(f"training {model} on {dataset}: {network.num_parameters():,} parameters, "
            f"{len(data.x_train):,} training samples{f' ({validation:.0%} held out for validation)' if validation else ''}")
    start = time.perf_counter()
    history = fit(network, make_train_loader(settings, data), loss=F.cross_entropy, optimizer=optimizer,
                  epochs=settings["epochs"], validation_split=validation, seed=settings["seed"], scheduler=scheduler,
                  clip_grad_norm=settings["clip_grad_norm"], callbacks=callbacks, verbose=verbose,
                  resume_from=last if resume else None, config=config)
    seconds = time.perf_counter() - start

    load_checkpoint(os.path.join(out, "model.npz"), model=network)
    report = test_report(network, data)
    write_outputs(out, history, report, data, settings, network, seconds)
    if verbose:
        log(f"test accuracy {report['accuracy']:.2%}. Run directory: {out}")
        for name in ("model.npz", "last.npz", "history.csv", "loss.png", "accuracy.png", "confusion.png",
                     "mistakes.png", "filters.png", "features.png", "summary.txt"):
            if os.path.exists(os.path.join(out, name)):
                log(f"  {os.path.join(out, name)}")
    return {"accuracy": report["accuracy"], "loss": report["loss"], "out": out, "history": history}


def test_report(network, data):
    """Loss, accuracy, predictions, confusion matrix and per-class accuracy on the test set."""
    test_loader = DataLoader(TensorDataset(data.x_test, data.t_test), batch_size=1000)
    result = evaluate(network, test_loader, loss=F.cross_entropy)
    proba = predict_proba(network, data.x_test, batch_size=1000)
    pred = proba.argmax(axis=1)
    cm = confusion_matrix(pred, data.t_test, len(data.classes))
    return {**result, "pred": pred, "confidence": proba.max(axis=1), "confusion": cm,
            "per_class": per_class_accuracy(cm)}


def write_outputs(out, history, report, data, settings, network, seconds):
    """history.csv/json, summary.txt and the plots (skipped with a note when matplotlib is missing)."""
    history.to_csv(os.path.join(out, "history.csv"))
    history.to_json(os.path.join(out, "history.json"))
    lines = [f"dataset: {settings['dataset']}", f"model: {settings['model']} "
             f"({network.num_parameters():,} parameters)", f"optimizer: {settings['optimizer']} lr {settings['lr']}",
             f"epochs: {len(history.loss)} ({seconds:.1f} s, {np.mean(history.time):.2f} s/epoch)",
             f"final train loss {history.loss[-1]:.4f}, train accuracy {history.accuracy[-1]:.2%}"]
    if history.val_accuracy and history.val_accuracy[-1] is not None:
        lines.append(f"best validation accuracy {max(v for v in history.val_accuracy if v is not None):.2%}")
    lines += [f"test {c}: {a:.2%}" for c, a in zip(data.classes, report["per_class"])]
    lines.append(f"test loss {report['loss']:.4f}")
    lines.append(f"test accuracy: {report['accuracy']:.4%}")
    atomic_write_text(os.path.join(out, "summary.txt"), "\n".join(lines) + "\n")
    try:
        write_plots(out, history, report, data, network)
    except ImportError as e:
        print(f"note: no plots written ({e})")


def write_plots(out, history, report, data, network):
    from . import viz
    viz.plot_curves({"train": history.loss, "validation": history.val_loss}, os.path.join(out, "loss.png"),
                    "cross-entropy loss", title="loss")
    viz.plot_curves({"train": history.accuracy, "validation": history.val_accuracy},
                    os.path.join(out, "accuracy.png"), "accuracy", title="accuracy")
    viz.plot_confusion(report["confusion"], data.classes, os.path.join(out, "confusion.png"))
    convs = [m for m in network.modules() if type(m).__name__ == "Conv2d"]
    if convs and data.is_image:
        write_cnn_pictures(out, network, convs[0], data)
    wrong = np.flatnonzero(report["pred"] != data.t_test)[:40]
    if data.is_image and len(wrong):
        titles = [f"true {data.classes[data.t_test[i]]}\npred {data.classes[report['pred'][i]]}" for i in wrong]
        viz.plot_image_grid(data.x_test[wrong, 0], os.path.join(out, "mistakes.png"), titles, cols=10,
                            title=f"{int((report['pred'] != data.t_test).sum())} misclassified test images "
                                  f"(first {len(wrong)})")


def write_cnn_pictures(out, network, first_conv, data):
    """filters.png (the first convolution's kernels) and features.png (what the first
    convolutional layers make of the first test image, channel by channel)."""
    from . import viz
    weights = first_conv.weight.data  # (out, in, kh, kw): show the first input channel
    viz.plot_image_grid(weights[:, 0], os.path.join(out, "filters.png"), cols=10, symmetric=True,
                        title=f"first-layer filters ({weights.shape[0]} of {weights.shape[2]}x{weights.shape[3]})")
    x = data.x_test[:1]
    maps, titles = [], []
    network.eval()
    with no_grad():
        h = from_numpy(x)
        for layer in (network if hasattr(network, "__iter__") else [network]):
            h = layer(h)
            if h.ndim == 4 and type(layer).__name__ in ("ReLU", "ResidualBlock", "MaxPool2d"):
                name = f"{len(maps) + 1}: {type(layer).__name__} {tuple(h.shape[1:])}"
                maps.append(h.data[0, :8])
                titles += [name] + [""] * (len(h.data[0, :8]) - 1)
    if maps:
        viz.plot_image_grid([m for layer in maps for m in layer], os.path.join(out, "features.png"), titles=titles, cols=8,
                            title=f"feature maps of test image 0 (true {data.classes[data.t_test[0]]}), "
                                  "first 8 channels per layer")


# ----------------------------------------------------------------------------- using a trained model

def model_path(run_dir_or_model):
    """The checkpoint file of a run directory (its model.npz), or the file itself."""
    path = os.fspath(run_dir_or_model)
    if os.path.isdir(path):
        path = os.path.join(path, "model.npz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model at {path}: give a run directory (with model.npz) or a .npz checkpoint")
    return path


def load_model(run_dir_or_model):
    """(network in eval mode, config) from a run directory or checkpoint written by ``train_run``."""
    path = model_path(run_dir_or_model)
    checkpoint = load_checkpoint(path)
    config = checkpoint.get("config") or {}
    if "net" not in config:
        raise ValueError(f"{path} has no network description (config['net']); it was not written by nnscratch train")
    network = build_model(config["net"])
    network.load_state_dict(checkpoint["model"])
    return network.eval(), config


def history_of(run_dir_or_model):
    """The History stored in a checkpoint."""
    return History.from_dict(load_checkpoint(model_path(run_dir_or_model))["history"])
