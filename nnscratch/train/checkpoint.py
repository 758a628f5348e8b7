"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint (written with ``nnscratch.save``) is a dict::

    {"model": state_dict, "optimizer": state_dict, "scheduler": state_dict or None,
     "epoch": completed epochs, "history": History.as_dict(), "config": {...},
     "rng": nnscratch's generator state, "rng_seed": its seed sequence (with the count of generators
     it spawned for nn.DataParallel's threads), "loader_rng": the train loader's own generator state or None}

The random state is taken at the end of the epoch, so restoring it gives the next epoch the
same shuffling and dropout masks as an uninterrupted run.
"""

import warnings

from .. import backend
from ..serialization import load
from .history import History

REQUIRED = ("model", "optimizer", "scheduler", "epoch", "history", "rng")


def _loader_generator(loader):
    return getattr(loader, "generator", None)


def checkpoint_dict(trainer, epoch):
    """The checkpoint of ``trainer`` after ``epoch`` completed epochs (shares the model's arrays)."""
    loader_generator = _loader_generator(trainer.train_loader)
    return {"model": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict(),
            "scheduler": None if trainer.scheduler is None else trainer.scheduler.state_dict(),
            "epoch": epoch, "history": trainer.history.as_dict(), "config": trainer.config,
            "rng": backend.generator().bit_generator.state, "rng_seed": backend.generator_seed(),
            "loader_rng": None if loader_generator is None else loader_generator.bit_generator.state}


def load_checkpoint(path, model=None, optimizer=None, scheduler=None):
    """Read the checkpoint at ``path`` (see the module docstring) and return it; the states of the
    ``model``, ``optimizer`` and ``scheduler`` given are loaded into them."""
    checkpoint = load(path)
    missing = [key for key in REQUIRED if not isinstance(checkpoint, dict) or key not in checkpoint]
    if missing:
        raise ValueError(f"{path} is an nnscratch file but not a training checkpoint (it lacks {missing}); "
                         "checkpoints are written by nnscratch.train.callbacks.ModelCheckpoint")
    if model is not None:
        model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None:
        if checkpoint["scheduler"] is None:
            raise ValueError(f"{path} was saved without a scheduler, so its state cannot be loaded into "
                             f"{type(scheduler).__name__}; resume without a scheduler")
        scheduler.load_state_dict(checkpoint["scheduler"])
    elif checkpoint["scheduler"] is not None and optimizer is not None:
        warnings.warn(f"{path} holds a learning-rate scheduler's state but no scheduler was given; the "
                      "learning rate stays where the checkpoint left it", stacklevel=2)
    return checkpoint


def resume(trainer, path):
    """Load the checkpoint at ``path`` into ``trainer``: model, optimizer, scheduler, history,
    ``initial_epoch`` and the random generators' state. Returns the checkpoint."""
    checkpoint = load_checkpoint(path, trainer.model, trainer.optimizer, trainer.scheduler)
    trainer.history = History.from_dict(checkpoint["history"])
    trainer.initial_epoch = trainer.epoch = checkpoint["epoch"]
    backend.restore_generator(checkpoint["rng"], checkpoint.get("rng_seed"))
    loader_generator = _loader_generator(trainer.train_loader)
    if loader_generator is not None and checkpoint.get("loader_rng") is not None:
        loader_generator.bit_generator.state = checkpoint["loader_rng"]
    return checkpoint
