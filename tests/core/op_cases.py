"""The one table of op cases behind both op suites.

Each ``OpCase`` is an operation applied to inputs drawn by ``conftest.make_array``:

id         the test id (the same in test_ops.py and test_ops_parity.py)
fn         the nnscratch function of the inputs
t_fn       the same computation in PyTorch, or None where torch has no counterpart or its semantics
           differ (the case then runs only in test_ops.py)
specs      one ``(kind, shape)`` per input (a ``mask`` kind is a boolean constant, not a float input)
n          the terms summed into one value at most, for tolerance.assert_close in the parity tests
           (check_parity adds the copies a broadcast input's gradient sums)
gc         gradcheck tolerance overrides (test_ops.py)
out_dtype  the output dtype for float32 inputs (test_ops.py)
grad64     False for the cases that only exist to stress float32 summation order against torch
           (long sums): they run only in test_ops_parity.py

test_ops.py runs the cases with ``grad64`` (gradcheck in float64, float32 preserved), without
torch; test_ops_parity.py runs the cases with a ``t_fn`` (forward and backward against PyTorch in
float32). Importing this module does not import torch: the torch functions resolve ``torch`` when
they are called.
"""

import importlib
from typing import Any, Callable, NamedTuple, Optional

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F


class _LazyTorch:
    """``torch``, imported on first attribute access (so test_ops.py runs without it)."""

    def __getattr__(self, name):
        return getattr(importlib.import_module("torch"), name)


torch = _LazyTorch()

SAME = object()  # the torch function is the nnscratch one (operators and shared method names)


class OpCase(NamedTuple):
    id: str
    fn: Callable
    t_fn: Optional[Callable]
    specs: list
    n: int = 1
    gc: dict = {}
    out_dtype: Any = np.float32
    grad64: bool = True


def case(case_id, fn, t_fn, *specs, n=1, gc=None, out_dtype=np.float32, grad64=True):
    return OpCase(case_id, fn, fn if t_fn is SAME else t_fn, list(specs), n, gc or {}, out_dtype, grad64)


def _all_axes(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _reduced(shape, axis):
    """How many elements a reduction over ``axis`` of ``shape`` sums into each result."""
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    return int(np.prod([shape[a] for a in axes]))


def _matmul_terms(sa, sb):
    """Products summed into one value of a @ b (the inner length), of dL/da and of dL/db (the
    products each gradient adds up, broadcast batch included): all products / that result's size."""
    k = sa[-1]
    out = np.matmul(np.zeros(sa), np.zeros(sb)).size
    return max(k, out * k // int(np.prod(sa)), out * k // int(np.prod(sb)))


# ----------------------------------------------------------------------------- arithmetic

BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((2, 1, 4), (3, 1)),
    ((4, 1), (1, 5)),
    ((), (2, 3)),
    ((5,), ()),
]

BINARY = {
    "add": (lambda a, b: a + b, SAME, "n", "n"),
    "sub": (lambda a, b: a - b, SAME, "n", "n"),
    "mul": (lambda a, b: a * b, SAME, "n", "n"),
    "div": (lambda a, b: a / b, SAME, "n", "nz"),
    "pow": (lambda a, b: a ** b, SAME, "pos", "n"),
    "maximum": (lambda a, b: ns.maximum(a, b), lambda a, b: torch.maximum(a, b), "gridA", "gridB"),
    "minimum": (lambda a, b: ns.minimum(a, b), lambda a, b: torch.minimum(a, b), "gridB", "gridA"),
}

ARITH_CASES = [
    case(f"{name}-{sa}-{sb}", fn, t_fn, (ka, sa), (kb, sb))
    for name, (fn, t_fn, ka, kb) in BINARY.items()
    for sa, sb in BROADCAST_PAIRS
] + [
    # the same operations with a Python number on either side (the number takes the tensor's dtype)
    case("add-scalar", lambda x: x + 2.5, SAME, ("n", (3, 4))),
    case("radd-scalar", lambda x: 2.5 + x, SAME, ("n", (3, 4))),
    case("sub-scalar", lambda x: x - 1.5, SAME, ("n", (3, 4))),
    case("rsub-scalar", lambda x: 1.5 - x, SAME, ("n", (3, 4))),
    case("mul-scalar", lambda x: x * -2.0, SAME, ("n", (3, 4))),
    case("rmul-scalar", lambda x: 3 * x, SAME, ("n", (3, 4))),
    case("div-scalar", lambda x: x / 4.0, SAME, ("n", (3, 4))),
    case("rdiv-scalar", lambda x: 2.0 / x, SAME, ("nz", (3, 4))),
    case("rpow-scalar", lambda x: 2.0 ** x, SAME, ("n", (3, 4))),
    case("maximum-scalar", lambda x: ns.maximum(x, 0.25), lambda x: torch.maximum(x, torch.tensor(0.25)),
         ("gridB", (3, 4))),
    case("minimum-scalar", lambda x: ns.minimum(0.25, x), lambda x: torch.minimum(torch.tensor(0.25), x),
         ("gridB", (3, 4))),
    case("neg", lambda x: -x, SAME, ("n", (3, 4))),
    case("neg-0d", lambda x: -x, SAME, ("n", ())),
] + [
    case(f"powscalar-{c}", (lambda c: lambda x: x ** c)(c), SAME, (kind, (3, 4)))
    for c, kind in [(2, "n"), (3, "n"), (1, "n"), (0, "nz"), (-1, "nz"), (0.5, "pos"), (-1.5, "pos"),
                    (2.5, "pos")]
]

# ----------------------------------------------------------------------------- matmul

MATMUL_PAIRS = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),        # 1-D left operand: a row vector, its axis dropped from the result
    ((3, 4), (4,)),        # 1-D right operand: a column vector
    ((4,), (4,)),          # dot product, 0-d result
    ((2, 3, 4), (4, 5)),   # batch on the left only
    ((3, 4), (2, 4, 5)),   # batch on the right only
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dims: (2, 1) with (5,) -> (2, 5)
    ((1, 3, 4), (2, 4, 5)),
    ((4,), (2, 4, 5)),     # 1-D with a batch
    ((2, 3, 4), (4,)),
]

MATMUL_CASES = [
    case(f"matmul-{sa}-{sb}", lambda a, b: a @ b, SAME, ("n", sa), ("n", sb), n=_matmul_terms(sa, sb))
    for sa, sb in MATMUL_PAIRS
] + [
    case("matmul-fn", lambda a, b: ns.matmul(a, b), lambda a, b: torch.matmul(a, b), ("n", (2, 3)),
         ("n", (3, 2)), n=_matmul_terms((2, 3), (3, 2))),
    # A longer inner axis (64 products per output, summed in different orders by NumPy's and torch's BLAS).
    case("matmul-K64", lambda a, b: a @ b, SAME, ("n", (2, 8, 64)), ("n", (64, 6)),
         n=_matmul_terms((2, 8, 64), (64, 6)), grad64=False),
]

# ----------------------------------------------------------------------------- elementwise math

UNARY_SHAPES = [(3, 4), (2, 3, 4), (5,), ()]

UNARY = {
    "exp": (lambda x: x.exp(), SAME, "n"),
    "exp-fn": (lambda x: ns.exp(x), lambda x: torch.exp(x), "n"),
    "log": (lambda x: x.log(), SAME, "pos"),
    "sqrt": (lambda x: x.sqrt(), SAME, "pos"),
    "abs": (lambda x: x.abs(), SAME, "nz"),
    "clip": (lambda x: x.clip(-0.5, 0.5), SAME, "clip"),
    "clip-fn": (lambda x: ns.clip(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5), "clip"),
    "clip-min-only": (lambda x: ns.clip(x, min=-0.2), lambda x: torch.clamp(x, min=-0.2), "clip"),
    "clip-max-only": (lambda x: ns.clip(x, max=0.3), lambda x: torch.clamp(x, max=0.3), "clip"),
    "clamp": (lambda x: x.clamp(-0.2, 0.3), SAME, "clip"),
    "sigmoid": (lambda x: F.sigmoid(x), lambda x: torch.sigmoid(x), "n"),
    "sigmoid-big": (lambda x: F.sigmoid(x), lambda x: torch.sigmoid(x), "big"),
    "tanh": (lambda x: F.tanh(x), lambda x: torch.tanh(x), "n"),
    "tanh-big": (lambda x: F.tanh(x), lambda x: torch.tanh(x), "big"),
    "relu": (lambda x: F.relu(x), lambda x: torch.relu(x), "nz"),
    "leaky_relu": (lambda x: F.leaky_relu(x), lambda x: torch.nn.functional.leaky_relu(x), "nz"),
    "leaky_relu-0.2": (lambda x: F.leaky_relu(x, negative_slope=0.2),
                       lambda x: torch.nn.functional.leaky_relu(x, 0.2), "nz"),
    "identity": (lambda x: F.identity(x), lambda x: x, "n"),
}

ELEMENTWISE_CASES = [case(f"{name}-{shape}", fn, t_fn, (kind, shape))
                     for name, (fn, t_fn, kind) in UNARY.items() for shape in UNARY_SHAPES]

WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((4,), (3, 4), ()),
                ((2, 1, 4), (3, 1), (4,))]
WHERE_CASES = [
    case(f"where-{sc}-{sa}-{sb}", lambda c, a, b: ns.where(c, a, b), lambda c, a, b: torch.where(c, a, b),
         ("mask", sc), ("n", sa), ("n", sb))
    for sc, sa, sb in WHERE_SHAPES
] + [
    case("where-scalar", lambda c, a: ns.where(c, a, 0.0), lambda c, a: torch.where(c, a, 0.0),
         ("mask", (3, 4)), ("n", (3, 4))),
    case("where-tensor-cond", lambda a, b: ns.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b),
         ("gridA", (3, 4)), ("gridB", (3, 4))),
]

SOFTMAX_CASES = [
    case(f"{name}-{shape}-axis{axis}-{kind}", (lambda f, axis: lambda x: f(x, axis))(f, axis),
         (lambda g, axis: lambda x: getattr(torch, g)(x, dim=axis))(g, axis), (kind, shape), n=shape[axis])
    for name, f, g in [("softmax", F.softmax, "softmax"), ("log_softmax", F.log_softmax, "log_softmax")]
    for shape, axis in [((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((5,), 0)]
    for kind in ["n", "big"]
]

# ----------------------------------------------------------------------------- reductions

REDUCE_AXES = [None, 0, 1, -1, 2, (0, 2), (1, -1), (0, 1, 2)]
TORCH_REDUCE = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin"}


def reduction(name, axis, keepdims, correction=None):
    """(nnscratch, torch) functions of a reduction. var with the default correction is the method
    ``x.var(axis, keepdim=...)``, with an explicit one the function ``ns.var``."""
    if name == "var":  # PyTorch's var(dim, unbiased, keepdim): keepdim by keyword
        t_fn = (lambda x: torch.var(x, dim=_all_axes(axis, x.ndim), correction=1 if correction is None
                                    else correction, keepdim=keepdims))
        if correction is None:
            return lambda x: x.var(axis, keepdim=keepdims), t_fn
        return lambda x: ns.var(x, axis, keepdim=keepdims, correction=correction), t_fn
    method = {"max": "amax", "min": "amin"}.get(name, name)  # x.max(dim) is (values, indices), as in PyTorch
    return (lambda x: getattr(x, method)(axis, keepdims),
            lambda x: getattr(torch, TORCH_REDUCE[name])(x, dim=_all_axes(axis, x.ndim), keepdim=keepdims))


def _kind(name):
    return "distinct" if name in ("max", "min") else "n"  # no ties for max/min


def _terms(name, shape, axis):
    return 1 if name in ("max", "min") else _reduced(shape, axis)  # max/min select, they do not add


REDUCTION_CASES = [
    case(f"{name}-axis{axis}-keepdims{kd}", *reduction(name, axis, kd), (_kind(name), (2, 3, 4)),
         n=_terms(name, (2, 3, 4), axis))
    for name in ["sum", "mean", "max", "min", "var"]
    for axis in REDUCE_AXES
    for kd in [False, True]
] + [
    case(f"{name}-1d-axis{axis}", *reduction(name, axis, False), (_kind(name), (7,)), n=_terms(name, (7,), axis))
    for name in ["sum", "mean", "max", "min", "var"] for axis in [None, 0]
] + [
    case(f"var-correction{c}-axis{axis}-keepdims{kd}", *reduction("var", axis, kd, c), ("n", (2, 3, 4)),
         n=_reduced((2, 3, 4), axis))
    for c in [0, 1, 2] for axis in [None, 1, (0, 2)] for kd in [False, True]
] + [
    # PyTorch spellings dim= / keepdim=
    case("sum-dim-keepdim", lambda x: x.sum(dim=1, keepdim=True), SAME, ("n", (3, 4)), n=4),
    case("mean-dim", lambda x: ns.mean(x, dim=(0, 1)), lambda x: torch.mean(x, dim=(0, 1)), ("n", (3, 4)), n=12),
    case("max-dim", lambda x: ns.max(x, dim=-1).values, lambda x: torch.max(x, dim=-1).values,
         ("distinct", (3, 4))),
    case("min-dim-keepdim", lambda x: ns.min(x, dim=0, keepdim=True).values,
         lambda x: torch.min(x, dim=0, keepdim=True).values, ("distinct", (3, 4))),
    case("var-dim", lambda x: ns.var(x, dim=1, correction=0), lambda x: torch.var(x, dim=1, correction=0),
         ("n", (3, 4)), n=4),
    # 4096 float32 values added in a different order (NumPy pairwise, torch vectorised)
    case("sum-large", lambda x: x.sum(), SAME, ("n", (64, 64)), n=64 * 64, grad64=False),
    case("mean-large-axis0", lambda x: x.mean(0), SAME, ("n", (256, 16)), n=256, grad64=False),
    case("var-large", lambda x: x.var(), SAME, ("n", (64, 64)), n=64 * 64, grad64=False),
]

# ----------------------------------------------------------------------------- shape


def _split_join(split):
    """split has several outputs: scale each piece differently and join them, so that a piece
    delivered to the wrong place would change the numbers."""
    return lambda x: _cat([p.reshape(-1) * (i + 1.0) for i, p in enumerate(split(x))])


def _cat(pieces):
    return ns.concat(pieces) if isinstance(pieces[0], ns.Tensor) else torch.cat(pieces)


SHAPE_CASES = [
    case("reshape-2d", lambda x: x.reshape(2, 6), SAME, ("n", (3, 4))),
    case("reshape-tuple-infer", lambda x: x.reshape((4, -1)), SAME, ("n", (2, 3, 4))),
    case("reshape-1d-to-3d", lambda x: ns.reshape(x, 2, 1, 3), lambda x: torch.reshape(x, (2, 1, 3)),
         ("n", (6,))),
    case("reshape-to-0d", lambda x: x.reshape(()), SAME, ("n", (1, 1))),
    case("view", lambda x: x.view(-1), SAME, ("n", (3, 4))),
    case("transpose-01", lambda x: x.transpose(0, 1), SAME, ("n", (3, 4))),
    case("transpose-02", lambda x: x.transpose(0, 2), SAME, ("n", (2, 3, 4))),
    case("transpose-neg", lambda x: x.transpose(-1, -2), SAME, ("n", (2, 3, 4))),
    case("transpose-neg-fn", lambda x: ns.transpose(x, -1, -2), lambda x: torch.transpose(x, -1, -2),
         ("n", (2, 3, 4))),
    case("transpose-all", lambda x: x.transpose(), lambda x: x.permute(2, 1, 0), ("n", (2, 3, 4))),
    case("T", lambda x: x.T, SAME, ("n", (3, 4))),
    case("swapaxes", lambda x: x.swapaxes(0, -1), SAME, ("n", (2, 3, 4))),
    case("permute", lambda x: x.permute(2, 0, 1), SAME, ("n", (2, 3, 4))),
    case("permute-tuple-neg", lambda x: x.permute((1, -1, 0)), SAME, ("n", (2, 3, 4))),
    case("permute-tuple-neg-fn", lambda x: ns.permute(x, (1, -1, 0)), lambda x: torch.permute(x, (1, -1, 0)),
         ("n", (2, 3, 4))),
    case("flatten", lambda x: x.flatten(), SAME, ("n", (2, 3, 4, 5))),
    case("flatten-1", lambda x: x.flatten(1), SAME, ("n", (2, 3, 4, 5))),
    case("flatten-1-2", lambda x: x.flatten(1, 2), SAME, ("n", (2, 3, 4, 5))),
    case("flatten-1-2-fn", lambda x: ns.flatten(x, 1, 2), lambda x: torch.flatten(x, 1, 2), ("n", (2, 3, 4, 5))),
    case("flatten-0-neg2", lambda x: x.flatten(0, -2), SAME, ("n", (2, 3, 4, 5))),
    case("squeeze", lambda x: x.squeeze(), SAME, ("n", (3, 1, 4, 1))),
    case("squeeze-1", lambda x: x.squeeze(1), SAME, ("n", (3, 1, 4, 1))),
    case("squeeze-neg1", lambda x: x.squeeze(-1), SAME, ("n", (3, 1, 4, 1))),
    case("squeeze-neg1-fn", lambda x: ns.squeeze(x, -1), lambda x: torch.squeeze(x, -1), ("n", (3, 1, 4, 1))),
    case("squeeze-noop", lambda x: x.squeeze(0), SAME, ("n", (3, 1, 4, 1))),
    case("squeeze-tuple", lambda x: x.squeeze((1, 3)), SAME, ("n", (3, 1, 4, 1))),
    case("unsqueeze-0", lambda x: x.unsqueeze(0), SAME, ("n", (3, 4))),
    case("unsqueeze-1", lambda x: x.unsqueeze(1), SAME, ("n", (3, 4))),
    case("unsqueeze-2", lambda x: x.unsqueeze(2), SAME, ("n", (3, 4))),
    case("unsqueeze-2-fn", lambda x: ns.unsqueeze(x, 2), lambda x: torch.unsqueeze(x, 2), ("n", (3, 4))),
    case("unsqueeze-neg1", lambda x: x.unsqueeze(-1), SAME, ("n", (3, 4))),
    case("unsqueeze-neg3", lambda x: x.unsqueeze(-3), SAME, ("n", (3, 4))),
    case("broadcast_to-row", lambda x: x.broadcast_to((3, 4)), SAME, ("n", (4,))),
    case("broadcast_to-3d", lambda x: x.broadcast_to((2, 3, 4)), SAME, ("n", (3, 1))),
    case("broadcast_to-3d-fn", lambda x: ns.broadcast_to(x, 2, 3, 4), lambda x: torch.broadcast_to(x, (2, 3, 4)),
         ("n", (3, 1))),
    case("broadcast_to-1", lambda x: x.broadcast_to(5), lambda x: x.broadcast_to((5,)), ("n", (1,))),
    case("broadcast_to-0d", lambda x: x.broadcast_to((2, 3)), SAME, ("n", ())),
    case("broadcast_to-noop", lambda x: x.broadcast_to((2, 3)), SAME, ("n", (2, 3))),
    case("concat-axis0", lambda a, b: ns.concat([a, b]), lambda a, b: torch.cat([a, b]), ("n", (2, 3)),
         ("n", (4, 3))),
    case("concat-axis1", lambda a, b: ns.concat([a, b], axis=1), lambda a, b: torch.cat([a, b], dim=1),
         ("n", (2, 3)), ("n", (2, 5))),
    case("concat-3-neg", lambda a, b, c: ns.concat([a, b, c], -1), lambda a, b, c: torch.cat([a, b, c], -1),
         ("n", (2, 3, 1)), ("n", (2, 3, 4)), ("n", (2, 3, 2))),
    case("concat-same-twice", lambda a: ns.concat([a, a * 2.0], 0), lambda a: torch.cat([a, a * 2.0], 0),
         ("n", (2, 3))),
    case("cat-dim", lambda a, b: ns.cat((a, b), dim=1), lambda a, b: torch.cat((a, b), dim=1), ("n", (2, 3)),
         ("n", (2, 1))),
    case("stack-axis0", lambda a, b, c: ns.stack([a, b, c]), lambda a, b, c: torch.stack([a, b, c]),
         ("n", (2, 3)), ("n", (2, 3)), ("n", (2, 3))),
    case("stack-axis1", lambda a, b: ns.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1),
         ("n", (2, 3)), ("n", (2, 3))),
    case("stack-neg", lambda a, b: ns.stack([a, b], -1), lambda a, b: torch.stack([a, b], -1),
         ("n", (2, 3)), ("n", (2, 3))),
    case("stack-0d", lambda a, b: ns.stack([a, b]), lambda a, b: torch.stack([a, b]), ("n", ()), ("n", ())),
    case("split-int", _split_join(lambda x: x.split(2)), SAME, ("n", (6, 4))),
    case("split-int-fn", _split_join(lambda x: ns.split(x, 2)), _split_join(lambda x: torch.split(x, 2)),
         ("n", (6, 4))),
    case("split-sections", _split_join(lambda x: ns.split(x, [1, 3, 2])),
         _split_join(lambda x: torch.split(x, [1, 3, 2])), ("n", (6, 4))),
    case("split-uneven-axis1", _split_join(lambda x: ns.split(x, 3, axis=1)),
         _split_join(lambda x: torch.split(x, 3, dim=1)), ("n", (3, 7))),
    case("split-neg-dim", _split_join(lambda x: ns.split(x, [3, 1], dim=-1)),
         _split_join(lambda x: torch.split(x, [3, 1], dim=-1)), ("n", (2, 3, 4))),
    case("split-partial-use", lambda x: ns.split(x, 2, 1)[1] * 3.0, lambda x: torch.split(x, 2, 1)[1] * 3.0,
         ("n", (3, 6))),
]

# ----------------------------------------------------------------------------- indexing

MASK_2D = np.array([[True, False, True, True], [False, False, False, False], [True, True, False, True],
                    [False, True, False, False], [True, False, False, True]])
ROW_MASK = np.array([True, False, True, True, False])

INDEX_CASES = [
    case("index-slice", lambda x: x[1:4], SAME, ("n", (5, 4))),
    case("index-slice-step", lambda x: x[::2, 1:], SAME, ("n", (5, 4))),
    # torch has no negative steps: flip, then step
    case("index-slice-neg-step", lambda x: x[::-1, ::-2], lambda x: x.flip((0, 1))[:, ::2], ("n", (5, 4))),
    case("index-int", lambda x: x[-1], SAME, ("n", (5, 4))),
    case("index-int-int", lambda x: x[2, 3], SAME, ("n", (5, 4))),
    case("index-ellipsis", lambda x: x[..., 2], SAME, ("n", (2, 5, 4))),
    case("index-newaxis", lambda x: x[None, 1], SAME, ("n", (5, 4))),
    case("index-int-array-repeats", lambda x: x[np.array([0, 2, 0, 0])], SAME, ("n", (5, 4))),
    case("index-list-repeats", lambda x: x[[3, 3, 1]], SAME, ("n", (5, 4))),
    case("index-int-array-2d", lambda x: x[np.array([[0, 1], [1, 1]])], SAME, ("n", (5, 4))),
    case("index-pairs-repeat", lambda x: x[np.array([0, 0, 3, 0]), np.array([1, 1, 2, 1])], SAME, ("n", (5, 4))),
    case("index-neg-alias", lambda x: x[np.array([-1, 4, 0])], SAME, ("n", (5, 4))),  # -1 and 4 are one row
    case("index-slice-then-array", lambda x: x[:, [3, 3, 0]], SAME, ("n", (5, 4))),
    case("index-int-then-array", lambda x: x[1, [2, 2, 0]], SAME, ("n", (5, 4))),
    case("index-array-slice-array", lambda x: x[[1, 1], :, [0, 3]], SAME, ("n", (2, 3, 4))),
    case("index-tensor", lambda x: x[ns.tensor([0, 0, 1])], lambda x: x[torch.tensor([0, 0, 1])], ("n", (5, 4))),
    case("index-mask-2d", lambda x: x[MASK_2D], lambda x: x[torch.from_numpy(MASK_2D)], ("n", (5, 4))),
    case("index-mask-rows", lambda x: x[ROW_MASK], lambda x: x[torch.from_numpy(ROW_MASK)], ("n", (5, 4))),
    case("index-mask-rows-slice", lambda x: x[ROW_MASK, 1:3], lambda x: x[torch.from_numpy(ROW_MASK), 1:3],
         ("n", (5, 4))),
    case("index-mask-from-comparison", lambda x: x[x > 0], SAME, ("nz", (5, 4))),
    case("index-then-reuse", lambda x: x[[0, 0]] * x[0], SAME, ("n", (5, 4)), n=3),
]

# ----------------------------------------------------------------------------- astype

ASTYPE_CASES = [
    # A float64 -> float32 cast rounds to float32: central differences need a large step (the
    # function is linear, so eps=1e-2 has no truncation error; rounding error ~1e-7/1e-2).
    case("astype-f32", lambda x: x.astype(np.float32) * 3.0, lambda x: x.to(torch.float32) * 3.0, ("n", (3, 4)),
         gc=dict(eps=1e-2, atol=1e-4)),
    case("astype-f64", lambda x: x.astype(np.float64) * 3.0, lambda x: x.to(torch.float64) * 3.0, ("n", (3, 4)),
         out_dtype=np.float64),
    case("double", lambda x: x.double().exp(), SAME, ("n", (3, 4)), out_dtype=np.float64),
    case("float", lambda x: x.float(), SAME, ("n", (3, 4)), gc=dict(eps=1e-2, atol=1e-4)),
    case("float-scaled", lambda x: x.float() * 2.0, SAME, ("n", (3, 4)), gc=dict(eps=1e-2, atol=1e-4)),
]

CASES = (ARITH_CASES + MATMUL_CASES + ELEMENTWISE_CASES + WHERE_CASES + SOFTMAX_CASES
         + REDUCTION_CASES + SHAPE_CASES + INDEX_CASES + ASTYPE_CASES)

assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"


def params(cases):
    return [pytest.param(c, id=c.id) for c in cases]


GRADCHECK_CASES = params([c for c in CASES if c.grad64])  # test_ops.py: float64 gradcheck, float32 kept
PARITY_CASES = params([c for c in CASES if c.t_fn is not None])  # test_ops_parity.py: against PyTorch
