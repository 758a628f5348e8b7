"""The ``nnscratch`` command line: train, eval, predict, info, data, check, lab.

Every command has ``--help``. Bad arguments, missing files and unknown datasets print one line
``nnscratch: error: ...`` and exit with a non-zero status, never a traceback.
"""

import argparse
import os
import sys

from . import __version__


class UsageError(Exception):
    """A mistake on the command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line instead of argparse's usage block
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _csv_ints(text):
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 256,128, got {text!r}") from None


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def build_parser():
    from .presets import PRESETS
    from .runner import OPTIMIZERS, SCHEDULES, dataset_names

    parser = _Parser(prog="nnscratch",
                     description="Deep learning from first principles on NumPy: train networks on MNIST and "
                                 "see how they learn.")
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser(
        "train", help="train a network and write a run directory",
        description="Train a preset network on a dataset. Writes config.json, history.csv/.json, model.npz "
                    "(best), last.npz, loss/accuracy/confusion/mistakes plots and summary.txt into the run "
                    "directory. Presets: " + "; ".join(f"{k}: {v['description']}" for k, v in PRESETS.items()))
    train.add_argument("dataset", nargs="?", default="mnist", choices=dataset_names(), metavar="DATASET",
                       help=f"one of {', '.join(dataset_names())} (default mnist)")
    train.add_argument("--model", default="mlp", choices=list(PRESETS), help="preset (default mlp)")
    train.add_argument("--hidden", type=_csv_ints, help="hidden layer sizes, e.g. 256,256")
    train.add_argument("--activation", choices=["relu", "sigmoid", "tanh", "leaky_relu"])
    train.add_argument("--optimizer", choices=list(OPTIMIZERS))
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--schedule", choices=list(SCHEDULES), help="learning-rate schedule over the epochs")
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--dropout", type=_fraction)
    train.add_argument("--weight-decay", type=float, help="L2 weight decay")
    train.add_argument("--batchnorm", action="store_true", default=None, help="batch norm after hidden layers")
    train.add_argument("--augment", action="store_true", default=None, help="random shifts and rotations")
    train.add_argument("--validation-split", type=_fraction, help="fraction of the training set held out")
    train.add_argument("--patience", type=_positive_int, help="early stopping after this many epochs without "
                                                                "improvement of the validation loss")
    train.add_argument("--clip-grad-norm", type=float, help="clip the gradients' norm to this")
    train.add_argument("--seed", type=int, help="random seed (default 0)")
    train.add_argument("--threads", type=_positive_int, metavar="N",
                       help="compute each batch as N slices in parallel threads (default: one per core for the "
                            "cnn, lenet5 and deep-cnn presets, else 1; with batch norm each slice has its own "
                            "batch statistics)")
    train.add_argument("--limit", type=_positive_int, metavar="N", help="train on the first N samples only")
    train.add_argument("--out", metavar="DIR", help="run directory (default runs/DATASET-MODEL-TIME)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last.npz")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    train.add_argument("--pretrain-epochs", type=_positive_int, metavar="N",
                       help="dbn preset: epochs of unsupervised pre-training per RBM (default 10)")
    train.add_argument("--cd-k", type=_positive_int, metavar="K", help="dbn preset: Gibbs steps per update, CD-k (default 1)")
    train.add_argument("--pcd", action="store_true", default=None,
                       help="dbn preset: persistent contrastive divergence (chains kept between mini-batches)")
    train.add_argument("--serve", action="store_true", help="open the playground (a local web page) and stream "
                                                             "the loss/accuracy curves to it while training")
    train.add_argument("--host", default="127.0.0.1", help="with --serve: address to listen on (default 127.0.0.1)")
    train.add_argument("--port", type=int, default=8000, help="with --serve: port (default 8000; 0 = any free port)")
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel training over MPI: start with 'mpiexec -n N nnscratch train ... "
                            "--distributed' (needs pip install 'nnscratch[mpi]'); --batch-size stays the global "
                            "batch, split over the N processes")
    train.set_defaults(run=_train)

    ev = commands.add_parser("eval", help="evaluate a trained model on its test set",
                             description="Accuracy, loss and per-class accuracy of a trained model on the test set "
                                         "of the dataset it was trained on.")
    ev.add_argument("model", metavar="RUN_DIR_OR_MODEL")
    ev.set_defaults(run=_eval)

    pr = commands.add_parser("predict", help="classify images with a trained model",
                             description="Classify PNG/JPG images of any size (or .npy arrays): converted to "
                                         "grayscale, inverted when the background is light, cropped and centred "
                                         "by mass into 28x28 as MNIST was prepared.")
    pr.add_argument("model", metavar="MODEL")
    pr.add_argument("images", nargs="+", metavar="IMAGE")
    pr.add_argument("--top", type=_positive_int, default=3, help="how many classes to show (default 3)")
    pr.set_defaults(run=_predict)

    info = commands.add_parser("info", help="layers, shapes and parameter counts of a model")
    info.add_argument("model", metavar="MODEL")
    info.set_defaults(run=_info)

    data = commands.add_parser("data", help="datasets: list, where, fetch, verify",
                               description="list: known datasets and whether they are present; where: the folders "
                                           "searched; fetch: download into the cache; verify: check every file.")
    data.add_argument("action", choices=["list", "where", "fetch", "verify"])
    data.add_argument("name", nargs="?", help="dataset (default: all)")
    data.set_defaults(run=_data)

    check = commands.add_parser("check", help="verify autograd on the seeds' simpleNet against numerical gradients")
    check.set_defaults(run=_check)

    serve = commands.add_parser(
        "serve", help="the playground: draw a digit in the browser and watch a trained network think",
        description="Start a local web server with the playground page: draw or upload a digit, see the "
                    "prediction, every hidden layer's activations and weight images, and each run's training "
                    "curves. Give run directories, checkpoints or folders of runs (default ./runs).")
    serve.add_argument("models", nargs="*", metavar="RUN_DIR_OR_MODEL",
                       help="run directories, .npz checkpoints or folders of runs (default ./runs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    serve.set_defaults(run=_serve)

    lab = commands.add_parser(
        "lab", help="concept demos: numbers and figures of how networks learn",
        description="'nnscratch lab list' lists the demos; 'nnscratch lab NAME' runs one, prints its numbers "
                    "and writes its figures (PNG) into --out (default lab/NAME/).")
    lab.add_argument("name", metavar="NAME", help="a demo name, or 'list'")
    lab.add_argument("--out", metavar="DIR", help="folder for the figures (default lab/NAME/)")
    lab.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    lab.add_argument("--full", action="store_true", help="the full-size variant (slower)")
    lab.set_defaults(run=_lab)
    return parser


# ----------------------------------------------------------------------------- commands

def _train(args):
    from .runner import train_run
    overrides = {k: getattr(args, k) for k in ("hidden", "activation", "optimizer", "lr", "epochs", "batch_size",
                                               "dropout", "weight_decay", "batchnorm", "augment", "validation_split", "schedule",
                                               "patience", "clip_grad_norm", "seed", "limit", "threads",
                                               "pretrain_epochs", "cd_k", "pcd")}
    if args.resume and not args.out:
        raise UsageError("nnscratch train: --resume needs --out DIR, the run directory to continue")
    if getattr(args, "serve", False):
        if getattr(args, "distributed", False):
            raise UsageError("nnscratch train: --serve and --distributed cannot be combined; serve a "
                             "single-process run, or watch a distributed one afterwards with 'nnscratch serve'")
        return _train_serving(args, overrides)
    if not getattr(args, "distributed", False):
        train_run(args.dataset, args.model, out=args.out, resume=args.resume, verbose=not args.quiet, **overrides)
        return 0
    from .distributed import get_communicator
    comm = get_communicator("mpi")
    if comm.size == 1:
        print("nnscratch: note: --distributed with a single process; start it as 'mpiexec -n N nnscratch train "
              "... --distributed' to train on N", file=sys.stderr)
    try:
        train_run(args.dataset, args.model, out=args.out, resume=args.resume, verbose=not args.quiet, comm=comm,
                  **overrides)
    except (Exception, KeyboardInterrupt) as e:
        if comm.size == 1:
            raise
        _abort_ranks(comm, e)  # the other ranks would wait for this one forever
    return 0


def _abort_ranks(comm, error):
    """Print the error of this rank and end every rank of the MPI job (exit status 1)."""
    if not isinstance(error, (OSError, ValueError, KeyError, ImportError, FloatingPointError, KeyboardInterrupt)):
        import traceback
        traceback.print_exception(type(error), error, error.__traceback__)
    message = str(error).strip().strip('"') or type(error).__name__
    print(f"nnscratch: error on rank {comm.rank} of {comm.size}: {message} (stopping all {comm.size} ranks)",
          file=sys.stderr, flush=True)
    comm.abort(1)


def _train_serving(args, overrides):
    """train --serve: the playground runs in a thread, fed each epoch (and a few times a second) by a
    MetricsPublisher; it stays open after training until Ctrl-C."""
    import time

    from .runner import train_run
    from .serve import LiveFeed, announce, make_server, start_in_thread
    from .serve.store import RefreshStore
    from .train.callbacks import MetricsPublisher
    out = args.out or os.path.join("runs", f"{args.dataset}-{args.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(out, exist_ok=True)
    feed = LiveFeed()
    server = make_server([out], args.host, args.port, feed=feed)
    thread = start_in_thread(server)
    try:
        if os.path.isfile(os.path.join(out, "model.npz")):  # --resume: before training reseeds the generator
            server.store.preload(os.path.join(out, "model.npz"))
        announce(server)
        feed.publish({"type": "run", "dataset": args.dataset, "model": args.model, "out": out,
                      "model_id": os.path.basename(os.path.normpath(out))})
        try:
            result = train_run(args.dataset, args.model, out=out, resume=args.resume, verbose=not args.quiet,
                               callbacks=[RefreshStore(server.store, os.path.join(out, "model.npz")),
                                          MetricsPublisher(feed.publish)], **overrides)
        except Exception as e:
            feed.publish({"type": "error", "message": str(e)})
            raise
        feed.publish({"type": "done", "accuracy": result["accuracy"], "out": out})
        print(f"training finished; the playground stays open at {server.url} (Ctrl-C to stop)", flush=True)
        thread.join()
    finally:
        server.shutdown()
        server.server_close()
    return 0


def _serve(args):
    from .serve import serve
    return serve(args.models, host=args.host, port=args.port, quiet=not args.verbose)


def _eval(args):
    from .runner import load_data, load_model, test_report
    network, config = load_model(args.model)
    settings = config["settings"]
    data = load_data(settings["dataset"])
    report = test_report(network, data)
    print(f"{settings['dataset']} test set, {len(data.t_test):,} samples, model {settings['model']} "
          f"({network.num_parameters():,} parameters)")
    for c, a in zip(data.classes, report["per_class"]):
        print(f"  class {c}: {a:.2%}")
    print(f"test loss {report['loss']:.4f}")
    print(f"test accuracy: {report['accuracy']:.4%}")
    return 0


def _predict(args):
    import numpy as np

    from .data.mnist import DATASETS as IMAGE_DATASETS
    from .data.preprocess import read_image, to_mnist
    from .runner import load_model
    from .train import predict_proba
    network, config = load_model(args.model)
    classes = config.get("classes") or [str(i) for i in range(10)]
    if config.get("settings", {}).get("dataset") not in IMAGE_DATASETS:
        raise ValueError(f"{args.model} was not trained on 28x28 images; predict needs an MNIST-family model")
    images = np.stack([to_mnist(read_image(path)) for path in args.images])[:, None]
    proba = predict_proba(network, images)
    for path, p in zip(args.images, proba):
        top = np.argsort(p)[::-1][:args.top]
        print(f"{path}: " + ", ".join(f"{classes[k]} {p[k]:.1%}" for k in top))
    return 0


def _info(args):
    from .runner import load_model, model_path
    network, config = load_model(args.model)
    print(f"{model_path(args.model)}")
    print(network)
    print("parameters:")
    for name, p in network.named_parameters():
        print(f"  {name:30s} {str(p.shape):14s} {p.size:>10,}  {p.dtype}")
    buffers = list(network.named_buffers())
    if buffers:
        print("buffers:")
        for name, b in buffers:
            print(f"  {name:30s} {str(b.shape):14s} {b.size:>10,}  {b.dtype}")
    settings = config.get("settings", {})
    if settings:
        print("trained with: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    return 0


def _data(args):
    from .data import mnist
    names = [args.name] if args.name else list(mnist.DATASETS)
    failures = False
    for name in names:
        if name not in mnist.DATASETS:
            raise UsageError(f"nnscratch data: unknown dataset {name!r}; known: {', '.join(mnist.DATASETS)}")
    for name in names:
        if args.action == "list":
            status = mnist.dataset_status(name)
            found = sum(1 for v in status.values() if v)
            print(f"{name}: {mnist.DATASETS[name].title} - {found}/{len(status)} files present")
        elif args.action == "where":
            print(f"{name}:")
            for folder in mnist.search_locations(name):
                print(f"  {folder}{'  (exists)' if os.path.isdir(folder) else ''}")
        elif args.action == "fetch":
            print(f"{name}: {mnist.fetch(name)}")
        else:
            report = mnist.verify(name)
            print(f"{name}:")
            for row in report:
                digest = ("SHA-256 matches a known copy" if row["known"] or row["content_known"]
                          else f"SHA-256 {row['sha256']} is not a known copy" if row["sha256"] else "")
                print(f"  {'OK ' if row['ok'] else 'BAD'} {row['file']}: {row['path'] or 'not found'} - "
                      f"IDX {row['idx']}{' - ' + digest if digest else ''}")
            if not all(row["ok"] for row in report):
                failures = True
    return 1 if failures else 0


def _check(args):
    """Backprop vs numerical differentiation on the seeds' simpleNet (W 2x3, x = [0.6, 0.9], t = 2)."""
    import numpy as np

    from . import functional as F
    from .gradcheck import numerical_gradient
    from .tensor import tensor

    w = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
    x = tensor([0.6, 0.9], dtype=np.float64)
    t = 2
    W = tensor(w, requires_grad=True, dtype=np.float64)
    loss = -F.log_softmax(x @ W)[t]
    loss.backward()
    numeric = numerical_gradient(lambda _: -F.log_softmax(x @ W.detach())[t], W.data)
    diff = np.abs(W.grad.data - numeric).max()
    print(f"simpleNet loss {loss.item():.10f}")
    print("backprop gradient dL/dW:\n", np.array2string(W.grad.data, precision=8))
    print("numerical gradient dL/dW:\n", np.array2string(numeric, precision=8))
    print(f"largest difference {diff:.2e}: {'OK' if diff < 1e-6 else 'MISMATCH'}")
    return 0 if diff < 1e-6 else 1


def _lab(args):
    from . import lab
    if args.name == "list":
        for name, title in lab.titles().items():
            print(f"  {name:24s} {title}")
        return 0
    if args.name not in lab.DEMOS:
        raise KeyError(f"unknown demo {args.name!r}; see 'nnscratch lab list'")
    result = lab.run(args.name, seed=args.seed, full=args.full)
    print(result.report.rstrip())
    paths = result.save(args.out or os.path.join("lab", args.name))
    for path in paths:
        print(f"wrote {path}")
    return 0


# ----------------------------------------------------------------------------- entry point

def main(argv=None):
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return args.run(args)
    except UsageError as e:
        print(f"{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nnscratch: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, KeyError, ImportError, FloatingPointError) as e:
        message = str(e).strip().strip('"') or type(e).__name__
        print(f"nnscratch: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
