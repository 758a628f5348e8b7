"""The parts of a run its settings name: the optimizer, the learning-rate schedule, the train
loader and the number of threads."""

import os

from .. import optim
from ..data import DataLoader, TensorDataset
from ..data.transforms import Compose, RandomRotation, RandomShift
from ..train.callbacks import Callback

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
    """The training batches: shuffled each epoch, or (``sampling="replacement"``) drawn with
    replacement as the book does, with random shifts and rotations when ``augment`` is set."""
    transform = Compose([RandomShift(2), RandomRotation(10)]) if settings["augment"] and data.is_image else None
    dataset = TensorDataset(data.x_train, data.t_train, transform=transform)
    if settings["sampling"] == "replacement":  # the book: np.random.choice(train_size, batch_size) per step
        steps = settings["iterations_per_epoch"] or len(dataset) // settings["batch_size"]
        return DataLoader(dataset, settings["batch_size"], replacement=True,
                          num_samples=steps * settings["batch_size"])
    return DataLoader(dataset, settings["batch_size"], shuffle=True)


def thread_count(threads, comm=None):
    """The ``threads`` setting as a number: "cores" is one thread per core, shared by the MPI ranks."""
    if threads != "cores":
        return int(threads)
    return max(1, (os.cpu_count() or 1) // (1 if comm is None else comm.size))


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
