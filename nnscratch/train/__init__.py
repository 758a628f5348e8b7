"""Training: the ``fit`` loop, evaluation and prediction, callbacks, checkpoints and metrics.

    from nnscratch.train import fit, evaluate
    from nnscratch.train.callbacks import EarlyStopping, ModelCheckpoint

    history = fit(model, train_loader, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(model.parameters()),
                  epochs=20, validation_split=0.1, metrics=["accuracy", "top5_accuracy"],
                  callbacks=[EarlyStopping(patience=3)])
    history.history["val_top5_accuracy"]                 # also history.val_top5_accuracy
    evaluate(model, test_loader, loss=F.cross_entropy)   # {"loss": ..., "accuracy": ...}

A metric of your own is one subclass of ``metrics.Metric`` (see ``nnscratch.train.metrics``).
"""

from . import callbacks, metrics
from .callbacks import Callback, CSVLogger, EarlyStopping, JSONLinesLogger, ModelCheckpoint, ProgressBar
from .checkpoint import load_checkpoint
from .history import History
from .loop import NonFiniteLossError, Trainer, evaluate, fit, predict, predict_proba, split_loader
from .metrics import Accuracy, Metric, TopKAccuracy

__all__ = ["fit", "evaluate", "predict", "predict_proba", "Trainer", "History", "NonFiniteLossError",
           "load_checkpoint", "split_loader", "callbacks", "metrics", "Callback", "EarlyStopping",
           "ModelCheckpoint", "ProgressBar", "CSVLogger", "JSONLinesLogger", "Metric", "Accuracy", "TopKAccuracy"]
