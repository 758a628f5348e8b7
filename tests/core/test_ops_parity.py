"""Every operation against PyTorch in float32: the same inputs, the same upstream gradient.

For each case both libraries compute the forward pass from identical float32 inputs, then
backpropagate the same random dL/d(output); outputs and input gradients must agree to float32
rounding: the bound of tolerance.assert_close, which grows with the number of terms summed into a
value (a case's ``n``: the reduced elements, a matmul's inner length, the copies a broadcast
gradient adds up) and with the magnitude of the values.
The tie tests check the conventions at non-differentiable points (max/min reductions split the
gradient evenly like torch.amax/amin, maximum/minimum split 0.5/0.5 like torch.maximum, clip's
bounds are inclusive like torch.clamp, relu/abs/leaky_relu at exactly 0).

The cases (with their ``n``) come from op_cases.py, the one table that also drives the float64
gradcheck tests of test_ops.py: a case with a torch counterpart (``t_fn``) runs here.

Skipped when torch is not installed (``pip install torch==2.13.0``, the CPU build).
"""

import numpy as np
import pytest

from op_cases import PARITY_CASES, reduction
from tolerance import assert_close

import nnscratch as ns
import nnscratch.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


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


@pytest.mark.parametrize("c", PARITY_CASES)
def test_parity(c, make_inputs, rng):
    check_parity(c.fn, c.t_fn, make_inputs(c.specs), rng, c.n)


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
    xs, _, g = check_parity(*reduction(name, axis, keepdims), [x], rng)
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
