"""The models the playground may use: run directories and checkpoints named on the command line.

``ModelStore(paths)`` accepts run directories (holding ``model.npz``), ``.npz`` checkpoints, and
folders of run directories (such as ``./runs``). It rescans them when asked for the list, so a run
that ``nnscratch train --serve`` is writing appears as soon as its first checkpoint exists. Models
are addressed by an id from that list only: the server never opens a path a request names.

Building a network draws its initial weights from nnscratch's one global generator, which a run
being trained beside the server (``train --serve``) draws from too. So a build puts the
generator's state back afterwards, a changed checkpoint of a network already built is loaded into
it (no new draws), and the first build of the model that is being trained is done by the training
thread itself (``preload``, from the ``RefreshStore`` callback): a seeded run gives the same
weights with or without ``--serve``.
"""

import contextlib
import json
import os
import re
import threading

from .. import backend
from ..data.mnist import DATASETS as IMAGE_DATASETS
from ..app.rundir import load_model, load_weights
from ..train.callbacks import Callback
from ..train.checkpoint import load_checkpoint
from .images import InputError
from .probe import describe, frozen, probe_points


class UnknownModel(KeyError):
    """A model id that is not in the store's list."""


class ModelNotReady(InputError):
    """The model of the run being trained, before the training thread has loaded it (503)."""

    def __init__(self, model_id):
        super().__init__(f"model {model_id!r} is being trained and is loaded after its epoch ends; "
                         "try again in a moment", status=503)


@contextlib.contextmanager
def _generator_untouched():
    """Put nnscratch's random generator back into its state from before the block."""
    generator = backend.generator()
    state = generator.bit_generator.state
    try:
        yield
    finally:
        generator.bit_generator.state = state


def _run_dir(model_file):
    folder = os.path.dirname(model_file)
    return folder if os.path.basename(model_file) == "model.npz" else None


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _test_accuracy(run_dir):
    """The test accuracy in a run's summary.txt (its last line, 'test accuracy: 98.4500%'), or None."""
    try:
        with open(os.path.join(run_dir, "summary.txt"), encoding="utf-8") as f:
            match = re.search(r"test accuracy:\s*([0-9.]+)%", f.read())
    except OSError:
        return None
    return float(match.group(1)) / 100 if match else None


class ModelStore:
    """Discovers, describes and loads (once per file version) the models under ``paths``.
    ``live``: checkpoint paths that only ``preload`` may build (the run being trained).
    ``lock`` is held while a network is loaded; hold it while using one (weights change in place)."""

    def __init__(self, paths, live=()):
        self.paths = [os.path.abspath(os.fspath(p)) for p in paths]
        for path in self.paths:
            if not os.path.exists(path):
                raise FileNotFoundError(f"no run directory or model at {path}; give run directories (with "
                                        "model.npz), .npz checkpoints, or a folder of runs such as ./runs")
        self.live = {os.path.abspath(os.fspath(p)) for p in live}
        self._files = {}  # id -> absolute path of the checkpoint
        self._loaded = {}  # checkpoint path -> entry
        self.lock = threading.RLock()

    # -- discovery

    def _candidates(self):
        for path in self.paths:
            if os.path.isfile(path):
                yield path
            elif os.path.isfile(os.path.join(path, "model.npz")):
                yield os.path.join(path, "model.npz")
            elif os.path.isdir(path):
                for name in sorted(os.listdir(path)):
                    model = os.path.join(path, name, "model.npz")
                    if os.path.isfile(model):
                        yield model

    def scan(self):
        """Refresh and return {id: checkpoint path}; an id is the run directory's (or file's) name,
        made unique with a suffix."""
        files = {}
        for path in self._candidates():
            run = _run_dir(path)
            base = os.path.basename(run) if run else os.path.splitext(os.path.basename(path))[0]
            name, k = base, 2
            while name in files and files[name] != path:
                name, k = f"{base}-{k}", k + 1
            files[name] = path
        with self.lock:
            self._files = files
        return dict(files)

    def path(self, model_id):
        """The checkpoint path of ``model_id`` (the first model when None)."""
        files = self._files or self.scan()
        if model_id is None:
            if not files:
                raise UnknownModel("no models: give run directories to 'nnscratch serve' or train one")
            return next(iter(files.items()))
        if model_id not in files:
            files = self.scan()
        if model_id not in files:
            raise UnknownModel(f"unknown model {model_id!r}; GET /api/models lists the available ones")
        return model_id, files[model_id]

    # -- description

    def _config(self, path):
        run = _run_dir(path)
        config = _read_json(os.path.join(run, "config.json")) if run else None
        if config is None or "net" not in config:
            config = load_checkpoint(path).get("config") or {}
        return config

    def describe(self, model_id, path):
        """What the model picker shows: name, dataset, preset, test accuracy (or the best validation
        accuracy while a run is still training), epochs and the network's layers."""
        config = self._config(path)
        settings = config.get("settings", {})
        run = _run_dir(path)
        accuracy, source = (_test_accuracy(run), "test") if run else (None, None)
        history = self.history(model_id)
        if accuracy is None:
            values = [v for v in history.get("val_accuracy", []) if v is not None]
            accuracy, source = (max(values), "validation") if values else (None, None)
        net = config.get("net", {})
        return {"id": model_id, "path": self.shown_path(path), "dataset": settings.get("dataset"),
                "preset": settings.get("model"), "arch": net.get("arch"), "sizes": net.get("sizes"),
                "accuracy": accuracy, "accuracy_source": source, "epochs": len(history.get("epoch", [])),
                "image": settings.get("dataset", "mnist") in IMAGE_DATASETS,
                "classes": config.get("classes") or [str(i) for i in range(10)]}

    def list(self):
        """The description of every model found, in order (a model whose files are unreadable is
        listed with its error)."""
        out = []
        for model_id, path in self.scan().items():
            try:
                out.append(self.describe(model_id, path))
            except Exception as e:  # whatever breaks one model must not hide the others
                out.append({"id": model_id, "path": self.shown_path(path), "error": self.public_error(e)})
        return out

    def shown_path(self, text):
        """``text`` (a path, or a message naming paths) as clients see it: paths from the served
        folder's name on (runs/a/model.npz), never the server's absolute paths."""
        for root in sorted(self.paths, key=len, reverse=True):
            text = text.replace(os.path.dirname(root) + os.sep, "")
        return text

    def public_error(self, error):
        """'cannot load: TYPE: message' of ``error``, its paths shown as ``shown_path`` does."""
        return self.shown_path(f"cannot load: {type(error).__name__}: {error}")

    def history(self, model_id):
        """{field: per-epoch values} of a run: its history.json, else the history in last.npz (a run
        still training), else the checkpoint's own."""
        model_id, path = self.path(model_id)
        run = _run_dir(path)
        if run:
            history = _read_json(os.path.join(run, "history.json"))
            if history is not None:
                return history
            last = os.path.join(run, "last.npz")
            if os.path.isfile(last):
                path = last
        return load_checkpoint(path).get("history") or {}

    # -- loading

    def get(self, model_id):
        """{"id", "network" (frozen, eval mode), "config", "points", "layers", "classes", ...} of a model,
        loaded once and its weights again when its file changes."""
        model_id, path = self.path(model_id)
        with self.lock:
            entry = self._load(path, allow_build=path not in self.live)
            if entry is None:
                raise ModelNotReady(model_id)
            entry["id"] = model_id
            return entry

    def preload(self, path):
        """Load (or reload) the checkpoint at ``path``; the training thread calls this after each epoch."""
        with self.lock:
            self._load(os.path.abspath(path), allow_build=True)

    def _load(self, path, allow_build):
        mtime = os.stat(path).st_mtime_ns
        entry = self._loaded.get(path)
        if entry is not None and entry["mtime"] == mtime:
            return entry
        if entry is not None:  # new weights for a network already built: load them into it
            checkpoint = load_checkpoint(path)
            if (checkpoint.get("config") or {}).get("net") == entry["config"].get("net"):
                load_weights(entry["network"], checkpoint["model"], path)
                entry["mtime"] = mtime
                return entry
        if not allow_build:
            return None
        with _generator_untouched():
            network, config = load_model(path)
        network = frozen(network)
        dataset = config.get("settings", {}).get("dataset", "mnist")
        image = dataset in IMAGE_DATASETS
        points = probe_points(network) if image else []
        entry = {"id": None, "path": path, "mtime": mtime, "network": network, "config": config, "points": points,
                 "image": image, "dataset": dataset, "layers": describe(points),
                 "classes": config.get("classes") or [str(i) for i in range(10)]}
        self._loaded[path] = entry
        return entry


class RefreshStore(Callback):
    """After each epoch, in the training thread: load the run's new checkpoint into ``store`` (see
    the module docstring for why the training thread does it)."""

    def __init__(self, store, path):
        self.store, self.path = store, os.path.abspath(path)
        store.live.add(self.path)

    def on_epoch_end(self, trainer, epoch, logs):
        if os.path.isfile(self.path):
            self.store.preload(self.path)
