"""Central-difference gradient checks (``nnscratch.gradcheck``, float64) of the layer functions
and every loss: F.linear, F.batch_norm, F.layer_norm, F.embedding, the regression losses,
cross-entropy / nll (class and probability targets, weight, ignore_index, label smoothing),
binary cross-entropy (with and without logits), softplus and logsigmoid.

No torch needed. gradcheck turns array inputs into float64 tensors and checks the gradient of
each; integer targets and other constants are closed over in a lambda. Inputs are kept away from
the kinks (|d| = 0 for l1, |d| = delta for huber), where no derivative exists.
F.batch_norm and F.layer_norm are "once differentiable" (no second order), so only first-order
gradients are checked; that create_graph=True through them is refused is checked too.
"""

import itertools

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import gradcheck, numerical_gradient

REDUCTIONS = ["mean", "sum", "none"]


def away_from(x, points, margin=0.05):
    """Push every value closer than margin to one of points out to point ± 2·margin."""
    for p in points:
        near = np.abs(x - p) < margin
        x = np.where(near, p + np.where(x >= p, 2 * margin, -2 * margin), x)
    return x


# ----------------------------------------------------------------------------- layers

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (4,)], ids=["2d", "3d", "1d"])
def test_linear(shape, bias, rng):
    x, w, b = rng.standard_normal(shape), rng.standard_normal((5, 4)), rng.standard_normal(5)
    if bias:
        assert gradcheck(F.linear, x, w, b)
    else:
        assert gradcheck(F.linear, x, w)


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "noaffine"])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)], ids=["NC", "NCL"])
def test_batch_norm_training(shape, affine, rng):
    c_shape = (1, 3) + (1,) * (len(shape) - 2)
    x = rng.standard_normal(shape) * rng.uniform(0.5, 2, c_shape) + rng.uniform(-1, 1, c_shape)
    w, b = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    # with running buffers (updated on every call, which must not change the training output)
    rm, rv = ns.zeros(3, dtype=np.float64), ns.ones(3, dtype=np.float64)
    if affine:
        assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1), x, w, b)
        assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-3), x, w, b)
    else:
        assert gradcheck(lambda x: F.batch_norm(x, rm, rv, training=True), x)
        assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), x)
    assert not np.allclose(rm.data, 0)  # the buffers did move


def test_batch_norm_eval(rng):
    x, w, b = rng.standard_normal((4, 3, 2)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    rm, rv = ns.tensor(rng.standard_normal(3)), ns.tensor(rng.uniform(0.5, 2, 3))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), x, w, b)


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "noaffine"])
@pytest.mark.parametrize("shape,normalized", [((3, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))],
                         ids=["2d-last1", "3d-last1", "3d-last2"])
def test_layer_norm(shape, normalized, affine, rng):
    x = rng.standard_normal(shape) * 2 + 1
    w, b = rng.uniform(0.5, 2, normalized), rng.standard_normal(normalized)
    if affine:
        assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), x, w, b)
    else:
        assert gradcheck(lambda x: F.layer_norm(x, normalized), x)


def test_layer_norm_weight_only(rng):
    x, w = rng.standard_normal((3, 4)), rng.uniform(0.5, 2, 4)
    assert gradcheck(lambda x, w: F.layer_norm(x, 4, w, None, eps=1e-2), x, w)


@pytest.mark.parametrize("fn", [lambda x: F.batch_norm(x, None, None, training=True),
                                lambda x: F.layer_norm(x, 3)], ids=["batch_norm", "layer_norm"])
def test_normalization_refuses_second_order(fn, rng):
    x = ns.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = (fn(x) ** 3).sum()
    (g,) = ns.grad(y, [x])  # first order works
    assert g.shape == (4, 3) and np.all(np.isfinite(g.data))
    with pytest.raises(RuntimeError, match="second derivative"):
        ns.grad((fn(x) ** 3).sum(), [x], create_graph=True)


@pytest.mark.parametrize("idx", [np.array([0, 2, 2, 5, 2]), np.array([[1, 1, 4], [0, 4, 1]])], ids=["1d", "2d"])
def test_embedding(idx, rng):
    w = rng.standard_normal((6, 3))
    assert gradcheck(lambda w: F.embedding(idx, w), w)


def test_embedding_padding_idx(rng):
    """The padding row gets no gradient: autograd equals the numerical gradient with that row zeroed
    (gradcheck itself cannot be used, since the forward pass does depend on the row)."""
    idx = np.array([[1, 2, 2], [0, 2, 4]])
    w = ns.tensor(rng.standard_normal((5, 3)), dtype=np.float64, requires_grad=True)
    r = rng.standard_normal(idx.shape + (3,))
    (F.embedding(idx, w, padding_idx=2) * r).sum().backward()
    numeric = numerical_gradient(lambda _: float((F.embedding(idx, w.data) * r).sum().item()), w.data)
    assert np.abs(numeric[2]).sum() > 0  # the row is used...
    numeric[2] = 0  # ...but gets no gradient
    np.testing.assert_allclose(w.grad.data, numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(w.grad.data[1], r[0, 0], rtol=1e-12)  # row 1 is used once, at [0, 0]
    assert np.all(w.grad.data[3] == 0)  # unused row


# ----------------------------------------------------------------------------- regression losses

REGRESSION = {
    "mse": (F.mse_loss, {}, []),
    "l1": (F.l1_loss, {}, [0.0]),
    "huber-0.5": (F.huber_loss, {"delta": 0.5}, [0.0, 0.5, -0.5]),
    "huber-1": (F.huber_loss, {"delta": 1.0}, [0.0, 1.0, -1.0]),
    "huber-2": (F.huber_loss, {"delta": 2.0}, [0.0, 2.0, -2.0]),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_loss(name, reduction, rng):
    fn, kwargs, kinks = REGRESSION[name]
    x = rng.standard_normal((3, 4)) * 2
    t = x - away_from(rng.standard_normal((3, 4)) * 2, kinks)  # input - target is kept off the kinks
    assert gradcheck(lambda x, t: fn(x, t, reduction=reduction, **kwargs), x, t)


# ----------------------------------------------------------------------------- cross-entropy / nll

SHAPES = {"C": (4,), "NC": (5, 4), "NCd1": (3, 4, 2)}
C = 4


def _labels(shape, rng, ignore):
    labels = rng.integers(0, C, shape[:1] + shape[2:] if len(shape) > 1 else ())
    if ignore is not None and labels.ndim:
        flat = labels.reshape(-1)
        flat[flat == ignore] = (ignore + 1) % C
        flat[1::3] = ignore
    return labels


CE_CASES = list(itertools.product(SHAPES, [False, True], [None, 1], [0.0, 0.1], REDUCTIONS))


@pytest.mark.parametrize("shape,weighted,ignore,smoothing,reduction", CE_CASES,
                         ids=[f"{s}-{'w' if w else 'nw'}-ign{i}-ls{l}-{r}" for s, w, i, l, r in CE_CASES])
def test_cross_entropy_class_targets(shape, weighted, ignore, smoothing, reduction, rng):
    x = rng.standard_normal(SHAPES[shape]) * 2
    labels = _labels(x.shape, rng, ignore)
    w = ns.tensor(rng.uniform(0.2, 2, C), dtype=np.float64) if weighted else None
    kw = {} if ignore is None else {"ignore_index": ignore}
    assert gradcheck(lambda x: F.cross_entropy(x, labels, weight=w, reduction=reduction,
                                               label_smoothing=smoothing, **kw), x)


PROB_CASES = list(itertools.product(SHAPES, [False, True], [0.0, 0.2], REDUCTIONS))


@pytest.mark.parametrize("shape,weighted,smoothing,reduction", PROB_CASES,
                         ids=[f"{s}-{'w' if w else 'nw'}-ls{l}-{r}" for s, w, l, r in PROB_CASES])
def test_cross_entropy_probability_targets(shape, weighted, smoothing, reduction, rng):
    x = rng.standard_normal(SHAPES[shape]) * 2
    axis = 1 if x.ndim > 1 else 0
    q = rng.uniform(0.05, 1, x.shape)
    q /= q.sum(axis=axis, keepdims=True)
    w = ns.tensor(rng.uniform(0.2, 2, C), dtype=np.float64) if weighted else None
    # the gradient with respect to the soft targets is checked too
    assert gradcheck(lambda x, q: F.cross_entropy(x, q, weight=w, reduction=reduction,
                                                  label_smoothing=smoothing), x, q)


NLL_CASES = list(itertools.product(SHAPES, [False, True], [None, 2], REDUCTIONS))


@pytest.mark.parametrize("shape,weighted,ignore,reduction", NLL_CASES,
                         ids=[f"{s}-{'w' if w else 'nw'}-ign{i}-{r}" for s, w, i, r in NLL_CASES])
def test_nll_loss(shape, weighted, ignore, reduction, rng):
    x = rng.standard_normal(SHAPES[shape])
    labels = _labels(x.shape, rng, ignore)
    w = rng.uniform(0.2, 2, C) if weighted else None
    kw = {} if ignore is None else {"ignore_index": ignore}
    assert gradcheck(lambda x: F.nll_loss(x, labels, weight=w, reduction=reduction, **kw), x)
    axis = 1 if x.ndim > 1 else 0
    assert gradcheck(lambda x: F.nll_loss(F.log_softmax(x, axis), labels, weight=w, reduction=reduction, **kw), x)


# ----------------------------------------------------------------------------- binary cross-entropy

@pytest.mark.parametrize("weight", ["none", "per-class", "full"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, weight, rng):
    p, t = rng.uniform(0.1, 0.9, (4, 3)), rng.uniform(0, 1, (4, 3))
    if weight == "none":
        assert gradcheck(lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction), p, t)
    else:
        w = rng.uniform(0.2, 2, (3,) if weight == "per-class" else (4, 3))
        # gradients for probabilities, targets and the weight
        assert gradcheck(lambda p, t, w: F.binary_cross_entropy(p, t, w, reduction=reduction), p, t, w)


@pytest.mark.parametrize("pos_weight", [False, True], ids=["nopw", "pw"])
@pytest.mark.parametrize("weight", ["none", "per-class", "full"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction, weight, pos_weight, rng):
    x = rng.standard_normal((4, 3)) * 3
    x[0] = 0.0  # logits exactly 0
    x[1, :2] = [15.0, -15.0]
    t = rng.uniform(0, 1, (4, 3))
    t[2] = [0, 1, 1]
    w = None if weight == "none" else rng.uniform(0.2, 2, (3,) if weight == "per-class" else (4, 3))
    pw = rng.uniform(0.3, 3, 3)
    args = [x, t] + ([w] if w is not None else []) + ([pw] if pos_weight else [])

    def fn(x, t, *rest):
        rest = list(rest)
        w_ = rest.pop(0) if w is not None else None
        pw_ = rest.pop(0) if pos_weight else None
        return F.binary_cross_entropy_with_logits(x, t, w_, reduction, pw_)

    # gradients for logits, targets, weight and pos_weight
    assert gradcheck(fn, *args)


@pytest.mark.parametrize("fn", [F.softplus, F.logsigmoid], ids=["softplus", "logsigmoid"])
def test_softplus_logsigmoid(fn, rng):
    x = rng.standard_normal((3, 4)) * 4
    x[0, :3] = [0.0, 25.0, -25.0]
    assert gradcheck(fn, x)
