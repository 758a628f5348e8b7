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


def best_epoch(history):
    """The epoch whose weights model.npz holds: the first best validation accuracy, or without
    validation the first lowest training loss (what the run's ModelCheckpoint monitors)."""
    monitor = "val_accuracy" if any(v is not None for v in history.val_accuracy) else "loss"
    try:
        return history.best(monitor)[0]
    except ValueError:  # no epoch recorded a value
        return None


def confident_mistakes(report, data, n=40):
    """The indices of up to ``n`` misclassified test samples, the most confidently wrong first."""
    wrong = np.flatnonzero(report["pred"] != data.t_test)
    return wrong[np.argsort(-report["confidence"][wrong], kind="stable")][:n]


def decision_grid(network, x, steps=200, margin=0.25):
    """(grid_x, grid_y, grid_class): a ``steps`` x ``steps`` grid over the points ``x`` (N, 2) and a
    margin, and the class the network predicts at each grid point (row i is ``grid_y[i]``)."""
    low, high = x.min(axis=0) - margin, x.max(axis=0) + margin
    grid_x, grid_y = np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps)
    points = np.stack(np.meshgrid(grid_x, grid_y), axis=-1).reshape(-1, 2).astype(np.float32)
    grid_class = predict_proba(network, points, batch_size=10000).argmax(axis=1).reshape(steps, steps)
    return grid_x, grid_y, grid_class


def write_plots(out, history, report, data, network):
    """loss.png and accuracy.png (the saved epoch marked), confusion.png; for 2-D points decision.png;
    for images mistakes.png, and for a CNN filters.png and features.png."""
    from .. import viz
    best = best_epoch(history)
    viz.plot_curves({"train": history.loss, "validation": history.val_loss}, os.path.join(out, rundir.LOSS_PLOT),
                    "cross-entropy loss", title="loss", best=best)
    viz.plot_curves({"train": history.accuracy, "validation": history.val_accuracy},
                    os.path.join(out, rundir.ACCURACY_PLOT), "accuracy", title="accuracy", best=best)
    viz.plot_confusion(report["confusion"], data.classes, os.path.join(out, rundir.CONFUSION_PLOT))
    if data.x_train.ndim == 2 and data.x_train.shape[1] == 2:
        fig = viz.decision_figure(*decision_grid(network, data.x_train), data.x_train, data.t_train, data.classes,
                                  title=f"predicted class over the plane, training points on top "
                                        f"(test accuracy {report['accuracy']:.1%})")
        viz.save_figure(fig, os.path.join(out, rundir.DECISION_PLOT))
    convs = [m for m in network.modules() if isinstance(m, nn.Conv2d)]
    if convs and data.is_image:
        write_cnn_pictures(out, network, convs[0], data)
    if data.is_image:
        write_mistakes(out, report, data)


def write_mistakes(out, report, data):
    """mistakes.png: the 40 test images the network got wrong most confidently, each titled with the
    true class, the predicted one and the probability it gave that prediction."""
    from .. import viz
    shown = confident_mistakes(report, data)
    if not len(shown):
        return
    titles = [f"true {data.classes[data.t_test[i]]}\npred {data.classes[report['pred'][i]]} "
              f"{report['confidence'][i]:.0%}" for i in shown]
    viz.plot_image_grid(data.x_test[shown, 0], os.path.join(out, rundir.MISTAKES_PLOT), titles, cols=10,
                        title=f"{int((report['pred'] != data.t_test).sum())} misclassified test images: the "
                              f"{len(shown)} most confident, with the predicted class's probability")


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
