"""A deep belief net's greedy layer-wise pre-training, before its network is fine-tuned by
backpropagation (the ``dbn`` architecture's ``prepare`` step)."""

import os
import time

import numpy as np

from .. import nn
from ..backend import manual_seed
from ..fileio import atomic_write_text
from ..serialization import save
from . import rundir
from .report import write_dbn_pictures


def pretrain_dbn(settings, data, network, out, verbose=True, log=print):
    """Greedy layer-wise pre-training of a DBN on the training images (no labels), its weights
    copied into ``network`` (the dbn architecture's MLP) for fine-tuning. Writes dbn.npz,
    pretrain.csv, rbm_filters.png and rbm_samples.png into ``out`` (unless None)."""
    sizes = [int(np.prod(data.x_train.shape[1:])), *settings["hidden"]]
    manual_seed(settings["seed"])
    dbn = nn.DBN(sizes)
    momentum = settings["pretrain_momentum"]
    start = time.perf_counter()
    histories = dbn.pretrain(data.x_train.reshape(len(data.x_train), -1), epochs=settings["pretrain_epochs"],
                             batch_size=settings["pretrain_batch_size"], lr=settings["pretrain_lr"], k=settings["cd_k"],
                             persistent=settings["pcd"], weight_decay=settings["pretrain_weight_decay"],
                             momentum=lambda epoch: 0.5 if epoch <= 5 else momentum, verbose=verbose, log=log)
    if verbose:
        log(f"pre-training done in {time.perf_counter() - start:.1f} s; fine-tuning by backpropagation")
    mlp = network[len(network) - 1]
    mlp.load_state_dict(dbn.to_mlp(len(data.classes), dropout=settings["dropout"]).state_dict())
    if out is None:
        return dbn
    save(dbn.state_dict(), os.path.join(out, rundir.DBN))
    rows = ["layer,epoch,reconstruction_error,seconds"] + [
        f"{i + 1},{row['epoch']},{row['reconstruction_error']:.6f},{row['seconds']:.3f}"
        for i, history in enumerate(histories) for row in history]
    atomic_write_text(os.path.join(out, rundir.PRETRAIN_CSV), "\n".join(rows) + "\n")
    try:
        write_dbn_pictures(out, dbn, data)
    except ImportError as e:
        log(f"note: no RBM pictures written ({e})")
    return dbn
