"""save / load: state dicts (model, optimizer, training state) in a NumPy ``.npz`` file.

The file holds one array per tensor (``a0``, ``a1``, ...) and a JSON entry ``__nnscratch__`` that
describes the structure (dicts, lists, numbers, strings and where each array goes). There is no
pickle, so loading a file from elsewhere cannot run code. Writes go to a temporary file in the
same folder that is renamed over the target only when complete: a crash never leaves half a file.
"""

import json
import os
import zipfile

import numpy as np

from .fileio import atomic_write
from .tensor import Tensor

FORMAT = "nnscratch-state"
VERSION = 1


def _encode(obj, arrays):
    """A JSON-ready description of ``obj``; arrays are appended to ``arrays``."""
    if isinstance(obj, (Tensor, np.ndarray)):
        arrays.append(np.asarray(obj.data if isinstance(obj, Tensor) else obj))
        return {"__array__": len(arrays) - 1, "tensor": isinstance(obj, Tensor)}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        keys = list(obj)
        if not all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in keys):
            raise TypeError(f"save: dict keys must be strings or integers, got {keys!r}")
        return {"__dict__": [[k, _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__tuple__" if isinstance(obj, tuple) else "__list__": [_encode(v, arrays) for v in obj]}
    raise TypeError(f"save: cannot store a {type(obj).__name__}; state dicts hold tensors, arrays, numbers, "
                    "strings, None and dicts/lists of them")


def _decode(node, arrays):
    if isinstance(node, dict):
        if "__array__" in node:
            array = arrays[node["__array__"]]
            return Tensor._wrap(array) if node["tensor"] else array
        if "__dict__" in node:
            return {k: _decode(v, arrays) for k, v in node["__dict__"]}
        if "__list__" in node:
            return [_decode(v, arrays) for v in node["__list__"]]
        if "__tuple__" in node:
            return tuple(_decode(v, arrays) for v in node["__tuple__"])
    return node


def save(obj, path):
    """Write ``obj`` (a state dict, or a dict/list of them, tensors, arrays, numbers, strings) to
    ``path`` atomically. Returns the path."""
    arrays = []
    meta = {"format": FORMAT, "version": VERSION, "tree": _encode(obj, arrays)}
    entries = {f"a{i}": a for i, a in enumerate(arrays)}
    entries["__nnscratch__"] = np.array(json.dumps(meta))
    path = os.fspath(path)
    with atomic_write(path) as f:
        np.savez(f, **entries)
    return path


def load(path):
    """Read what ``save`` wrote. A missing, truncated or foreign file gives an error saying which."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise ValueError(f"{path} is truncated or not an nnscratch file (it is not a zip/.npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "__nnscratch__" not in data.files:
                raise ValueError(f"{path} is a NumPy archive but not an nnscratch file (no __nnscratch__ entry); "
                                 "was it written by nnscratch.save?")
            meta = json.loads(str(data["__nnscratch__"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path}: unknown format {meta.get('format')!r}")
            if meta.get("version", 0) > VERSION:
                raise ValueError(f"{path} was written by a newer nnscratch (format version {meta['version']}); "
                                 "upgrade nnscratch to read it")
            arrays = [data[f"a{i}"] for i in range(len(data.files) - 1)]
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is truncated or not an nnscratch file ({type(e).__name__}: {e}); "
                         "save it again or use an intact copy") from None
    return _decode(meta["tree"], arrays)
