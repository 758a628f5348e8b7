"""A training run as ``nnscratch train`` does it: data, network, optimizer, ``fit``, the test set,
and every file of the run directory (listed in ``nnscratch.app.rundir``).

``train_run`` puts together the pieces of ``nnscratch.app``; the names it was built from are
importable from here too (``load_model``, ``load_data``, ``test_report``, ...).
"""

import os
import time

from . import functional as F
from .app.architectures import architecture, net_config
from .app.builders import (OPTIMIZERS, SCHEDULES, ScheduleLength, make_optimizer, make_scheduler,
                           make_train_loader, thread_count)
from .app.datasets import TOY_DATASETS, Data, dataset_names, load_data
from .app.report import test_report, write_cnn_pictures, write_dbn_pictures, write_outputs, write_plots
from .app.resume import fine_tune_settings, resume_settings
from .app.rundir import default_run_dir, history_of, load_model, load_weights, model_path, write_json
from .app.pretraining import pretrain_dbn
from .app import rundir
from .backend import manual_seed
from .fileio import remove_stale_parts
from .models import build_model
from .presets import resolve
from .train import NonFiniteLossError, fit, load_checkpoint
from .train.callbacks import EarlyStopping, ModelCheckpoint

__all__ = ["train_run", "load_model", "load_weights", "model_path", "history_of", "load_data", "test_report",
           "dataset_names", "net_config", "make_optimizer", "make_scheduler", "make_train_loader", "thread_count",
           "resume_settings", "fine_tune_settings", "pretrain_dbn", "write_outputs", "write_plots",
           "write_cnn_pictures", "write_dbn_pictures", "Data", "TOY_DATASETS", "OPTIMIZERS", "SCHEDULES",
           "ScheduleLength", "default_run_dir"]


def _settings(dataset, model, out, resume, fine_tune_from, given, overrides, verbose, log):
    """(settings, initial state dict or None) of a new, resumed or fine-tuned run."""
    if resume:
        settings, completed = resume_settings(os.path.join(out, rundir.LAST), dataset, model, given)
        if verbose:
            log(f"resuming {out} from epoch {completed} of {settings['epochs']}")
        return settings, None
    if fine_tune_from is not None:
        return fine_tune_settings(fine_tune_from, dataset, model, given)
    settings = resolve(model or "mlp", overrides, dataset=dataset or "mnist")
    settings["dataset"] = dataset or "mnist"
    return settings, None


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
    given = {k: v for k, v in overrides.items() if v is not None}
    if resume and fine_tune_from is not None:
        raise ValueError("--resume continues a run and --fine-tune-from starts a new one: give one of them")
    out = out or default_run_dir(dataset, model)
    if comm is not None:
        out = comm.bcast(out)  # rank 0's clock names the directory
    last = os.path.join(out, rundir.LAST)
    settings, initial = _settings(dataset, model, out, resume, fine_tune_from, given, overrides, verbose, log)
    arch = architecture(settings["arch"])
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
        write_json(os.path.join(out, rundir.CONFIG), config)
    manual_seed(settings["seed"])  # the initial weights depend on --seed alone
    network = build_model(net)
    if initial is not None:
        load_weights(network, initial, settings["fine_tune_from"])
    elif arch.prepare is not None and not resume:  # a resumed run continues from last.npz instead
        arch.prepare(settings, data, network, out if writer else None, verbose, log)
    optimizer = make_optimizer(settings, network.parameters())
    scheduler = make_scheduler(settings, optimizer)
    validation = settings["validation_split"] or None
    monitor = "val_accuracy" if validation else "loss"
    # last.npz is the run's commit point, so it is written last: a kill between the two writes leaves
    # last.npz at the previous epoch, and the resumed run repeats that epoch and writes model.npz again.
    run_callbacks = [ModelCheckpoint(os.path.join(out, rundir.MODEL), monitor=monitor, save_best_only=True),
                     ModelCheckpoint(last, save_best_only=False)]
    if resume:
        run_callbacks.append(ScheduleLength(settings["epochs"]))
    if settings["patience"]:
        run_callbacks.append(EarlyStopping("val_loss" if validation else "loss", patience=settings["patience"]))
    if verbose:
        log(f"training {model} on {dataset}: {network.num_parameters():,} parameters, "
            f"{len(data.x_train):,} training samples{f' ({validation:.0%} held out for validation)' if validation else ''}"
            + (f", data-parallel over {comm.size} rank{'s' if comm.size > 1 else ''}" if comm is not None else ""))
    start = time.perf_counter()
    try:
        history = fit(network, make_train_loader(settings, data), loss=F.cross_entropy, optimizer=optimizer,
                      epochs=settings["epochs"], validation_split=validation, seed=settings["seed"],
                      scheduler=scheduler, clip_grad_norm=settings["clip_grad_norm"],
                      callbacks=run_callbacks + list(callbacks), verbose=verbose,
                      resume_from=last if resume else None, config=config, comm=comm,
                      threads=thread_count(settings["threads"], comm))
    except NonFiniteLossError as e:
        if resume:  # the hint's lower learning rate needs a new run
            e.args = (f"{e} A resumed run keeps its learning rate: to continue with another, start a new run "
                      f"from this one's weights with --fine-tune-from {out} --lr LR --out NEW_DIR",)
        raise
    seconds = time.perf_counter() - start
    if not writer:
        return {"accuracy": None, "loss": None, "out": out, "history": history}

    load_checkpoint(os.path.join(out, rundir.MODEL), model=network)
    report = test_report(network, data)
    write_outputs(out, history, report, data, settings, network, seconds)
    if verbose:
        log(f"test accuracy {report['accuracy']:.2%}. Run directory: {out}")
        for name in rundir.LISTED:
            if os.path.exists(os.path.join(out, name)):
                log(f"  {os.path.join(out, name)}")
    return {"accuracy": report["accuracy"], "loss": report["loss"], "out": out, "history": history}
