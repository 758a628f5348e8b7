"""History: what happened in each epoch of training (losses, metrics, learning rate, time).

``history.loss[i]`` (or ``history.history["loss"][i]``, as in Keras) is the mean training loss of
epoch ``history.epoch[i]`` (epochs count from 1), ``accuracy`` and any other metric its value over
that epoch's batches, ``val_loss`` / ``val_accuracy`` / ``val_<metric>`` the validation numbers
(None without validation), ``lr`` the learning rate of parameter group 0 during that epoch and
``time`` its wall-clock seconds.
"""

import csv
import io
import json
import math

from ..fileio import atomic_write_text

FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time")


def resolve_mode(monitor, mode):
    """'min' or 'max' for ``monitor``: mode 'auto' means 'max' for accuracies, 'min' otherwise."""
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


class History:
    """Per-epoch records of a training run: ``history`` is a dict {log name: list of per-epoch
    values}, all lists equally long, as Keras's ``History.history``. Its columns are ``FIELDS``
    (always, in that order) and then any other logged name (more metrics such as
    ``top5_accuracy`` / ``val_top5_accuracy``). Each column is also an attribute
    (``h.loss is h.history["loss"]``) and an item (``h["loss"]``)."""

    def __init__(self, names=FIELDS):
        self.history = {name: [] for name in (*FIELDS, *names)}

    def __getattr__(self, name):
        history = self.__dict__.get("history", {})
        if name in history:
            return history[name]
        raise AttributeError(f"History has no {name!r}; its columns are {list(history)}")

    def __setattr__(self, name, value):
        if name != "history" and name in self.__dict__.get("history", {}):
            self.history[name] = value  # h.loss = [...] replaces the column
        else:
            super().__setattr__(name, value)

    def __getitem__(self, name):
        return self.history[name]

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        last = {name: values[-1] for name, values in self.history.items()} if len(self) else {}
        return f"History({len(self)} epochs, last={last})"

    @property
    def names(self):
        """The column names: ``FIELDS``, then the other logged names in the order they appeared."""
        return list(self.history)

    def append(self, row):
        """Add one epoch: ``row`` maps names to values. A name not seen before becomes a new column
        (None for the earlier epochs); a column missing from ``row`` gets None."""
        n = len(self)
        for name in row:
            self.history.setdefault(name, [None] * n)
        for name, values in self.history.items():
            values.append(row.get(name))

    def as_dict(self):
        """{name: list of per-epoch values} (copies of the lists)."""
        return {name: list(values) for name, values in self.history.items()}

    @classmethod
    def from_dict(cls, data):
        """The History that ``as_dict()`` (or a checkpoint's ``"history"``) describes."""
        lengths = {len(values) for values in data.values()}
        if len(lengths) > 1:
            raise ValueError(f"History.from_dict: the fields have different lengths {sorted(lengths)}")
        history = cls(data)
        n = len(data["epoch"])
        for name, values in history.history.items():
            values.extend(data.get(name, [None] * n))
        return history

    def rows(self):
        """One dict per epoch, {name: value}."""
        return [dict(zip(self.history, values)) for values in zip(*self.history.values())]

    def best(self, monitor="val_loss", mode="auto"):
        """(epoch, value) of the best value of ``monitor`` ('min' or 'max'; 'auto' is 'max' for
        accuracies); epochs where it is None or nan are skipped."""
        values = [(v, e) for e, v in zip(self.epoch, self.history.get(monitor, []))
                  if v is not None and not math.isnan(v)]
        if not values:
            raise ValueError(f"History.best: no recorded values of {monitor!r}")
        value, epoch = (min if resolve_mode(monitor, mode) == "min" else max)(values, key=lambda ve: ve[0])
        return epoch, value

    def to_csv(self, path):
        """Write a CSV file (header: the column names, one row per epoch; None as an empty cell), atomically."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, self.names)
        writer.writeheader()
        writer.writerows(self.rows())
        return atomic_write_text(path, buffer.getvalue())

    def to_json(self, path):
        """Write ``as_dict()`` as a JSON file, atomically."""
        return atomic_write_text(path, json.dumps(self.as_dict(), indent=1))
