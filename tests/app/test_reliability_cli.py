"""The command line says what it did: a diverging run is warned about, a --limit beyond the data is
reported, and warnings are one line each."""

import warnings

import numpy as np
import pytest

from nnscratch import manual_seed, nn, optim
from nnscratch import functional as F
from nnscratch.app import report
from nnscratch.cli import main
from nnscratch.data import DataLoader, TensorDataset, toy
from nnscratch.train import fit


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    monkeypatch.setattr(report, "write_plots", lambda *args: None)


def _spirals(tmp_path, *options):
    return main(["train", "spirals", "--hidden", "32", "--out", str(tmp_path / "run"), "--quiet", *options])


def test_a_diverging_run_is_warned_about_in_one_line(tmp_path, capsys):
    assert _spirals(tmp_path, "--lr", "1000", "--epochs", "2") == 0  # finite, but the loss grows ~1e6 times
    err = capsys.readouterr().err
    assert err.count("nnscratch: warning: the training loss grew from") == 1, err
    assert "training is diverging" in err and "try a lower one" in err
    assert "Warning" not in err and ".py:" not in err  # no category or source line


def test_a_run_that_learns_gets_no_warning(tmp_path, capsys):
    assert _spirals(tmp_path, "--epochs", "3") == 0
    assert capsys.readouterr().err == ""


def _spiral_fit(lr, epochs=2):
    x, t = toy.spirals(n=400, seed=0)
    manual_seed(0)  # the initial weights, whatever ran before
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3))
    loader = DataLoader(TensorDataset(x, t), batch_size=50, shuffle=True)
    return fit(model, loader, loss=F.cross_entropy, optimizer=optim.SGD(model.parameters(), lr=lr), epochs=epochs,
               seed=0, verbose=False)


def test_fit_warns_when_the_loss_grows_a_hundredfold():
    with pytest.warns(RuntimeWarning, match="the training loss grew from"):
        history = _spiral_fit(lr=300.0)
    assert np.isfinite(history.loss).all() and history.loss[0] > 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _spiral_fit(lr=0.1)


def test_a_limit_beyond_the_data_says_so(tmp_path, capsys):
    assert _spirals(tmp_path, "--limit", "5000", "--epochs", "1") == 0
    assert ("nnscratch: warning: --limit 5,000 is more than the 1,000 training samples of spirals; "
            "training on all 1,000") in capsys.readouterr().err
    assert _spirals(tmp_path / "b", "--limit", "1000", "--epochs", "1") == 0
    assert capsys.readouterr().err == ""
