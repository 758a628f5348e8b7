"""nnscratch.train: the fit loop, History, metrics, callbacks, checkpoints and resume, on small
synthetic problems (each test runs in well under a second)."""

import csv
import json
import os

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import nn, optim
from nnscratch.data import DataLoader, TensorDataset
from nnscratch.train import (History, NonFiniteLossError, Trainer, evaluate, fit, load_checkpoint, metrics,
                             predict, predict_proba, split_loader)
from nnscratch.train.callbacks import (Callback, CSVLogger, EarlyStopping, JSONLinesLogger, ModelCheckpoint,
                                       ProgressBar)
from nnscratch.train.history import FIELDS


def blobs(n=300, seed=0, classes=3):
    """``classes`` well-separated Gaussian blobs in 2-D: float32 inputs, int64 labels."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, n)
    centres = 4.0 * np.stack([np.cos(2 * np.pi * np.arange(classes) / classes),
                              np.sin(2 * np.pi * np.arange(classes) / classes)], axis=1)
    x = (centres[t] + rng.normal(size=(n, 2))).astype(np.float32)
    return x, t.astype(np.int64)


def loader(n=300, batch_size=32, shuffle=True, seed=0, **kwargs):
    x, t = blobs(n, seed)
    return DataLoader(TensorDataset(x, t), batch_size=batch_size, shuffle=shuffle, **kwargs)


def model_and_sgd(sizes=(2, 16, 3), lr=0.1, seed=0, **mlp):
    ns.manual_seed(seed)
    model = nn.MLP(list(sizes), **mlp)
    return model, optim.SGD(model.parameters(), lr=lr)


def weights(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


class Scripted(Callback):
    """Overwrites ``logs[key]`` with a scripted value per epoch (put it before the callback under test),
    and records the model's weights at the end of every epoch."""

    def __init__(self, key=None, values=()):
        self.key, self.values, self.weights = key, list(values), {}

    def on_epoch_end(self, trainer, epoch, logs):
        if self.key is not None:
            logs[self.key] = self.values[epoch - 1]
        self.weights[epoch] = weights(trainer.model)


# ----------------------------------------------------------------------------- fit and History

def test_fit_reduces_loss_and_reaches_high_accuracy():
    model, opt = model_and_sgd()
    history = fit(model, loader(), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=8, seed=0, verbose=False)
    assert isinstance(history, History)
    assert history.epoch == list(range(1, 9))
    assert all(len(getattr(history, f)) == 8 for f in FIELDS)
    assert history.loss[-1] < 0.25 * history.loss[0]
    assert history.accuracy[-1] > 0.97
    assert history.val_loss == [None] * 8 and history.val_accuracy == [None] * 8
    assert history.lr == [0.1] * 8 and all(s > 0 for s in history.time)
    x, t = blobs()
    assert metrics.accuracy(model(ns.tensor(x)), t) > 0.97


def test_epoch_loss_and_accuracy_are_sample_weighted_means_of_the_batches():
    """With lr=0 the weights never change, so the epoch loss must equal the loss over the whole
    data set, even with a last batch of a different size (300 = 9 * 32 + 12)."""
    model, opt = model_and_sgd(lr=0.0)
    history = fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=1, verbose=False)
    x, t = blobs()
    logits = model(ns.tensor(x))
    assert history.loss[0] == pytest.approx(F.cross_entropy(logits, t).item(), rel=1e-5)
    assert history.accuracy[0] == metrics.accuracy(logits, t)


def test_lr_history_with_step_lr():
    model, opt = model_and_sgd(lr=0.1)
    scheduler = optim.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, loader(), loss=F.cross_entropy, optimizer=opt, scheduler=scheduler, epochs=5,
                  verbose=False)
    assert history.lr == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025) and scheduler.last_epoch == 5  # lr for epoch 6


def constant_loss(output, target):
    """Loss 1.0 with zero gradients: the weights never change, so the loss plateaus."""
    return (output * 0).sum() + 1.0


def test_reduce_lr_on_plateau_steps_on_the_training_loss_without_validation():
    model, opt = model_and_sgd(lr=0.1)
    scheduler = optim.ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0)
    history = fit(model, loader(), loss=constant_loss, optimizer=opt, scheduler=scheduler, epochs=6,
                  verbose=False)
    assert history.loss == [1.0] * 6
    # epoch 1 sets best = 1; epochs 2, 3 are bad, 3 > patience -> halve; then 4, 5 -> halve again
    assert history.lr == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])


def test_reduce_lr_on_plateau_steps_on_val_loss():
    """The training loss is flat, but the validation loss (scripted, one batch per validation)
    keeps falling: the lr must not be reduced."""
    val_values = iter([5.0, 4.0, 3.0, 2.0, 1.0])

    def loss(output, target):
        return constant_loss(output, target) + (0.0 if ns.is_grad_enabled() else next(val_values) - 1.0)

    model, opt = model_and_sgd(lr=0.1)
    scheduler = optim.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0)
    val = loader(60, batch_size=60, shuffle=False, seed=1)
    history = fit(model, loader(), loss=loss, optimizer=opt, scheduler=scheduler, val_loader=val, epochs=5,
                  verbose=False)
    assert history.val_loss == [5.0, 4.0, 3.0, 2.0, 1.0]
    assert history.lr == [0.1] * 5 and scheduler.best == 1.0


def test_one_cycle_lr_is_stepped_once_per_batch():
    train = loader()
    model, opt = model_and_sgd()
    scheduler = optim.OneCycleLR(opt, max_lr=0.5, epochs=3, steps_per_epoch=len(train))
    history = fit(model, train, loss=F.cross_entropy, optimizer=opt, scheduler=scheduler, epochs=3, verbose=False)
    assert scheduler.last_epoch == 3 * len(train)
    assert history.lr[0] == pytest.approx(0.5 / 25) and history.lr[1] > history.lr[0]


def test_validation_split_sizes_no_overlap_and_loader_settings():
    augment = lambda x: x + 1  # noqa: E731
    train0 = loader(200, batch_size=16, shuffle=True, transform=augment)
    train, val = split_loader(train0, 0.25, seed=3)
    t_idx, v_idx = train.dataset.indices, val.dataset.indices
    assert len(t_idx) == 150 and len(v_idx) == 50
    assert np.intersect1d(t_idx, v_idx).size == 0
    np.testing.assert_array_equal(np.union1d(t_idx, v_idx), np.arange(200))
    assert (train.batch_size, train.shuffle, train.transform) == (16, True, augment)
    assert (val.batch_size, val.shuffle, val.transform) == (16, False, None)
    np.testing.assert_array_equal(split_loader(train0, 0.25, seed=3)[1].dataset.indices, v_idx)
    assert not np.array_equal(split_loader(train0, 0.25, seed=4)[1].dataset.indices, v_idx)
    # the validation batches are the held-out samples, in order, untransformed
    x, t = blobs(200)
    (xv, tv), = [(b[0].data, b[1].data) for b in DataLoader(val.dataset, batch_size=50)]
    np.testing.assert_array_equal(xv, x[v_idx])
    np.testing.assert_array_equal(tv, t[v_idx])
    with pytest.raises(ValueError, match="both must be at least 1"):
        split_loader(train0, 0.001)


def test_fit_with_validation_split_trains_on_the_rest():
    class CountSamples(Callback):
        seen = 0

        def on_batch_end(self, trainer, batch, logs):
            self.seen += logs["size"]

    count = CountSamples()
    model, opt = model_and_sgd()
    history = fit(model, loader(200), loss=F.cross_entropy, optimizer=opt, epochs=3, validation_split=0.2,
                  callbacks=[count], seed=0, verbose=False)
    assert count.seen == 3 * 160
    assert all(v is not None for v in history.val_loss) and history.val_accuracy[-1] > 0.9
    with pytest.raises(ValueError, match="either val_loader or validation_split"):
        fit(model, loader(200), loss=F.cross_entropy, optimizer=opt, epochs=1, validation_split=0.2,
            val_loader=loader(20), verbose=False)


# ----------------------------------------------------------------------------- EarlyStopping

def run_scripted(values, key="val_loss", epochs=None, callbacks=(), **fit_kwargs):
    script = Scripted(key, values)
    model, opt = model_and_sgd(lr=0.05)
    fit_kwargs.setdefault("val_loader", loader(60, shuffle=False, seed=1))
    history = fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=epochs or len(values),
                  callbacks=[script, *callbacks], verbose=False, **fit_kwargs)
    return model, history, script


def test_early_stopping_stops_patience_epochs_after_the_best():
    stop = EarlyStopping(patience=3)
    _, history, _ = run_scripted([1.0, 0.8, 0.9, 0.85, 0.81, 0.5, 0.4], callbacks=[stop])
    assert history.epoch == [1, 2, 3, 4, 5]
    assert (stop.best, stop.best_epoch, stop.stopped_epoch) == (0.8, 2, 5)


def test_early_stopping_min_delta_and_max_mode():
    stop = EarlyStopping(patience=2, min_delta=0.05)
    _, history, _ = run_scripted([1.0, 0.97, 0.96, 0.5], callbacks=[stop])  # 0.97, 0.96 improve by < 0.05
    assert len(history) == 3 and stop.best_epoch == 1
    stop = EarlyStopping(monitor="val_accuracy", patience=1)  # 'auto' -> max for accuracies
    _, history, _ = run_scripted([0.5, 0.7, 0.6, 0.9], key="val_accuracy", callbacks=[stop])
    assert len(history) == 3 and (stop.best, stop.best_epoch) == (0.7, 2)


def test_early_stopping_restores_the_best_weights_exactly():
    stop = EarlyStopping(patience=2, restore_best_weights=True)
    model, history, script = run_scripted([1.0, 0.5, 0.7, 0.6, 0.1], callbacks=[stop])
    assert len(history) == 4 and stop.best_epoch == 2
    assert_same_weights(weights(model), script.weights[2])
    assert not np.array_equal(script.weights[2]["0.weight"], script.weights[4]["0.weight"])


def test_early_stopping_falls_back_to_loss_without_validation():
    stop = EarlyStopping(patience=1)
    with pytest.warns(UserWarning, match="monitoring 'loss'"):
        _, history, _ = run_scripted([3.0, 2.0, 2.5, 1.0], key="loss", val_loader=None, callbacks=[stop])
    assert len(history) == 3 and stop.best_epoch == 2


# ----------------------------------------------------------------------------- checkpoints

def test_model_checkpoint_save_best_only_writes_only_on_improvement(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", save_best_only=True)
    model, history, script = run_scripted([3.0, 2.0, 2.5, 1.0, 1.5], callbacks=[checkpoint],
                                          config={"name": "blobs"})
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1.npz", "ckpt-2.npz", "ckpt-4.npz"]
    assert [epoch for epoch, _ in checkpoint.saved] == [1, 2, 4]
    saved = load_checkpoint(tmp_path / "ckpt-4.npz")
    assert saved["epoch"] == 4 and saved["config"] == {"name": "blobs"}
    assert saved["history"]["epoch"] == [1, 2, 3, 4] and saved["scheduler"] is None
    assert_same_weights({k: v.data for k, v in saved["model"].items()}, script.weights[4])
    restored, _ = model_and_sgd(seed=99)
    load_checkpoint(tmp_path / "ckpt-4.npz", model=restored)
    assert_same_weights(weights(restored), script.weights[4])


def scripted_val_loss(values):
    """Cross-entropy in training; under no_grad (validation: one batch per epoch) the next scripted value."""
    values = iter(values)

    def loss(output, target):
        value = F.cross_entropy(output, target)
        return value if ns.is_grad_enabled() else value * 0 + next(values)

    return loss


def test_model_checkpoint_save_best_only_keeps_the_best_across_a_resume(tmp_path):
    path = tmp_path / "best.npz"
    val = loader(60, batch_size=60, shuffle=False, seed=1)
    model, opt = model_and_sgd()
    fit(model, loader(), loss=scripted_val_loss([3.0, 1.0]), optimizer=opt, epochs=2, val_loader=val,
        callbacks=[ModelCheckpoint(path, save_best_only=True)], verbose=False)
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    model, opt = model_and_sgd(seed=1)
    history = fit(model, loader(), loss=scripted_val_loss([2.0, 0.5]), optimizer=opt, epochs=4, val_loader=val,
                  callbacks=[checkpoint], resume_from=path, verbose=False)
    assert history.epoch == [1, 2, 3, 4] and history.val_loss == [3.0, 1.0, 2.0, 0.5]
    assert [epoch for epoch, _ in checkpoint.saved] == [4]  # 2.0 at epoch 3 does not beat the saved 1.0
    assert load_checkpoint(path)["epoch"] == 4


def test_model_checkpoint_never_saves_non_finite_weights(tmp_path):
    path = tmp_path / "last.npz"
    model, history, _ = run_scripted([1.0, 2.0], callbacks=[ModelCheckpoint(path)])
    before = path.read_bytes()
    checkpoint = ModelCheckpoint(path)
    model[0].weight.data[0, 0] = np.nan
    trainer = Trainer(model, loader(), loss=F.cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1),
                      epochs=3, verbose=False)
    with pytest.warns(UserWarning, match="not finite"):
        checkpoint.on_epoch_end(trainer, 3, {"epoch": 3, "val_loss": 0.1})
    assert path.read_bytes() == before and checkpoint.saved == []


def make_resumable_run(seed=0):
    ns.manual_seed(seed)
    model = nn.MLP([2, 32, 32, 3], dropout=0.3)
    opt = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.StepLR(opt, step_size=1, gamma=0.7)
    return model, opt, scheduler


@pytest.mark.parametrize("threads", [1, 2])  # with 2, each thread's dropout masks come from spawned generators
def test_resume_from_checkpoint_equals_an_uninterrupted_run_bit_for_bit(tmp_path, threads):
    data = dict(loss=F.cross_entropy, val_loader=loader(60, shuffle=False, seed=1), seed=7, verbose=False,
                threads=threads)
    model, opt, scheduler = make_resumable_run()
    full = fit(model, loader(), optimizer=opt, scheduler=scheduler, epochs=4, **data)
    expected = weights(model)

    path = tmp_path / "ckpt.npz"
    model, opt, scheduler = make_resumable_run()
    fit(model, loader(), optimizer=opt, scheduler=scheduler, epochs=2, callbacks=[ModelCheckpoint(path)], **data)
    assert load_checkpoint(path)["epoch"] == 2
    ns.manual_seed(12345)  # a fresh process: other initial weights, other random state
    model, opt, scheduler = make_resumable_run(seed=3)
    resumed = fit(model, loader(), optimizer=opt, scheduler=scheduler, epochs=4, resume_from=path, **data)

    assert_same_weights(weights(model), expected)
    assert resumed.epoch == [1, 2, 3, 4]
    for field in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert getattr(resumed, field) == getattr(full, field), field
    assert scheduler.last_epoch == 4


def test_resume_restores_a_loader_with_its_own_generator(tmp_path):
    def own_loader():
        return loader(generator=np.random.default_rng(5))

    model, opt, _ = make_resumable_run()
    fit(model, own_loader(), loss=F.cross_entropy, optimizer=opt, epochs=3, verbose=False)
    expected = weights(model)
    model, opt, _ = make_resumable_run()
    fit(model, own_loader(), loss=F.cross_entropy, optimizer=opt, epochs=1, verbose=False,
        callbacks=[ModelCheckpoint(tmp_path / "c.npz")])
    model, opt, _ = make_resumable_run(seed=1)
    fit(model, own_loader(), loss=F.cross_entropy, optimizer=opt, epochs=3, verbose=False,
        resume_from=tmp_path / "c.npz")
    assert_same_weights(weights(model), expected)


def test_load_checkpoint_rejects_a_plain_state_file(tmp_path):
    model, _ = model_and_sgd()
    ns.save(model.state_dict(), tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        load_checkpoint(tmp_path / "weights.npz")


# ----------------------------------------------------------------------------- non-finite losses

def test_injected_inf_stops_with_epoch_and_batch_and_keeps_the_last_good_checkpoint(tmp_path):
    train = loader()
    calls = {"n": 0}

    def loss(output, target):
        calls["n"] += 1
        value = F.cross_entropy(output, target)
        return value * np.inf if calls["n"] == 2 * len(train) + 2 else value  # epoch 3, batch 2

    path = tmp_path / "ckpt.npz"
    script = Scripted()
    model, opt = model_and_sgd()
    with pytest.raises(NonFiniteLossError, match=r"epoch 3, batch 2.*learning rate") as info:
        fit(model, train, loss=loss, optimizer=opt, epochs=5, callbacks=[script, ModelCheckpoint(path)],
            verbose=False)
    assert (info.value.epoch, info.value.batch, info.value.value) == (3, 2, np.inf)
    saved = load_checkpoint(path)
    assert saved["epoch"] == 2 and len(saved["history"]["loss"]) == 2
    assert all(np.isfinite(v.data).all() for v in saved["model"].values())
    assert_same_weights({k: v.data for k, v in saved["model"].items()}, script.weights[2])
    assert all(np.isfinite(p.data).all() for p in model.parameters())  # the bad batch made no update


def test_huge_learning_rate_stops_with_a_clear_error():
    model, opt = model_and_sgd(lr=1e20)
    with np.errstate(all="ignore"), pytest.raises(NonFiniteLossError, match=r"epoch 1, batch \d+.*lower one"):
        fit(model, loader(), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=3, verbose=False)


# ----------------------------------------------------------------------------- evaluate / predict

def test_evaluate_predict_and_predict_proba_match_a_manual_computation():
    x, t = blobs(50, seed=2)
    model, _ = model_and_sgd(sizes=(2, 8, 3), dropout=0.5)
    model.eval()
    logits = model(ns.tensor(x)).data
    model.train()
    uneven = DataLoader(TensorDataset(x, t), batch_size=7)  # 7 batches of 7 and one of 1

    result = evaluate(model, uneven, loss=nn.CrossEntropyLoss())
    assert result["loss"] == pytest.approx(F.cross_entropy(ns.tensor(logits), t).item(), rel=1e-5)
    assert result["accuracy"] == np.mean(logits.argmax(1) == t)
    assert evaluate(model, uneven) == {"loss": None, "accuracy": result["accuracy"]}
    assert model.training  # the mode is restored

    proba = predict_proba(model, x, batch_size=16)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert proba.shape == (50, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-6)
    for data in (x, ns.tensor(x), uneven, x.astype(np.float64)):
        predicted = predict(model, data, batch_size=16)
        assert predicted.shape == (50,)
        np.testing.assert_array_equal(predicted, logits.argmax(1))


# ----------------------------------------------------------------------------- metrics

def test_confusion_matrix_and_per_class_accuracy_on_a_hand_example():
    pred = np.array([0, 1, 1, 2, 2, 2])
    target = np.array([0, 1, 2, 2, 2, 0])
    cm = metrics.confusion_matrix(pred, target, 4)
    np.testing.assert_array_equal(cm, [[1, 0, 1, 0], [0, 1, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(metrics.per_class_accuracy(cm), [0.5, 1.0, 2 / 3, np.nan])
    one_hot = np.eye(4)[target]
    scores = np.eye(4)[pred] * 3.0 - 1.0
    np.testing.assert_array_equal(metrics.confusion_matrix(scores, one_hot, 4), cm)
    with pytest.raises(ValueError, match="outside 0..3"):
        metrics.confusion_matrix(pred, np.array([0, 1, 2, 2, 2, 4]), 4)


def test_accuracy_with_labels_and_one_hot_targets():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 0.5], [0.0, 0.0, 9.0]], dtype=np.float32)
    labels = np.array([0, 1, 2, 2])
    assert metrics.accuracy(logits, labels) == 0.75
    assert metrics.accuracy(ns.tensor(logits), np.eye(3)[labels]) == 0.75
    with pytest.raises(ValueError, match="metrics=()"):
        metrics.accuracy(np.zeros((4, 1)), labels)


def test_regression_records_no_accuracy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32))
    ns.manual_seed(0)
    model = nn.Linear(3, 1)
    history = fit(model, DataLoader(TensorDataset(x, y), batch_size=16), loss=nn.MSELoss(),
                  optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=20, metrics=(), verbose=False)
    assert history.accuracy == [None] * 20 and history.loss[-1] < 1e-3


# ----------------------------------------------------------------------------- History and loggers

def test_history_best_serialisation_and_round_trip(tmp_path):
    history = History()
    for row in [dict(epoch=1, loss=1.0, accuracy=0.5, val_loss=0.9, val_accuracy=0.6, lr=0.1, time=0.2),
                dict(epoch=2, loss=0.5, accuracy=0.7, val_loss=0.95, val_accuracy=0.8, lr=0.1, time=0.2),
                dict(epoch=3, loss=0.4, accuracy=0.8, val_loss=float("nan"), lr=0.05, time=0.3)]:
        history.append(row)
    assert history.best("val_loss") == (1, 0.9)
    assert history.best("val_accuracy") == (2, 0.8)
    assert history.best("loss", mode="max") == (1, 1.0)
    history.to_json(tmp_path / "h.json")
    assert History.from_dict(json.loads((tmp_path / "h.json").read_text())).as_dict().keys() == set(FIELDS)
    assert History.from_dict(history.as_dict()).rows() == history.rows()
    history.to_csv(tmp_path / "h.csv")
    rows = list(csv.DictReader(open(tmp_path / "h.csv")))
    assert [r["loss"] for r in rows] == ["1.0", "0.5", "0.4"] and rows[2]["val_accuracy"] == ""
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []  # atomic writes clean up


def test_csv_and_jsonl_loggers_write_one_flushed_row_per_epoch(tmp_path):
    csv_path, jsonl_path = tmp_path / "log.csv", tmp_path / "log.jsonl"

    class CheckFlushed(Callback):  # the files hold the row as soon as the epoch ends
        def on_epoch_end(self, trainer, epoch, logs):
            assert len(open(jsonl_path).read().splitlines()) == epoch
            assert len(open(csv_path).read().splitlines()) == epoch + 1

    model, opt = model_and_sgd()
    history = fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=3, val_loader=loader(60, seed=1),
                  callbacks=[CSVLogger(csv_path), JSONLinesLogger(jsonl_path), CheckFlushed()], verbose=False)
    lines = [json.loads(line) for line in open(jsonl_path)]
    assert lines == history.rows()
    rows = list(csv.DictReader(open(csv_path)))
    assert list(rows[0]) == list(FIELDS) and len(rows) == 3
    assert [float(r["val_loss"]) for r in rows] == history.val_loss
    fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=5, initial_epoch=3, history=history,
        callbacks=[CSVLogger(csv_path, append=True)], verbose=False)
    rows = list(csv.DictReader(open(csv_path)))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5] and history.epoch == [1, 2, 3, 4, 5]


def test_progress_bar_prints_one_line_per_epoch_when_not_a_terminal(capsys):
    model, opt = model_and_sgd()
    history = fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=3, val_loader=loader(60, seed=1))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {epoch}/3 - loss {history.loss[epoch - 1]:.4f} - accuracy ")
        assert f"val_loss {history.val_loss[epoch - 1]:.4f}" in line and "samples/s" in line
    fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=1, callbacks=[ProgressBar(use_tqdm=False)],
        verbose=False)
    assert capsys.readouterr().out.startswith("epoch 1/1 - loss ")


def test_progress_bar_with_tqdm_shows_epoch_batches_and_rate(capsys):
    pytest.importorskip("tqdm")
    model, opt = model_and_sgd()
    fit(model, loader(), loss=F.cross_entropy, optimizer=opt, epochs=2, callbacks=[ProgressBar(use_tqdm=True)])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "epoch 1/2" in captured.err and "epoch 2/2" in captured.err and "10/10" in captured.err
    assert "loss " in captured.err and "lr 0.1" in captured.err
