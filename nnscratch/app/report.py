"""What a finished run reports: the test set's numbers, history.csv/json, summary.txt and the
plots of its run directory (file names in ``rundir``)."""

import os

import numpy as np

from .. import functional as F
from .. import nn
from ..backend import manual_seed
from ..data import DataLoader, TensorDataset
from ..fileio import atomic_write_text
from ..models import ResidualBlock
from ..tensor import from_numpy, no_grad
from ..train import evaluate, predict_proba
from ..train.metrics import confusion_matrix, per_class_accuracy
from . import rundir
from .architectures import architecture


def test_report(network, data):
    """Loss, accuracy, predictions, confusion matrix and per-class accuracy on the test set."""
    test_loader = DataLoader(TensorDataset(data.x_test, data.t_test), batch_size=1000)
    result = evaluate(network, test_loader, loss=F.cross_entropy)
    proba = predict_proba(network, data.x_test, batch_size=1000)
    pred = proba.argmax(axis=1)
    cm = confusion_matrix(pred, data.t_test, len(data.classes))
    return {**result, "pred": pred, "confidence": proba.max(axis=1), "confusion": cm,
            "per_class": per_class_accuracy(cm)}


def summary_lines(history, report, data, settings, network, seconds):
    """summary.txt's lines: the run's settings and time, its final and best numbers, the test set's
    per-class accuracy and, last, the test accuracy."""
    extra = architecture(settings.get("arch", "mlp")).summary
    lines = [f"dataset: {settings['dataset']}", f"model: {settings['model']} "
             f"({network.num_parameters():,} parameters)", f"optimizer: {settings['optimizer']} lr {settings['lr']}",
             f"epochs: {len(history.loss)} ({seconds:.1f} s, {np.mean(history.time):.2f} s/epoch)",
             *(extra(settings) if extra else []),
             f"final train loss {history.loss[-1]:.4f}, train accuracy {history.accuracy[-1]:.2%}"]
    if history.val_accuracy and history.val_accuracy[-1] is not None:
        lines.append(f"best validation accuracy {max(v for v in history.val_accuracy if v is not None):.2%}")
    lines += [f"test {c}: {a:.2%}" for c, a in zip(data.classes, report["per_class"])]
    lines.append(f"test loss {report['loss']:.4f}")
    lines.append(f"test accuracy: {report['accuracy']:.4%}")
    return lines


def write_outputs(out, history, report, data, settings, network, seconds):
    """history.csv/json, summary.txt and the plots (skipped with a note when matplotlib is missing)."""
    history.to_csv(os.path.join(out, rundir.HISTORY_CSV))
    history.to_json(os.path.join(out, rundir.HISTORY_JSON))
    lines = summary_lines(history, report, data, settings, network, seconds)
    atomic_write_text(os.path.join(out, rundir.SUMMARY), "\n".join(lines) + "\n")
    try:
        write_plots(out, history, report, data, network)
    except ImportError as e:
        print(f"note: no plots written ({e})")


def write_plots(out, history, report, data, network):
    """loss.png, accuracy.png, confusion.png; for images mistakes.png, and for a CNN filters.png and
    features.png."""
    from .. import viz
    viz.plot_curves({"train": history.loss, "validation": history.val_loss}, os.path.join(out, rundir.LOSS_PLOT),
                    "cross-entropy loss", title="loss")
    viz.plot_curves({"train": history.accuracy, "validation": history.val_accuracy},
                    os.path.join(out, rundir.ACCURACY_PLOT), "accuracy", title="accuracy")
    viz.plot_confusion(report["confusion"], data.classes, os.path.join(out, rundir.CONFUSION_PLOT))
    convs = [m for m in network.modules() if isinstance(m, nn.Conv2d)]
    if convs and data.is_image:
        write_cnn_pictures(out, network, convs[0], data)
    wrong = np.flatnonzero(report["pred"] != data.t_test)[:40]
    if data.is_image and len(wrong):
        titles = [f"true {data.classes[data.t_test[i]]}\npred {data.classes[report['pred'][i]]}" for i in wrong]
        viz.plot_image_grid(data.x_test[wrong, 0], os.path.join(out, rundir.MISTAKES_PLOT), titles, cols=10,
                            title=f"{int((report['pred'] != data.t_test).sum())} misclassified test images "
                                  f"(first {len(wrong)})")


# The layers whose outputs features.png shows.
_FEATURE_LAYERS = (nn.ReLU, ResidualBlock, nn.MaxPool2d)


def write_cnn_pictures(out, network, first_conv, data):
    """filters.png (the first convolution's kernels) and features.png (what the first
    convolutional layers make of the first test image, channel by channel)."""
    from .. import viz
    weights = first_conv.weight.data  # (out, in, kh, kw): show the first input channel
    viz.plot_image_grid(weights[:, 0], os.path.join(out, rundir.FILTERS_PLOT), cols=10, symmetric=True,
                        title=f"first-layer filters ({weights.shape[0]} of {weights.shape[2]}x{weights.shape[3]})")
    x = data.x_test[:1]
    maps, titles = [], []
    network.eval()
    with no_grad():
        h = from_numpy(x)
        for layer in (network if hasattr(network, "__iter__") else [network]):
            h = layer(h)
            if h.ndim == 4 and isinstance(layer, _FEATURE_LAYERS):
                name = f"{len(maps) + 1}: {type(layer).__name__} {tuple(h.shape[1:])}"
                maps.append(h.data[0, :8])
                titles += [name] + [""] * (len(h.data[0, :8]) - 1)
    if maps:
        viz.plot_image_grid([m for layer in maps for m in layer], os.path.join(out, rundir.FEATURES_PLOT),
                            titles=titles, cols=8,
                            title=f"feature maps of test image 0 (true {data.classes[data.t_test[0]]}), "
                                  "first 8 channels per layer")


def write_dbn_pictures(out, dbn, data, n=10, steps=(1, 10, 100, 1000)):
    """rbm_filters.png: the first RBM's weights of 100 hidden units as images. rbm_samples.png: ``n``
    Gibbs chains in the top RBM, started from training images, brought down to pixels after each
    number of ``steps``."""
    from .. import viz
    shape = data.x_train.shape[2:] if data.x_train.ndim == 4 else None
    if shape is None:
        return
    first = dbn.rbms[0].weight.data
    viz.plot_image_grid(first[:100].reshape(-1, *shape), os.path.join(out, rundir.RBM_FILTERS_PLOT), cols=10,
                        symmetric=True, title=f"first RBM: weights of {min(100, len(first))} of {len(first)} "
                                              "hidden units")
    manual_seed(0)
    start = data.x_train[:n].reshape(n, -1)
    rows = [start] + [dbn.sample(start=start, gibbs_steps=k) for k in steps]
    titles = [f"{name}" if j == 0 else "" for name in ["data"] + [f"{k} steps" for k in steps] for j in range(n)]
    viz.plot_image_grid(np.concatenate(rows).reshape(-1, *shape), os.path.join(out, rundir.RBM_SAMPLES_PLOT),
                        titles=titles, cols=n, title="samples of the DBN: Gibbs chains in the top RBM, "
                                                     "started from the top row")
