"""nnscratch.train's extension points: metric objects (built-in and a user's own) through fit,
evaluate, History and the loggers; schedulers stepped as they declare; History as Keras's dict;
fit's arguments being Trainer's."""

import csv
import inspect
import json

import numpy as np
import pytest

import nnscratch.functional as F
from nnscratch import nn, optim
from nnscratch.data import DataLoader, TensorDataset
from nnscratch.distributed import Communicator, DistributedOptimizer, SingleProcessCommunicator
from nnscratch.optim import lr_scheduler
from nnscratch.train import History, Trainer, evaluate, fit, metrics
from nnscratch.train.callbacks import CSVLogger, JSONLinesLogger, ProgressBar
from nnscratch.train.history import FIELDS
from nnscratch.train.loop import _Tally

from test_train import loader, model_and_sgd


class MeanAbsoluteError(metrics.Metric):
    """The docs' example of a user metric: one class, one method."""

    name = "mae"

    def update(self, output, target):
        error = np.abs(metrics.as_array(output) - metrics.as_array(target))
        self.add(error.sum(), error.size)


SCORES = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]], dtype=np.float32)
LABELS = np.array([2, 0, 0, 0])  # top-1 hits: row 1; top-2 hits: rows 0, 1, 2 (a tie at the 2nd score)


def test_accuracy_and_top_k_accumulate_over_batches_and_reset():
    accuracy, top2 = metrics.Accuracy(), metrics.TopKAccuracy(2)
    assert accuracy.result() is None and top2.name == "top2_accuracy"
    for rows in (slice(0, 3), slice(3, 4)):
        accuracy.update(SCORES[rows], LABELS[rows])
        top2.update(SCORES[rows], np.eye(3)[LABELS[rows]])  # one-hot targets too
    assert accuracy.result() == 0.25 and top2.result() == 0.75
    assert metrics.TopKAccuracy(3).name == "top3_accuracy"
    top2.reset()
    assert top2.result() is None
    accuracy.update_state(LABELS, SCORES)  # Keras's order: y_true, y_pred
    assert accuracy.result() == 0.25


def test_metric_names_and_bad_metrics():
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert [metrics.get(n).k for n in ("top5_accuracy", "top_3_accuracy", "top_k_accuracy")] == [5, 3, 5]
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        metrics.get("f1")
    model, opt = model_and_sgd()
    with pytest.raises(ValueError, match="distinct names"):
        fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=1, metrics=["accuracy", "accuracy"])
    with pytest.raises(ValueError, match="distinct names"):
        fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=1, metrics=[MeanAbsoluteError("loss")])


def test_fit_logs_extra_metrics_in_history_loggers_and_progress(tmp_path, capsys):
    model, opt = model_and_sgd()
    history = fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=2, val_loader=loader(60, seed=1),
                  metrics=["accuracy", "top2_accuracy"],
                  callbacks=[ProgressBar(use_tqdm=False), CSVLogger(tmp_path / "log.csv"),
                             JSONLinesLogger(tmp_path / "log.jsonl")])
    names = [*FIELDS, "top2_accuracy", "val_top2_accuracy"]
    assert list(history.history) == names and history.names == names
    assert history.history["top2_accuracy"] is history.top2_accuracy is history["top2_accuracy"]
    assert all(a <= b <= 1 for a, b in zip(history.accuracy, history.top2_accuracy))
    assert all(a <= b <= 1 for a, b in zip(history.val_accuracy, history.val_top2_accuracy))
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert list(rows[0]) == names and [float(r["val_top2_accuracy"]) for r in rows] == history.val_top2_accuracy
    assert [json.loads(line) for line in open(tmp_path / "log.jsonl")] == history.rows()
    last_line = capsys.readouterr().out.splitlines()[-1]
    assert last_line.startswith("epoch 2/2 - loss ")
    assert "- top2_accuracy 1.0000 - val_top2_accuracy 1.0000 - lr" in last_line
    round_trip = History.from_dict(json.loads(json.dumps(history.as_dict())))
    assert round_trip.rows() == history.rows()


def test_a_user_metric_is_one_class_in_fit_and_evaluate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    data = DataLoader(TensorDataset(x, y), batch_size=16)
    model = nn.Linear(3, 1)
    history = fit(model, data, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=5,
                  val_loader=data, metrics=[MeanAbsoluteError()], verbose=False)
    assert history.mae[-1] < history.mae[0] and history.val_mae[-1] is not None
    assert history.accuracy == [None] * 5  # still a column, as before
    result = evaluate(model, data, loss=nn.MSELoss(), metrics=[MeanAbsoluteError()])
    model.eval()
    expected = np.abs(model(x).data - y).mean()
    assert result.keys() == {"loss", "mae"} and result["mae"] == pytest.approx(expected, rel=1e-5)


class Doubling(Communicator):
    """Two ranks that saw the same samples: all-reduce doubles every sum."""

    size = 2

    def __init__(self):
        self.reduced = []

    def allreduce_sum(self, array):
        self.reduced.append(array.copy())
        array *= 2
        return array


class ScoreHistogram(metrics.Metric):
    """A metric with more than two sums: how often each of 3 classes has the largest score; its result
    is the share of the most frequent one."""

    name, num_sums = "majority_share", 3

    def update(self, output, target):
        self.sums += np.bincount(metrics.labels(output), minlength=3)

    def result(self):
        return float(self.sums.max() / self.sums.sum()) if self.sums.any() else None


def test_metric_state_is_summed_across_ranks_in_one_allreduce():
    tally = _Tally([metrics.Accuracy(), metrics.TopKAccuracy(2), ScoreHistogram()])
    tally.add(0.5, SCORES, LABELS)
    before = tally.result()
    comm = Doubling()
    tally.reduce(comm)
    assert len(comm.reduced) == 1 and comm.reduced[0].size == 2 + 2 + 2 + 3
    assert tally.result() == before and tally.seen == 8 and before["majority_share"] == 0.5


def test_schedulers_are_stepped_as_they_declare():
    assert (lr_scheduler.StepLR.step_on, lr_scheduler.OneCycleLR.step_on,
            lr_scheduler.ReduceLROnPlateau.step_on) == ("epoch", "batch", "monitor")
    train = loader()
    model, opt = model_and_sgd(lr=1.0)
    per_batch = lr_scheduler.LambdaLR(opt, lambda step: 0.5 ** step)
    per_batch.step_on = "batch"
    history = fit(model, train, loss=F.cross_entropy, optimizer=opt, scheduler=per_batch, epochs=2, verbose=False)
    assert per_batch.last_epoch == 2 * len(train) and history.lr == [1.0, 0.5 ** len(train)]

    model, opt = model_and_sgd(lr=0.1)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0)
    plateau.monitor = "val_accuracy"  # max mode on accuracy; without validation data: accuracy
    fit(model, loader(), loss=F.cross_entropy, optimizer=opt, scheduler=plateau, epochs=3, verbose=False)
    assert 0 < plateau.best <= 1 and plateau.last_epoch == 3

    model, opt = model_and_sgd()
    odd = lr_scheduler.StepLR(opt, 1)
    odd.step_on = "sometimes"
    with pytest.raises(ValueError, match="step_on"):
        fit(model, loader(), loss=F.cross_entropy, optimizer=opt, scheduler=odd, epochs=1, verbose=False)


def test_reduce_lr_on_plateau_is_an_lr_scheduler_set_up_by_its_base_class():
    opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.3)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    assert isinstance(scheduler, lr_scheduler.LRScheduler)
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.3] and scheduler.base_lrs == [0.3]
    scheduler.step(1.0)
    scheduler.step(2.0)
    assert scheduler.get_last_lr() == [pytest.approx(0.03)] and scheduler.last_epoch == 2
    with pytest.raises(ValueError, match="needs a metric"):
        lr_scheduler.SequentialLR(opt, [scheduler], milestones=[])


def test_distributed_optimizer_runs_its_base_init_and_keeps_the_wrapped_state():
    model = nn.Linear(2, 1)
    inner = optim.Adam(model.parameters(), lr=0.01)
    model(np.ones((1, 2), np.float32)).sum().backward()
    inner.step()
    groups, state = inner.param_groups, inner.state
    wrapped = DistributedOptimizer(inner, SingleProcessCommunicator(), module=model)
    assert inner.param_groups is groups and inner.state is state and len(state) == 2
    assert wrapped.param_groups is groups and wrapped.defaults is inner.defaults
    assert hasattr(wrapped, "_scratch")  # the base class's set-up ran


def test_fit_takes_trainers_arguments_written_once():
    assert inspect.signature(fit) == inspect.signature(Trainer)
    assert "metrics" in inspect.signature(fit).parameters and "Trainer" in fit.__doc__
    with pytest.raises(TypeError, match="epochs"):
        fit(*model_and_sgd()[:1], loader(), loss=F.cross_entropy, optimizer=None)
