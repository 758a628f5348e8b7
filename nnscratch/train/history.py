"""History: what happened in each epoch of training (losses, accuracies, learning rate, time).

``history.loss[i]`` is the mean training loss of epoch ``history.epoch[i]`` (epochs count from 1),
``val_loss`` / ``val_accuracy`` the validation numbers (None without validation), ``lr`` the
learning rate of parameter group 0 during that epoch and ``time`` its wall-clock seconds.
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
    """Per-epoch records of a training run: one list per field of ``FIELDS``, all equally long."""

    def __init__(self):
        for name in FIELDS:
            setattr(self, name, [])

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        last = {name: getattr(self, name)[-1] for name in FIELDS} if len(self) else {}
        return f"History({len(self)} epochs, last={last})"

    def append(self, row):
        """Add one epoch: ``row`` maps field names to values (missing fields become None)."""
        for name in FIELDS:
            getattr(self, name).append(row.get(name))

    def as_dict(self):
        """{field: list of per-epoch values} (copies of the lists)."""
        return {name: list(getattr(self, name)) for name in FIELDS}

    @classmethod
    def from_dict(cls, data):
        """The History that ``as_dict()`` (or a checkpoint's ``"history"``) describes."""
        history = cls()
        lengths = {len(data[name]) for name in FIELDS if name in data}
        if len(lengths) > 1:
            raise ValueError(f"History.from_dict: the fields have different lengths {sorted(lengths)}")
        n = len(data["epoch"])
        for name in FIELDS:
            setattr(history, name, list(data.get(name, [None] * n)))
        return history

    def rows(self):
        """One dict per epoch, {field: value}."""
        return [dict(zip(FIELDS, values)) for values in zip(*(getattr(self, n) for n in FIELDS))]

    def best(self, monitor="val_loss", mode="auto"):
        """(epoch, value) of the best value of ``monitor`` ('min' or 'max'; 'auto' is 'max' for
        accuracies); epochs where it is None or nan are skipped."""
        values = [(v, e) for e, v in zip(self.epoch, getattr(self, monitor))
                  if v is not None and not math.isnan(v)]
        if not values:
            raise ValueError(f"History.best: no recorded values of {monitor!r}")
        value, epoch = (min if resolve_mode(monitor, mode) == "min" else max)(values, key=lambda ve: ve[0])
        return epoch, value

    def to_csv(self, path):
        """Write a CSV file (header ``FIELDS``, one row per epoch; None as an empty cell), atomically."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, FIELDS)
        writer.writeheader()
        writer.writerows(self.rows())
        return atomic_write_text(path, buffer.getvalue())

    def to_json(self, path):
        """Write ``as_dict()`` as a JSON file, atomically."""
        return atomic_write_text(path, json.dumps(self.as_dict(), indent=1))
