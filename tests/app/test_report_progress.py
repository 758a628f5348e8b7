"""The progress line fits the terminal: a short postfix (loss, acc) on tqdm's bar during the epoch,
the full line (validation, lr, time) printed at each epoch's end."""

import io
import os
import re
import shutil
import sys

import numpy as np
import pytest

from nnscratch import functional as F
from nnscratch import nn, optim
from nnscratch.data import DataLoader, TensorDataset
from nnscratch.train import ProgressBar, fit

pytest.importorskip("tqdm")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("columns", [80, 120])
def test_the_bar_fits_the_terminal_and_each_epoch_ends_with_the_full_line(monkeypatch, capsys, columns):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *args: os.terminal_size((columns, 24)))
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((400, 2)).astype(np.float32), rng.integers(0, 2, 400)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    monkeypatch.setattr("nnscratch.train.callbacks.time.perf_counter", _clock())  # a postfix at every batch
    fit(model, DataLoader(TensorDataset(x, t), batch_size=10), loss=F.cross_entropy,
        optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=2, validation_split=0.25, verbose=False,
        callbacks=[ProgressBar(use_tqdm=True)])
    frames = [frame.strip() for frame in re.split(r"[\r\n]", terminal.getvalue()) if frame.strip()]
    shown = [frame for frame in frames if "loss" in frame and " - " not in frame]
    assert shown, frames
    for frame in shown:
        assert len(frame) <= columns - 1, frame
        assert re.search(r"loss \d\.\d{4} acc \d\.\d{4}\]$", frame), frame  # the postfix whole, not cut
    assert capsys.readouterr().out == ""
    lines = [frame for frame in frames if " - " in frame]  # the full lines, on the bar's stream
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    for line in lines:
        assert re.search(r"loss \S+ - accuracy \S+ - val_loss \S+ - val_accuracy \S+ - lr 0.01 - \S+s "
                         r"\(\d+ samples/s\)$", line), line


def _clock():
    now = [0.0]

    def perf_counter():
        now[0] += 0.2
        return now[0]
    return perf_counter
