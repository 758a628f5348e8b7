"""Run PyTorch code on nnscratch: an import hook that answers ``import torch`` with nnscratch.

While the hook is active (``with nnscratch.as_torch(): ...``, or ``nnscratch as-torch SCRIPT.py``),
``import torch`` gives nnscratch, ``torch.nn`` gives ``nnscratch.nn``, ``torch.utils.data`` gives
``nnscratch.utils.data``, and ``import torchvision`` gives ``nnscratch.vision`` (see ``MODULES``).
Nothing is copied or patched: each ``torch...`` name is a thin module whose attributes *are*
nnscratch's objects (``torch.Tensor is nnscratch.Tensor``), so a learner can step from their
script into nnscratch's code.

A name nnscratch does not have is an error that names it — ``import torch.fft`` or
``torch.fft.rfft`` raises "torch.fft is not available in nnscratch" — never a silent stand-in.

How it works: a finder placed first on ``sys.meta_path`` claims the names ``torch``,
``torch.*``, ``torchvision`` and ``torchvision.*``; its loader returns an ``_Alias`` module for
the nnscratch module listed for that name. On exit the real entries of ``sys.modules`` (a real
torch imported before, for instance) come back.
"""

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import threading
import traceback
import types

# PyTorch's module name -> the nnscratch modules that provide it, tried in order.
MODULES = {
    "torch": ("nnscratch",),
    "torch.nn": ("nnscratch.nn",),
    "torch.nn.functional": ("nnscratch.nn.functional", "nnscratch.functional"),
    "torch.nn.init": ("nnscratch.nn.init",),
    "torch.nn.utils": ("nnscratch.nn.utils",),
    "torch.optim": ("nnscratch.optim",),
    "torch.optim.lr_scheduler": ("nnscratch.optim.lr_scheduler",),
    "torch.utils": ("nnscratch.utils",),
    "torch.utils.data": ("nnscratch.utils.data",),
    "torch.autograd": ("nnscratch.autograd",),
    "torch.cuda": ("nnscratch.cuda",),
    "torch.backends": ("nnscratch.backends",),
    "torch.accelerator": ("nnscratch.accelerator",),
    "torchvision": ("nnscratch.vision",),
    "torchvision.datasets": ("nnscratch.vision.datasets",),
    "torchvision.transforms": ("nnscratch.vision.transforms",),
    "torchvision.utils": ("nnscratch.vision.utils",),
}
# Below these, torch.a.b maps to nnscratch.a.b (torchvision.a to nnscratch.vision.a) when it exists.
_PREFIXES = {"torch.nn.": "nnscratch.nn.", "torch.optim.": "nnscratch.optim.", "torch.utils.": "nnscratch.utils.",
             "torch.autograd.": "nnscratch.autograd.", "torchvision.": "nnscratch.vision."}

# PyTorch features nnscratch leaves out on purpose, and what to do instead.
UNSUPPORTED = {
    "torch.compile": "nnscratch runs every model eagerly: drop the torch.compile(...) call and use the model itself",
    "torch.jit": "nnscratch has no TorchScript: call the model directly instead of scripting or tracing it",
    "torch.cuda": "nnscratch runs on the CPU only: use device 'cpu'",
    "torch.mps": "nnscratch runs on the CPU only: use device 'cpu'",
    "torch.sparse": "nnscratch has dense tensors only: use a dense tensor",
    "torch.fft": "nnscratch has no FFT: numpy.fft works on tensor.numpy()",
    "torch.distributed": "nnscratch.distributed offers MPI data parallelism with its own API",
    "torch.multiprocessing": "nnscratch runs in one process: DataLoader workers run in-process",
    "torch.onnx": "nnscratch has no ONNX export: save weights with torch.save(model.state_dict(), path)",
    "torch.quantization": "nnscratch computes in float32/float64 only",
    "torch.ao": "nnscratch computes in float32/float64 only",
}


def _is_torch_name(name):
    return name in ("torch", "torchvision") or name.startswith(("torch.", "torchvision."))


def missing_message(name):
    """The error text for a PyTorch name nnscratch lacks: "torch.fft is not available in nnscratch"."""
    hint = UNSUPPORTED.get(name)
    if hint is None:
        hint = next((h for n, h in UNSUPPORTED.items() if name.startswith(n + ".")), None)
    text = f"{name} is not available in nnscratch"
    return f"{text} ({hint})" if hint else text


def _candidates(name):
    if name in MODULES:
        return MODULES[name]
    for prefix, replacement in _PREFIXES.items():
        if name.startswith(prefix):
            return (replacement + name[len(prefix):],)
    return ()


class _Alias(types.ModuleType):
    """The module a script gets for a PyTorch name: its attributes are those of ``target`` (an
    nnscratch module, or a namespace object); a name the target lacks raises an AttributeError
    that names it as PyTorch would spell it."""

    def __init__(self, name, target):
        super().__init__(name, getattr(target, "__doc__", None))
        self.__dict__["_nnscratch_target"] = target
        self.__path__ = []  # a package: `import torch.x` asks the finder for torch.x

    def __getattr__(self, attr):  # called only when the usual lookup fails
        target = self.__dict__["_nnscratch_target"]
        if attr.startswith("__") and attr.endswith("__"):
            return getattr(target, attr)
        full = f"{self.__name__}.{attr}"
        if _candidates(full) and _Hook.active:
            with contextlib.suppress(ImportError):
                return importlib.import_module(full)  # torch.nn without `import torch.nn`
        try:
            value = getattr(target, attr)
        except AttributeError:
            raise AttributeError(missing_message(full)) from None
        if isinstance(value, types.ModuleType):  # an nnscratch module PyTorch has not (torch.lab)
            raise AttributeError(missing_message(full))
        return value

    def __dir__(self):
        return sorted(set(dir(self.__dict__["_nnscratch_target"])) | set(self.__dict__))

    def __repr__(self):
        target = self.__dict__["_nnscratch_target"]
        return f"<module {self.__name__!r} (nnscratch: {getattr(target, '__name__', type(target).__name__)})>"


def alias_module(name):
    """The ``_Alias`` module for the PyTorch module ``name``, or ModuleNotFoundError naming it."""
    for candidate in _candidates(name):
        try:
            return _Alias(name, importlib.import_module(candidate))
        except ModuleNotFoundError as e:
            if e.name and (candidate == e.name or candidate.startswith(e.name + ".")):
                continue  # this candidate does not exist; a failure inside it propagates
            raise
    parent, _, child = name.rpartition(".")
    owner = sys.modules.get(parent)
    if isinstance(owner, _Alias):  # a namespace object such as nnscratch.cuda, if it is one
        value = getattr(owner.__dict__["_nnscratch_target"], child, None)
        if value is not None and not callable(value) and not isinstance(value, types.ModuleType):
            return _Alias(name, value)
    # name=None: `from torch import fft` then reports this message, not "cannot import name"
    raise ModuleNotFoundError(missing_message(name))


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return alias_module(spec.name)

    def exec_module(self, module):
        pass  # nothing to run: the alias is ready


class _Finder(importlib.abc.MetaPathFinder):
    """Claims ``torch``, ``torchvision`` and their submodules while the hook is active."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_torch_name(fullname):
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader(), is_package=True)


class _Hook:
    active = 0  # nesting depth of as_torch()
    finder = _Finder()
    saved = {}
    lock = threading.Lock()


class as_torch(contextlib.ContextDecorator):
    """``with nnscratch.as_torch(): import torch`` — inside the block (or the decorated function),
    ``torch``, ``torch.nn``, ``torch.utils.data``, ``torchvision``... are nnscratch's modules (see
    ``MODULES``). On exit ``sys.modules`` is as before: a real torch imported earlier is back, and
    the aliases are gone. Blocks nest."""

    def __enter__(self):
        with _Hook.lock:
            if _Hook.active == 0:
                _Hook.saved = {k: sys.modules.pop(k) for k in list(sys.modules) if _is_torch_name(k)}
                sys.meta_path.insert(0, _Hook.finder)
            _Hook.active += 1
        return self

    def __exit__(self, *exc):
        with _Hook.lock:
            _Hook.active -= 1
            if _Hook.active == 0:
                with contextlib.suppress(ValueError):
                    sys.meta_path.remove(_Hook.finder)
                for k in [k for k in sys.modules if _is_torch_name(k)]:
                    del sys.modules[k]
                sys.modules.update(_Hook.saved)
                _Hook.saved = {}
        return False


def run_script(path, args=()):
    """Run the Python file ``path`` as ``python path args...`` would, with ``import torch``
    answered by nnscratch: ``__name__ == "__main__"``, ``sys.argv == [path, *args]`` and the
    script's folder first on ``sys.path``. Returns the script's globals; exceptions (SystemExit
    included) propagate."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such script: {path}")
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [path, *args]
    folder = os.path.dirname(os.path.abspath(path))
    if sys.path:
        sys.path[0] = folder
    else:
        sys.path.append(folder)
    try:
        with as_torch():
            return runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = old_argv
        sys.path[:] = old_path


def print_script_error(path, error):
    """Print ``error``'s traceback as ``python path`` would, without the frames of this hook."""
    tb = error.__traceback__
    script = os.path.abspath(path)
    first = tb
    while first is not None and os.path.abspath(first.tb_frame.f_code.co_filename) != script:
        first = first.tb_next
    traceback.print_exception(type(error), error, first if first is not None else tb)
