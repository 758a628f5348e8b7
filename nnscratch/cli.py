"""The ``nnscratch`` command line: train, eval, predict, info, data, check, lab.

Every command has ``--help``. Bad arguments, missing files and unknown datasets print one line
``nnscratch: error: ...`` and exit with a non-zero status, never a traceback.
"""

import argparse
import math
import os
import sys
import warnings

from . import __version__


class UsageError(Exception):
    """A mistake on the command line (exit status 2)."""


# The errors a command reports in one line (a bad file, value or setting, a missing package); any
# other exception is a bug and keeps its traceback.
EXPECTED_ERRORS = (OSError, ValueError, KeyError, ImportError, FloatingPointError)


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


def _finite_float(text):
    """A float that is a number (not nan or inf): training with one could only produce NaN."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _finite_float_above(low, inclusive, hint=""):
    """A parser of finite floats greater than ``low`` (or equal to it, when ``inclusive``)."""
    def parse(text):
        value = _finite_float(text)
        if value < low or (value == low and not inclusive):
            bound = "at least" if inclusive else "greater than"
            raise argparse.ArgumentTypeError(f"must be {bound} {low:g}, got {text!r}{hint}")
        return value
    return parse


_learning_rate = _finite_float_above(0, inclusive=False, hint=" (a typical value is 0.1 for sgd, 0.001 for adam)")
_non_negative_float = _finite_float_above(0, inclusive=True)   # 0 turns the option off
_positive_float = _finite_float_above(0, inclusive=False)


def _and(names):
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# How the command line reads each kind of architecture option (nnscratch.app.architectures.OPTIONS).
_OPTION_KINDS = {"sizes": dict(type=_csv_ints), "fraction": dict(type=_fraction), "count": dict(type=_positive_int),
                 "flag": dict(action="store_true", default=None)}


def _add_architecture_options(parser):
    """The options only some presets take, each with the presets that take it (and its default when
    one preset does), from the architectures' records."""
    from .app.architectures import OPTIONS
    from .presets import PRESETS, presets_taking
    group = parser.add_argument_group("options of some presets only")
    for name, option in OPTIONS.items():
        if option.kind is None:
            continue
        presets = presets_taking(name)
        default = PRESETS[presets[0]].get(name) if len(presets) == 1 and option.kind != "flag" else None
        kind = dict(choices=list(option.choices)) if option.kind == "choice" else dict(_OPTION_KINDS[option.kind])
        if option.metavar:
            kind["metavar"] = option.metavar
        group.add_argument(option.flag(name), **kind,
                           help=f"{_and(presets)} preset{'s' if len(presets) > 1 else ''}: {option.help}"
                                + (f" (default {default})" if default is not None else ""))


# The train options that are run settings (train_run's overrides), besides the architecture options.
_SETTINGS = ("optimizer", "lr", "epochs", "batch_size", "weight_decay", "augment", "validation_split", "schedule",
             "patience", "clip_grad_norm", "seed", "limit", "threads")


def _overrides(args):
    """The run settings given on the command line (None where not given)."""
    from .app.architectures import OPTIONS
    return {k: getattr(args, k) for k in (*_SETTINGS, *(k for k, o in OPTIONS.items() if o.kind is not None))}


def build_parser():
    from .app.builders import OPTIMIZERS, SCHEDULES
    from .app.datasets import dataset_names
    from .app.rundir import CONFIG, LAST, MODEL, SUMMARY
    from .presets import PRESETS

    parser = _Parser(prog="nnscratch",
                     description="Deep learning from first principles on NumPy: train networks on MNIST and "
                                 "see how they learn.")
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser(
        "train", help="train a network and write a run directory",
        description=f"Train a preset network on a dataset. Writes {CONFIG}, history.csv/.json, {MODEL} "
                    f"(best), {LAST}, loss/accuracy/confusion/mistakes plots and {SUMMARY} into the run "
                    "directory. Presets: " + "; ".join(f"{k}: {v['description']}" for k, v in PRESETS.items()))
    train.add_argument("dataset", nargs="?", choices=dataset_names(), metavar="DATASET",
                       help=f"one of {', '.join(dataset_names())} (default mnist)")
    train.add_argument("--model", choices=list(PRESETS), help="preset (default mlp)")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS))
    train.add_argument("--lr", type=_learning_rate, help="learning rate (a finite number > 0)")
    train.add_argument("--schedule", choices=list(SCHEDULES), help="learning-rate schedule over the epochs")
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--weight-decay", type=_non_negative_float, help="L2 weight decay (>= 0)")
    train.add_argument("--augment", action="store_true", default=None, help="random shifts and rotations")
    train.add_argument("--validation-split", type=_fraction, help="fraction of the training set held out")
    train.add_argument("--patience", type=_positive_int, help="early stopping after this many epochs without "
                                                                "improvement of the validation loss")
    train.add_argument("--clip-grad-norm", type=_positive_float, help="clip the gradients' norm to this (> 0)")
    train.add_argument("--seed", type=int, help="random seed (default 0)")
    train.add_argument("--threads", type=_positive_int, metavar="N",
                       help="compute each batch as N slices in parallel threads (default: one per core for the "
                            f"{_and([k for k, v in PRESETS.items() if v.get('threads') == 'cores'])} presets, else 1; "
                            "with batch norm each slice has its own batch statistics)")
    train.add_argument("--limit", type=_positive_int, metavar="N", help="train on the first N samples only")
    train.add_argument("--out", metavar="DIR", help="run directory (default runs/DATASET-MODEL-TIME)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last.npz, exactly as it was trained: other options "
                            "are refused unless equal to the run's, except --epochs, which may extend it")
    train.add_argument("--fine-tune-from", metavar="RUN", help="start a new run (in --out) from the weights and "
                                                               "settings of RUN; the options given change them")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    train.add_argument("--serve", action="store_true", help="open the playground (a local web page) and stream "
                                                             "the loss/accuracy curves to it while training")
    train.add_argument("--host", default="127.0.0.1", help="with --serve: address to listen on (default 127.0.0.1)")
    train.add_argument("--port", type=int, default=8000, help="with --serve: port (default 8000; 0 = any free port)")
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel training over MPI: start with 'mpiexec -n N nnscratch train ... "
                            "--distributed' (needs pip install 'nnscratch[mpi]'); --batch-size stays the global "
                            "batch, split over the N processes")
    _add_architecture_options(train)
    train.set_defaults(run=_train)

    ev = commands.add_parser("eval", help="evaluate a trained model on its test set",
                             description="Accuracy, loss and per-class accuracy of a trained model on the test set "
                                         "of the dataset it was trained on.")
    ev.add_argument("model", metavar="RUN_DIR_OR_MODEL")
    ev.set_defaults(run=_eval)

    pr = commands.add_parser("predict", help="classify images with a trained model",
                             description="Classify PNG/JPG images of any size (or .npy arrays): converted to "
                                         "grayscale, inverted when the background is light, cropped and centred "
                                         "by mass into 28x28 as MNIST was prepared. An image without ink or with "
                                         "NaN pixels is refused; a note flags a best guess below "
                                         f"{LOW_CONFIDENCE:.0%} and ink of only a few pixels.")
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

    check = commands.add_parser("check", help="verify autograd on simpleNet (Deep Learning from Scratch, 4.4.2) against numerical gradients")
    check.set_defaults(run=_check)

    serve = commands.add_parser(
        "serve", help="the playground: draw a digit in the browser and watch a trained network think",
        description="Start a local web server with the playground page: draw or upload a digit, see the "
                    "prediction, every hidden layer's activations and weight images, and each run's training "
                    "curves. Give run directories, checkpoints or folders of runs (default ./runs).")
    serve.add_argument("models", nargs="*", metavar="RUN_DIR_OR_MODEL",
                       help="run directories, .npz checkpoints or folders of runs (default ./runs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only; "
                                                            "0.0.0.0 for every network, such as a classroom's)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 = any free port)")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="also answer requests that name the server NAME (its name on the network; the "
                            "addresses it listens on and localhost are always accepted); repeatable")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    from .serve.limits import Limits, MiB  # cheap: imports neither the web server nor NumPy models
    bound = Limits()
    bounds = serve.add_argument_group("resource bounds (the defaults hold a class of learners on one laptop)")
    bounds.add_argument("--max-connections", type=_positive_int, default=bound.max_connections, metavar="N",
                        help=f"connections and requests at once; a request beyond is answered 503 "
                             f"(default {bound.max_connections})")
    bounds.add_argument("--backlog", type=_positive_int, default=bound.backlog, metavar="N",
                        help=f"connections waiting to be accepted (default {bound.backlog})")
    bounds.add_argument("--read-timeout", type=_seconds, default=bound.read_timeout, metavar="S",
                        help=f"seconds a client has to send its request headers, and again its body; then the "
                             f"connection is closed (default {bound.read_timeout:g})")
    bounds.add_argument("--keep-alive", type=_seconds, default=bound.keep_alive, metavar="S",
                        help=f"seconds an idle connection stays open (default {bound.keep_alive:g})")
    bounds.add_argument("--max-body", type=_positive_int, default=bound.max_body, metavar="BYTES",
                        help=f"largest request body, refused from its Content-Length before it is read "
                             f"(default {bound.max_body // MiB} MiB)")
    bounds.add_argument("--max-pixels", type=_positive_int, default=bound.max_pixels, metavar="N",
                        help=f"largest uploaded image (width x height), refused from its header before it is "
                             f"decoded (default {bound.max_pixels:,} = 2048x2048)")
    bounds.add_argument("--workers", type=_positive_int, default=bound.workers, metavar="N",
                        help=f"threads that decode images and run the network (default {bound.workers}: "
                             "the cores, 2 to 4)")
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

    as_torch = commands.add_parser(
        "as-torch", help="run a PyTorch script unmodified, with nnscratch as torch and torchvision",
        description="'nnscratch as-torch SCRIPT.py [ARGS...]' runs SCRIPT.py as 'python SCRIPT.py ARGS...' would, "
                    "but 'import torch' and 'import torchvision' give nnscratch and nnscratch.vision. A PyTorch "
                    "name nnscratch lacks stops the script with an error that names it.")
    as_torch.add_argument("script", metavar="SCRIPT.py", help="the Python script to run")
    as_torch.add_argument("script_args", metavar="ARGS", nargs=argparse.REMAINDER,
                          help="arguments passed to the script (its sys.argv[1:])")
    as_torch.set_defaults(run=_as_torch)
    return parser


# ----------------------------------------------------------------------------- commands

def _train(args):
    from .runner import train_run
    overrides = _overrides(args)
    if args.resume and not args.out:
        raise UsageError("nnscratch train: --resume needs --out DIR, the run directory to continue")
    if getattr(args, "serve", False):
        if getattr(args, "distributed", False):
            raise UsageError("nnscratch train: --serve and --distributed cannot be combined; serve a "
                             "single-process run, or watch a distributed one afterwards with 'nnscratch serve'")
        return _train_serving(args, overrides)
    if not getattr(args, "distributed", False):
        train_run(args.dataset, args.model, out=args.out, resume=args.resume, fine_tune_from=args.fine_tune_from,
                  verbose=not args.quiet, **overrides)
        return 0
    from .distributed import get_communicator
    comm = get_communicator("mpi")
    if comm.size == 1:
        print("nnscratch: note: --distributed with a single process; start it as 'mpiexec -n N nnscratch train "
              "... --distributed' to train on N", file=sys.stderr)
    try:
        train_run(args.dataset, args.model, out=args.out, resume=args.resume, fine_tune_from=args.fine_tune_from,
                  verbose=not args.quiet, comm=comm,
                  **overrides)
    except (Exception, KeyboardInterrupt) as e:
        if comm.size == 1:
            raise
        _abort_ranks(comm, e)  # the other ranks would wait for this one forever
    return 0


def _abort_ranks(comm, error):
    """Print the error of this rank and end every rank of the MPI job (exit status 1)."""
    if not isinstance(error, (*EXPECTED_ERRORS, KeyboardInterrupt)):
        import traceback
        traceback.print_exception(type(error), error, error.__traceback__)
    message = str(error).strip().strip('"') or type(error).__name__
    print(f"nnscratch: error on rank {comm.rank} of {comm.size}: {message} (stopping all {comm.size} ranks)",
          file=sys.stderr, flush=True)
    comm.abort(1)


def _train_serving(args, overrides):
    """train --serve: the playground runs in a thread, fed each epoch (and a few times a second) by a
    MetricsPublisher; it stays open after training until Ctrl-C."""
    from .app.rundir import default_run_dir
    from .runner import train_run
    from .serve import LiveFeed, announce, make_server, start_in_thread
    from .serve.store import RefreshStore
    from .train.callbacks import MetricsPublisher
    out = args.out or default_run_dir(args.dataset, args.model)
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
            result = train_run(args.dataset, args.model, out=out, resume=args.resume,
                               fine_tune_from=args.fine_tune_from, verbose=not args.quiet,
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


def _port(text):
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535 (0 = any free port), got {text!r}")
    return port


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _serve(args):
    from .serve import serve
    from .serve.limits import Limits
    limits = Limits(backlog=args.backlog, max_connections=args.max_connections, keep_alive=args.keep_alive,
                    read_timeout=args.read_timeout, max_body=args.max_body, max_pixels=args.max_pixels,
                    workers=args.workers)
    return serve(args.models, host=args.host, port=args.port, quiet=not args.verbose, limits=limits,
                 allow_hosts=args.allow_host)


def _eval(args):
    from .app.datasets import load_data
    from .app.report import test_report
    from .app.rundir import load_model
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


LOW_CONFIDENCE = 0.5  # predict notes a best guess below this probability


def _predict(args):
    import numpy as np

    from .data.mnist import DATASETS as IMAGE_DATASETS
    from .data.preprocess import check_ink, read_image, to_mnist
    from .app.rundir import load_model
    from .train import predict_proba
    network, config = load_model(args.model)
    classes = config.get("classes") or [str(i) for i in range(10)]
    if config.get("settings", {}).get("dataset") not in IMAGE_DATASETS:
        raise ValueError(f"{args.model} was not trained on 28x28 images; predict needs an MNIST-family model")
    images, notes = [], []
    for path in args.images:  # every image is checked before any is classified
        image = read_image(path)
        try:
            notes.append(check_ink(image))
            images.append(to_mnist(image))
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
    proba = predict_proba(network, np.stack(images)[:, None])
    for path, p, note in zip(args.images, proba, notes):
        top = np.argsort(p)[::-1][:args.top]
        print(f"{path}: " + ", ".join(f"{classes[k]} {p[k]:.1%}" for k in top))
        if p[top[0]] < LOW_CONFIDENCE:
            print(f"  note: low confidence: the best guess has only {p[top[0]]:.1%}; the image may not look like "
                  "the images the network learned from")
        if note:
            print(f"  note: {note}")
    return 0


def _info(args):
    from .app.rundir import load_model, model_path
    network, config = load_model(args.model)
    print(f"{model_path(args.model)}")
    print(network.summary())
    print("parameters:")
    for name, p in network.named_parameters():
        print(f"  {name:30s} {str(tuple(p.shape)):14s} {p.size:>10,}  {p.dtype}")
    buffers = list(network.named_buffers())
    if buffers:
        print("buffers:")
        for name, b in buffers:
            print(f"  {name:30s} {str(tuple(b.shape)):14s} {b.size:>10,}  {b.dtype}")
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
    """Backprop vs numerical differentiation on the book's simpleNet (ch. 4; W 2x3, x = [0.6, 0.9], t = 2)."""
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


def _as_torch(args):
    from .torch_hook import print_script_error, run_script
    if not os.path.isfile(args.script):
        raise FileNotFoundError(f"no such script: {args.script}")
    try:
        run_script(args.script, args.script_args)
    except SystemExit as e:  # the script's own sys.exit / argparse exit: keep its status
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - the script's error, shown as python would show it
        print_script_error(args.script, e)
        return 1
    return 0


# ----------------------------------------------------------------------------- entry point

def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"nnscratch: warning: {message}", file=sys.stderr if file is None else file, flush=True)


def main(argv=None):
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        from .backend import keep_freed_memory
        keep_freed_memory()  # this process is nnscratch's own: let malloc keep freed memory for the next step
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning  # one line, without the source file and line
            return args.run(args)
    except UsageError as e:
        print(f"{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nnscratch: interrupted", file=sys.stderr)
        return 130
    except EXPECTED_ERRORS as e:
        message = str(e).strip().strip('"') or type(e).__name__
        print(f"nnscratch: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
