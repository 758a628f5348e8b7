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
import warnings
from dataclasses import dataclass

import numpy as np

from . import functional as F
from . import optim
from .data import DataLoader, TensorDataset, toy
from .data.mnist import DATASETS as IMAGE_DATASETS
from .data.mnist import load_mnist
from .data.transforms import Compose, RandomRotation, RandomShift
from .backend import manual_seed
from .models import build_model
from .presets import resolve
from .train import NonFiniteLossError, evaluate, fit, load_checkpoint, predict_proba
from .train.callbacks import Callback, EarlyStopping, ModelCheckpoint
from .fileio import atomic_write_text, remove_stale_parts
from .train.history import History
from .tensor import Tensor, from_numpy, no_grad
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
        if limit > len(x):
            warnings.warn(f"--limit {limit:,} is more than the {len(x):,} training samples of {name}; "
                          f"training on all {len(x):,}", stacklevel=2)
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
    elif arch == "dbn":
        config = {"arch": "dbn", "sizes": [int(np.prod(data.x_train.shape[1:])), *settings["hidden"],
                                           len(data.classes)], "dropout": settings["dropout"]}
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


def train_run(dataset=None, model=None, out=None, resume=False, fine_tune_from=None, verbose=True, log=print,
              callbacks=(), comm=None, **overrides):
    """Train a preset on a dataset and write the run directory; returns a dict with the test
    accuracy, the run directory and the History. ``overrides`` are preset settings (lr=, epochs= ...);
    ``callbacks`` are added to the run's own (e.g. a MetricsPublisher for the live playground).
    ``comm``: a communicator (``nnscratch.distributed``) for data-parallel training over its ranks,
    which must all be given the same arguments; rank 0 alone prints and writes the run directory.

    ``resume=True`` continues the run in ``out`` exactly as it was trained: ``dataset``, ``model`` and
    every override must be left out (None) or equal the run's own; only ``epochs`` may be larger, to
    extend it (the learning-rate schedule then becomes that of a run planned for the new length).
    ``fine_tune_from`` (a run directory or checkpoint) starts a new run whose network and settings
    are that run's, its weights the starting point, and the given overrides applied."""
    extra_callbacks = list(callbacks)
    given = {k: v for k, v in overrides.items() if v is not None}
    if resume and fine_tune_from is not None:
        raise ValueError("--resume continues a run and --fine-tune-from starts a new one: give one of them")
    out = out or os.path.join("runs", f"{dataset or 'mnist'}-{model or 'mlp'}-{time.strftime('%Y%m%d-%H%M%S')}")
    if comm is not None:
        out = comm.bcast(out)  # rank 0's clock names the directory
    last = os.path.join(out, "last.npz")
    initial = None  # the state dict the network starts from when fine-tuning
    if resume:
        settings, completed = resume_settings(last, dataset, model, given)
        if verbose:
            log(f"resuming {out} from epoch {completed} of {settings['epochs']}")
    elif fine_tune_from is not None:
        settings, initial = fine_tune_settings(fine_tune_from, dataset, model, given)
    else:
        settings = resolve(model or "mlp", overrides)
        settings["dataset"] = dataset or "mnist"
    check_dbn_options(settings)
    dataset, model = settings["dataset"], settings["model"]
    writer = comm is None or comm.rank == 0
    if comm is not None:
        from .distributed import check_same
        check_same(comm, {**settings, "out": out, "resume": resume}, "run settings")
        verbose = verbose and writer
    if writer:
        os.makedirs(out, exist_ok=True)
        remove_stale_parts(out)  # temporaries of a write that a kill interrupted

    data = load_data(dataset, settings["limit"], settings["seed"])
    if comm is not None:
        from .distributed.communicator import check_same_data
        check_same_data(comm, [data.x_train, data.t_train])
    net = net_config(settings, data)
    config = {"settings": settings, "net": net, "classes": data.classes}
    if writer:
        _write_json(os.path.join(out, "config.json"), config)
    manual_seed(settings["seed"])  # the initial weights depend on --seed alone
    network = build_model(net)
    if initial is not None:
        load_weights(network, initial, settings["fine_tune_from"])
    elif settings["arch"] == "dbn" and not resume:  # a resumed run continues from last.npz instead
        pretrain_dbn(settings, data, network, out if writer else None, verbose, log)
    optimizer = make_optimizer(settings, network.parameters())
    scheduler = make_scheduler(settings, optimizer)
    validation = settings["validation_split"] or None
    monitor = "val_accuracy" if validation else "loss"
    # last.npz is the run's commit point, so it is written last: a kill between the two writes leaves
    # last.npz at the previous epoch, and the resumed run repeats that epoch and writes model.npz again.
    callbacks = [ModelCheckpoint(os.path.join(out, "model.npz"), monitor=monitor, save_best_only=True),
                 ModelCheckpoint(last, save_best_only=False)]
    if resume:
        callbacks.append(ScheduleLength(settings["epochs"]))
    if settings["patience"]:
        callbacks.append(EarlyStopping("val_loss" if validation else "loss", patience=settings["patience"]))
    callbacks += extra_callbacks
    if verbose:
        log(f"training {model} on {dataset}: {network.num_parameters():,} parameters, "
            f"{len(data.x_train):,} training samples{f' ({validation:.0%} held out for validation)' if validation else ''}"
            + (f", data-parallel over {comm.size} rank{'s' if comm.size > 1 else ''}" if comm is not None else ""))
    start = time.perf_counter()
    try:
        history = fit(network, make_train_loader(settings, data), loss=F.cross_entropy, optimizer=optimizer,
                      epochs=settings["epochs"], validation_split=validation, seed=settings["seed"],
                      scheduler=scheduler, clip_grad_norm=settings["clip_grad_norm"], callbacks=callbacks,
                      verbose=verbose, resume_from=last if resume else None, config=config, comm=comm,
                      threads=thread_count(settings["threads"], comm))
    except NonFiniteLossError as e:
        if resume:  # the hint's lower learning rate needs a new run
            e.args = (f"{e} A resumed run keeps its learning rate: to continue with another, start a new run "
                      f"from this one's weights with --fine-tune-from {out} --lr LR --out NEW_DIR",)
        raise
    seconds = time.perf_counter() - start
    if not writer:
        return {"accuracy": None, "loss": None, "out": out, "history": history}

    load_checkpoint(os.path.join(out, "model.npz"), model=network)
    report = test_report(network, data)
    write_outputs(out, history, report, data, settings, network, seconds)
    if verbose:
        log(f"test accuracy {report['accuracy']:.2%}. Run directory: {out}")
        for name in ("model.npz", "last.npz", "history.csv", "loss.png", "accuracy.png", "confusion.png",
                     "mistakes.png", "filters.png", "features.png", "rbm_filters.png", "rbm_samples.png",
                     "summary.txt"):
            if os.path.exists(os.path.join(out, name)):
                log(f"  {os.path.join(out, name)}")
    return {"accuracy": report["accuracy"], "loss": report["loss"], "out": out, "history": history}


def _option(key, value):
    """How the command line spells a setting: ``--lr 0.5``, ``--hidden 64,32``, ``dataset fashion-mnist``."""
    if key == "dataset":
        return f"dataset {value}"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}")


def resume_settings(last, dataset, model, given):
    """(settings, completed epochs) of the run whose checkpoint is ``last``, for ``--resume``.
    Everything asked must equal the run's own settings, except ``epochs``, which may extend it."""
    out = os.path.dirname(last)
    if not os.path.exists(last):
        raise FileNotFoundError(f"cannot resume: {last} does not exist (give --out the run directory to resume)")
    checkpoint = load_checkpoint(last)
    settings = (checkpoint.get("config") or {}).get("settings")
    if not isinstance(settings, dict):
        raise ValueError(f"cannot resume: {last} holds no run settings; it was not written by nnscratch train")
    completed = checkpoint["epoch"]
    asked = {"dataset": dataset, "model": model, **given}
    changed = {k: v for k, v in asked.items() if v is not None and k != "epochs" and settings.get(k) != v}
    if changed:
        was = ", ".join(_option(k, settings.get(k)) for k in changed)
        fine_tune = "" if "model" in changed else (  # another network cannot start from these weights
            f", or fine-tune this run's weights in a new run directory: nnscratch train "
            f"{' '.join(v if k == 'dataset' else _option(k, v) for k, v in changed.items())} "
            f"--fine-tune-from {out} --out NEW_DIR")
        raise ValueError(
            f"cannot resume {out} with {', '.join(_option(k, v) for k, v in changed.items())}: --resume continues "
            f"the run exactly as it was trained ({was}), and only --epochs may change, to extend it. For other "
            f"settings start a new run with another --out{fine_tune}")
    epochs = given.get("epochs", settings["epochs"])
    if epochs < completed:
        raise ValueError(f"cannot resume {out} with --epochs {epochs}: it has already trained {completed} epochs "
                         f"(--epochs is the number of the last epoch; give at least {completed})")
    return {**settings, "epochs": epochs}, completed


def fine_tune_settings(source, dataset, model, given):
    """(settings, initial state dict) of a new run that starts from the weights of ``source`` (a run
    directory or checkpoint): that run's settings, with ``dataset`` and the ``given`` overrides applied."""
    checkpoint = load_checkpoint(model_path(source))
    base = (checkpoint.get("config") or {}).get("settings")
    if not isinstance(base, dict):
        raise ValueError(f"cannot fine-tune from {source}: it holds no run settings (not written by nnscratch train)")
    if model is not None and model != base["model"]:
        raise ValueError(f"cannot fine-tune from {source} with --model {model}: the network is that run's "
                         f"({base['model']}); leave --model out, or train a {model} from scratch")
    inherited = {k: v for k, v in base.items() if k not in ("model", "dataset", "fine_tune_from")}
    settings = resolve(base["model"], {**inherited, **given})
    settings.update(dataset=dataset or base["dataset"], fine_tune_from=os.fspath(source))
    return settings, checkpoint["model"]


class ScheduleLength(Callback):
    """On a resumed run whose ``epochs`` was raised: the learning-rate schedule becomes the one of a
    run planned for ``epochs`` from the start (cosine decay reaches 0 at the new last epoch), so after
    epoch e the learning rate is what that longer run has after epoch e."""

    def __init__(self, epochs):
        self.epochs = epochs

    def on_train_begin(self, trainer):
        scheduler = trainer.scheduler
        if scheduler is not None and getattr(scheduler, "T_max", self.epochs) != self.epochs:
            scheduler.T_max = self.epochs
            scheduler._update_lr(scheduler.last_epoch)  # the closed form at the epoch reached


def thread_count(threads, comm=None):
    """The ``threads`` setting as a number: "cores" is one thread per core, shared by the MPI ranks."""
    if threads != "cores":
        return int(threads)
    return max(1, (os.cpu_count() or 1) // (1 if comm is None else comm.size))


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
             *([f"pre-training: {len(settings['hidden'])} RBMs, {settings['pretrain_epochs']} epochs each, "
                f"{'PCD' if settings['pcd'] else 'CD'}-{settings['cd_k']}, lr {settings['pretrain_lr']} "
                "(see pretrain.csv)"] if settings.get("arch") == "dbn" else []),
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


DBN_OPTIONS = ("pretrain_epochs", "cd_k", "pcd")


def check_dbn_options(settings):
    """--pretrain-epochs, --cd-k and --pcd belong to the dbn preset; elsewhere they are an error."""
    given = [k for k in DBN_OPTIONS if settings.get(k) is not None]
    if settings["arch"] != "dbn" and given:
        raise ValueError(f"--{given[0].replace('_', '-')} applies to the dbn preset only "
                         f"(nnscratch train --model dbn), not to {settings['model']}")


def pretrain_dbn(settings, data, network, out, verbose=True, log=print):
    """Greedy layer-wise pre-training of a DBN on the training images (no labels), its weights
    copied into ``network`` (the dbn architecture's MLP) for fine-tuning. Writes dbn.npz,
    pretrain.csv, rbm_filters.png and rbm_samples.png into ``out`` (unless None)."""
    from . import nn
    from .serialization import save
    sizes = [int(np.prod(data.x_train.shape[1:])), *settings["hidden"]]
    manual_seed(settings["seed"])
    dbn = nn.DBN(sizes)
    momentum = settings["pretrain_momentum"]
    start = time.perf_counter()
    histories = dbn.pretrain(data.x_train.reshape(len(data.x_train), -1), epochs=settings["pretrain_epochs"],
                             batch_size=settings["pretrain_batch_size"], lr=settings["pretrain_lr"], k=settings["cd_k"],
                             persistent=settings["pcd"], weight_decay=settings["pretrain_weight_decay"],
                             momentum=lambda epoch: 0.5 if epoch <= 5 else momentum, verbose=verbose, log=log)
    if verbose:
        log(f"pre-training done in {time.perf_counter() - start:.1f} s; fine-tuning by backpropagation")
    mlp = network[len(network) - 1]
    mlp.load_state_dict(dbn.to_mlp(len(data.classes), dropout=settings["dropout"]).state_dict())
    if out is None:
        return dbn
    save(dbn.state_dict(), os.path.join(out, "dbn.npz"))
    rows = ["layer,epoch,reconstruction_error,seconds"] + [
        f"{i + 1},{row['epoch']},{row['reconstruction_error']:.6f},{row['seconds']:.3f}"
        for i, history in enumerate(histories) for row in history]
    atomic_write_text(os.path.join(out, "pretrain.csv"), "\n".join(rows) + "\n")
    try:
        write_dbn_pictures(out, dbn, data)
    except ImportError as e:
        log(f"note: no RBM pictures written ({e})")
    return dbn


def write_dbn_pictures(out, dbn, data, n=10, steps=(1, 10, 100, 1000)):
    """rbm_filters.png: the first RBM's weights of 100 hidden units as images. rbm_samples.png: ``n``
    Gibbs chains in the top RBM, started from training images, brought down to pixels after each
    number of ``steps``."""
    from . import viz
    shape = data.x_train.shape[2:] if data.x_train.ndim == 4 else None
    if shape is None:
        return
    first = dbn.rbms[0].weight.data
    viz.plot_image_grid(first[:100].reshape(-1, *shape), os.path.join(out, "rbm_filters.png"), cols=10,
                        symmetric=True, title=f"first RBM: weights of {min(100, len(first))} of {len(first)} "
                                              "hidden units")
    manual_seed(0)
    start = data.x_train[:n].reshape(n, -1)
    rows = [start] + [dbn.sample(start=start, gibbs_steps=k) for k in steps]
    titles = [f"{name}" if j == 0 else "" for name in ["data"] + [f"{k} steps" for k in steps] for j in range(n)]
    viz.plot_image_grid(np.concatenate(rows).reshape(-1, *shape), os.path.join(out, "rbm_samples.png"),
                        titles=titles, cols=n, title="samples of the DBN: Gibbs chains in the top RBM, "
                                                     "started from the top row")


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
    if not isinstance(config, dict) or not isinstance(config.get("net"), dict):
        raise ValueError(f"{path} has no network description (config['net']); it was not written by nnscratch train")
    try:
        network = build_model(config["net"])
    except (TypeError, ValueError, KeyError, IndexError) as e:  # a description this version cannot build
        raise ValueError(f"{path}: its network description cannot be built ({type(e).__name__}: {e}); "
                         "it was written by another nnscratch version or is damaged") from None
    load_weights(network, checkpoint["model"], path)
    return network.eval(), config


def load_weights(network, state, path):
    """Load the model state ``state`` read from checkpoint ``path`` into ``network``, after checking
    what ``load_state_dict`` lets through (it casts dtypes and copies any value, as PyTorch's does):
    every entry must be a numeric array of the network's kind of dtype (floating point for weights
    and running statistics, integer for counters) with only finite values. Missing or unexpected
    entries and shape mismatches are refused too; every error names ``path`` and the entry."""
    if not isinstance(state, dict):
        raise ValueError(f"{path}: its model state is a {type(state).__name__}, not a dict of arrays; "
                         "the checkpoint is damaged (use an intact copy or train again)")
    own = network.state_dict()
    problems = []
    for key, value in state.items():
        if key not in own:
            continue  # reported by load_state_dict with the other missing and unexpected keys
        array = value.data if isinstance(value, Tensor) else value
        expected = np.dtype(own[key].dtype)
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
            problems.append(f"{key} is {type(array).__name__ if not isinstance(array, np.ndarray) else array.dtype}, "
                            "not an array of numbers")
        elif np.issubdtype(expected, np.floating) != np.issubdtype(array.dtype, np.floating):
            problems.append(f"{key} is {array.dtype} but the network needs {expected}")
        elif array.dtype.kind == "f" and not np.isfinite(array).all():
            bad = int(array.size - np.isfinite(array).sum())
            problems.append(f"{key} holds {bad:,} NaN or infinite value{'s' if bad > 1 else ''} of {array.size:,}")
    if problems:
        raise ValueError(f"{path}: the model state is unusable: {'; '.join(problems)}. The file is damaged or "
                         "was saved from a diverged run; use another checkpoint (e.g. an earlier run) or train again")
    try:
        network.load_state_dict(state)
    except (KeyError, ValueError) as e:
        message = e.args[0] if e.args else str(e)
        raise ValueError(f"{path} does not fit the network its config describes: {message}") from None


def history_of(run_dir_or_model):
    """The History stored in a checkpoint."""
    return History.from_dict(load_checkpoint(model_path(run_dir_or_model))["history"])
