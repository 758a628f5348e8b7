"""Over-fitting and its remedies (the introduction to neural networks; the PyTorch textbook
chapter, 4.2.3; *Deep Learning from Scratch*, 6.4).

The book's experiment: a network far larger than its data, trained on only 300 MNIST training
images. Here 784-256-256-256-10 (ReLU, He init, Adam lr 1e-3, batch 100; 40 epochs take
seconds). It soon classifies all 300 correctly while test accuracy stalls far below, and its
test loss, after a minimum, rises again as it grows confident on what it memorised: the
train/test gap, in accuracy and in loss (test loss - train loss), is over-fitting. The same run
is repeated with each usual remedy:

- dropout (p = 0.5 after every hidden layer, the value of the PyTorch textbook chapter and the
  introduction to neural networks; off at test time),
- L2 weight decay (+ λ/2 Σw² over the weights in the loss),
- L1 (+ λ Σ|w| over the weights),
- early stopping (``EarlyStopping`` on the loss of 300 *other* training images, restoring the
  best weights),
- data augmentation (random shifts of up to 2 pixels and rotations of up to 15°),

and, for contrast, an under-fitting model (a 2-unit bottleneck, 784-2-10) that cannot even fit
the training images: low train accuracy, small gap. With only 300 images the regularisers mostly
cure the over-confidence (lower test loss, smaller loss gap) while moving test accuracy little;
augmentation, which in effect adds images, is the one that clearly narrows the accuracy gap.
"""

import numpy as np

from .. import backend, nn, optim
from .. import functional as F
from ..data import DataLoader, TensorDataset, transforms
from ..train import Callback, EarlyStopping, evaluate, fit
from .base import Result, mnist_subset

TITLE = "over-fitting on 300 MNIST images: the train/test gap, and dropout, L2, L1, early stopping, augmentation"

VARIANTS = ("baseline", "dropout", "weight decay (L2)", "L1", "early stopping", "augmentation", "under-fitting")


class CurveRecorder(Callback):
    """After every epoch, in eval mode: accuracy and cross-entropy on the clean training images
    and on the test images."""

    def __init__(self, train_loader, test_loader):
        self.train_loader, self.test_loader = train_loader, test_loader
        self.train, self.test, self.train_loss, self.test_loss = [], [], [], []

    def on_epoch_end(self, trainer, epoch, logs):
        train = evaluate(trainer.model, self.train_loader, loss=F.cross_entropy)
        test = evaluate(trainer.model, self.test_loader, loss=F.cross_entropy)
        self.train.append(train["accuracy"])
        self.train_loss.append(train["loss"])
        self.test.append(test["accuracy"])
        self.test_loss.append(test["loss"])


def penalised(loss, weights, l1=0.0, l2=0.0):
    """loss(y, t) + l1 Σ|w| + l2/2 Σw² over ``weights`` (L1 / L2 regularisation)."""
    def total(y, t):
        value = loss(y, t)
        if l1:
            value = value + l1 * F.l1_penalty(weights)
        if l2:
            value = value + (l2 / 2) * F.l2_penalty(weights)
        return value
    return total


def train_variant(variant, data, epochs, lr, seed, settings):
    """Train one variant; returns its entry of ``run``'s numbers, the final_* values measured on the
    weights the run ends with (for early stopping: the restored best ones)."""
    x, t, x_val, t_val, x_test, t_test = data
    backend.manual_seed(seed)
    sizes = [784, 2, 10] if variant == "under-fitting" else [784, *settings["hidden"], 10]
    model = nn.MLP(sizes, activation="relu", init="he", dropout=settings["dropout"] if variant == "dropout" else 0.0)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    loss = penalised(F.cross_entropy, weights, l1=settings["l1"] if variant == "L1" else 0.0,
                     l2=settings["weight_decay"] if variant == "weight decay (L2)" else 0.0)
    augment = None
    if variant == "augmentation":
        augment = transforms.Compose([transforms.RandomShift(2), transforms.RandomRotation(15)])
    train_loader = DataLoader(TensorDataset(x, t), batch_size=100, shuffle=True, transform=augment)
    recorder = CurveRecorder(DataLoader(TensorDataset(x, t), batch_size=1000),
                                DataLoader(TensorDataset(x_test, t_test), batch_size=1000))
    callbacks, val_loader = [recorder], None
    if variant == "early stopping":
        early = EarlyStopping(monitor="val_loss", patience=settings["patience"], restore_best_weights=True)
        callbacks.append(early)
        val_loader = DataLoader(TensorDataset(x_val, t_val), batch_size=1000)
    fit(model, train_loader, loss=loss, optimizer=optimizer, epochs=epochs, val_loader=val_loader,
        callbacks=callbacks, verbose=False)
    train = evaluate(model, recorder.train_loader, loss=F.cross_entropy)
    test = evaluate(model, recorder.test_loader, loss=F.cross_entropy)
    out = {"train_acc": recorder.train, "test_acc": recorder.test, "train_loss": recorder.train_loss,
           "test_loss": recorder.test_loss, "final_train": train["accuracy"], "final_test": test["accuracy"],
           "final_train_loss": train["loss"], "final_test_loss": test["loss"],
           "gap": train["accuracy"] - test["accuracy"], "loss_gap": test["loss"] - train["loss"],
           "epochs_run": len(recorder.train)}
    if variant == "early stopping":
        out["best_epoch"] = early.best_epoch
    return out


def run(seed=0, full=False, epochs=None, n_train=300, n_test=None, lr=1e-3, variants=VARIANTS, dropout=0.5,
        weight_decay=0.01, l1=1e-4, patience=10, hidden=(256,) * 3):
    """Train each of ``variants`` for ``epochs`` (default 40; 200 with ``full``) on ``n_train``
    images of a 784-``hidden``-10 network; test on ``n_test`` test images (default 1,000; all
    10,000 with ``full``). numbers[variant] = {"train_acc", "test_acc", "train_loss", "test_loss"
    (per epoch), "final_train", "final_test", "final_train_loss", "final_test_loss", "gap"
    (accuracy), "loss_gap" (test - train loss), "epochs_run"} (+ "best_epoch" for early
    stopping), measured in eval mode; plus the settings."""
    epochs = epochs or (200 if full else 40)
    n_test = n_test or (10_000 if full else 1_000)
    x, t, x_test, t_test = mnist_subset(n_train + 300, n_test, seed)
    order = np.random.default_rng(seed).permutation(len(x))   # 300 held-out images for early stopping
    train, val = order[:n_train], order[n_train:]
    data = (x[train], t[train], x[val], t[val], x_test, t_test)
    settings = {"dropout": dropout, "weight_decay": weight_decay, "l1": l1, "patience": patience,
                "hidden": list(hidden)}
    numbers = {"n_train": n_train, "n_test": n_test, "epochs": epochs, "lr": lr, **settings}
    for variant in variants:
        numbers[variant] = train_variant(variant, data, epochs, lr, seed, settings)

    size = "784-" + "-".join(str(h) for h in hidden) + "-10"
    notes = {"baseline": size, "dropout": f"p = {dropout}", "weight decay (L2)": f"λ = {weight_decay}",
             "L1": f"λ = {l1}", "early stopping": f"patience {patience}, val loss",
             "augmentation": "shift ±2, rotate ±15°", "under-fitting": "784-2-10"}
    lines = [f"{n_train} MNIST training images, Adam lr {lr}, batch 100, up to {epochs} epochs; test on {n_test} "
             "test images. Accuracy and cross-entropy loss at the end:",
             f"{'variant':18s} {'setting':22s} {'train':>6s} {'test':>6s} {'gap':>6s} {'train loss':>10s} "
             f"{'test loss':>9s} {'loss gap':>8s}"]
    for variant in variants:
        r = numbers[variant]
        extra = f"  (stopped after epoch {r['epochs_run']}, best epoch {r['best_epoch']})" \
            if variant == "early stopping" else ""
        lines.append(f"{variant:18s} {notes[variant]:22s} {r['final_train']:6.3f} {r['final_test']:6.3f} "
                     f"{r['gap']:6.3f} {r['final_train_loss']:10.3f} {r['final_test_loss']:9.3f} "
                     f"{r['loss_gap']:8.3f}{extra}")
    if "baseline" in variants:
        base = numbers["baseline"]
        remedies = [v for v in variants if v not in ("baseline", "under-fitting")]
        narrower = [v for v in remedies if numbers[v]["gap"] < base["gap"]]
        smaller = [v for v in remedies if numbers[v]["loss_gap"] < base["loss_gap"]]
        lines.append(f"Over-fitting: the baseline learns its {n_train} images (train accuracy "
                     f"{base['final_train']:.3f}) while test accuracy stays {base['gap']:.3f} lower, and its test loss "
                     "ends at "
                     f"{base['final_test_loss']:.3f} after a minimum of {min(base['test_loss']):.3f} (over-confidence "
                     f"on what it memorised). Smaller loss gap than the baseline: {', '.join(smaller) or 'none'}; "
                     f"narrower accuracy gap: {', '.join(narrower) or 'none'}.")
    if "under-fitting" in variants:
        lines.append("Under-fitting: the 784-2-10 network does not even learn the training images.")

    def draw(fig):
        fig.set_size_inches(14, 7.5)
        axes = fig.subplots(2, 4, sharey=True).ravel()
        for ax, variant in zip(axes, variants):
            r = numbers[variant]
            epochs_axis = np.arange(1, r["epochs_run"] + 1)
            ax.plot(epochs_axis, r["train_acc"], color="C0", label="train accuracy")
            ax.plot(epochs_axis, r["test_acc"], color="C1", label="test accuracy")
            losses = ax.twinx()
            losses.plot(epochs_axis, r["train_loss"], color="C0", ls="--", lw=1, label="train loss")
            losses.plot(epochs_axis, r["test_loss"], color="C1", ls="--", lw=1, label="test loss")
            losses.set(yscale="log", ylim=(1e-4, 5))
            if variant == "early stopping":
                ax.axvline(r["best_epoch"], color="0.4", ls=":", lw=1, label="best (restored)")
            ax.set(title=f"{variant}\naccuracy gap {r['gap']:.3f}, loss gap {r['loss_gap']:.3f}", xlabel="epoch",
                   ylim=(0, 1.02))
            ax.title.set_fontsize(10)
            ax.grid(alpha=0.3)
        for ax in axes[len(variants):]:
            ax.axis("off")
        axes[0].set_ylabel("accuracy (solid)")
        handles = [h for a in (axes[0], losses) for h in a.get_lines()]
        axes[-1].legend(handles, [h.get_label() for h in handles], loc="center", title="loss: dashed, log scale")
        fig.tight_layout()

    def draw_gaps(fig):
        ax = fig.subplots()
        names = list(variants)
        train_acc = [numbers[v]["final_train"] for v in names]
        test_acc = [numbers[v]["final_test"] for v in names]
        pos = np.arange(len(names))
        ax.bar(pos - 0.2, train_acc, 0.4, label="train")
        ax.bar(pos + 0.2, test_acc, 0.4, label="test")
        ax.set_xticks(pos, names, rotation=20)
        ax.set(ylabel="accuracy at the end", ylim=(0, 1.05), title=f"{n_train} training images: train vs test")
        ax.legend()
        fig.tight_layout()

    def draw_test_loss(fig):
        ax = fig.subplots()
        for variant in variants:
            r = numbers[variant]
            ax.plot(np.arange(1, r["epochs_run"] + 1), r["test_loss"], label=variant)
        ax.set(xlabel="epoch", ylabel="test loss (cross-entropy)", yscale="log",
               title="test loss: it rises again when the network over-fits")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)

    return Result("overfitting", numbers, "\n".join(lines),
                  {"overfitting_curves.png": draw, "overfitting_gaps.png": draw_gaps,
                   "overfitting_test_loss.png": draw_test_loss})
