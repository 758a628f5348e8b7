"""Every differentiable operation, checked two ways without PyTorch:

1. ``gradcheck`` in float64 (autograd against central differences) over many shapes, including
   broadcasting, every reduction axis with and without keepdims, and batched / 1-D matmul;
2. float32 in gives float32 out and float32 gradients, with values matching the float64 run.

Inputs are drawn by ``make_inputs`` (conftest.py) so that no value sits near a kink or a tie
(abs/relu at 0, clip bounds, maximum ties, reduction ties) or outside a domain (log, sqrt).
The cases come from op_cases.py, the one table that also drives the PyTorch parity tests
(test_ops_parity.py); this file runs without torch.
"""

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import GradcheckError, gradcheck

from op_cases import GRADCHECK_CASES


def _as_args(arrays, dtype):
    """Float arrays become tensors requiring grad in ``dtype``; masks and indices become constants."""
    return [ns.tensor(a, dtype=dtype, requires_grad=True) if a.dtype.kind == "f" else ns.Tensor(a)
            for a in arrays]


# ----------------------------------------------------------------------------- 1. gradcheck


@pytest.mark.parametrize("c", GRADCHECK_CASES)
def test_gradcheck_float64(c, make_inputs):
    arrays = make_inputs(c.specs)
    # non-float inputs (where's condition) are passed as constant tensors, not checked
    args = [a if a.dtype.kind == "f" else ns.Tensor(a) for a in arrays]
    assert gradcheck(c.fn, *args, **c.gc) is True


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


@pytest.mark.parametrize("c", GRADCHECK_CASES)
def test_float32_preserved(c, make_inputs, rng):
    fn = c.fn
    arrays = make_inputs(c.specs)
    xs32 = _as_args(arrays, np.float32)
    out = fn(*xs32)
    assert out.dtype == c.out_dtype
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


def test_boolean_mask_is_not_copied_to_floats(monkeypatch):
    """A mask meets a float tensor in every ReLU backward (``gy * (y > 0)``): casting it first
    would copy a whole activation-sized array per layer and step."""
    from nnscratch.functional import ops
    casts = []
    real = ops.Cast.forward
    monkeypatch.setattr(ops.Cast, "forward", lambda self, a, dtype: casts.append(a.dtype) or real(self, a, dtype))
    x = ns.tensor(np.array([-1.5, 0.0, 2.0], np.float32), requires_grad=True)
    mask = ns.tensor(x.data > 0)
    for y in (x * mask, mask * x, x * mask.data, x / (mask + 1.0), x.double() * mask):
        assert y.dtype in (np.float32, np.float64)
    assert casts == [np.float32]  # only x.double(), a float-to-float conversion
    np.testing.assert_array_equal((x * mask).data, [0.0, 0.0, 2.0])
