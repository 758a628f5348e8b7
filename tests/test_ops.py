"""Every differentiable operation, checked two ways without PyTorch:

1. ``gradcheck`` in float64 (autograd against central differences) over many shapes, including
   broadcasting, every reduction axis with and without keepdims, and batched / 1-D matmul;
2. float32 in gives float32 out and float32 gradients, with values matching the float64 run.

Inputs are drawn by ``make_inputs`` (conftest.py) so that no value sits near a kink or a tie
(abs/relu at 0, clip bounds, maximum ties, reduction ties) or outside a domain (log, sqrt).
The PyTorch parity tests live in test_ops_parity.py, so this file runs without torch.
"""

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import GradcheckError, gradcheck


def case(case_id, fn, *specs, gc=None, out_dtype=np.float32):
    """One op configuration: ``fn`` applied to inputs made from ``specs`` (see conftest.make_array).

    ``gc`` overrides gradcheck's tolerances; ``out_dtype`` is the output dtype for float32 inputs.
    """
    return pytest.param(fn, list(specs), dict(gc=gc or {}, out_dtype=out_dtype), id=case_id)


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
    "add": (lambda a, b: a + b, "n", "n"),
    "sub": (lambda a, b: a - b, "n", "n"),
    "mul": (lambda a, b: a * b, "n", "n"),
    "div": (lambda a, b: a / b, "n", "nz"),
    "pow": (lambda a, b: a ** b, "pos", "n"),
    "maximum": (lambda a, b: ns.maximum(a, b), "gridA", "gridB"),
    "minimum": (lambda a, b: ns.minimum(a, b), "gridB", "gridA"),
}

ARITH_CASES = [
    case(f"{name}-{sa}-{sb}", fn, (ka, sa), (kb, sb))
    for name, (fn, ka, kb) in BINARY.items()
    for sa, sb in BROADCAST_PAIRS
] + [
    # the same operations with a Python number on either side (the number takes the tensor's dtype)
    case("add-scalar", lambda x: x + 2.5, ("n", (3, 4))),
    case("radd-scalar", lambda x: 2.5 + x, ("n", (3, 4))),
    case("sub-scalar", lambda x: x - 1.5, ("n", (3, 4))),
    case("rsub-scalar", lambda x: 1.5 - x, ("n", (3, 4))),
    case("mul-scalar", lambda x: x * -2.0, ("n", (3, 4))),
    case("rmul-scalar", lambda x: 3 * x, ("n", (3, 4))),
    case("div-scalar", lambda x: x / 4.0, ("n", (3, 4))),
    case("rdiv-scalar", lambda x: 2.0 / x, ("nz", (3, 4))),
    case("rpow-scalar", lambda x: 2.0 ** x, ("n", (3, 4))),
    case("maximum-scalar", lambda x: ns.maximum(x, 0.25), ("gridB", (3, 4))),
    case("minimum-scalar", lambda x: ns.minimum(0.25, x), ("gridB", (3, 4))),
    case("neg", lambda x: -x, ("n", (3, 4))),
    case("neg-0d", lambda x: -x, ("n", ())),
] + [
    case(f"powscalar-{c}", (lambda c: lambda x: x ** c)(c), (kind, (3, 4)))
    for c, kind in [(2, "n"), (3, "n"), (1, "n"), (0, "nz"), (-1, "nz"), (0.5, "pos"), (-1.5, "pos"),
                    (2.5, "pos")]
]

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

MATMUL_CASES = [case(f"matmul-{sa}-{sb}", lambda a, b: a @ b, ("n", sa), ("n", sb))
                for sa, sb in MATMUL_PAIRS]
MATMUL_CASES.append(case("matmul-fn", lambda a, b: ns.matmul(a, b), ("n", (2, 3)), ("n", (3, 2))))

# ----------------------------------------------------------------------------- elementwise math

UNARY_SHAPES = [(3, 4), (2, 3, 4), (5,), ()]

UNARY = {
    "exp": (lambda x: x.exp(), "n"),
    "exp-fn": (lambda x: ns.exp(x), "n"),
    "log": (lambda x: x.log(), "pos"),
    "sqrt": (lambda x: x.sqrt(), "pos"),
    "abs": (lambda x: x.abs(), "nz"),
    "clip": (lambda x: x.clip(-0.5, 0.5), "clip"),
    "clip-min-only": (lambda x: ns.clip(x, min=-0.2), "clip"),
    "clip-max-only": (lambda x: ns.clip(x, max=0.3), "clip"),
    "clamp": (lambda x: x.clamp(-0.2, 0.3), "clip"),
    "sigmoid": (lambda x: F.sigmoid(x), "n"),
    "sigmoid-big": (lambda x: F.sigmoid(x), "big"),
    "tanh": (lambda x: F.tanh(x), "n"),
    "relu": (lambda x: F.relu(x), "nz"),
    "leaky_relu": (lambda x: F.leaky_relu(x), "nz"),
    "leaky_relu-0.2": (lambda x: F.leaky_relu(x, negative_slope=0.2), "nz"),
    "identity": (lambda x: F.identity(x), "n"),
}

ELEMENTWISE_CASES = [case(f"{name}-{shape}", fn, (kind, shape))
                     for name, (fn, kind) in UNARY.items() for shape in UNARY_SHAPES]

WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((4,), (3, 4), ()),
                ((2, 1, 4), (3, 1), (4,))]
WHERE_CASES = [case(f"where-{sc}-{sa}-{sb}", lambda c, a, b: ns.where(c, a, b),
                    ("mask", sc), ("n", sa), ("n", sb))
               for sc, sa, sb in WHERE_SHAPES]
WHERE_CASES.append(case("where-scalar", lambda c, a: ns.where(c, a, 0.0), ("mask", (3, 4)), ("n", (3, 4))))
WHERE_CASES.append(case("where-tensor-cond", lambda a, b: ns.where(a > b, a, b), ("gridA", (3, 4)),
                        ("gridB", (3, 4))))

SOFTMAX_CASES = [
    case(f"{name}-{shape}-axis{axis}{'-big' if kind == 'big' else ''}",
         (lambda f, axis: lambda x: f(x, axis))(f, axis), (kind, shape))
    for name, f in [("softmax", F.softmax), ("log_softmax", F.log_softmax)]
    for shape, axis in [((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((5,), 0)]
    for kind in ["n", "big"]
]

# ----------------------------------------------------------------------------- reductions

REDUCE_AXES = [None, 0, 1, -1, 2, (0, 2), (1, -1), (0, 1, 2)]


def _reduction(name, axis, keepdims, correction=None):
    if name == "var":  # PyTorch's var(dim, unbiased, keepdim): keepdim by keyword
        if correction is None:
            return lambda x: x.var(axis, keepdim=keepdims)
        return lambda x: x.var(axis, keepdim=keepdims, correction=correction)
    name = {"max": "amax", "min": "amin"}.get(name, name)  # x.max(dim) is (values, indices), as in PyTorch
    return lambda x: getattr(x, name)(axis, keepdims)


REDUCTION_CASES = [
    case(f"{name}-axis{axis}-keepdims{kd}", _reduction(name, axis, kd),
         ("distinct" if name in ("max", "min") else "n", (2, 3, 4)))
    for name in ["sum", "mean", "max", "min", "var"]
    for axis in REDUCE_AXES
    for kd in [False, True]
] + [
    case(f"{name}-1d-axis{axis}", _reduction(name, axis, False),
         ("distinct" if name in ("max", "min") else "n", (5,)))
    for name in ["sum", "mean", "max", "min", "var"] for axis in [None, 0]
] + [
    case(f"var-correction{c}-axis{axis}-keepdims{kd}", _reduction("var", axis, kd, c), ("n", (2, 3, 4)))
    for c in [0, 1, 2] for axis in [None, 1, (0, 2)] for kd in [False, True]
] + [
    # PyTorch spellings dim= / keepdim=
    case("sum-dim-keepdim", lambda x: x.sum(dim=1, keepdim=True), ("n", (3, 4))),
    case("mean-dim", lambda x: ns.mean(x, dim=(0, 1)), ("n", (3, 4))),
    case("max-dim", lambda x: ns.max(x, dim=-1).values, ("distinct", (3, 4))),
    case("min-dim-keepdim", lambda x: ns.min(x, dim=0, keepdim=True).values, ("distinct", (3, 4))),
    case("var-dim", lambda x: ns.var(x, dim=1, correction=0), ("n", (3, 4))),
]

# ----------------------------------------------------------------------------- shape

SHAPE_CASES = [
    case("reshape-2d", lambda x: x.reshape(2, 6), ("n", (3, 4))),
    case("reshape-tuple-infer", lambda x: x.reshape((4, -1)), ("n", (2, 3, 4))),
    case("reshape-1d-to-3d", lambda x: ns.reshape(x, 2, 1, 3), ("n", (6,))),
    case("reshape-to-0d", lambda x: x.reshape(()), ("n", (1, 1))),
    case("view", lambda x: x.view(-1), ("n", (3, 4))),
    case("transpose-01", lambda x: x.transpose(0, 1), ("n", (3, 4))),
    case("transpose-02", lambda x: x.transpose(0, 2), ("n", (2, 3, 4))),
    case("transpose-neg", lambda x: ns.transpose(x, -1, -2), ("n", (2, 3, 4))),
    case("transpose-all", lambda x: x.transpose(), ("n", (2, 3, 4))),
    case("T", lambda x: x.T, ("n", (3, 4))),
    case("swapaxes", lambda x: x.swapaxes(0, -1), ("n", (2, 3, 4))),
    case("permute", lambda x: x.permute(2, 0, 1), ("n", (2, 3, 4))),
    case("permute-tuple-neg", lambda x: ns.permute(x, (1, -1, 0)), ("n", (2, 3, 4))),
    case("flatten", lambda x: x.flatten(), ("n", (2, 3, 4, 5))),
    case("flatten-1", lambda x: x.flatten(1), ("n", (2, 3, 4, 5))),
    case("flatten-1-2", lambda x: ns.flatten(x, 1, 2), ("n", (2, 3, 4, 5))),
    case("flatten-0-neg2", lambda x: x.flatten(0, -2), ("n", (2, 3, 4, 5))),
    case("squeeze", lambda x: x.squeeze(), ("n", (3, 1, 4, 1))),
    case("squeeze-1", lambda x: x.squeeze(1), ("n", (3, 1, 4, 1))),
    case("squeeze-neg1", lambda x: ns.squeeze(x, -1), ("n", (3, 1, 4, 1))),
    case("squeeze-noop", lambda x: x.squeeze(0), ("n", (3, 1, 4, 1))),
    case("squeeze-tuple", lambda x: x.squeeze((1, 3)), ("n", (3, 1, 4, 1))),
    case("unsqueeze-0", lambda x: x.unsqueeze(0), ("n", (3, 4))),
    case("unsqueeze-1", lambda x: x.unsqueeze(1), ("n", (3, 4))),
    case("unsqueeze-2", lambda x: ns.unsqueeze(x, 2), ("n", (3, 4))),
    case("unsqueeze-neg1", lambda x: x.unsqueeze(-1), ("n", (3, 4))),
    case("unsqueeze-neg3", lambda x: x.unsqueeze(-3), ("n", (3, 4))),
    case("broadcast_to-row", lambda x: x.broadcast_to((3, 4)), ("n", (4,))),
    case("broadcast_to-3d", lambda x: ns.broadcast_to(x, 2, 3, 4), ("n", (3, 1))),
    case("broadcast_to-1", lambda x: x.broadcast_to(5), ("n", (1,))),
    case("broadcast_to-0d", lambda x: x.broadcast_to((2, 3)), ("n", ())),
    case("broadcast_to-noop", lambda x: x.broadcast_to((2, 3)), ("n", (2, 3))),
    case("concat-axis0", lambda a, b: ns.concat([a, b]), ("n", (2, 3)), ("n", (4, 3))),
    case("concat-axis1", lambda a, b: ns.concat([a, b], axis=1), ("n", (2, 3)), ("n", (2, 5))),
    case("concat-3-neg", lambda a, b, c: ns.concat([a, b, c], -1), ("n", (2, 3, 1)), ("n", (2, 3, 4)),
         ("n", (2, 3, 2))),
    case("concat-same-twice", lambda a: ns.concat([a, a * 2.0], 0), ("n", (2, 3))),
    case("cat-dim", lambda a, b: ns.cat((a, b), dim=1), ("n", (2, 3)), ("n", (2, 1))),
    case("stack-axis0", lambda a, b, c: ns.stack([a, b, c]), ("n", (2, 3)), ("n", (2, 3)), ("n", (2, 3))),
    case("stack-axis1", lambda a, b: ns.stack([a, b], axis=1), ("n", (2, 3)), ("n", (2, 3))),
    case("stack-neg", lambda a, b: ns.stack([a, b], -1), ("n", (2, 3)), ("n", (2, 3))),
    case("stack-0d", lambda a, b: ns.stack([a, b]), ("n", ()), ("n", ())),
    # split has several outputs: scale each piece differently and join them so that a piece
    # delivered to the wrong place would change the numbers
    case("split-int", lambda x: ns.concat([p.reshape(-1) * (i + 1.0) for i, p in enumerate(x.split(2))]),
         ("n", (6, 4))),
    case("split-sections", lambda x: ns.concat([p.reshape(-1) * (i + 1.0)
                                                for i, p in enumerate(ns.split(x, [1, 3, 2]))]),
         ("n", (6, 4))),
    case("split-uneven-axis1", lambda x: ns.concat([p.reshape(-1) * (i + 1.0)
                                                    for i, p in enumerate(ns.split(x, 3, axis=1))]),
         ("n", (3, 7))),
    case("split-neg-dim", lambda x: ns.concat([p.reshape(-1) * (i + 1.0)
                                               for i, p in enumerate(ns.split(x, [3, 1], dim=-1))]),
         ("n", (2, 3, 4))),
    case("split-partial-use", lambda x: ns.split(x, 2, 1)[1] * 3.0, ("n", (3, 6))),
]

# ----------------------------------------------------------------------------- indexing

MASK_2D = np.array([[True, False, True, True], [False, False, False, False], [True, True, False, True],
                    [False, True, False, False], [True, False, False, True]])
ROW_MASK = np.array([True, False, True, True, False])

INDEX_CASES = [
    case("slice", lambda x: x[1:4], ("n", (5, 4))),
    case("slice-step", lambda x: x[::2, 1:], ("n", (5, 4))),
    case("slice-neg-step", lambda x: x[::-1, ::-2], ("n", (5, 4))),
    case("int", lambda x: x[-1], ("n", (5, 4))),
    case("int-int", lambda x: x[2, 3], ("n", (5, 4))),
    case("ellipsis", lambda x: x[..., 2], ("n", (2, 5, 4))),
    case("newaxis", lambda x: x[None, 1], ("n", (5, 4))),
    case("int-array-repeats", lambda x: x[np.array([0, 2, 0, 0])], ("n", (5, 4))),
    case("list-repeats", lambda x: x[[3, 3, 1]], ("n", (5, 4))),
    case("int-array-2d", lambda x: x[np.array([[0, 1], [1, 1]])], ("n", (5, 4))),
    case("int-array-pairs-repeat", lambda x: x[np.array([0, 0, 3, 0]), np.array([1, 1, 2, 1])], ("n", (5, 4))),
    case("int-array-neg-alias", lambda x: x[np.array([-1, 4, 0])], ("n", (5, 4))),  # -1 and 4 are one row
    case("slice-then-array", lambda x: x[:, [3, 3, 0]], ("n", (5, 4))),
    case("int-then-array", lambda x: x[1, [2, 2, 0]], ("n", (5, 4))),
    case("array-slice-array", lambda x: x[[1, 1], :, [0, 3]], ("n", (2, 3, 4))),
    case("tensor-index", lambda x: x[ns.tensor([0, 0, 1])], ("n", (5, 4))),
    case("mask-2d", lambda x: x[MASK_2D], ("n", (5, 4))),
    case("mask-rows", lambda x: x[ROW_MASK], ("n", (5, 4))),
    case("mask-rows-slice", lambda x: x[ROW_MASK, 1:3], ("n", (5, 4))),
    case("mask-from-comparison", lambda x: x[x > 0], ("nz", (5, 4))),
    case("index-then-reuse", lambda x: x[[0, 0]] * x[0], ("n", (5, 4))),
]

# ----------------------------------------------------------------------------- astype

ASTYPE_CASES = [
    # A float64 -> float32 cast rounds to float32: central differences need a large step (the
    # function is linear, so eps=1e-2 has no truncation error; rounding error ~1e-7/1e-2).
    case("astype-f32", lambda x: x.astype(np.float32) * 3.0, ("n", (3, 4)), gc=dict(eps=1e-2, atol=1e-4)),
    case("astype-f64", lambda x: x.astype(np.float64) * 3.0, ("n", (3, 4)), out_dtype=np.float64),
    case("double", lambda x: x.double().exp(), ("n", (3, 4)), out_dtype=np.float64),
    case("float", lambda x: x.float(), ("n", (3, 4)), gc=dict(eps=1e-2, atol=1e-4)),
]

ALL_CASES = (ARITH_CASES + MATMUL_CASES + ELEMENTWISE_CASES + WHERE_CASES + SOFTMAX_CASES
             + REDUCTION_CASES + SHAPE_CASES + INDEX_CASES + ASTYPE_CASES)


def _as_args(arrays, dtype):
    """Float arrays become tensors requiring grad in ``dtype``; masks and indices become constants."""
    return [ns.tensor(a, dtype=dtype, requires_grad=True) if a.dtype.kind == "f" else ns.Tensor(a)
            for a in arrays]


# ----------------------------------------------------------------------------- 1. gradcheck


@pytest.mark.parametrize("fn, specs, opts", ALL_CASES)
def test_gradcheck_float64(fn, specs, opts, make_inputs):
    arrays = make_inputs(specs)
    # non-float inputs (where's condition) are passed as constant tensors, not checked
    args = [a if a.dtype.kind == "f" else ns.Tensor(a) for a in arrays]
    assert gradcheck(fn, *args, **opts["gc"]) is True


def test_gradcheck_catches_a_wrong_gradient(rng):
    """The gradcheck tests above can fail: a wrong backward formula is reported."""

    class WrongSquare(ns.Function):
        def forward(self, a):
            return a * a

        def backward(self, gy):
            return gy * self.inputs[0] * 1.9  # should be 2

    with pytest.raises(GradcheckError):
        gradcheck(lambda x: WrongSquare.apply(x), rng.standard_normal((3, 4)))


# ----------------------------------------------------------------------------- 2. float32 in, float32 out


@pytest.mark.parametrize("fn, specs, opts", ALL_CASES)
def test_float32_preserved(fn, specs, opts, make_inputs, rng):
    arrays = make_inputs(specs)
    xs32 = _as_args(arrays, np.float32)
    out = fn(*xs32)
    assert out.dtype == opts["out_dtype"]
    g = rng.standard_normal(out.shape)
    out.backward(g.astype(out.dtype))
    grads = [x.grad for x in xs32 if x.requires_grad]
    assert grads and all(gx is not None for gx in grads)
    for x, gx in zip([x for x in xs32 if x.requires_grad], grads):
        assert gx.dtype == np.float32, f"gradient dtype {gx.dtype}"
        assert gx.shape == x.shape

    # ... and the float32 results are the float64 ones, rounded
    xs64 = _as_args(arrays, np.float64)
    out64 = fn(*xs64)
    out64.backward(g.astype(out64.dtype))
    np.testing.assert_allclose(out.data, out64.data, rtol=1e-4, atol=1e-5)
    for x32, x64 in zip([x for x in xs32 if x.requires_grad], [x for x in xs64 if x.requires_grad]):
        np.testing.assert_allclose(x32.grad.data, x64.grad.data, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- ops without gradients

COMPARISONS = [("eq", np.equal, lambda a, b: a == b), ("ne", np.not_equal, lambda a, b: a != b),
               ("lt", np.less, lambda a, b: a < b), ("le", np.less_equal, lambda a, b: a <= b),
               ("gt", np.greater, lambda a, b: a > b), ("ge", np.greater_equal, lambda a, b: a >= b)]


@pytest.mark.parametrize("name, np_op, op", COMPARISONS, ids=[c[0] for c in COMPARISONS])
@pytest.mark.parametrize("sa, sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((3, 4), None)])
def test_comparisons_are_boolean_without_grad(name, np_op, op, sa, sb, rng):
    # small integers so that equality actually happens
    a = rng.integers(-2, 3, sa).astype(np.float32)
    b = 1.0 if sb is None else rng.integers(-2, 3, sb).astype(np.float32)
    ta = ns.tensor(a, requires_grad=True)
    tb = b if sb is None else ns.tensor(b, requires_grad=True)
    for out in (op(ta, tb), getattr(ns.functional, name)(ta, tb)):
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.creator is None
        np.testing.assert_array_equal(out.data, np_op(a, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_function(dtype, rng):
    x = ns.tensor(rng.standard_normal((3, 4)), dtype=dtype, requires_grad=True)
    y = F.step_function(x)
    assert y.dtype == dtype
    assert not y.requires_grad and y.creator is None
    np.testing.assert_array_equal(y.data, (x.data > 0).astype(dtype))
    np.testing.assert_array_equal(F.step_function(ns.tensor([-1.0, 0.0, 2.0])).data, [0.0, 0.0, 1.0])


def test_pow_dispatch():
    """tensor ** number records PowScalar; tensor ** tensor (and number ** tensor) records Pow."""
    x = ns.tensor([1.5, 2.0], requires_grad=True)
    assert type((x ** 2).creator).__name__ == "PowScalar"
    assert type((x ** 0.5).creator).__name__ == "PowScalar"
    assert type((x ** x).creator).__name__ == "Pow"
    assert type((2.0 ** x).creator).__name__ == "Pow"
    np.testing.assert_allclose((x ** 2).data, [2.25, 4.0])


# ----------------------------------------------------------------------------- edge cases

# A float32 tensor combined with a NumPy float64 scalar (np.log(2), np.float64 from a config...)
# must stay float32, exactly as with a Python float: the scalar takes the tensor's dtype.
NUMPY_SCALAR_ARGS = [
    ("mul", lambda x, c: x * c(2.0)),
    ("rsub", lambda x, c: c(1.5) - x),
    ("div", lambda x, c: x / c(4.0)),
    ("rpow", lambda x, c: c(2.0) ** x),
    ("pow", lambda x, c: x ** c(2.0)),
    ("pow-half", lambda x, c: x ** c(0.5)),
    ("clip", lambda x, c: x.clip(c(0.7), c(1.5))),
    ("clip-min", lambda x, c: ns.clip(x, min=c(0.7))),
    ("maximum", lambda x, c: ns.maximum(x, c(1.25))),
    ("where", lambda x, c: ns.where(x > 1, x, c(0.0))),
    ("leaky_relu", lambda x, c: F.leaky_relu(x - 1.25, c(0.1))),
]


@pytest.mark.parametrize("fn", [f for _, f in NUMPY_SCALAR_ARGS], ids=[n for n, _ in NUMPY_SCALAR_ARGS])
def test_float32_preserved_with_numpy_float64_scalars(fn, rng):
    x = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    x_np, x_py = ns.tensor(x, requires_grad=True), ns.tensor(x, requires_grad=True)
    y_np, y_py = fn(x_np, np.float64), fn(x_py, float)
    assert y_py.dtype == np.float32
    assert y_np.dtype == np.float32, f"float32 tensor with a np.float64 scalar gave {y_np.dtype}"
    g = rng.standard_normal(y_np.shape).astype(np.float32)
    y_np.backward(g)
    y_py.backward(g)
    assert x_np.grad.dtype == np.float32, f"gradient of a float32 leaf is {x_np.grad.dtype}"
    np.testing.assert_allclose(y_np.data, y_py.data, rtol=1e-6)
    np.testing.assert_allclose(x_np.grad.data, x_py.grad.data, rtol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_exponent_gradient_at_zero_base():
    """d(a**b)/db = a**b log a, which tends to 0 as a -> 0 for b > 0 (a**b is constant 0 in b)."""
    a = ns.tensor([0.0, 0.0, 1.5], dtype=np.float64)
    b = ns.tensor([2.0, 3.0, 0.5], dtype=np.float64, requires_grad=True)
    (a ** b).backward(np.ones(3))
    np.testing.assert_allclose(b.grad.data, [0.0, 0.0, np.sqrt(1.5) * np.log(1.5)])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_base_gradient_at_zero_base():
    """d(a**b)/da = b a**(b-1): 0 at a = 0 for b = 0 (a**0 is the constant 1) and for b > 1."""
    a = ns.tensor([0.0, 0.0, 1.5], dtype=np.float64, requires_grad=True)
    b = ns.tensor([0.0, 2.0, 0.5], dtype=np.float64)
    (a ** b).backward(np.ones(3))
    np.testing.assert_allclose(a.grad.data, [0.0, 0.0, 0.5 / np.sqrt(1.5)])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("c, expected", [(0, [0.0, 0.0]), (1, [1.0, 1.0]), (2, [0.0, 4.0]), (3, [0.0, 12.0])])
def test_powscalar_gradient_at_zero(c, expected):
    x = ns.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    (x ** c).sum().backward()
    np.testing.assert_array_equal(x.grad.data, expected)


def test_boolean_mask_combines_with_a_float_tensor_without_changing_its_dtype():
    """x * (x > 0) as in ReLU's backward: the mask stays a mask (NumPy promotes it inside the
    product), the result keeps x's float32 and x's gradient is the mask."""
    x = ns.tensor(np.array([-1.5, 0.0, 2.0], np.float32), requires_grad=True)
    mask = x.data > 0
    y = x * mask
    assert y.dtype == np.float32 and F.as_tensor(mask, like=x).dtype == np.bool_
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])
    assert (x + mask).dtype == np.float32 and (x - mask).dtype == np.float32
