"""RBM and DBN benchmarks (issue 7).

    python benchmarks/bench_rbm.py compare      # nnscratch RBM vs sklearn BernoulliRBM: time and pseudo-likelihood
    python benchmarks/bench_rbm.py dbn          # the dbn preset: pre-train 784-500-500-2000, fine-tune, test accuracy
    python benchmarks/bench_rbm.py few-labels   # 1,000 labels: pre-trained DBN vs the same MLP from random init

MNIST comes from $NNSCRATCH_DATA (or the usual search path). ``compare`` binarises the pixels at
0.5 (the pseudo-likelihood is defined for binary data) and gives both libraries the same hidden
size, learning rate, batch size, epochs and algorithm (PCD-1, no momentum, no weight decay,
weights drawn from N(0, 0.01²)); both scores use the same corrupted unit per test image
(random_state), so they are directly comparable.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nnscratch as ns  # noqa: E402
from nnscratch import nn  # noqa: E402
from nnscratch.data import load_mnist  # noqa: E402


def compare(args):
    from sklearn.neural_network import BernoulliRBM
    (x, _), (x_test, _) = load_mnist(normalize=True, flatten=True)
    x, x_test = (x[:args.limit] > 0.5).astype(np.float32), (x_test > 0.5).astype(np.float32)
    rows = []
    for repeat in range(args.repeats):
        for side in ("nnscratch", "sklearn"):
            start = time.perf_counter()
            if side == "nnscratch":
                ns.manual_seed(args.seed + repeat)
                model = nn.RBM(x.shape[1], args.hidden)
                model.fit(x, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, k=1, persistent=True,
                          shuffle=False)  # sklearn visits the batches in order too
                seconds = time.perf_counter() - start
                score = model.pseudo_likelihood(x_test, random_state=args.seed).mean()
            else:
                # sklearn trains in the input's dtype; float32 is its fastest setting
                model = BernoulliRBM(n_components=args.hidden, learning_rate=args.lr, batch_size=args.batch_size,
                                     n_iter=args.epochs, random_state=args.seed + repeat).fit(x)
                seconds = time.perf_counter() - start
                model.random_state = args.seed
                score = model.score_samples(x_test).mean()
            rows.append((side, repeat, seconds, float(score)))
            print(f"{side:10s} run {repeat + 1}: {seconds:7.2f} s training ({seconds / args.epochs:.2f} s/epoch), "
                  f"test pseudo-likelihood {score:.2f}", flush=True)
    best = {side: min(r[2] for r in rows if r[0] == side) for side in ("nnscratch", "sklearn")}
    mean_pl = {side: np.mean([r[3] for r in rows if r[0] == side]) for side in ("nnscratch", "sklearn")}
    print(f"MNIST binarised, {len(x):,} training images, {args.hidden} hidden, lr {args.lr}, batch {args.batch_size}, "
          f"{args.epochs} epochs, PCD-1")
    print(f"best training time: nnscratch {best['nnscratch']:.2f} s, sklearn {best['sklearn']:.2f} s "
          f"(ratio {best['nnscratch'] / best['sklearn']:.2f}x)")
    print(f"mean test pseudo-likelihood: nnscratch {mean_pl['nnscratch']:.2f}, sklearn {mean_pl['sklearn']:.2f}")


def use_pretrained(path):
    """Make the runner load the pre-trained DBN from ``path`` (a dbn.npz of an earlier run with the
    same pre-training settings) instead of pre-training again: for sweeps over fine-tuning settings."""
    from nnscratch.app import pretraining

    def load_instead(settings, data, network, out, verbose=True, log=print):
        deep = nn.DBN([784, *settings["hidden"]])
        deep.load_state_dict(ns.load(path))
        network[len(network) - 1].load_state_dict(deep.to_mlp(10, dropout=settings["dropout"]).state_dict())
        log(f"pre-trained DBN loaded from {path}")
        return deep
    pretraining.pretrain_dbn = load_instead


def dbn(args):
    from nnscratch.runner import train_run
    overrides = {k: v for k, v in dict(epochs=args.epochs, lr=args.lr, pretrain_epochs=args.pretrain_epochs,
                                        dropout=args.dropout, validation_split=args.validation_split,
                                        seed=args.seed, cd_k=args.cd_k, pcd=args.pcd or None,
                                        optimizer=args.optimizer, schedule=args.schedule,
                                        batch_size=args.batch_size).items()
                 if v is not None}
    if args.pretrained:
        use_pretrained(args.pretrained)
    start = time.perf_counter()
    result = train_run("mnist", "dbn", out=args.out, verbose=True, **overrides)
    print(f"dbn preset {overrides}: test accuracy {result['accuracy']:.2%}, "
          f"{time.perf_counter() - start:.0f} s wall in all")


def few_labels(args):
    """Pre-train on all 60,000 training images without labels, fine-tune on the first ``labels``
    labelled ones; the same MLP (same sizes, sigmoid, same fine-tuning) from random initialisation
    for comparison. Both pick their epoch by accuracy on 5,000 held-out training images (whose
    labels are used for that only) and are scored on the 10,000 test images."""
    import nnscratch.functional as F
    from nnscratch import optim
    from nnscratch.data import DataLoader, TensorDataset
    from nnscratch.train import evaluate, fit
    from nnscratch.train.callbacks import EarlyStopping

    (x, t), (x_test, t_test) = load_mnist(normalize=True, flatten=True)
    x_lab, t_lab = x[:args.labels], t[:args.labels]
    x_val, t_val = x[-5000:], t[-5000:]
    sizes = [784, 500, 500, 2000]
    ns.manual_seed(args.seed)
    deep = nn.DBN(sizes)
    if args.pretrained:
        deep.load_state_dict(ns.load(args.pretrained))
        print(f"pre-trained DBN loaded from {args.pretrained}")
    else:  # the dbn preset's pre-training
        start = time.perf_counter()
        deep.pretrain(x, epochs=args.pretrain_epochs, batch_size=100, lr=0.1, k=1, weight_decay=2e-4,
                      momentum=lambda epoch: 0.5 if epoch <= 5 else 0.9)
        print(f"pre-training on {len(x):,} unlabelled images: {time.perf_counter() - start:.0f} s", flush=True)
    results = {}
    for name in ("pre-trained DBN", "random init"):
        ns.manual_seed(args.seed + 1)
        model = deep.to_mlp(10, dropout=args.dropout) if name == "pre-trained DBN" else nn.MLP(
            sizes + [10], activation="sigmoid", dropout=args.dropout, init="xavier")
        optimizer = (optim.Adam(model.parameters(), lr=args.lr) if args.optimizer == "adam"
                     else optim.SGD(model.parameters(), lr=args.lr, momentum=0.9))
        early = EarlyStopping("val_accuracy", patience=args.patience, restore_best_weights=True)
        history = fit(model, DataLoader(TensorDataset(x_lab, t_lab), batch_size=args.batch_size, shuffle=True),
                      loss=F.cross_entropy, optimizer=optimizer, epochs=args.epochs,
                      val_loader=DataLoader(TensorDataset(x_val, t_val), batch_size=1000),
                      callbacks=[early], seed=args.seed + 1, verbose=False)
        test = evaluate(model, DataLoader(TensorDataset(x_test, t_test), batch_size=1000), loss=F.cross_entropy)
        best = int(np.argmax(history.val_accuracy)) + 1
        results[name] = test["accuracy"]
        print(f"{name:16s}: test accuracy {test['accuracy']:.2%} (best validation accuracy "
              f"{max(history.val_accuracy):.2%} at epoch {best} of {len(history.loss)})", flush=True)
    print(f"{args.labels:,} labels, {args.optimizer} lr {args.lr}, dropout {args.dropout}: pre-trained {results['pre-trained DBN']:.2%} vs random init "
          f"{results['random init']:.2%}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("compare", help="nnscratch RBM vs sklearn BernoulliRBM")
    c.add_argument("--hidden", type=int, default=256)
    c.add_argument("--lr", type=float, default=0.05)
    c.add_argument("--batch-size", type=int, default=100)
    c.add_argument("--epochs", type=int, default=10)
    c.add_argument("--limit", type=int, default=60000, help="training images")
    c.add_argument("--repeats", type=int, default=2)
    c.add_argument("--seed", type=int, default=0)
    c.set_defaults(run=compare)
    d = commands.add_parser("dbn", help="the dbn preset end to end (options override it)")
    for name, kind in (("--epochs", int), ("--pretrain-epochs", int), ("--lr", float), ("--dropout", float),
                       ("--validation-split", float), ("--seed", int), ("--cd-k", int)):
        d.add_argument(name, type=kind)
    for name in ("--optimizer", "--schedule"):
        d.add_argument(name)
    d.add_argument("--batch-size", type=int)
    d.add_argument("--pcd", action="store_true")
    d.add_argument("--pretrained", metavar="DBN_NPZ", help="load this dbn.npz instead of pre-training")
    d.add_argument("--out", default="runs/bench-dbn")
    d.set_defaults(run=dbn)
    f = commands.add_parser("few-labels", help="1,000 labels: pre-trained vs random initialisation")
    f.add_argument("--labels", type=int, default=1000)
    f.add_argument("--pretrain-epochs", type=int, default=10)
    f.add_argument("--epochs", type=int, default=100)
    f.add_argument("--patience", type=int, default=20)
    f.add_argument("--lr", type=float, default=0.1)
    f.add_argument("--optimizer", choices=["momentum", "adam"], default="momentum", help="SGD with momentum 0.9, or Adam")
    f.add_argument("--batch-size", type=int, default=50)
    f.add_argument("--dropout", type=float, default=0.0)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--pretrained", metavar="DBN_NPZ", help="load this dbn.npz (a dbn run's) instead of pre-training")
    f.set_defaults(run=few_labels)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
