"""How a tensor prints: PyTorch's format, so that a script prints the same text on both.

``tensor([0.1000, 2.1235])``: floats get 4 decimals; when every value is a whole number they
print as ``1.`` ; when the values span more than 1000x, exceed 1e8 or go below 1e-4 they print
in scientific notation (``1.0000e-05``). Every element of a tensor is padded to one width, rows
wrap at 80 characters, and a tensor of more than 1000 elements shows its first and last 3 entries
along each axis around ``...``. Integer and boolean tensors print their values as they are.
"""

import math

import numpy as np

PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80


def dtype_suffix(dtype):
    """``torch.float64`` for a dtype, NumPy's or nnscratch's (the name PyTorch prints)."""
    return "torch." + np.dtype(dtype).name


class _Formatter:
    """One format for all elements (PyTorch's ``_Formatter``): integer mode, fixed or scientific."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            self.width = max([len(self._plain(v)) for v in flat.tolist()], default=1)
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitude = np.abs(finite)
        lo, hi = magnitude.min(), magnitude.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        if self.sci_mode:
            texts = [f"{v:.{PRECISION}e}" for v in finite.tolist()]
        elif self.int_mode:
            texts = [f"{v:.0f}." for v in finite.tolist()]
        else:
            texts = [f"{v:.{PRECISION}f}" for v in finite.tolist()]
        self.width = max(self.width, max(len(t) for t in texts))

    @staticmethod
    def _plain(value):
        return str(value)

    def format(self, value):
        if not self.floating:
            text = self._plain(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRECISION}f}"
        return " " * (self.width - len(text)) + text


def _summarized(a):
    """Only the elements that will be shown (first and last EDGEITEMS along every axis)."""
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * EDGEITEMS:
        a = np.concatenate([a[:EDGEITEMS], a[-EDGEITEMS:]])
    if a.ndim == 1:
        return a
    return np.stack([_summarized(row) for row in a]) if len(a) else a


def _vector(a, indent, summarize, fmt):
    per_line = max(1, math.floor((LINEWIDTH - indent) / (fmt.width + 2)))
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        items = ([fmt.format(v) for v in a[:EDGEITEMS].tolist()] + [" ..."]
                 + [fmt.format(v) for v in a[-EDGEITEMS:].tolist()])
    else:
        items = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        rows = ([_nested(a[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)] + ["..."]
                + [_nested(a[i], indent + 1, summarize, fmt) for i in range(len(a) - EDGEITEMS, len(a))])
    else:
        rows = [_nested(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_repr(data, default_dtype, grad_fn=None, requires_grad=False, prefix="tensor("):
    """The text PyTorch prints for a tensor holding ``data``."""
    indent = len(prefix)
    suffixes = []
    dtype = data.dtype
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dtype != default_dtype:
            suffixes.append(f"dtype={dtype_suffix(dtype)}")
        body = "[]"
    else:
        if dtype not in (default_dtype, np.int64, np.bool_):
            suffixes.append(f"dtype={dtype_suffix(dtype)}")
        summarize = data.size > THRESHOLD
        fmt = _Formatter(_summarized(data) if summarize else data)
        body = _nested(data, indent, summarize, fmt)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > LINEWIDTH:
            text += ",\n" + " " * indent + suffix
            last_line = indent + len(suffix)
        else:
            text += ", " + suffix
            last_line += len(suffix) + 2
    return text + ")"
