"""IDX files: the format of MNIST and Fashion-MNIST, plain or gzip-compressed.

An IDX file is a 4-byte magic number, one 4-byte big-endian size per dimension, then the
values in C order, big-endian::

    magic = 0x00 0x00 <type code> <number of dimensions>
    type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64

MNIST's image files are ``0x00000803`` (uint8, 3 dims: N x 28 x 28), its label files
``0x00000801`` (uint8, 1 dim: N).
"""

import gzip
import os
import struct
import zlib

import numpy as np

IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_TYPE_CODES = {np.dtype(d).newbyteorder("="): code for code, d in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class DataFileError(ValueError):
    """A data file is unreadable: corrupt compression, a bad IDX header, or the wrong length.
    ``path`` is the file, ``problem`` what is wrong with it."""

    def __init__(self, path, problem, hint=None):
        self.path, self.problem = os.fspath(path), problem
        message = f"{self.path}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


def _fmt_dims(dims):
    return "x".join(str(d) for d in dims) if dims else "(scalar)"


def read_idx_bytes(path):
    """The IDX bytes of ``path``, decompressed when the file is gzip (recognised by its content,
    whatever its name). Raises DataFileError for a corrupt or truncated gzip stream."""
    with open(path, "rb") as f:
        return decompress(f.read(), path)


def decompress(raw, path="<bytes>"):
    """``raw`` file bytes gunzipped if they are gzip (start with 1f 8b), else unchanged.
    ``path`` names the file in errors."""
    if raw[:2] != _GZIP_MAGIC:
        if os.fspath(path).endswith(".gz"):
            start = f"it starts with 0x{raw[:4].hex()}" if raw else "it is empty"
            raise DataFileError(path, f"not a gzip file ({start})", "replace it with a good copy")
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataFileError(path, f"truncated gzip stream: the {len(raw)}-byte file ends before the end of "
                                  "the compressed data", "replace it with a complete copy") from None
    except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DataFileError(path, f"corrupt gzip data ({e})", "replace it with a good copy") from None


def parse_idx(data, path="<bytes>", shape=None):
    """Parse IDX ``data`` (bytes) into an array of the file's type in native byte order.

    ``shape``, if given, is the expected shape with ``None`` for any size, e.g. ``(None, 28, 28)``.
    Checks the magic number, the type code, the dimension count and sizes, and that the data is
    exactly prod(dims) * itemsize bytes long; any failure raises DataFileError naming ``path``."""
    hint = "replace it with a good copy"
    if len(data) < 4:
        raise DataFileError(path, f"truncated: {len(data)} bytes, too short for the 4-byte IDX magic number", hint)
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in IDX_TYPES:
        raise DataFileError(path, f"bad magic number 0x{data[:4].hex()}: an IDX file starts with 0x0000, a type "
                                  f"code ({', '.join(f'0x{c:02x}' for c in IDX_TYPES)}) and the number of "
                                  "dimensions; this is not an IDX file", hint)
    if ndim == 0:
        raise DataFileError(path, "bad header: the magic number says 0 dimensions", hint)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(path, f"truncated header: {ndim} dimensions need {header} header bytes, "
                                  f"the file has {len(data)}", hint)
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_TYPES[code]
    if shape is not None and (len(shape) != ndim or any(s is not None and s != d for s, d in zip(shape, dims))):
        want = "x".join("?" if s is None else str(s) for s in shape)
        raise DataFileError(path, f"wrong dimensions: expected {want} ({len(shape)} dims), "
                                  f"the header says {_fmt_dims(dims)} ({ndim} dims)", hint)
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    have = len(data) - header
    if have < expected:
        raise DataFileError(path, f"truncated: header says {_fmt_dims(dims)} = {expected} bytes, "
                                  f"file has {have}", hint)
    if have > expected:
        raise DataFileError(path, f"too long: header says {_fmt_dims(dims)} = {expected} bytes, "
                                  f"file has {have} ({have - expected} extra)", hint)
    # astype copies into a writable array in native byte order
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path, shape=None):
    """Read the IDX file at ``path`` (gzip or raw) into an ndarray (uint8 for MNIST).

    ``shape`` optionally gives the expected shape, ``None`` meaning any size. A bad file raises
    DataFileError (a ValueError) whose message names the file and what is wrong with it."""
    return parse_idx(read_idx_bytes(path), path, shape)


def idx_bytes(array):
    """The IDX encoding of ``array`` (header + big-endian values)."""
    array = np.asarray(array)
    code = _TYPE_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"IDX cannot store {array.dtype}; use one of uint8, int8, int16, int32, float32, float64")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX stores 1 to 255 dimensions, got an array with {array.ndim}")
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()


def write_idx(path, array):
    """Write ``array`` as an IDX file, gzip-compressed (with mtime 0, so the bytes are reproducible)
    when ``path`` ends in ``.gz``."""
    data = idx_bytes(array)
    if os.fspath(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)
