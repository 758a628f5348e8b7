"""The training loop (``fit``), evaluation and batched prediction.

One epoch of ``fit``::

    model.train()
    for x, t in train_loader:
        y = model(x); L = loss(y, t)              # stop if L is nan or inf
        optimizer.zero_grad(); L.backward()
        clip_grad_norm_(params, max_norm)           # optional
        optimizer.step()
    validation in eval mode under no_grad; scheduler.step(); callbacks

The epoch's loss is the sample-weighted mean over its batches, and its metrics (``metrics.Metric``
objects: accuracy, top-k accuracy or one of your own) are accumulated from the outputs the training
step already produced (no second forward pass). Everything a callback may need is an attribute of
the ``Trainer`` it receives.
"""

import contextlib
import copy
import inspect
import math
import time
import warnings

import numpy as np

from .. import backend
from .. import functional as F
from ..data import DataLoader, Subset, TensorDataset
from ..nn import DataParallel
from ..optim import clip_grad_norm_
from ..tensor import Tensor, no_grad
from . import metrics as M
from .callbacks import ProgressBar
from .checkpoint import resume
from .history import FIELDS, History

DIVERGENCE_FACTOR = 100  # an epoch loss this many times the lowest so far is a blow-up


class NonFiniteLossError(FloatingPointError):
    """The training loss became nan or infinite; ``epoch`` and ``batch`` say where (from 1)."""

    def __init__(self, epoch, batch, value):
        self.epoch, self.batch, self.value = epoch, batch, value
        super().__init__(f"the training loss became {value} at epoch {epoch}, batch {batch}, so training stopped "
                         "before that batch's update. The learning rate is probably too high: try a lower one "
                         "(e.g. 10 times smaller) or clip_grad_norm=1.0. Checkpoints of earlier epochs are intact.")


class _Tally:
    """The sample-weighted running mean of the loss, and the ``metrics`` (reset here), over batches."""

    def __init__(self, metrics):
        self.metrics = metrics
        self.loss_sum, self.seen = 0.0, 0
        for metric in metrics:
            metric.reset()

    def add(self, loss_value, output, target):
        n = len(target)
        self.seen += n
        if loss_value is not None:
            self.loss_sum += loss_value * n
        for metric in self.metrics:
            metric.update(output, target)

    def reduce(self, comm):
        """Add up the ranks' sums (one all-reduce), so the result covers every rank's samples."""
        mine = [np.array([self.loss_sum, self.seen], np.float64), *(metric.sums for metric in self.metrics)]
        totals = comm.allreduce_sum(np.concatenate(mine))
        self.loss_sum, self.seen = totals[0], int(totals[1])
        offset = 2
        for metric in self.metrics:
            metric.sums = totals[offset:offset + metric.sums.size].copy()
            offset += metric.sums.size
        return self

    def result(self, with_loss=True):
        return {"loss": float(self.loss_sum / self.seen) if with_loss and self.seen else None,
                **{metric.name: metric.result() for metric in self.metrics}}


@contextlib.contextmanager
def _inference(model):
    """Eval mode and no graph inside; the model's previous mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        model.train(was_training)


def _metric_objects(metrics):
    """Metric objects for ``metrics`` (objects or names, see ``metrics.get``), with distinct names
    that do not clash with the other logged quantities."""
    objects = [M.get(metric) for metric in metrics]
    names = [metric.name for metric in objects]
    reserved = [name for name in names if name in FIELDS and name != "accuracy" or name.startswith("val_")]
    if len(set(names)) != len(names) or reserved:
        raise ValueError(f"metrics need distinct names other than {[f for f in FIELDS if f != 'accuracy']} "
                         f"and not starting with 'val_', got {names}; pass name=... to the metric")
    return objects


def evaluate(model, loader, loss=None, metrics=("accuracy",), comm=None):
    """{"loss": mean of ``loss(model(x), t)`` over all samples (None without ``loss``), and for each
    metric its name: its value over all samples} (``"accuracy"``: the fraction of correct argmax
    predictions, None unless the model outputs class scores (N, C)), in eval mode under no_grad.
    ``metrics`` are ``metrics.Metric`` objects or names (``"accuracy"``, ``"top5_accuracy"``).
    With a communicator ``comm`` each rank evaluates its own ``loader`` and the result covers the
    samples of all ranks."""
    tally = _Tally(_metric_objects(metrics))
    with _inference(model):
        for x, t in loader:
            output = model(x)
            tally.add(None if loss is None else loss(output, t).item(), output, t)
    if comm is not None:
        tally.reduce(comm)
    return tally.result(with_loss=loss is not None)


def _as_loader(x_or_loader, batch_size):
    if isinstance(x_or_loader, (np.ndarray, Tensor, list)):
        return DataLoader(TensorDataset(F.as_tensor(x_or_loader)), batch_size=batch_size)  # floats -> float32
    return x_or_loader


def _outputs(model, x_or_loader, batch_size):
    """model(x) for all inputs (an array, a tensor, or a loader's first fields), as one array."""
    with _inference(model):
        return np.concatenate([model(batch[0]).data for batch in _as_loader(x_or_loader, batch_size)])


def predict(model, x_or_loader, batch_size=256):
    """The predicted class of each sample, argmax_c model(x)_c, as an int64 array (N,)."""
    return _outputs(model, x_or_loader, batch_size).argmax(axis=1)


def predict_proba(model, x_or_loader, batch_size=256):
    """softmax(model(x)) for each sample (the model outputs logits), as an array (N, C)."""
    logits = _outputs(model, x_or_loader, batch_size)
    return F.softmax(Tensor._wrap(logits), axis=1).data


def _without_transform(dataset):
    if getattr(dataset, "transform", None) is None:
        return dataset
    dataset = copy.copy(dataset)  # shallow: the arrays are shared, not copied
    dataset.transform = None
    return dataset


def split_loader(loader, fraction, seed=None):
    """(train, validation) DataLoaders over disjoint Subsets of ``loader.dataset``: a random
    ``fraction`` of the samples, chosen by a generator seeded with ``seed`` (0 when None, so a
    resumed run holds out the same samples), is held out. The training loader keeps the batch
    size, shuffling and transform; the validation loader has neither shuffling nor transforms."""
    n = len(loader.dataset)
    n_val = int(round(n * fraction))
    if not 0 < n_val < n:
        raise ValueError(f"validation_split={fraction} of {n} samples leaves {n_val} for validation and "
                         f"{n - n_val} for training; both must be at least 1")
    order = np.random.default_rng(0 if seed is None else seed).permutation(n)
    val_indices, train_indices = np.sort(order[:n_val]), np.sort(order[n_val:])
    train = DataLoader(Subset(loader.dataset, train_indices), batch_size=loader.batch_size,
                       shuffle=loader.shuffle, drop_last=loader.drop_last, transform=loader.transform,
                       generator=loader.generator, replacement=loader.replacement, num_samples=loader.num_samples)
    val = DataLoader(Subset(_without_transform(loader.dataset), val_indices), batch_size=loader.batch_size)
    return train, val


class Trainer:
    """One training run of ``model`` on ``train_loader``; ``run()`` trains and returns the History
    (``fit(model, train_loader, **options)`` is ``Trainer(model, train_loader, **options).run()``).

    Epochs count from 1 and ``epochs`` is the number of the last one (Keras's convention): the run
    trains epochs ``initial_epoch + 1`` to ``epochs``, so resuming a 2-epoch run with epochs=4 adds 2.

    - ``loss(output, target)``: an nn loss module or a function such as ``F.cross_entropy``.
    - ``val_loader`` or ``validation_split=f`` (a seeded random fraction f of the training set held
      out): evaluated after every epoch into ``val_loss`` and ``val_<metric>``.
    - ``metrics``: ``metrics.Metric`` objects or names: ``("accuracy",)`` (the default; recorded when
      the model outputs class scores), ``"top5_accuracy"`` (any k), ``metrics.TopKAccuracy(3)``, a
      class of your own, or ``()``. Each is logged under its name, and under ``val_`` + its name.
    - ``scheduler``: stepped as it declares in ``step_on``: ``"epoch"`` (most schedulers) after each
      epoch, ``"batch"`` (``OneCycleLR``) after each optimizer step, ``"monitor"``
      (``ReduceLROnPlateau``) after each epoch with the logged value named by its ``monitor``
      attribute if it has one, else val_loss (loss without validation data).
    - ``seed``: ``nnscratch.manual_seed(seed)`` first (shuffling, dropout).
    - ``clip_grad_norm``: clip the gradients' joint norm to this before each step.
    - ``initial_epoch`` / ``history``: continue counting epochs and appending to a History.
    - ``resume_from``: a ModelCheckpoint file; model, optimizer, scheduler, history, epoch and the
      random state are restored so the run continues exactly as if it had not stopped.
    - ``config``: any dict (saved in checkpoints). ``verbose``: add a ProgressBar.
    - ``comm``: a communicator (``nnscratch.distributed``) for data-parallel training: the loaders
      are sharded over the ranks (``batch_size`` stays the global batch), the optimizer averages
      gradients over them, BatchNorm statistics are averaged after every epoch, the logged
      metrics cover all ranks, and callbacks marked ``rank_zero_only`` (progress, checkpoints,
      loggers) run on rank 0 only.
    - ``threads``: compute each batch as that many slices in parallel threads (``nn.DataParallel``;
      the BLAS is held to one thread meanwhile). Faster for convolutional networks on a multi-core
      machine; the gradients are the whole batch's (batch norm aside, which sees each slice).

    A nan or infinite training loss raises ``NonFiniteLossError`` naming the epoch and batch.

    Callbacks receive the Trainer and may read ``model``, ``optimizer``, ``scheduler``, ``loss``,
    ``metrics``, ``train_loader``, ``val_loader``, ``history``, ``log_names`` (the keys of each
    epoch's logs), ``epoch``, ``epochs``, ``config``, ``comm`` and set ``stop_training = True``.
    """

    def __init__(self, model, train_loader, *, loss, optimizer, epochs, val_loader=None, validation_split=None,
                 metrics=("accuracy",), callbacks=(), scheduler=None, seed=None, clip_grad_norm=None,
                 initial_epoch=0, history=None, verbose=True, resume_from=None, config=None, comm=None, threads=1):
        if val_loader is not None and validation_split is not None:
            raise ValueError("give either val_loader or validation_split, not both")
        if validation_split is not None:
            train_loader, val_loader = split_loader(train_loader, validation_split, seed)
        self.model, self.loss, self.optimizer, self.scheduler = model, loss, optimizer, scheduler
        self.train_loader, self.val_loader = train_loader, val_loader
        self.epochs, self.initial_epoch, self.epoch = epochs, initial_epoch, initial_epoch
        self.metrics = _metric_objects(metrics)
        self._val_metrics = copy.deepcopy(self.metrics)  # their own state: validation runs after training
        names = [metric.name for metric in self.metrics]
        self.log_names = list(dict.fromkeys([*FIELDS, *names, *("val_" + name for name in names)]))
        self._step_on = _step_on(scheduler)
        self.callbacks = list(callbacks)
        if verbose and not any(isinstance(c, ProgressBar) for c in self.callbacks):
            self.callbacks.insert(0, ProgressBar())
        self.seed, self.clip_grad_norm, self.resume_from = seed, clip_grad_norm, resume_from
        self.history = History(self.log_names) if history is None else history
        self.config = {} if config is None else dict(config)
        self.stop_training = False
        self._first_batch_loss, self._diverged = None, False
        self._params = list(model.parameters())
        # what computes the batches: the model, or the model on slices of each batch in threads
        self.network = model if threads == 1 or isinstance(model, DataParallel) else DataParallel(model, threads)
        self.comm, self._world = comm, 1
        if comm is not None:
            self._distribute(comm)

    def _distribute(self, comm):
        """Data parallelism over ``comm``: sharded loaders, a DistributedOptimizer (which
        broadcasts rank 0's weights), and the callbacks that write or print on rank 0 only."""
        from ..distributed import DistributedOptimizer, shard_evaluation, shard_loader
        self._world = comm.size
        self.train_loader = shard_loader(self.train_loader, comm, self.seed)
        if self.val_loader is not None:
            self.val_loader = shard_evaluation(self.val_loader, comm)
        if not isinstance(self.optimizer, DistributedOptimizer):
            self.optimizer = DistributedOptimizer(self.optimizer, comm, module=self.model)
        if comm.rank != 0:
            self.callbacks = [c for c in self.callbacks if not getattr(c, "rank_zero_only", False)]

    def _call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def run(self):
        """Train from epoch ``initial_epoch + 1`` to ``epochs``; returns the History."""
        if self.seed is not None:  # each rank its own dropout masks and augmentations; rank 0 as one process
            backend.manual_seed(self.seed if self.comm is None or self.comm.rank == 0 else [self.seed, self.comm.rank])
        if self.resume_from is not None:
            resume(self, self.resume_from)  # sets history, initial_epoch and the random state
        self.stop_training = False
        self._call("on_train_begin")
        threaded = isinstance(self.network, DataParallel) and self.network.threads > 1
        try:
            with backend.blas_threads(1) if threaded else contextlib.nullcontext():
                self._run_epochs()
        finally:
            self._call("on_train_end")
        return self.history

    def _run_epochs(self):
        for epoch in range(self.initial_epoch + 1, self.epochs + 1):
            self.epoch = epoch
            self._call("on_epoch_begin", epoch)
            logs = self._run_epoch(epoch)
            self._warn_if_diverging(logs["loss"])
            self.history.append(logs)
            self._call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break

    def _warn_if_diverging(self, loss):
        """Warn once when the epoch's training loss is more than DIVERGENCE_FACTOR times the lowest
        loss seen so far (the first batch's, or an earlier epoch's): training is blowing up even though
        the loss is still finite."""
        lowest = min([v for v in [self._first_batch_loss, *self.history.loss] if v is not None], default=None)
        if self._diverged or lowest is None or lowest <= 0 or loss <= DIVERGENCE_FACTOR * lowest:
            return
        self._diverged = True
        warnings.warn(f"the training loss grew from {lowest:.4g} to {loss:.4g} by epoch {self.epoch}: training is "
                      "diverging. The learning rate is probably too high: try a lower one (e.g. 10 times smaller) "
                      "or clip_grad_norm=1.0", RuntimeWarning, stacklevel=2)

    def _run_epoch(self, epoch):
        start = time.perf_counter()
        lr = self.optimizer.param_groups[0]["lr"]
        tally = _Tally(self.metrics)
        self.network.train()
        for batch, (x, t) in enumerate(self.train_loader, 1):
            output = self.network(x)
            loss = self.loss(output, t)
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLossError(epoch, batch, value)
            self.optimizer.zero_grad()
            loss.backward()
            if self.clip_grad_norm is not None:
                if self.comm is not None:
                    self.optimizer.synchronize()  # clip the averaged gradient, the same on every rank
                clip_grad_norm_(self._params, self.clip_grad_norm)
            self.optimizer.step()
            if self._step_on == "batch":
                self.scheduler.step()
            if self._first_batch_loss is None:
                self._first_batch_loss = value
            tally.add(value, output, t)
            self._call("on_batch_end", batch, {"batch_loss": value, "size": len(t) * self._world, **tally.result()})
        if self.comm is not None:
            from ..distributed import average_buffers
            average_buffers(self.model, self.comm)
            tally.reduce(self.comm)
        logs = dict.fromkeys(self.log_names)
        logs.update(epoch=epoch, **tally.result(), lr=lr)
        if self.val_loader is not None:
            val = evaluate(self.network, self.val_loader, self.loss, self._val_metrics, self.comm)
            logs.update({"val_" + name: value for name, value in val.items()})
        if self._step_on == "epoch":
            self.scheduler.step()
        elif self._step_on == "monitor":
            self.scheduler.step(logs[self._monitored()])
        logs["time"] = time.perf_counter() - start
        return logs

    def _monitored(self):
        """The log name a "monitor" scheduler steps on: its ``monitor`` (val_loss by default), without
        the "val_" when there is no validation data."""
        name = getattr(self.scheduler, "monitor", "val_loss")
        return name[len("val_"):] if name.startswith("val_") and self.val_loader is None else name


def _step_on(scheduler):
    """When ``scheduler`` is stepped: its ``step_on`` ("epoch" for a scheduler that does not say), or
    None without a scheduler."""
    if scheduler is None:
        return None
    step_on = getattr(scheduler, "step_on", "epoch")
    if step_on not in ("epoch", "batch", "monitor"):
        raise ValueError(f"{type(scheduler).__name__}.step_on is {step_on!r}; it must be 'epoch', 'batch' or "
                         "'monitor'")
    return step_on


def fit(model, train_loader, **options):
    """Train ``model`` on ``train_loader`` and return its ``History``: ``Trainer(model,
    train_loader, **options).run()``. The options (loss, optimizer, epochs, val_loader, metrics,
    callbacks, scheduler, ...) are ``Trainer``'s, documented there (``help(Trainer)``)."""
    return Trainer(model, train_loader, **options).run()


fit.__signature__ = inspect.signature(Trainer)  # help(fit) and editors list Trainer's arguments
