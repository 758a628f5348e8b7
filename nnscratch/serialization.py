"""save / load: state dicts (model, optimizer, training state) in a NumPy ``.npz`` file.

The file holds one array per tensor (``a0``, ``a1``, ...) and a JSON entry ``__nnscratch__`` that
describes the structure (dicts, lists, numbers, strings and where each array goes). There is no
pickle, so loading a file from elsewhere cannot run code. Writes go to a temporary file in the
same folder that is renamed over the target only when complete: a crash never leaves half a file.
"""

import json
import math
import os
import zipfile
import tempfile
import zlib

import numpy as np

from .backend import check_device, device
from .fileio import atomic_write
from .tensor import Tensor

FORMAT = "nnscratch-state"
VERSION = 1
MAX_COMPRESSION = 1100  # deflate (np.savez_compressed) expands at most 1032-fold; save stores uncompressed


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


def _decode(node, array, path):
    """The object that ``node`` (a tree written by ``_encode``) describes; ``array(i)`` reads the
    i-th array. A node that ``_encode`` cannot have written is a ValueError naming ``path``."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    kinds = [k for k in ("__array__", "__dict__", "__list__", "__tuple__") if isinstance(node, dict) and k in node]
    if len(kinds) != 1:
        raise _damaged(path, f"its structure holds {_preview(node)}, which save never writes (it writes numbers, "
                             "strings, None and __array__, __dict__, __list__ or __tuple__ nodes)")
    kind, value = kinds[0], node[kinds[0]]
    if kind == "__array__":
        if not isinstance(value, int) or isinstance(value, bool) or not isinstance(node.get("tensor"), bool):
            raise _damaged(path, f"an array reference is malformed ({_preview(node)})")
        data = array(value)
        return Tensor._wrap(data) if node["tensor"] else data
    if not isinstance(value, list):
        raise _damaged(path, f"{kind} must hold a list, got {_preview(value)}")
    if kind == "__dict__":
        if not all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))
                   and not isinstance(pair[0], bool) for pair in value):
            raise _damaged(path, f"a dict entry is not a [key, value] pair with a string or integer key "
                                 f"({_preview(value)})")
        return {k: _decode(v, array, path) for k, v in value}
    items = [_decode(v, array, path) for v in value]
    return items if kind == "__list__" else tuple(items)


def _preview(value, limit=60):
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _damaged(path, problem):
    return ValueError(f"{path} is damaged or not an nnscratch file: {problem}; save it again or use an intact copy")


def save(obj, path):
    """Write ``obj`` (a state dict, or a dict/list of them, tensors, arrays, numbers, strings) to
    ``path`` (any name, e.g. ``model.pth``) atomically, or to an open binary file object.
    Returns None, as ``torch.save``."""
    arrays = []
    try:
        meta = {"format": FORMAT, "version": VERSION, "tree": _encode(obj, arrays)}
    except TypeError as e:
        raise TypeError(f"{e}. nnscratch files hold no pickled objects: save model.state_dict() rather than "
                        "the model, and load it with model.load_state_dict(torch.load(path))") from None
    entries = {f"a{i}": a for i, a in enumerate(arrays)}
    entries["__nnscratch__"] = np.array(json.dumps(meta))
    if hasattr(path, "write"):
        np.savez(path, **entries)
        return None
    with atomic_write(os.fspath(path)) as f:
        np.savez(f, **entries)
    return None


def load(path, map_location=None, weights_only=True, *, mmap=None, **pickle_load_args):
    """Read what ``save`` wrote, from a path or an open binary file object (see ``_load_path``).
    PyTorch's ``map_location`` (every tensor is on the CPU: "cpu", a CPU device, a dict or a
    function are accepted; a CUDA device is refused) and ``weights_only`` (nnscratch files hold
    only data, never pickled code, so both values load the same) are accepted."""
    if isinstance(map_location, (str, device)):
        check_device(map_location)
    if hasattr(path, "read"):
        return _load_file_object(path)
    return _load_path(path)


def _load_file_object(f):
    """Load from an open file: its bytes go through ``_load_path`` via a temporary file, so every
    check applies; errors name the file object's ``name`` when it has one."""
    name = str(getattr(f, "name", "the file object"))
    fd, tmp = tempfile.mkstemp(suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(f.read())
        try:
            return _load_path(tmp)
        except ValueError as e:
            raise ValueError(str(e).replace(tmp, name)) from None
    finally:
        os.unlink(tmp)


def _load_path(path):
    """Read what ``save`` wrote. Every problem with the file (missing, truncated, foreign, or a
    structure or array header that ``save`` cannot have written) is one error naming the file and
    the problem: FileNotFoundError when it is missing, else ValueError. Arrays are checked
    against their header before they are read, so a header claiming more data than the file
    holds is refused instead of allocated."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise ValueError(f"{path} is truncated or not an nnscratch file (it is not a zip/.npz archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            if "__nnscratch__.npy" not in members:
                raise ValueError(f"{path} is a NumPy archive but not an nnscratch file (no __nnscratch__ entry); "
                                 "was it written by nnscratch.save?")
            meta = _read_meta(archive, path)

            arrays = {}

            def array(index):  # each member is read once, however often the structure refers to it
                name = f"a{index}.npy"
                if name not in members:
                    count = len(members) - 1
                    raise _damaged(path, f"its structure refers to array {index}, but the file holds {count} "
                                         f"array{'s' if count != 1 else ''}")
                if index not in arrays:
                    arrays[index] = _read_npy(archive, name, path)
                return arrays[index]

            return _decode(meta["tree"], array, path)
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, json.JSONDecodeError, zlib.error,
            NotImplementedError) as e:  # NotImplementedError: a zip compression method Python lacks
        raise ValueError(f"{path} is truncated or not an nnscratch file ({type(e).__name__}: {e}); "
                         "save it again or use an intact copy") from None
    except RecursionError:
        raise _damaged(path, "its structure is nested too deeply") from None


def _read_meta(archive, path):
    """The ``__nnscratch__`` entry: a dict with this format, a version we can read and a tree."""
    meta = json.loads(str(_read_npy(archive, "__nnscratch__.npy", path)))
    if not isinstance(meta, dict):
        raise _damaged(path, f"its __nnscratch__ entry is a JSON {type(meta).__name__}, not an object")
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown format {meta.get('format')!r}")
    version = meta.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _damaged(path, f"its format version {version!r} is not an integer")
    if version > VERSION:
        raise ValueError(f"{path} was written by a newer nnscratch (format version {version}); "
                         "upgrade nnscratch to read it")
    if "tree" not in meta:
        raise _damaged(path, "its __nnscratch__ entry has no 'tree'")
    return meta


def _read_npy(archive, name, path):
    """The array in the archive member ``name`` (a .npy file), after checking that its header's
    shape and dtype match the member's size, and that size against the compressed data: a
    corrupt header cannot make us allocate memory for data that is not there."""
    info = archive.getinfo(name)
    size = info.file_size
    if size > MAX_COMPRESSION * info.compress_size + 1024:  # sizes in the zip directory are claims too
        raise _damaged(path, f"{name} claims {size:,} bytes from {info.compress_size:,} compressed, more than "
                             "compression can produce")
    with archive.open(name) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"format version {version}, not 1.0 or 2.0 as numpy writes")
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(f)
        except ValueError as e:  # numpy's messages do not name the file
            raise _damaged(path, f"{name} has no valid .npy header ({e})") from None
        if dtype.hasobject:
            raise _damaged(path, f"{name} holds Python objects ({dtype}); nnscratch files hold plain arrays only")
        claimed, held = math.prod(shape) * dtype.itemsize, size - f.tell()
        if claimed != held:
            raise _damaged(path, f"{name}'s header claims shape {shape} of {dtype} ({claimed:,} bytes), but the "
                                 f"member holds {held:,} bytes")
        f.seek(0)
        return np.lib.format.read_array(f, allow_pickle=False)
