"""Callbacks: code that runs at fixed points of ``fit`` (Keras's hooks, Keras's semantics).

Each hook receives the ``Trainer`` first. ``logs`` of ``on_epoch_end`` hold the epoch's
History row (epoch, loss, accuracy, val_loss, val_accuracy, lr, time, then any other metric and
its val_ value; ``trainer.log_names`` lists the keys); ``logs`` of ``on_batch_end`` hold the
running values so far (loss and each metric), batch_loss and size.
"""

import csv
import json
import math
import numbers
import os
import shutil
import sys
import time
import warnings

import numpy as np

from ..serialization import save
from .checkpoint import checkpoint_dict
from .history import FIELDS, resolve_mode


def _log_names(trainer):
    """The keys of the trainer's epoch logs (FIELDS for a trainer that does not say)."""
    return getattr(trainer, "log_names", FIELDS)


class Callback:
    """Base class with do-nothing hooks; override the ones you need. In a data-parallel run
    (``fit(comm=...)``) callbacks with ``rank_zero_only = True`` (output: progress, files) run on
    rank 0 only; the others run on every rank and see the same, all-rank logs."""

    rank_zero_only = False

    def on_train_begin(self, trainer):
        """Before the first epoch (after a resume has restored the trainer's state)."""

    def on_epoch_begin(self, trainer, epoch):
        """Before epoch ``epoch`` (counted from 1)."""

    def on_batch_end(self, trainer, batch, logs):
        """After the optimizer step of batch ``batch`` (from 1) of the current epoch."""

    def on_epoch_end(self, trainer, epoch, logs):
        """After validation and the scheduler step; may set ``trainer.stop_training = True``."""

    def on_train_end(self, trainer):
        """After the last epoch, also when training stopped early or with an error."""


class _Monitor:
    """The best value so far of one logged quantity; 'val_*' falls back to '*' without validation."""

    def __init__(self, monitor, mode, min_delta=0.0):
        self.requested, self.requested_mode, self.min_delta = monitor, mode, abs(min_delta)
        resolve_mode(monitor, mode)  # reject a bad mode now, not at the first epoch

    def reset(self, trainer, owner):
        self.name = self.requested
        if self.name.startswith("val_") and trainer.val_loader is None:
            self.name = self.name[len("val_"):]
            warnings.warn(f"{owner}: there is no validation data, so {self.requested!r} is never computed; "
                          f"monitoring {self.name!r} instead (give fit a val_loader or validation_split)",
                          stacklevel=4)
        self.mode = resolve_mode(self.name, self.requested_mode)
        self.best = math.inf if self.mode == "min" else -math.inf
        self._warned = False

    def value(self, logs, owner):
        value = logs.get(self.name)
        if value is None and not self._warned:
            self._warned = True
            warnings.warn(f"{owner}: {self.name!r} is not in the logs (available: "
                          f"{[k for k, v in logs.items() if v is not None]}); skipping", stacklevel=4)
        return value

    def improves(self, value):
        """Whether ``value`` beats the best by more than min_delta (nan never does)."""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


def _snapshot(model):
    return {name: tensor.data.copy() for name, tensor in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    The best value starts at ±inf; an epoch that improves on it resets the wait, any other
    increments it, and training stops at the epoch where the wait reaches ``patience`` (best
    epoch + patience). ``restore_best_weights`` loads the best epoch's weights at the end of
    training. ``mode`` 'auto' maximises accuracies and minimises everything else.
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto", restore_best_weights=False):
        self._monitor = _Monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights

    @property
    def best(self):
        """The best value of the monitored quantity so far."""
        return self._monitor.best

    def on_train_begin(self, trainer):
        self._monitor.reset(trainer, "EarlyStopping")
        self.wait, self.best_epoch, self.stopped_epoch, self.best_weights = 0, None, None, None

    def on_epoch_end(self, trainer, epoch, logs):
        value = self._monitor.value(logs, "EarlyStopping")
        if value is None:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _snapshot(trainer.model)
        self.wait += 1
        if self._monitor.improves(value):
            self._monitor.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _snapshot(trainer.model)
        elif self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer):
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save a checkpoint (see ``train.checkpoint``) after every epoch, or with ``save_best_only``
    only after epochs where ``monitor`` improved. ``path`` may contain fields such as
    ``"ckpt-{epoch:03d}.npz"``. Weights that are not all finite are never saved."""

    rank_zero_only = True

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto"):
        self.path, self.save_best_only = os.fspath(path), save_best_only
        self._monitor = _Monitor(monitor, mode)
        self.saved = []  # (epoch, path) of every file written

    def on_train_begin(self, trainer):
        if self.save_best_only:
            self._monitor.reset(trainer, "ModelCheckpoint")
            recorded = getattr(trainer.history, self._monitor.name, [])  # a resumed run's best so far
            if any(v is not None for v in recorded):
                self._monitor.best = trainer.history.best(self._monitor.name, self._monitor.mode)[1]

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_best_only:
            value = self._monitor.value(logs, "ModelCheckpoint")
            if value is None or not self._monitor.improves(value):
                return
        if not all(np.isfinite(p.data).all() for p in trainer.model.parameters()):
            warnings.warn(f"ModelCheckpoint: the weights after epoch {epoch} are not finite; "
                          "not saving them (the previous checkpoint is kept)", stacklevel=3)
            return
        if self.save_best_only:
            self._monitor.best = value
        path = self.path.format(**logs)
        save(checkpoint_dict(trainer, epoch), path)
        self.saved.append((epoch, path))


class _FileLogger(Callback):
    """Append one record per epoch to a file, flushed at once; ``append=False`` starts a new file."""

    rank_zero_only = True

    def __init__(self, path, append=False):
        self.path, self.append = os.fspath(path), append
        self._file = None

    def on_train_begin(self, trainer):
        fresh = not (self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0)
        self._file = open(self.path, "a" if self.append else "w", newline="")
        self._names = _log_names(trainer)
        self._start(fresh)

    def _start(self, fresh):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        self._write({name: logs.get(name) for name in self._names})
        self._file.flush()

    def on_train_end(self, trainer):
        if self._file is not None:
            self._file.close()
            self._file = None


class CSVLogger(_FileLogger):
    """A CSV file with a header row (the History columns: ``trainer.log_names``) and one row per epoch."""

    def _start(self, fresh):
        self._writer = csv.DictWriter(self._file, self._names)
        if fresh:
            self._writer.writeheader()

    def _write(self, row):
        self._writer.writerow(row)


class JSONLinesLogger(_FileLogger):
    """A JSON Lines file: one object {field: value} per epoch."""

    def _write(self, row):
        self._file.write(json.dumps(row) + "\n")


_NOT_SUMMARISED = ("epoch", "lr", "time", "batch_loss", "size")


def _summary(logs):
    """The losses and metrics in ``logs`` that have a value, as "loss 0.1234 - accuracy 0.9876"."""
    parts = [f"{name} {value:.4f}" for name, value in logs.items()
             if name not in _NOT_SUMMARISED and isinstance(value, numbers.Real)]
    return " - ".join(parts)


def _short_summary(logs):
    """The running loss and first metric of a batch's ``logs``, short enough for an 80-column
    progress bar: "loss 0.1234 acc 0.9876"."""
    parts = [(name, value) for name, value in logs.items()
             if name not in _NOT_SUMMARISED and isinstance(value, numbers.Real)][:2]
    return " ".join(f"{_SHORT_NAMES.get(name, name)} {value:.4f}" for name, value in parts)


_SHORT_NAMES = {"accuracy": "acc"}

# The bar's line without tqdm's rate (the epoch's full line ends with samples/s): at 80 columns the
# description, counts, times and the short postfix leave about 20 columns for the bar itself.
_BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


class ProgressBar(Callback):
    """Progress of each epoch: with tqdm on a terminal, a bar "epoch 3/20" over the batches, as wide
    as the terminal, showing the running loss and accuracy, replaced at the epoch's end by one full
    line: every loss and metric, validation's too, the learning rate, the time and samples/s. Without
    a terminal or tqdm, only the full lines, on stdout. ``fit(verbose=True)`` adds one."""

    rank_zero_only = True

    def __init__(self, use_tqdm="auto"):
        self.use_tqdm = use_tqdm
        self._bar = None

    def _tqdm(self):
        if self.use_tqdm is False or (self.use_tqdm == "auto" and not sys.stderr.isatty()):
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm

    def on_train_begin(self, trainer):
        self._tqdm_class = self._tqdm()

    def on_epoch_begin(self, trainer, epoch):
        self._start, self._seen = time.perf_counter(), 0
        self._shown = self._start
        if self._tqdm_class is not None:
            self._bar = self._tqdm_class(total=len(trainer.train_loader), desc=f"epoch {epoch}/{trainer.epochs}",
                                         unit="batch", leave=False, file=sys.stderr, bar_format=_BAR_FORMAT,
                                         ncols=shutil.get_terminal_size().columns - 1)

    def _rate(self):
        return self._seen / max(time.perf_counter() - self._start, 1e-9)

    def on_batch_end(self, trainer, batch, logs):
        self._seen += logs["size"]
        if self._bar is None:
            return
        now = time.perf_counter()
        if now - self._shown > 0.1:  # formatting every batch would cost more than the bar is worth
            self._shown = now
            self._bar.set_postfix_str(_short_summary(logs))
        self._bar.update(1)

    def on_epoch_end(self, trainer, epoch, logs):
        line = (f"epoch {epoch}/{trainer.epochs} - {_summary(logs)} - lr {logs['lr']:.4g} - {logs['time']:.2f}s "
                f"({self._rate():.0f} samples/s)")
        if self._bar is None:
            print(line, flush=True)
            return
        self._bar.refresh()  # the epoch's last count, then the bar gives way to the full line
        self._bar.close()
        self._bar = None
        self._tqdm_class.write(line, file=sys.stderr)

    def on_train_end(self, trainer):
        if self._bar is not None:  # training stopped inside an epoch
            self._bar.close()
            self._bar = None


class MetricsPublisher(Callback):
    """Hand training progress to ``publish(event)`` as it happens (the playground's live curves).

    Events (dicts): {"type": "begin", "epochs", "initial_epoch", "batches"} once; during an epoch,
    at most once every ``interval`` seconds, {"type": "batch", "epoch", "batch", "batches", "loss",
    "accuracy" (running means), "samples_per_s"}; after each epoch {"type": "epoch", the History row
    (epoch, loss, accuracy, val_loss, val_accuracy, lr, time and any other metrics), "samples_per_s"};
    {"type": "end", "epochs"} at the end. ``publish`` runs in the training thread, so it must be quick.
    """

    rank_zero_only = True

    def __init__(self, publish, interval=0.25):
        self.publish, self.interval = publish, interval

    def on_train_begin(self, trainer):
        self.publish({"type": "begin", "epochs": trainer.epochs, "initial_epoch": trainer.initial_epoch,
                      "batches": len(trainer.train_loader)})

    def on_epoch_begin(self, trainer, epoch):
        self._start = self._sent = self._last = time.perf_counter()
        self._seen = 0

    def _rate(self):  # training samples per second of this epoch, validation not counted
        return self._seen / max(self._last - self._start, 1e-9)

    def on_batch_end(self, trainer, batch, logs):
        self._seen += logs["size"]
        now = self._last = time.perf_counter()
        if now - self._sent >= self.interval:
            self._sent = now
            self.publish({"type": "batch", "epoch": trainer.epoch, "batch": batch,
                          "batches": len(trainer.train_loader), "loss": logs["loss"],
                          "accuracy": logs.get("accuracy"), "samples_per_s": self._rate()})

    def on_epoch_end(self, trainer, epoch, logs):
        self.publish({"type": "epoch", **{name: logs.get(name) for name in _log_names(trainer)},
                      "samples_per_s": self._rate()})

    def on_train_end(self, trainer):
        self.publish({"type": "end", "epochs": len(trainer.history)})
