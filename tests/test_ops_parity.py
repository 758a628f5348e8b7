"""Every operation against PyTorch in float32: the same inputs, the same upstream gradient.

For each case both libraries compute the forward pass from identical float32 inputs, then
backpropagate the same random dL/d(output); outputs and input gradients must agree to float32
rounding: the bound of tolerance.assert_close, which grows with the number of terms summed into a
value (a case's ``n``: the reduced elements, a matmul's inner length, the copies a broadcast
gradient adds up) and with the magnitude of the values.
The tie tests check the conventions at non-differentiable points (max/min reductions split the
gradient evenly like torch.amax/amin, maximum/minimum split 0.5/0.5 like torch.maximum, clip's
bounds are inclusive like torch.clamp, relu/abs/leaky_relu at exactly 0).

Skipped when torch is not installed (``pip install torch==2.13.0``, the CPU build).
"""

import numpy as np
import pytest

from tolerance import assert_close

import nnscratch as ns
import nnscratch.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

SAME = object()  # the torch function is the nnscratch one (operators and shared method names)


def case(case_id, fn, t_fn, *specs, n=1):
    """``fn`` on nnscratch tensors, ``t_fn`` (or ``fn`` itself for SAME) on torch tensors; ``n`` terms
    summed into one value at most (check_parity adds the copies a broadcast input's gradient sums)."""
    return pytest.param(fn, fn if t_fn is SAME else t_fn, list(specs), n, id=case_id)


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
    out = np.matmul(np.empty(sa), np.empty(sb)).size
    return max(k, out * k // int(np.prod(sa)), out * k // int(np.prod(sb)))


# ----------------------------------------------------------------------------- arithmetic

BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((4, 1), (1, 5)), ((), (2, 3)),
                   ((5,), ())]

BINARY = {
    "add": (lambda a, b: a + b, SAME, "n", "n"),
    "sub": (lambda a, b: a - b, SAME, "n", "n"),
    "mul": (lambda a, b: a * b, SAME, "n", "n"),
    "div": (lambda a, b: a / b, SAME, "n", "nz"),
    "pow": (lambda a, b: a ** b, SAME, "pos", "n"),
    "maximum": (ns.maximum, torch.maximum, "gridA", "gridB"),
    "minimum": (ns.minimum, torch.minimum, "gridB", "gridA"),
}

CASES = [
    case(f"{name}-{sa}-{sb}", fn, t_fn, (ka, sa), (kb, sb))
    for name, (fn, t_fn, ka, kb) in BINARY.items()
    for sa, sb in BROADCAST_PAIRS
] + [
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

MATMUL_PAIRS = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
                ((3, 4), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (2, 4, 5)),
                ((4,), (2, 4, 5)), ((2, 3, 4), (4,))]
CASES += [case(f"matmul-{sa}-{sb}", lambda a, b: a @ b, SAME, ("n", sa), ("n", sb), n=_matmul_terms(sa, sb))
          for sa, sb in MATMUL_PAIRS]
# A longer inner axis (64 products per output, summed in different orders by NumPy's and torch's BLAS).
CASES.append(case("matmul-K64", lambda a, b: a @ b, SAME, ("n", (2, 8, 64)), ("n", (64, 6)),
                  n=_matmul_terms((2, 8, 64), (64, 6))))

# ----------------------------------------------------------------------------- elementwise

UNARY_SHAPES = [(3, 4), (2, 3, 4), ()]
UNARY = {
    "exp": (lambda x: x.exp(), SAME, "n"),
    "log": (lambda x: x.log(), SAME, "pos"),
    "sqrt": (lambda x: x.sqrt(), SAME, "pos"),
    "abs": (lambda x: x.abs(), SAME, "nz"),
    "clip": (lambda x: ns.clip(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5), "clip"),
    "clip-min-only": (lambda x: ns.clip(x, min=-0.2), lambda x: torch.clamp(x, min=-0.2), "clip"),
    "clip-max-only": (lambda x: ns.clip(x, max=0.3), lambda x: torch.clamp(x, max=0.3), "clip"),
    "sigmoid": (F.sigmoid, torch.sigmoid, "n"),
    "sigmoid-big": (F.sigmoid, torch.sigmoid, "big"),
    "tanh": (F.tanh, torch.tanh, "n"),
    "tanh-big": (F.tanh, torch.tanh, "big"),
    "relu": (F.relu, torch.relu, "nz"),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu, "nz"),
    "leaky_relu-0.2": (lambda x: F.leaky_relu(x, negative_slope=0.2), lambda x: TF.leaky_relu(x, 0.2), "nz"),
    "identity": (F.identity, lambda x: x, "n"),
}
CASES += [case(f"{name}-{shape}", fn, t_fn, (kind, shape))
          for name, (fn, t_fn, kind) in UNARY.items() for shape in UNARY_SHAPES]

CASES += [
    case(f"where-{sc}-{sa}-{sb}", ns.where, torch.where, ("mask", sc), ("n", sa), ("n", sb))
    for sc, sa, sb in [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((4,), (3, 4), ()),
                       ((2, 1, 4), (3, 1), (4,))]
] + [
    case("where-scalar", lambda c, a: ns.where(c, a, 0.0), lambda c, a: torch.where(c, a, 0.0),
         ("mask", (3, 4)), ("n", (3, 4))),
    case("where-tensor-cond", lambda a, b: ns.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b),
         ("gridA", (3, 4)), ("gridB", (3, 4))),
]

CASES += [
    case(f"{name}-{shape}-axis{axis}-{kind}", (lambda f, axis: lambda x: f(x, axis))(f, axis),
         (lambda g, axis: lambda x: g(x, dim=axis))(g, axis), (kind, shape), n=shape[axis])
    for name, f, g in [("softmax", F.softmax, torch.softmax), ("log_softmax", F.log_softmax, torch.log_softmax)]
    for shape, axis in [((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((5,), 0)]
    for kind in ["n", "big"]
]

# ----------------------------------------------------------------------------- reductions

REDUCE_AXES = [None, 0, 1, -1, 2, (0, 2), (1, -1), (0, 1, 2)]
TORCH_REDUCE = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}


def _reduction(name, axis, keepdims, correction=1):
    if name == "var":
        return (lambda x: ns.var(x, axis, keepdim=keepdims, correction=correction),
                lambda x: torch.var(x, dim=_all_axes(axis, x.ndim), correction=correction, keepdim=keepdims))
    t_fn = TORCH_REDUCE[name]
    method = {"max": "amax", "min": "amin"}.get(name, name)  # x.max(dim) is (values, indices), as in torch
    return (lambda x: getattr(x, method)(axis, keepdims),
            lambda x: t_fn(x, dim=_all_axes(axis, x.ndim), keepdim=keepdims))


CASES += [
    case(f"{name}-axis{axis}-keepdims{kd}", *_reduction(name, axis, kd),
         ("distinct" if name in ("max", "min") else "n", (2, 3, 4)),
         n=1 if name in ("max", "min") else _reduced((2, 3, 4), axis))  # max/min select, they do not add
    for name in ["sum", "mean", "max", "min", "var"] for axis in REDUCE_AXES for kd in [False, True]
] + [
    case(f"var-correction{c}-axis{axis}-keepdims{kd}", *_reduction("var", axis, kd, c), ("n", (2, 3, 4)),
         n=_reduced((2, 3, 4), axis))
    for c in [0, 2] for axis in [None, 1, (0, 2)] for kd in [False, True]
] + [
    case(f"{name}-1d", *_reduction(name, None, False), ("distinct" if name in ("max", "min") else "n", (7,)),
         n=1 if name in ("max", "min") else 7)
    for name in ["sum", "mean", "max", "min", "var"]
] + [
    # 4096 float32 values added in a different order (NumPy pairwise, torch vectorised)
    case("sum-large", lambda x: x.sum(), lambda x: x.sum(), ("n", (64, 64)), n=64 * 64),
    case("mean-large-axis0", lambda x: x.mean(0), lambda x: x.mean(0), ("n", (256, 16)), n=256),
    case("var-large", lambda x: x.var(), lambda x: x.var(), ("n", (64, 64)), n=64 * 64),
]

# ----------------------------------------------------------------------------- shape


def _split_join(split):
    """Scale each piece differently and join them (a misplaced piece changes the numbers)."""
    return lambda x: _cat([p.reshape(-1) * (i + 1.0) for i, p in enumerate(split(x))])


def _cat(pieces):
    return torch.cat(pieces) if isinstance(pieces[0], torch.Tensor) else ns.concat(pieces)


CASES += [
    case("reshape-2d", lambda x: x.reshape(2, 6), SAME, ("n", (3, 4))),
    case("reshape-tuple-infer", lambda x: x.reshape((4, -1)), SAME, ("n", (2, 3, 4))),
    case("reshape-to-0d", lambda x: x.reshape(()), SAME, ("n", (1, 1))),
    case("view", lambda x: x.view(-1), SAME, ("n", (3, 4))),
    case("transpose-01", lambda x: x.transpose(0, 1), SAME, ("n", (3, 4))),
    case("transpose-02", lambda x: x.transpose(0, 2), SAME, ("n", (2, 3, 4))),
    case("transpose-neg", lambda x: x.transpose(-1, -2), SAME, ("n", (2, 3, 4))),
    case("transpose-all", lambda x: x.transpose(), lambda x: x.permute(2, 1, 0), ("n", (2, 3, 4))),
    case("T", lambda x: x.T, SAME, ("n", (3, 4))),
    case("swapaxes", lambda x: x.swapaxes(0, -1), SAME, ("n", (2, 3, 4))),
    case("permute", lambda x: x.permute(2, 0, 1), SAME, ("n", (2, 3, 4))),
    case("permute-tuple-neg", lambda x: x.permute((1, -1, 0)), SAME, ("n", (2, 3, 4))),
    case("flatten", lambda x: x.flatten(), SAME, ("n", (2, 3, 4, 5))),
    case("flatten-1", lambda x: x.flatten(1), SAME, ("n", (2, 3, 4, 5))),
    case("flatten-1-2", lambda x: x.flatten(1, 2), SAME, ("n", (2, 3, 4, 5))),
    case("flatten-0-neg2", lambda x: x.flatten(0, -2), SAME, ("n", (2, 3, 4, 5))),
    case("squeeze", lambda x: x.squeeze(), SAME, ("n", (3, 1, 4, 1))),
    case("squeeze-1", lambda x: x.squeeze(1), SAME, ("n", (3, 1, 4, 1))),
    case("squeeze-neg1", lambda x: x.squeeze(-1), SAME, ("n", (3, 1, 4, 1))),
    case("squeeze-noop", lambda x: x.squeeze(0), SAME, ("n", (3, 1, 4, 1))),
    case("squeeze-tuple", lambda x: x.squeeze((1, 3)), SAME, ("n", (3, 1, 4, 1))),
    case("unsqueeze-0", lambda x: x.unsqueeze(0), SAME, ("n", (3, 4))),
    case("unsqueeze-2", lambda x: x.unsqueeze(2), SAME, ("n", (3, 4))),
    case("unsqueeze-neg1", lambda x: x.unsqueeze(-1), SAME, ("n", (3, 4))),
    case("unsqueeze-neg3", lambda x: x.unsqueeze(-3), SAME, ("n", (3, 4))),
    case("broadcast_to-row", lambda x: x.broadcast_to((3, 4)), SAME, ("n", (4,))),
    case("broadcast_to-3d", lambda x: x.broadcast_to((2, 3, 4)), SAME, ("n", (3, 1))),
    case("broadcast_to-0d", lambda x: x.broadcast_to((2, 3)), SAME, ("n", ())),
    case("concat-axis0", lambda a, b: ns.concat([a, b]), lambda a, b: torch.cat([a, b]), ("n", (2, 3)),
         ("n", (4, 3))),
    case("concat-axis1", lambda a, b: ns.concat([a, b], axis=1), lambda a, b: torch.cat([a, b], dim=1),
         ("n", (2, 3)), ("n", (2, 5))),
    case("concat-3-neg", lambda a, b, c: ns.concat([a, b, c], -1), lambda a, b, c: torch.cat([a, b, c], -1),
         ("n", (2, 3, 1)), ("n", (2, 3, 4)), ("n", (2, 3, 2))),
    case("stack-axis0", lambda a, b, c: ns.stack([a, b, c]), lambda a, b, c: torch.stack([a, b, c]),
         ("n", (2, 3)), ("n", (2, 3)), ("n", (2, 3))),
    case("stack-axis1", lambda a, b: ns.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1),
         ("n", (2, 3)), ("n", (2, 3))),
    case("stack-neg", lambda a, b: ns.stack([a, b], -1), lambda a, b: torch.stack([a, b], -1),
         ("n", (2, 3)), ("n", (2, 3))),
    case("split-int", _split_join(lambda x: ns.split(x, 2)), _split_join(lambda x: torch.split(x, 2)),
         ("n", (6, 4))),
    case("split-sections", _split_join(lambda x: ns.split(x, [1, 3, 2])),
         _split_join(lambda x: torch.split(x, [1, 3, 2])), ("n", (6, 4))),
    case("split-uneven-axis1", _split_join(lambda x: ns.split(x, 3, axis=1)),
         _split_join(lambda x: torch.split(x, 3, dim=1)), ("n", (3, 7))),
    case("split-neg-dim", _split_join(lambda x: ns.split(x, [3, 1], dim=-1)),
         _split_join(lambda x: torch.split(x, [3, 1], dim=-1)), ("n", (2, 3, 4))),
]

# ----------------------------------------------------------------------------- indexing

MASK_2D = np.array([[True, False, True, True], [False, False, False, False], [True, True, False, True],
                    [False, True, False, False], [True, False, False, True]])
ROW_MASK = np.array([True, False, True, True, False])

CASES += [
    case("index-slice", lambda x: x[1:4], SAME, ("n", (5, 4))),
    case("index-slice-step", lambda x: x[::2, 1:], SAME, ("n", (5, 4))),
    # torch has no negative steps: flip, then step
    case("index-slice-neg-step", lambda x: x[::-1, ::-2], lambda x: x.flip((0, 1))[:, ::2], ("n", (5, 4))),
    case("index-int", lambda x: x[-1], SAME, ("n", (5, 4))),
    case("index-ellipsis", lambda x: x[..., 2], SAME, ("n", (2, 5, 4))),
    case("index-newaxis", lambda x: x[None, 1], SAME, ("n", (5, 4))),
    case("index-int-array-repeats", lambda x: x[np.array([0, 2, 0, 0])], SAME, ("n", (5, 4))),
    case("index-list-repeats", lambda x: x[[3, 3, 1]], SAME, ("n", (5, 4))),
    case("index-int-array-2d", lambda x: x[np.array([[0, 1], [1, 1]])], SAME, ("n", (5, 4))),
    case("index-pairs-repeat", lambda x: x[np.array([0, 0, 3, 0]), np.array([1, 1, 2, 1])], SAME, ("n", (5, 4))),
    case("index-neg-alias", lambda x: x[np.array([-1, 4, 0])], SAME, ("n", (5, 4))),
    case("index-slice-then-array", lambda x: x[:, [3, 3, 0]], SAME, ("n", (5, 4))),
    case("index-int-then-array", lambda x: x[1, [2, 2, 0]], SAME, ("n", (5, 4))),
    case("index-array-slice-array", lambda x: x[[1, 1], :, [0, 3]], SAME, ("n", (2, 3, 4))),
    case("index-tensor", lambda x: x[ns.tensor([0, 0, 1])], lambda x: x[torch.tensor([0, 0, 1])], ("n", (5, 4))),
    case("index-mask-2d", lambda x: x[MASK_2D], lambda x: x[torch.from_numpy(MASK_2D)], ("n", (5, 4))),
    case("index-mask-rows", lambda x: x[ROW_MASK], lambda x: x[torch.from_numpy(ROW_MASK)], ("n", (5, 4))),
    case("index-mask-rows-slice", lambda x: x[ROW_MASK, 1:3], lambda x: x[torch.from_numpy(ROW_MASK), 1:3],
         ("n", (5, 4))),
    case("index-mask-from-comparison", lambda x: x[x > 0], SAME, ("nz", (5, 4))),
]

# ----------------------------------------------------------------------------- astype

CASES += [
    case("astype-f64", lambda x: x.astype(np.float64) * 3.0, lambda x: x.to(torch.float64) * 3.0, ("n", (3, 4))),
    case("double", lambda x: x.double().exp(), lambda x: x.double().exp(), ("n", (3, 4))),
    case("float", lambda x: x.float() * 2.0, lambda x: x.float() * 2.0, ("n", (3, 4))),
]


# ----------------------------------------------------------------------------- helpers


def _inputs(arrays):
    """The same float32 inputs for both libraries; masks stay boolean constants."""
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in arrays]
    xs = [ns.tensor(a, requires_grad=True) if a.dtype.kind == "f" else ns.Tensor(a) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) if a.dtype.kind == "f" else torch.from_numpy(a.copy())
          for a in arrays]
    return xs, ts


def _dtype_of(t):
    return np.dtype(str(t.dtype).replace("torch.", ""))


def check_parity(fn, t_fn, arrays, rng, n=1):
    """Forward and backward (with one random upstream gradient) of both libraries agree, to the
    rounding of sums of ``n`` terms, or of the copies of an input that its gradient adds up if
    broadcasting made more. The inputs and the upstream gradient are of order 1, and so are the
    terms of every sum, even where they cancel (a softmax gradient, 1 - tanh(x)**2 at large x): the
    magnitude the bound scales with is at least 1."""
    xs, ts = _inputs(arrays)
    out, t_out = fn(*xs), t_fn(*ts)
    assert out.shape == tuple(t_out.shape)
    assert out.dtype == _dtype_of(t_out)
    n = max([n] + [out.size // max(x.size, 1) for x in xs if x.requires_grad])
    expected = t_out.detach().numpy()
    assert_close(out.data, expected, n, scale=max(1.0, np.abs(expected).max(initial=0)), what="output")

    g = np.asarray(rng.standard_normal(out.shape)).astype(out.dtype)
    out.backward(g)
    t_out.backward(torch.from_numpy(g.copy()))
    checked = 0
    for x, t in zip(xs, ts):
        if not t.requires_grad:
            continue
        assert x.grad is not None and x.grad.dtype == np.float32 and t.grad.dtype == torch.float32
        expected = t.grad.numpy()
        assert_close(x.grad.data, expected, n, scale=max(1.0, np.abs(expected).max(initial=0)),
                     what=f"gradient of argument {checked}")
        checked += 1
    assert checked > 0
    return xs, ts, g


# ----------------------------------------------------------------------------- the table


@pytest.mark.parametrize("fn, t_fn, specs, n", CASES)
def test_parity(fn, t_fn, specs, n, make_inputs, rng):
    check_parity(fn, t_fn, make_inputs(specs), rng, n)


@pytest.mark.parametrize("sizes, axis", [(2, 0), ([1, 3, 2], 0), (3, 1), ([3, 1], -1)])
def test_split_pieces_parity(sizes, axis, rng):
    """split's pieces, each with its own upstream gradient, against torch.split."""
    x = rng.standard_normal((6, 4) if axis == 0 else (3, 7) if axis == 1 else (2, 3, 4)).astype(np.float32)
    (xn,), (xt,) = _inputs([x])
    pieces, t_pieces = ns.split(xn, sizes, axis), torch.split(xt, sizes, axis)
    assert [p.shape for p in pieces] == [tuple(p.shape) for p in t_pieces]
    gs = [rng.standard_normal(p.shape).astype(np.float32) for p in pieces]
    for p, tp in zip(pieces, t_pieces):
        np.testing.assert_array_equal(p.data, tp.detach().numpy())
    (gx,) = ns.grad(list(pieces), [xn], grad_outputs=[ns.tensor(g) for g in gs])
    (tgx,) = torch.autograd.grad(t_pieces, [xt], [torch.from_numpy(g) for g in gs])
    assert gx.dtype == np.float32
    assert_close(gx.data, tgx.numpy(), 1)  # each element has one gradient


# ----------------------------------------------------------------------------- ties and kinks


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_ties_match_amax_amin(name, axis, keepdims, rng):
    """Values from {0, 1, 2}: most maxima are tied and share the gradient evenly, as torch.amax."""
    x = rng.integers(0, 3, (3, 4, 5)).astype(np.float64)
    xs, _, g = check_parity(*_reduction(name, axis, keepdims), [x], rng)
    # the rule itself: each tied winner gets g / (number of winners)
    if axis is None:
        hits = x == (x.max() if name == "max" else x.min())
        assert hits.sum() > 1
        assert_close(xs[0].grad.data, np.where(hits, g / hits.sum(), 0.0), 1)


@pytest.mark.parametrize("name, t_fn", [("maximum", torch.maximum), ("minimum", torch.minimum)])
def test_elementwise_extremum_of_a_tensor_with_itself(name, t_fn, rng):
    """maximum(a, a): each side gets half, so a.grad is exactly the upstream gradient."""
    a = rng.standard_normal((3, 4)).astype(np.float32)
    (an,), (at,) = _inputs([a])
    out, t_out = getattr(ns, name)(an, an), t_fn(at, at)
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    g = rng.standard_normal((3, 4)).astype(np.float32)
    out.backward(g)
    t_out.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(an.grad.data, at.grad.numpy())
    np.testing.assert_array_equal(an.grad.data, g)


@pytest.mark.parametrize("name, t_fn", [("maximum", torch.maximum), ("minimum", torch.minimum)])
@pytest.mark.parametrize("sa, sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1))])
def test_elementwise_extremum_partial_ties(name, t_fn, sa, sb, rng):
    """Integer-valued inputs: some elements tie (0.5 each, as torch), others have a clear winner."""
    a = rng.integers(0, 3, sa).astype(np.float64)
    b = rng.integers(0, 3, sb).astype(np.float64)
    ties = np.broadcast_to(a, np.broadcast_shapes(sa, sb)) == b
    assert ties.any() and not ties.all()
    check_parity(getattr(ns, name), t_fn, [a, b], rng)


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (-0.5, None), (None, 0.5)])
def test_clip_at_its_bounds_matches_clamp(lo, hi, rng):
    """Values exactly on a bound pass the gradient (inclusive bounds), as in torch.clamp."""
    x = np.array([-1.0, -0.5, -0.25, 0.0, 0.5, 0.75, 0.5, -0.5])
    xs, _, g = check_parity(lambda t: ns.clip(t, lo, hi), lambda t: torch.clamp(t, lo, hi), [x], rng)
    inside = np.ones_like(x, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    np.testing.assert_array_equal(xs[0].grad.data, np.where(inside, g, 0.0))


@pytest.mark.parametrize("fn, t_fn", [(F.relu, torch.relu), (ns.abs, torch.abs),
                                      (lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1))],
                         ids=["relu", "abs", "leaky_relu"])
def test_kink_at_zero_matches_torch(fn, t_fn, rng):
    x = np.array([-1.0, 0.0, 2.0, -0.0, 0.5])
    check_parity(fn, t_fn, [x], rng)


# ----------------------------------------------------------------------------- ops without gradients


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
@pytest.mark.parametrize("sa, sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1))])
def test_comparisons_parity(op, sa, sb, rng):
    a = rng.integers(-2, 3, sa).astype(np.float32)
    b = rng.integers(-2, 3, sb).astype(np.float32)
    (an, bn), (at, bt) = _inputs([a, b])
    out, t_out = getattr(F, op)(an, bn), getattr(torch, op)(at, bt)
    assert out.dtype == np.bool_ and t_out.dtype == torch.bool
    assert not out.requires_grad and not t_out.requires_grad
    np.testing.assert_array_equal(out.data, t_out.numpy())


def test_step_function_parity(rng):
    x = np.concatenate([rng.standard_normal(10), [0.0, -0.0]]).astype(np.float32)
    y = F.step_function(ns.tensor(x, requires_grad=True))
    t_y = (torch.from_numpy(x) > 0).to(torch.float32)
    assert y.dtype == np.float32 and not y.requires_grad
    np.testing.assert_array_equal(y.data, t_y.numpy())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("c", [0, 1, 2, 3])
def test_powscalar_at_zero_matches_torch(c, rng):
    """x ** c at x = 0 (c >= 0 is differentiable there); torch gives 0 for c = 0, not 0 * inf."""
    check_parity(lambda x: x ** c, lambda x: x ** c, [np.array([0.0, 0.0, 1.5, -2.0])], rng)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_at_zero_base_matches_torch(rng):
    """tensor ** tensor with a = 0: torch's gradients are 0 (d/db = a**b log a -> 0 for b >= 0)."""
    check_parity(lambda a, b: a ** b, lambda a, b: a ** b,
                 [np.array([0.0, 0.0, 0.0, 1.5, 2.0]), np.array([2.0, 3.0, 0.0, 0.5, -1.0])], rng)
