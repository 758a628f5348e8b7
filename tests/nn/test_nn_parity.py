"""nnscratch.nn layers and losses against PyTorch, in float32, with identical weights.

Every module is built in both libraries; the torch module's (randomised) weights are copied into
the nnscratch module with ``load_state_dict(torch_module.state_dict())``, which also proves that
state dicts move between the two (torch tensors in, the same keys in the same order). Then both
run the forward pass on the same float32 input and backpropagate the same random upstream
gradient; outputs, input gradients and every parameter gradient must agree to float32 rounding
(and stay float32): the bound of tolerance.assert_close, which grows with the number of terms
summed into a value (``terms``: in_features, the batch, the normalised or reduced elements; the
largest of those a case involves) and with the magnitude of the values. Losses are checked the
same way, functional and module form, for every reduction.

Dropout is not here: its mask comes from the generator, which cannot match torch's RNG.
Skipped when torch is not installed (``pip install torch==2.13.0``, the CPU build).
"""

import itertools

import numpy as np
import pytest

from tolerance import assert_close

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
tnn = torch.nn

REDUCTIONS = ["mean", "sum", "none"]


# ----------------------------------------------------------------------------- helpers

def f32(a):
    return np.asarray(a, dtype=np.float32)


def _np(value):
    if isinstance(value, ns.Tensor):
        return value.data
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def close(got, expected, what="", *, terms, scale=None):
    """nnscratch ``got`` equals torch ``expected``: same shape, same dtype, same values (to the
    float32 rounding of sums of ``terms`` terms, see tolerance.assert_close)."""
    assert got is not None, f"{what}: nnscratch gave None (torch gave a value)"
    assert expected is not None, f"{what}: torch gave None (nnscratch gave a value)"
    a, b = _np(got), _np(expected)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != torch {b.dtype}"
    assert_close(a, b, terms, scale=scale, what=what)


def randomize(t_module, rng):
    """Give every floating parameter of a torch module random values (so loading matters)."""
    with torch.no_grad():
        for p in t_module.parameters():
            p.copy_(torch.from_numpy(f32(rng.standard_normal(tuple(p.shape)) * 0.5 + 0.2)))
    return t_module


def transfer(t_module, n_module):
    """Copy torch -> nnscratch through load_state_dict and check the two state dicts agree."""
    t_state = t_module.state_dict()
    missing, unexpected = n_module.load_state_dict(t_state)
    assert missing == [] and unexpected == []
    n_state = n_module.state_dict()
    assert list(n_state) == list(t_state), "state_dict keys (and their order) differ from torch's"
    for key in t_state:
        np.testing.assert_array_equal(n_state[key].data, t_state[key].numpy(), err_msg=key)
        assert n_state[key].data.dtype == t_state[key].numpy().dtype, key
    return n_module


def upstream(shape, rng):
    return f32(rng.standard_normal(tuple(shape)))


def backward_both(y_n, y_t, rng):
    """Backpropagate the same random dL/dy through both outputs."""
    gy = upstream(y_t.shape, rng)
    y_n.backward(ns.tensor(gy))
    y_t.backward(torch.from_numpy(gy))


def check_module(n_module, t_module, x, rng, *, terms, input_grad=True):
    """Forward + backward through both modules; compare output, dL/dx and every dL/dparameter.
    ``terms``: the most terms summed into any of these values."""
    x_n = ns.tensor(x, requires_grad=input_grad)
    x_t = torch.tensor(x, requires_grad=input_grad)
    y_n, y_t = n_module(x_n), t_module(x_t)
    close(y_n, y_t, "output", terms=terms)
    backward_both(y_n, y_t, rng)
    if input_grad:
        close(x_n.grad, x_t.grad, "input gradient", terms=terms)
    t_params = dict(t_module.named_parameters())
    n_params = dict(n_module.named_parameters())
    assert list(n_params) == list(t_params)
    for name, p in t_params.items():
        close(n_params[name].grad, p.grad, f"gradient of {name}", terms=terms)
    return y_n, y_t


def compare_fn(n_fn, t_fn, args, needs_grad, rng, *, terms):
    """``n_fn(*nnscratch tensors)`` vs ``t_fn(*torch tensors)`` made from the same arrays;
    arguments with needs_grad get their gradients compared (``terms`` as for check_module)."""
    n_args = [ns.tensor(a, requires_grad=g) for a, g in zip(args, needs_grad)]
    t_args = [torch.tensor(a, requires_grad=g) for a, g in zip(args, needs_grad)]
    y_n, y_t = n_fn(*n_args), t_fn(*t_args)
    close(y_n, y_t, "output", terms=terms)
    backward_both(y_n, y_t, rng)
    for i, g in enumerate(needs_grad):
        if g:
            close(n_args[i].grad, t_args[i].grad, f"gradient of argument {i}", terms=terms)
    return y_n, y_t


# ----------------------------------------------------------------------------- Linear, Flatten, Identity

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 5), (2, 3, 2, 5), (5,)], ids=["2d", "3d", "4d", "1d"])
def test_linear(shape, bias, rng):
    t = randomize(tnn.Linear(5, 6, bias=bias), rng)
    n = transfer(t, nn.Linear(5, 6, bias=bias))
    assert n.weight.shape == (6, 5)
    assert (n.bias is None) == (not bias)
    rows = int(np.prod(shape[:-1]))  # the weight gradient sums over them
    check_module(n, t, f32(rng.standard_normal(shape)), rng, terms=max(5, 6, rows))


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_functional_linear(bias, rng):
    x, w, b = (f32(rng.standard_normal(s)) for s in [(3, 4, 5), (6, 5), (6,)])
    args, grads = ([x, w, b], [True] * 3) if bias else ([x, w], [True] * 2)
    compare_fn(F.linear, TF.linear, args, grads, rng, terms=12)  # 3*4 rows


@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (1, 2), (2, 3), (0, 0)])
def test_flatten(start, end, rng):
    check_module(nn.Flatten(start, end), tnn.Flatten(start, end), f32(rng.standard_normal((2, 3, 4, 5))), rng, terms=1)


def test_identity(rng):
    check_module(nn.Identity(), tnn.Identity(), f32(rng.standard_normal((3, 4))), rng, terms=1)


def test_residual(rng):
    """Residual(m)(x) = x + m(x); torch has no Residual, so compare with that expression."""
    t_lin = randomize(tnn.Linear(4, 4), rng)
    n_res = nn.Residual(nn.Linear(4, 4))
    n_res.load_state_dict({"module." + k: v for k, v in t_lin.state_dict().items()})

    class TorchResidual(tnn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, x):
            return x + self.module(x)

    check_module(n_res, TorchResidual(t_lin), f32(rng.standard_normal((6, 4))), rng, terms=6)


# ----------------------------------------------------------------------------- BatchNorm1d

BN_SHAPES = {"NC": (8, 4), "NCL": (6, 4, 5)}


def _bn_pair(affine, momentum, rng, track=True):
    t = tnn.BatchNorm1d(4, momentum=momentum, affine=affine, track_running_stats=track)
    if affine:
        randomize(t, rng)
    n = transfer(t, nn.BatchNorm1d(4, momentum=momentum, affine=affine, track_running_stats=track))
    return n, t


def _bn_input(shape, rng):
    # per-channel offsets and scales, so the statistics are far from 0 / 1
    c_shape = (1, 4) + (1,) * (len(shape) - 2)
    return f32(rng.standard_normal(shape) * rng.uniform(0.5, 3, c_shape) + rng.uniform(-2, 2, c_shape))


def _per_channel(shape):
    """The terms BatchNorm1d sums per channel (statistics, parameter gradients): N or N*L."""
    return int(np.prod(shape)) // shape[1]


def _check_bn_buffers(n, t, what, terms):
    close(n.running_mean, t.running_mean, f"{what}: running_mean", terms=terms)
    close(n.running_var, t.running_var, f"{what}: running_var", terms=terms)
    assert n.num_batches_tracked.data.dtype == np.int64
    assert int(n.num_batches_tracked.data) == int(t.num_batches_tracked), f"{what}: num_batches_tracked"


@pytest.mark.parametrize("momentum", [0.1, 0.3])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "noaffine"])
@pytest.mark.parametrize("shape", list(BN_SHAPES.values()), ids=list(BN_SHAPES))
def test_batchnorm1d_train_then_eval(shape, affine, momentum, rng):
    n, t = _bn_pair(affine, momentum, rng)
    assert n.training and t.training
    for step in range(1, 4):
        n.zero_grad()
        t.zero_grad()
        check_module(n, t, _bn_input(shape, rng), rng, terms=_per_channel(shape))
        _check_bn_buffers(n, t, f"after training step {step}", _per_channel(shape))
    assert int(n.num_batches_tracked.data) == 3
    # the running estimates really moved (running_var is unbiased: checked against torch above)
    assert not np.allclose(n.running_mean.data, 0) and not np.allclose(n.running_var.data, 1)

    n.eval()
    t.eval()
    n.zero_grad()
    t.zero_grad()
    check_module(n, t, _bn_input(shape, rng), rng, terms=_per_channel(shape))
    _check_bn_buffers(n, t, "after an eval step (no update)", _per_channel(shape))
    assert int(n.num_batches_tracked.data) == 3


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "noaffine"])
@pytest.mark.parametrize("shape", list(BN_SHAPES.values()), ids=list(BN_SHAPES))
def test_batchnorm1d_eval_with_loaded_statistics(shape, affine, rng):
    t = tnn.BatchNorm1d(4, affine=affine)
    randomize(t, rng)
    t.running_mean.copy_(torch.from_numpy(f32(rng.standard_normal(4))))
    t.running_var.copy_(torch.from_numpy(f32(rng.uniform(0.2, 3, 4))))
    t.num_batches_tracked.fill_(17)
    t.eval()
    n = transfer(t, nn.BatchNorm1d(4, affine=affine)).eval()
    check_module(n, t, _bn_input(shape, rng), rng, terms=_per_channel(shape))
    _check_bn_buffers(n, t, "eval", _per_channel(shape))
    assert int(n.num_batches_tracked.data) == 17


@pytest.mark.parametrize("shape", list(BN_SHAPES.values()), ids=list(BN_SHAPES))
def test_batchnorm1d_without_running_stats(shape, rng):
    """track_running_stats=False: batch statistics in train and eval, no buffers."""
    n, t = _bn_pair(True, 0.1, rng, track=False)
    assert list(n.state_dict()) == ["weight", "bias"]
    check_module(n, t, _bn_input(shape, rng), rng, terms=_per_channel(shape))
    n.eval()
    t.eval()
    n.zero_grad()
    t.zero_grad()
    check_module(n, t, _bn_input(shape, rng), rng, terms=_per_channel(shape))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_functional_batch_norm(training, rng):
    x = _bn_input((6, 4, 3), rng)
    w, b = f32(rng.standard_normal(4)), f32(rng.standard_normal(4))
    rm_n, rv_n = f32(rng.standard_normal(4)), f32(rng.uniform(0.5, 2, 4))
    rm_t, rv_t = torch.tensor(rm_n), torch.tensor(rv_n)
    rm_n, rv_n = ns.tensor(rm_n), ns.tensor(rv_n)
    compare_fn(lambda x, w, b: F.batch_norm(x, rm_n, rv_n, w, b, training, 0.2, 1e-3),
               lambda x, w, b: TF.batch_norm(x, rm_t, rv_t, w, b, training, 0.2, 1e-3),
               [x, w, b], [True] * 3, rng, terms=_per_channel(x.shape))
    close(rm_n, rm_t, "running_mean", terms=_per_channel(x.shape))
    close(rv_n, rv_t, "running_var", terms=_per_channel(x.shape))


# ----------------------------------------------------------------------------- LayerNorm

@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, False)],
                         ids=["affine", "weight-only", "noaffine"])
@pytest.mark.parametrize("shape,normalized", [((4, 6), (6,)), ((3, 4, 5), (5,)), ((3, 4, 5), (4, 5)),
                                              ((2, 3, 4, 5), (4, 5))],
                         ids=["2d-last1", "3d-last1", "3d-last2", "4d-last2"])
def test_layernorm(shape, normalized, affine, bias, rng):
    t = randomize(tnn.LayerNorm(normalized, elementwise_affine=affine, bias=bias), rng)
    n = transfer(t, nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias))
    x = f32(rng.standard_normal(shape) * 2 + 1)
    size = int(np.prod(normalized))  # normalised over; the parameter gradients sum over the rest
    terms = max(size, x.size // size)
    check_module(n, t, x, rng, terms=terms)
    n.eval()
    t.eval()
    n.zero_grad()
    t.zero_grad()
    check_module(n, t, x, rng, terms=terms)  # no running state: eval is the same computation


def test_layernorm_int_normalized_shape_and_eps(rng):
    t = randomize(tnn.LayerNorm(5, eps=1e-2), rng)
    n = transfer(t, nn.LayerNorm(5, eps=1e-2))
    check_module(n, t, f32(rng.standard_normal((4, 5)) * 0.1), rng, terms=5)  # small variance: eps matters


def test_functional_layer_norm(rng):
    x, w, b = f32(rng.standard_normal((3, 4, 5))), f32(rng.standard_normal((4, 5))), f32(rng.standard_normal((4, 5)))
    compare_fn(lambda x, w, b: F.layer_norm(x, (4, 5), w, b, 1e-5),
               lambda x, w, b: TF.layer_norm(x, (4, 5), w, b, 1e-5), [x, w, b], [True] * 3, rng, terms=20)


# ----------------------------------------------------------------------------- Embedding

@pytest.mark.parametrize("padding_idx", [None, 0, 3])
@pytest.mark.parametrize("idx_shape", [(9,), (3, 4)], ids=["1d", "2d"])
def test_embedding(idx_shape, padding_idx, rng):
    t = randomize(tnn.Embedding(6, 4, padding_idx=padding_idx), rng)
    n = transfer(t, nn.Embedding(6, 4, padding_idx=padding_idx))
    idx = rng.integers(0, 6, idx_shape).astype(np.int64)
    idx.reshape(-1)[:3] = 3  # index 3 appears at least three times
    idx.reshape(-1)[3] = 0
    # torch sums repeated rows: so must we (at most idx.size of them)
    y_n, _ = check_module(n, t, idx, rng, terms=idx.size, input_grad=False)
    assert y_n.shape == idx_shape + (4,)
    g = n.weight.grad.data
    if padding_idx == 3:
        assert np.all(g[3] == 0), "the padding row got a gradient"
    else:
        assert np.abs(g[3]).sum() > 0
    if padding_idx is not None:
        assert np.all(g[padding_idx] == 0), "the padding row got a gradient"
    for r in sorted(set(range(6)) - set(idx.reshape(-1).tolist())):
        assert np.all(g[r] == 0), f"unused row {r} got a gradient"


def test_embedding_repeated_indices_accumulate_exactly(rng):
    n = nn.Embedding(5, 3)
    idx = np.array([[1, 1, 4], [1, 2, 4]], dtype=np.int64)
    y = n(idx)
    gy = upstream(y.shape, rng)
    y.backward(ns.tensor(gy))
    expected = np.zeros((5, 3), np.float32)
    np.add.at(expected, idx, gy)
    assert_close(n.weight.grad.data, expected, 3)  # row 1 is used three times
    assert_close(n.weight.grad.data[1], gy[0, 0] + gy[0, 1] + gy[1, 0], 3)


def test_embedding_negative_padding_idx(rng):
    """torch accepts padding_idx=-1 (the last row); that row must get no gradient either."""
    t = randomize(tnn.Embedding(6, 4, padding_idx=-1), rng)
    n = transfer(t, nn.Embedding(6, 4, padding_idx=-1))
    idx = np.array([5, 1, 5, 2], dtype=np.int64)
    check_module(n, t, idx, rng, terms=idx.size, input_grad=False)
    assert np.all(n.weight.grad.data[5] == 0)


def test_functional_embedding(rng):
    w = f32(rng.standard_normal((6, 3)))
    idx = np.array([[0, 2, 2], [5, 2, 1]], dtype=np.int64)
    w_n, w_t = ns.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    y_n, y_t = F.embedding(idx, w_n, padding_idx=2), TF.embedding(torch.from_numpy(idx), w_t, padding_idx=2)
    close(y_n, y_t, "output", terms=1)
    backward_both(y_n, y_t, rng)
    close(w_n.grad, w_t.grad, "weight gradient", terms=idx.size)
    assert np.all(w_n.grad.data[2] == 0)


# ----------------------------------------------------------------------------- activation modules

ACTIVATION_CASES = {
    "sigmoid": (nn.Sigmoid, tnn.Sigmoid, {}),
    "tanh": (nn.Tanh, tnn.Tanh, {}),
    "relu": (nn.ReLU, tnn.ReLU, {}),
    "leaky_relu": (nn.LeakyReLU, tnn.LeakyReLU, {}),
    "leaky_relu-0.2": (nn.LeakyReLU, tnn.LeakyReLU, {"negative_slope": 0.2}),
    "softplus": (nn.Softplus, tnn.Softplus, {}),
    "softmax-dim0": (nn.Softmax, tnn.Softmax, {"dim": 0}),
    "softmax-dim1": (nn.Softmax, tnn.Softmax, {"dim": 1}),
    "softmax-dim-1": (nn.Softmax, tnn.Softmax, {"dim": -1}),
    "log_softmax-dim0": (nn.LogSoftmax, tnn.LogSoftmax, {"dim": 0}),
    "log_softmax-dim1": (nn.LogSoftmax, tnn.LogSoftmax, {"dim": 1}),
    "log_softmax-dim-1": (nn.LogSoftmax, tnn.LogSoftmax, {"dim": -1}),
}


def _activation_input(shape, rng):
    x = rng.standard_normal(shape) * 3
    x.reshape(-1)[:2] = 0.0  # exact zeros: the kink of relu / leaky_relu
    x.reshape(-1)[2] = 30.0  # saturation (softplus returns x above 20 in torch)
    x.reshape(-1)[3] = -30.0
    return f32(x)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("name", list(ACTIVATION_CASES))
def test_activation_module(name, shape, rng):
    n_cls, t_cls, kwargs = ACTIVATION_CASES[name]
    terms = shape[kwargs["dim"]] if "dim" in kwargs else 1  # softmax sums along dim
    check_module(n_cls(**kwargs), t_cls(**kwargs), _activation_input(shape, rng), rng, terms=terms)


def test_step_module(rng):
    """Step (the perceptron's) is heaviside(x, 0) and carries no gradient."""
    x = _activation_input((4, 5), rng)
    y = nn.Step()(ns.tensor(x, requires_grad=True))
    close(y, torch.heaviside(torch.from_numpy(x), torch.tensor(0.0)), "step output", terms=1)
    assert not y.requires_grad


@pytest.mark.parametrize("fn,t_fn", [(F.softplus, TF.softplus), (F.logsigmoid, TF.logsigmoid)],
                         ids=["softplus", "logsigmoid"])
def test_functional_softplus_logsigmoid(fn, t_fn, rng):
    x = _activation_input((5, 6), rng)
    x.reshape(-1)[4:6] = [90.0, -90.0]  # far beyond exp's float32 range: no overflow, no nan
    y_n, _ = compare_fn(fn, t_fn, [x], [True], rng, terms=1)
    assert np.all(np.isfinite(y_n.data))


# ----------------------------------------------------------------------------- regression losses

REGRESSION = {
    "mse": (lambda r: (lambda a, b: F.mse_loss(a, b, r)), lambda r: (lambda a, b: TF.mse_loss(a, b, reduction=r)),
            lambda r: nn.MSELoss(reduction=r), lambda r: tnn.MSELoss(reduction=r)),
    "l1": (lambda r: (lambda a, b: F.l1_loss(a, b, r)), lambda r: (lambda a, b: TF.l1_loss(a, b, reduction=r)),
           lambda r: nn.L1Loss(reduction=r), lambda r: tnn.L1Loss(reduction=r)),
}
for _delta in (0.5, 1.0, 2.0):
    REGRESSION[f"huber-{_delta}"] = (
        lambda r, d=_delta: (lambda a, b: F.huber_loss(a, b, r, d)),
        lambda r, d=_delta: (lambda a, b: TF.huber_loss(a, b, reduction=r, delta=d)),
        lambda r, d=_delta: nn.HuberLoss(r, delta=d),
        lambda r, d=_delta: tnn.HuberLoss(reduction=r, delta=d))


def _regression_pair(rng):
    x = rng.standard_normal((4, 5)) * 2
    t = rng.standard_normal((4, 5)) * 2
    d = x - t  # keep |d| away from the huber thresholds 0.5, 1, 2 (kinks), but leave exact ties d = 0
    for k in (0.5, 1.0, 2.0):
        near = np.abs(np.abs(d) - k) < 0.02
        t = np.where(near, t - 0.05 * np.sign(d), t)
    t.reshape(-1)[:2] = x.reshape(-1)[:2]
    return f32(x), f32(t)


@pytest.mark.parametrize("form", ["functional", "module"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_loss(name, reduction, form, rng):
    n_f, t_f, n_m, t_m = REGRESSION[name]
    n_fn, t_fn = (n_f(reduction), t_f(reduction)) if form == "functional" else (n_m(reduction), t_m(reduction))
    x, t = _regression_pair(rng)
    terms = 1 if reduction == "none" else x.size
    y_n, _ = compare_fn(n_fn, t_fn, [x, t], [True, True], rng, terms=terms)  # gradients for input and target
    assert y_n.shape == (() if reduction != "none" else (4, 5))


# ----------------------------------------------------------------------------- cross-entropy / nll

CE_SHAPES = {"C": (5,), "NC": (6, 5), "NCd1": (4, 5, 3), "NCd1d2": (3, 5, 2, 3)}
N_CLASSES = 5


def _labels(input_shape, rng, ignore=None):
    shape = input_shape[:1] + input_shape[2:] if len(input_shape) > 1 else ()
    labels = rng.integers(0, N_CLASSES, shape).astype(np.int64)
    if ignore is not None:
        flat = labels.reshape(-1)
        flat[flat == ignore] = (ignore + 1) % N_CLASSES
        flat[1::3] = ignore  # about a third ignored, never all (torch's mean is then 0/0 = nan)
    return labels


def _probabilities(input_shape, rng):
    p = rng.uniform(0.05, 1, input_shape)
    axis = 1 if len(input_shape) > 1 else 0
    return f32(p / p.sum(axis=axis, keepdims=True))


def _loss_terms(x, reduction):
    """A class-dimension sum per value, and a mean or sum over all of them."""
    return x.shape[1 if x.ndim > 1 else 0] if reduction == "none" else x.size


def _ce_case(shape_name, weighted, rng):
    shape = CE_SHAPES[shape_name]
    x = f32(rng.standard_normal(shape) * 2)
    w = f32(rng.uniform(0.2, 2, N_CLASSES)) if weighted else None
    return x, w


CE_INT_CASES = list(itertools.product(CE_SHAPES, [False, True], [None, -100, 2], [0.0, 0.1], REDUCTIONS))


@pytest.mark.parametrize("shape_name,weighted,ignore,smoothing,reduction", CE_INT_CASES,
                         ids=[f"{s}-{'w' if w else 'nw'}-ign{i}-ls{l}-{r}" for s, w, i, l, r in CE_INT_CASES])
def test_cross_entropy_class_targets(shape_name, weighted, ignore, smoothing, reduction, rng):
    x, w = _ce_case(shape_name, weighted, rng)
    labels = _labels(x.shape, rng, ignore)
    kw_ignore = {} if ignore is None else {"ignore_index": ignore}
    w_n = None if w is None else ns.tensor(w)
    w_t = None if w is None else torch.from_numpy(w)
    t_labels = torch.from_numpy(labels)
    compare_fn(lambda x: F.cross_entropy(x, labels, weight=w_n, reduction=reduction, label_smoothing=smoothing,
                                         **kw_ignore),
               lambda x: TF.cross_entropy(x, t_labels, weight=w_t, reduction=reduction, label_smoothing=smoothing,
                                          **kw_ignore),
               [x], [True], rng, terms=_loss_terms(x, reduction))
    # the module form, with its defaults for what is not given
    module = nn.CrossEntropyLoss(weight=w_n, reduction=reduction, label_smoothing=smoothing, **kw_ignore)
    t_module = tnn.CrossEntropyLoss(weight=w_t, reduction=reduction, label_smoothing=smoothing, **kw_ignore)
    compare_fn(lambda x: module(x, ns.tensor(labels)), lambda x: t_module(x, t_labels), [x], [True], rng,
               terms=_loss_terms(x, reduction))


CE_PROB_CASES = list(itertools.product(CE_SHAPES, [False, True], [0.0, 0.2], REDUCTIONS))


@pytest.mark.parametrize("shape_name,weighted,smoothing,reduction", CE_PROB_CASES,
                         ids=[f"{s}-{'w' if w else 'nw'}-ls{l}-{r}" for s, w, l, r in CE_PROB_CASES])
def test_cross_entropy_probability_targets(shape_name, weighted, smoothing, reduction, rng):
    x, w = _ce_case(shape_name, weighted, rng)
    q = _probabilities(x.shape, rng)
    w_n = None if w is None else ns.tensor(w)
    w_t = None if w is None else torch.from_numpy(w)
    # gradients for the logits and for the (soft) targets
    compare_fn(lambda x, q: F.cross_entropy(x, q, weight=w_n, reduction=reduction, label_smoothing=smoothing),
               lambda x, q: TF.cross_entropy(x, q, weight=w_t, reduction=reduction, label_smoothing=smoothing),
               [x, q], [True, True], rng, terms=_loss_terms(x, reduction))
    module = nn.CrossEntropyLoss(weight=w_n, reduction=reduction, label_smoothing=smoothing)
    t_module = tnn.CrossEntropyLoss(weight=w_t, reduction=reduction, label_smoothing=smoothing)
    compare_fn(module, t_module, [x, q], [True, False], rng, terms=_loss_terms(x, reduction))


NLL_CASES = list(itertools.product(["C", "NC", "NCd1", "NCd1d2"], [False, True], [None, 1], REDUCTIONS))


@pytest.mark.parametrize("shape_name,weighted,ignore,reduction", NLL_CASES,
                         ids=[f"{s}-{'w' if w else 'nw'}-ign{i}-{r}" for s, w, i, r in NLL_CASES])
def test_nll_loss(shape_name, weighted, ignore, reduction, rng):
    x, w = _ce_case(shape_name, weighted, rng)
    labels = _labels(x.shape, rng, ignore)
    kw_ignore = {} if ignore is None else {"ignore_index": ignore}
    w_n = None if w is None else ns.tensor(w)
    w_t = None if w is None else torch.from_numpy(w)
    t_labels = torch.from_numpy(labels)
    # any scores work as "log-probabilities" for nll_loss; also through log_softmax as in practice
    compare_fn(lambda x: F.nll_loss(x, labels, weight=w_n, reduction=reduction, **kw_ignore),
               lambda x: TF.nll_loss(x, t_labels, weight=w_t, reduction=reduction, **kw_ignore), [x], [True], rng,
               terms=_loss_terms(x, reduction))
    axis = 1 if x.ndim > 1 else 0
    module = nn.NLLLoss(weight=w_n, reduction=reduction, **kw_ignore)
    t_module = tnn.NLLLoss(weight=w_t, reduction=reduction, **kw_ignore)
    compare_fn(lambda x: module(F.log_softmax(x, axis), labels),
               lambda x: t_module(TF.log_softmax(x, axis), t_labels), [x], [True], rng,
               terms=_loss_terms(x, reduction))


def test_log_softmax_module_then_nll_equals_cross_entropy(rng):
    x = f32(rng.standard_normal((6, 5)))
    labels = rng.integers(0, 5, 6)
    a = nn.NLLLoss()(nn.LogSoftmax(dim=1)(ns.tensor(x)), labels)
    b = F.cross_entropy(ns.tensor(x), labels)
    close(a, b.data, "nll(log_softmax) vs cross_entropy", terms=x.size)
    close(a, TF.cross_entropy(torch.from_numpy(x), torch.from_numpy(labels)), "vs torch", terms=x.size)


# ----------------------------------------------------------------------------- binary cross-entropy

BCE_CASES = list(itertools.product(["none", "per-class", "full"], ["soft", "hard"], REDUCTIONS))


def _bce_weight(kind, shape, rng):
    if kind == "none":
        return None
    return f32(rng.uniform(0.2, 2, shape[-1:] if kind == "per-class" else shape))


@pytest.mark.parametrize("weight,targets,reduction", BCE_CASES,
                         ids=[f"w{w}-{t}-{r}" for w, t, r in BCE_CASES])
def test_binary_cross_entropy(weight, targets, reduction, rng):
    shape = (6, 4)
    p = f32(rng.uniform(0.02, 0.98, shape))
    t = f32(rng.uniform(0, 1, shape) if targets == "soft" else rng.integers(0, 2, shape))
    w = _bce_weight(weight, shape, rng)
    w_n = None if w is None else ns.tensor(w)
    w_t = None if w is None else torch.from_numpy(w)
    # gradients for probabilities and targets
    compare_fn(lambda p, t: F.binary_cross_entropy(p, t, w_n, reduction),
               lambda p, t: TF.binary_cross_entropy(p, t, w_t, reduction=reduction), [p, t], [True, True], rng,
               terms=1 if reduction == "none" else p.size)
    compare_fn(nn.BCELoss(w_n, reduction=reduction), tnn.BCELoss(w_t, reduction=reduction), [p, t], [True, False], rng,
               terms=1 if reduction == "none" else p.size)


def test_binary_cross_entropy_saturated_probabilities(rng):
    """p exactly 0 or 1 (a float32 sigmoid of |x| > ~17): each log is clamped at -100, so the loss
    is finite; the gradient is torch's (p - t) / max(p (1 - p), 1e-12): 0 where p = t, ±1e12 for
    a confidently wrong prediction, never nan."""
    p = f32([0.0, 1.0, 0.0, 1.0, 0.3])
    t = f32([0.0, 1.0, 1.0, 0.0, 1.0])
    p_n, p_t = ns.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    y_n = F.binary_cross_entropy(p_n, ns.tensor(t), reduction="none")
    y_t = TF.binary_cross_entropy(p_t, torch.from_numpy(t), reduction="none")
    close(y_n, y_t, "loss at saturated p", terms=1)
    assert_close(y_n.data[:4], np.array([0, 0, 100, 100]))
    y_n.sum().backward()
    y_t.sum().backward()
    assert np.all(np.isfinite(p_n.grad.data)), f"non-finite gradient {p_n.grad.data}"
    # relative to each value, but at least to 1 (the size of the finite gradients beside the ±1e12)
    close(p_n.grad, p_t.grad, "gradient at saturated p", terms=1, scale=1.0)
    np.testing.assert_array_equal(p_n.grad.data[:2], [0, 0])


def test_binary_cross_entropy_after_saturated_sigmoid():
    """The practical case of the above: a confident, correct prediction. In float32,
    sigmoid(17) is exactly 1.0; with target 1 the loss is ~0 and so is its gradient."""
    x_n, x_t = ns.tensor([17.0, 2.0], requires_grad=True), torch.tensor([17.0, 2.0], requires_grad=True)
    y_n = F.binary_cross_entropy(F.sigmoid(x_n), ns.tensor([1.0, 1.0]))
    y_t = TF.binary_cross_entropy(torch.sigmoid(x_t), torch.tensor([1.0, 1.0]))
    close(y_n, y_t, "loss", terms=2)
    y_n.backward()
    y_t.backward()
    close(x_n.grad, x_t.grad, "gradient", terms=2)  # torch: [0, -0.0596]


BCEL_CASES = list(itertools.product(["none", "per-class", "full"], [False, True], REDUCTIONS))


@pytest.mark.parametrize("weight,pos_weight,reduction", BCEL_CASES,
                         ids=[f"w{w}-{'pw' if pw else 'nopw'}-{r}" for w, pw, r in BCEL_CASES])
def test_binary_cross_entropy_with_logits(weight, pos_weight, reduction, rng):
    shape = (6, 4)
    x = rng.standard_normal(shape) * 3
    x.reshape(-1)[:4] = 0.0  # logits exactly 0: sigmoid = 1/2
    x.reshape(-1)[4:6] = [40.0, -40.0]  # saturated: stable, no overflow
    x = f32(x)
    t = f32(rng.uniform(0, 1, shape))
    t.reshape(-1)[6:10] = [0, 1, 0, 1]
    w = _bce_weight(weight, shape, rng)
    pw = f32(rng.uniform(0.3, 3, shape[-1:])) if pos_weight else None
    w_n, w_t = (None, None) if w is None else (ns.tensor(w), torch.from_numpy(w))
    pw_n, pw_t = (None, None) if pw is None else (ns.tensor(pw), torch.from_numpy(pw))
    # gradients for logits and targets
    compare_fn(lambda x, t: F.binary_cross_entropy_with_logits(x, t, w_n, reduction, pw_n),
               lambda x, t: TF.binary_cross_entropy_with_logits(x, t, w_t, reduction=reduction, pos_weight=pw_t),
               [x, t], [True, True], rng, terms=1 if reduction == "none" else x.size)
    compare_fn(nn.BCEWithLogitsLoss(w_n, reduction=reduction, pos_weight=pw_n),
               tnn.BCEWithLogitsLoss(w_t, reduction=reduction, pos_weight=pw_t), [x, t], [True, False], rng,
               terms=1 if reduction == "none" else x.size)


def test_bce_with_logits_at_zero_logits(rng):
    """x = 0: loss = log 2 · (1 + (pw - 1) t) and dL/dx = (σ(0)(1 + (pw-1)t) - pw t) / N."""
    x = np.zeros((3, 2), np.float32)
    t = f32([[0, 1], [1, 0], [0.5, 0.25]])
    pw = f32([2.0, 0.5])
    y_n, _ = compare_fn(lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=ns.tensor(pw)),
                        lambda x, t: TF.binary_cross_entropy_with_logits(x, t, pos_weight=torch.from_numpy(pw)),
                        [x, t], [True, False], rng, terms=x.size)
    lw = 1 + (pw - 1) * t
    assert_close(y_n.data, np.log(2) * lw.astype(np.float64).mean(), x.size)


# ----------------------------------------------------------------------------- MLP

def _torch_mlp():
    return tnn.Sequential(tnn.Linear(20, 16), tnn.BatchNorm1d(16), tnn.ReLU(),
                          tnn.Linear(16, 16), tnn.BatchNorm1d(16), tnn.ReLU(), tnn.Linear(16, 5))


MLP_TERMS = 20  # the most terms in a sum: 20 inputs per unit (12 samples per weight gradient)


def test_mlp_train_and_eval(rng):
    t = randomize(_torch_mlp(), rng)
    n = transfer(t, nn.MLP([20, 16, 16, 5], batchnorm=True, dropout=0.0))
    assert not any(isinstance(m, nn.Dropout) for m in n.modules())
    lr = 0.1
    for step in range(3):  # three SGD steps: the two trajectories stay together
        n.zero_grad()
        t.zero_grad()
        x = f32(rng.standard_normal((12, 20)))
        labels = rng.integers(0, 5, 12)
        x_n, x_t = ns.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out_n, out_t = n(x_n), t(x_t)
        close(out_n, out_t, f"step {step}: logits", terms=MLP_TERMS)
        loss_n = F.cross_entropy(out_n, labels)
        loss_t = TF.cross_entropy(out_t, torch.from_numpy(labels))
        close(loss_n, loss_t, f"step {step}: loss", terms=MLP_TERMS)
        loss_n.backward()
        loss_t.backward()
        close(x_n.grad, x_t.grad, f"step {step}: input gradient", terms=MLP_TERMS)
        t_params = dict(t.named_parameters())
        for name, p in n.named_parameters():
            # a bias just before BatchNorm1d has a zero gradient but for the rounding of its 12 terms
            # dL/dz (BatchNorm subtracts the batch mean); they are the weight gradient's terms too
            scale = np.abs(t_params[name[0] + ".weight"].grad.numpy()).max() if name in ("0.bias", "3.bias") else None
            close(p.grad, t_params[name].grad, f"step {step}: gradient of {name}", terms=MLP_TERMS, scale=scale)
            p.data -= lr * p.grad.data
        with torch.no_grad():
            for p in t.parameters():
                p -= lr * p.grad
    t_state = t.state_dict()
    for key, value in n.state_dict().items():  # weights after training, and the BN buffers
        close(value, t_state[key], f"after training: {key}", terms=MLP_TERMS)
    assert int(n.state_dict()["1.num_batches_tracked"].data) == 3

    n.eval()
    t.eval()
    n.zero_grad()
    t.zero_grad()
    check_module(n, t, f32(rng.standard_normal((7, 20))), rng, terms=MLP_TERMS)
    check_module(n, t, f32(rng.standard_normal((1, 20))), rng, terms=MLP_TERMS)  # a single sample works in eval


def test_state_dict_from_nnscratch_into_torch(rng):
    """The other direction: an nnscratch MLP's state dict loads into torch (strict)."""
    ns.manual_seed(0)
    n = nn.MLP([20, 16, 16, 5], batchnorm=True, dropout=0.0)
    n.train()
    for _ in range(2):  # move the running statistics away from their initial values
        n(ns.tensor(f32(rng.standard_normal((10, 20)))))
    t = _torch_mlp()
    result = t.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in n.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    assert int(t[1].num_batches_tracked) == 2
    n.eval()
    t.eval()
    check_module(n, t, f32(rng.standard_normal((6, 20))), rng, terms=MLP_TERMS)
