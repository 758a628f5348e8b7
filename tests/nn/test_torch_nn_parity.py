"""nnscratch.nn, nn.functional, nn.utils and the lambda schedules against PyTorch 2.13: the same
signatures (argument names, order, defaults), the same printed modules, and the same forward
values and gradients in float32 from the same inputs and weights (tolerances from tolerance.py:
they grow with the number of terms summed into each value).

Skipped when torch is not installed (``pip install torch==2.13.0``, the CPU build)."""

import ast
import inspect
import warnings

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.nn as nn
import nnscratch.nn.functional as F
from tolerance import assert_close

torch = pytest.importorskip("torch")
TF = torch.nn.functional
tnn = torch.nn


# ----------------------------------------------------------------------------- helpers

def f32(a):
    return np.asarray(a, dtype=np.float32)


def check(ours_fn, torch_fn, arrays, n=1, grad_n=None, what=""):
    """Forward and backward of ours_fn and torch_fn on the same float32 inputs (the inputs that
    are floating point get gradients), with the same random upstream gradient."""
    ours_in = [ns.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
                 for a in arrays]
    y, ty = ours_fn(*ours_in), torch_fn(*theirs_in)
    if ty.dtype == torch.float32:
        assert y.dtype == np.float32, f"{what}: dtype {y.dtype}"
    assert_close(y, ty, n=n, what=f"{what} forward")
    g = np.random.default_rng(0).standard_normal(ty.shape).astype(np.float32)
    y.backward(ns.tensor(g))
    ty.backward(torch.tensor(g))
    for i, (a, ta) in enumerate(zip(ours_in, theirs_in)):
        if isinstance(ta, torch.Tensor) and ta.requires_grad:
            assert_close(a.grad, ta.grad, n=grad_n or n, what=f"{what} grad of input {i}")


# ----------------------------------------------------------------------------- signatures

F_NAMES = ("relu softmax log_softmax cross_entropy mse_loss nll_loss binary_cross_entropy "
           "binary_cross_entropy_with_logits dropout conv2d max_pool2d avg_pool2d linear pad one_hot gelu leaky_relu "
           "interpolate embedding l1_loss kl_div normalize cosine_similarity sigmoid tanh silu elu smooth_l1_loss "
           "huber_loss group_norm layer_norm batch_norm softplus hardtanh relu6 dropout2d adaptive_avg_pool2d "
           "logsigmoid softmin conv_transpose2d scaled_dot_product_attention").split()


def _torch_signature(fn):
    """Parameter names and defaults of a torch function: its signature, or for a C++ builtin the
    first line of its docstring ('conv2d(input, weight, bias=None, ...) -> Tensor')."""
    try:
        params = inspect.signature(fn).parameters.values()
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            raise ValueError
        return [(p.name, p.default) for p in params]
    except ValueError:
        head = " ".join(fn.__doc__.strip().split("->")[0].split()).replace("*,", "")
        args = ast.parse(f"def {head}: pass").body[0].args
        names = [a.arg for a in args.args]
        defaults = [ast.literal_eval(d) for d in args.defaults]
        defaults = [inspect.Parameter.empty] * (len(names) - len(defaults)) + defaults
        return list(zip(names, defaults))


def _ours_signature(fn, keep):
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values() if p.name in keep]


@pytest.mark.parametrize("name", F_NAMES)
def test_functional_signature_matches_torch(name):
    if name == "max_pool2d":  # a boolean dispatch wrapper in torch; the documented signature:
        expected = [("input", inspect.Parameter.empty), ("kernel_size", inspect.Parameter.empty), ("stride", None),
                    ("padding", 0), ("dilation", 1), ("ceil_mode", False), ("return_indices", False)]
    else:
        expected = _torch_signature(getattr(TF, name))
    ours = [(p.name, p.default) for p in inspect.signature(getattr(F, name)).parameters.values()]
    assert ours == expected


MODULES = ["Linear", "Conv2d", "ConvTranspose2d", "Embedding", "GroupNorm", "LayerNorm", "BatchNorm1d", "BatchNorm2d",
           "Upsample", "MultiheadAttention", "KLDivLoss", "SmoothL1Loss", "CrossEntropyLoss", "MSELoss", "HuberLoss",
           "L1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "Unflatten", "Flatten", "Softmax", "LogSoftmax",
           "ELU", "GELU", "SiLU", "ReLU", "LeakyReLU", "Softplus", "Dropout", "Dropout2d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "RNNCell", "LSTMCell", "GRUCell", "Identity", "Sigmoid", "Tanh"]


@pytest.mark.parametrize("name", MODULES)
def test_module_constructor_signature_matches_torch(name):
    theirs = [(p.name, p.default) for p in inspect.signature(getattr(tnn, name)).parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    ours_params = inspect.signature(getattr(nn, name)).parameters.values()
    ours = [(p.name, p.default) for p in ours_params if p.name in dict(theirs)]
    assert ours == theirs
    extra = [p for p in ours_params if p.name not in dict(theirs)]
    assert all(p.kind == p.KEYWORD_ONLY for p in extra), f"extra positional arguments {extra}"


def test_module_method_signatures():
    for name in ("forward",):
        theirs = [p.name for p in inspect.signature(getattr(tnn.MultiheadAttention, name)).parameters.values()]
        assert [p.name for p in inspect.signature(getattr(nn.MultiheadAttention, name)).parameters.values()] == theirs
    for fn in ("clip_grad_norm_", "clip_grad_value_"):
        assert _ours_signature(getattr(nn.utils, fn), {"parameters", "max_norm", "norm_type", "error_if_nonfinite",
                                                        "foreach", "clip_value"}) == \
            [(p.name, p.default) for p in inspect.signature(getattr(tnn.utils, fn)).parameters.values()]


REPRS = ["nn.ReLU()", "nn.ReLU(inplace=True)", "nn.LeakyReLU()", "nn.LeakyReLU(0.2, True)", "nn.Softmax()",
         "nn.Softmax(dim=1)", "nn.LogSoftmax(dim=1)", "nn.Sigmoid()", "nn.GELU()", "nn.GELU('tanh')", "nn.ELU()",
         "nn.ELU(0.5, True)", "nn.SiLU()", "nn.Softplus()", "nn.Flatten()", "nn.Unflatten(1, (1, 28, 28))",
         "nn.Dropout()", "nn.Dropout2d(0.3)", "nn.MSELoss(reduction='sum')", "nn.CrossEntropyLoss(label_smoothing=0.1)",
         "nn.SmoothL1Loss(beta=0.5)", "nn.KLDivLoss(reduction='batchmean')", "nn.GroupNorm(2, 4)",
         "nn.GroupNorm(2, 4, affine=False)", "nn.LayerNorm(10)", "nn.LayerNorm([3, 4], elementwise_affine=False)",
         "nn.BatchNorm1d(10)", "nn.BatchNorm2d(3, affine=False)", "nn.Upsample(scale_factor=2)",
         "nn.Upsample(size=(4, 5), mode='bilinear', align_corners=True)", "nn.Embedding(10, 3, padding_idx=0)",
         "nn.Embedding(10, 3, max_norm=1.0)", "nn.Conv2d(1, 32, 3, 1)", "nn.Conv2d(1, 32, 3, padding='same', bias=False)",
         "nn.Conv2d(1, 2, 3, padding_mode='reflect', padding=1)", "nn.ConvTranspose2d(2, 3, 4, 2, 1)",
         "nn.MaxPool2d(2)", "nn.AvgPool2d(2)", "nn.AdaptiveAvgPool2d((1, 1))", "nn.Linear(3, 4, bias=False)",
         "nn.LSTM(28, 128, batch_first=True)", "nn.GRU(3, 4, 2, dropout=0.5, bidirectional=True)",
         "nn.MultiheadAttention(8, 2)", "nn.ModuleDict({'a': nn.Tanh()})",
         "nn.Sequential(nn.Linear(784, 10), nn.Sequential(nn.ReLU(), nn.Dropout(0.2)))"]


@pytest.mark.parametrize("expr", REPRS)
def test_repr_matches_torch(expr):
    assert repr(eval(expr, {"nn": nn})) == repr(eval(expr, {"nn": tnn}))


# ----------------------------------------------------------------------------- functional parity

SHAPES = [(6,), (3, 5), (2, 3, 4, 5)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, ours, theirs", [
    ("gelu", F.gelu, TF.gelu),
    ("gelu tanh", lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    ("silu", F.silu, TF.silu),
    ("softplus", lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0)),
    ("relu6", F.relu6, TF.relu6),
    ("normalize", lambda x: F.normalize(x, dim=-1), lambda x: TF.normalize(x, dim=-1)),
    ("normalize p=1", lambda x: F.normalize(x, 1.0, 0), lambda x: TF.normalize(x, 1.0, 0)),
    ("softmin", lambda x: F.softmin(x, -1), lambda x: TF.softmin(x, -1)),
])
def test_elementwise_parity(name, ours, theirs, shape, rng):
    x = f32(rng.standard_normal(shape) * 3)
    check(ours, theirs, [x], n=shape[-1], what=name)


@pytest.mark.parametrize("shape, dim", [((4, 6), 1), ((2, 3, 5), -1), ((5, 3), 0)])
def test_cosine_similarity_parity(shape, dim, rng):
    a, b = f32(rng.standard_normal(shape)), f32(rng.standard_normal(shape))
    check(lambda x, y: F.cosine_similarity(x, y, dim), lambda x, y: TF.cosine_similarity(x, y, dim), [a, b],
          n=shape[dim], what="cosine_similarity")


@pytest.mark.parametrize("shape, groups", [((4, 6, 5, 5), 3), ((2, 4, 7), 2), ((3, 8), 2), ((2, 6, 3, 3), 1)])
def test_group_norm_parity(shape, groups, rng):
    x = f32(rng.standard_normal(shape) * 2 + 1)
    w, b = f32(rng.standard_normal(shape[1])), f32(rng.standard_normal(shape[1]))
    n = int(np.prod(shape[1:])) // groups * shape[0]
    check(lambda *a: F.group_norm(a[0], groups, a[1], a[2]), lambda *a: TF.group_norm(a[0], groups, a[1], a[2]),
          [x, w, b], n=n, what="group_norm")


@pytest.mark.parametrize("pads, mode", [((1, 2), "constant"), ((1, 0, 2, 1), "constant"), ((-1, 2, 0, -1), "constant"),
                                        ((1, 2, 2, 0), "reflect"), ((2, 3, 1, 1), "replicate"),
                                        ((1, 2, 3, 0), "circular"), ((1, 1, 1, 1), "replicate")])
def test_pad_parity(pads, mode, rng):
    x = f32(rng.standard_normal((2, 3, 4, 5)))
    check(lambda t: F.pad(t, pads, mode), lambda t: TF.pad(t, pads, mode), [x], n=4, what=f"pad {mode}")
    if mode == "constant":
        check(lambda t: F.pad(t, pads, value=1.5), lambda t: TF.pad(t, pads, value=1.5), [x], what="pad value")


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 4, 5), dict(scale_factor=2)),
    ((2, 3, 4, 5), dict(size=(7, 9))),
    ((2, 3, 4, 5), dict(size=(3, 2))),
    ((2, 3, 4, 5), dict(scale_factor=1.7)),
    ((2, 3, 4, 5), dict(scale_factor=(2.5, 0.6), mode="nearest-exact")),
    ((2, 3, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ((2, 3, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((2, 3, 4, 5), dict(size=(7, 11), mode="bilinear", align_corners=True)),
    ((2, 3, 4, 5), dict(scale_factor=1.5, mode="bilinear", align_corners=False)),
    ((2, 3, 4, 5), dict(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True)),
    ((2, 3, 8, 6), dict(size=(3, 4), mode="area")),
    ((2, 3, 6), dict(scale_factor=2, mode="linear")),
    ((2, 3, 6), dict(size=10, mode="linear", align_corners=True)),
    ((2, 3, 6), dict(size=4)),
])
def test_interpolate_parity(shape, kwargs, rng):
    x = f32(rng.standard_normal(shape))
    check(lambda t: F.interpolate(t, **kwargs), lambda t: TF.interpolate(t, **kwargs), [x], n=4, grad_n=36,
          what=f"interpolate {kwargs}")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_parity(reduction, log_target, rng):
    logq = f32(np.log(rng.dirichlet(np.ones(5), size=4)))
    t = rng.dirichlet(np.ones(5), size=4)
    t = f32(np.log(t) if log_target else t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
              lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target), [logq, t], n=20,
              what=f"kl_div {reduction}")
        check(lambda a, b: nn.KLDivLoss(reduction=reduction, log_target=log_target)(a, b),
              lambda a, b: tnn.KLDivLoss(reduction=reduction, log_target=log_target)(a, b), [logq, t], n=20)


def test_kl_div_zero_target_parity():
    # 0 · log 0 counts as 0 in both; the gradient with respect to such a target is nan in PyTorch
    # (d/dt t log t = log t + 1) and finite here, so only the input's gradient is compared
    logq, t = f32(np.log([[0.2, 0.8], [0.5, 0.5]])), f32([[0.0, 1.0], [0.3, 0.7]])
    x, tx = ns.tensor(logq, requires_grad=True), torch.tensor(logq, requires_grad=True)
    y, ty = F.kl_div(x, ns.tensor(t), reduction="sum"), TF.kl_div(tx, torch.tensor(t), reduction="sum")
    y.backward()
    ty.backward()
    assert_close(y, ty, n=4)
    assert_close(x.grad, tx.grad)


def test_pad_refuses_what_torch_refuses():
    with pytest.raises(NotImplementedError, match="reflect"):
        F.pad(ns.zeros(1, 2, 3, 4), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError):
        TF.pad(torch.zeros(1, 2, 3, 4), (1, 1), mode="reflect")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("beta", [1.0, 0.3, 0.0])
def test_smooth_l1_parity(reduction, beta, rng):
    a, b = f32(rng.standard_normal((4, 6)) * 2), f32(rng.standard_normal((4, 6)))
    check(lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
          lambda x, y: TF.smooth_l1_loss(x, y, reduction=reduction, beta=beta), [a, b], n=24, what="smooth_l1")
    check(lambda x, y: nn.SmoothL1Loss(reduction=reduction, beta=beta)(x, y),
          lambda x, y: tnn.SmoothL1Loss(reduction=reduction, beta=beta)(x, y), [a, b], n=24)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_regression_losses_parity(name, reduction, rng):
    a, b, w = f32(rng.standard_normal((3, 4))), f32(rng.standard_normal((3, 4))), f32(rng.uniform(0, 1, (3, 4)))
    check(lambda x, y: getattr(F, name)(x, y, reduction=reduction, weight=ns.tensor(w)),
          lambda x, y: getattr(TF, name)(x, y, reduction=reduction, weight=torch.tensor(w)), [a, b], n=12, what=name)


def test_legacy_loss_arguments_parity(rng):
    a, b = f32(rng.standard_normal((3, 4))), f32(rng.standard_normal((3, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in (dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True)):
            check(lambda x, y: F.mse_loss(x, y, **kwargs), lambda x, y: TF.mse_loss(x, y, **kwargs), [a, b], n=12)


def test_one_hot_parity():
    labels = np.array([[0, 3], [2, 1]])
    for k in (-1, 6):
        ours, theirs = F.one_hot(ns.tensor(labels), k), TF.one_hot(torch.tensor(labels), k)
        assert ours.dtype == np.int64 and theirs.dtype == torch.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_softmax_implicit_dim_parity(rng):
    for shape in [(5,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = f32(rng.standard_normal(shape))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_close(F.softmax(ns.tensor(x)), TF.softmax(torch.tensor(x)), n=shape[0])
            assert_close(F.log_softmax(ns.tensor(x)), TF.log_softmax(torch.tensor(x)), n=shape[0])


def test_embedding_max_norm_parity(rng):
    w = f32(rng.standard_normal((6, 3)) * 2)
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    ours_w, theirs_w = ns.tensor(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)
    y, ty = F.embedding(ns.tensor(idx), ours_w, max_norm=1.5), TF.embedding(torch.tensor(idx), theirs_w, max_norm=1.5)
    assert_close(y, ty, n=3)
    assert_close(ours_w, theirs_w.detach(), n=3)  # the picked rows were renormalised in place


def test_dropout_eval_and_p_zero_are_identity(rng):
    x = ns.tensor(f32(rng.standard_normal((3, 4))))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


# ----------------------------------------------------------------------------- module parity

def _load(ours, theirs):
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


@pytest.mark.parametrize("shape, groups, affine", [((4, 6, 5, 5), 3, True), ((2, 4, 7), 4, False)])
def test_group_norm_module_parity(shape, groups, affine, rng):
    theirs = tnn.GroupNorm(groups, shape[1], affine=affine)
    if affine:
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
    ours, theirs = _load(nn.GroupNorm(groups, shape[1], affine=affine), theirs)
    x = f32(rng.standard_normal(shape))
    check(ours, theirs, [x], n=int(np.prod(shape)) // groups, what="GroupNorm")
    if affine:
        assert_close(ours.weight.grad, theirs.weight.grad, n=int(np.prod(shape)) // shape[1])
        assert_close(ours.bias.grad, theirs.bias.grad, n=int(np.prod(shape)) // shape[1])


@pytest.mark.parametrize("module", ["GELU()", "GELU('tanh')", "ELU(alpha=0.4)", "SiLU()", "Unflatten(1, (2, 3))",
                                    "Upsample(scale_factor=2)", "Upsample(size=(5, 4), mode='bilinear')",
                                    "Upsample(scale_factor=3, mode='bilinear', align_corners=True)", "Hardtanh(-0.5, 2)"])
def test_parameter_free_module_parity(module, rng):
    ours, theirs = eval("nn." + module, {"nn": nn}), eval("nn." + module, {"nn": tnn})
    shape = (2, 6) if "Unflatten" in module else (2, 3, 4, 5)
    check(ours, theirs, [f32(rng.standard_normal(shape) * 2)], n=4, grad_n=36, what=module)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_padding_mode_parity(mode, padding, rng):
    theirs = tnn.Conv2d(2, 3, 3, padding=padding, padding_mode=mode)
    ours, theirs = _load(nn.Conv2d(2, 3, 3, padding=padding, padding_mode=mode), theirs)
    check(ours, theirs, [f32(rng.standard_normal((2, 2, 6, 5)))], n=18, grad_n=27, what=f"Conv2d {mode}")
    assert_close(ours.weight.grad, theirs.weight.grad, n=60)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kv_dims", [(None, None), (5, 3)])
@pytest.mark.parametrize("masks", ["none", "bool", "float", "padding"])
def test_multihead_attention_parity(batch_first, kv_dims, masks, rng):
    E, heads, L, S, N = 8, 2, 4, 6, 3
    kdim, vdim = kv_dims
    theirs = tnn.MultiheadAttention(E, heads, batch_first=batch_first, kdim=kdim, vdim=vdim)
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(0, 0.5)
    ours, theirs = _load(nn.MultiheadAttention(E, heads, batch_first=batch_first, kdim=kdim, vdim=vdim), theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())

    def shaped(length, dim):
        return f32(rng.standard_normal((N, length, dim) if batch_first else (length, N, dim)))

    q, k, v = shaped(L, E), shaped(S, kdim or E), shaped(S, vdim or E)
    kwargs = {}
    if masks == "bool":
        m = np.triu(np.ones((L, S), bool), 1)
        kwargs = dict(ours=dict(attn_mask=m), theirs=dict(attn_mask=torch.tensor(m)))
    elif masks == "float":
        m = f32(rng.standard_normal((N * heads, L, S)))
        kwargs = dict(ours=dict(attn_mask=ns.tensor(m)), theirs=dict(attn_mask=torch.tensor(m)))
    elif masks == "padding":
        m = np.zeros((N, S), bool)
        m[0, 4:] = True
        kwargs = dict(ours=dict(key_padding_mask=m), theirs=dict(key_padding_mask=torch.tensor(m)))
    ours_kw, theirs_kw = kwargs.get("ours", {}), kwargs.get("theirs", {})
    for average in (True, False):
        check(lambda *a: ours(*a, average_attn_weights=average, **ours_kw)[0],
              lambda *a: theirs(*a, average_attn_weights=average, **theirs_kw)[0], [q, k, v], n=E + S,
              what="MHA output")
        _, w = ours(ns.tensor(q), ns.tensor(k), ns.tensor(v), average_attn_weights=average, **ours_kw)
        _, tw = theirs(torch.tensor(q), torch.tensor(k), torch.tensor(v), average_attn_weights=average, **theirs_kw)
        assert_close(w, tw, n=E + S, what="MHA weights")
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.grad is not None, name


def test_multihead_attention_unbatched_parity(rng):
    theirs = tnn.MultiheadAttention(6, 3)
    ours, theirs = _load(nn.MultiheadAttention(6, 3), theirs)
    x = f32(rng.standard_normal((5, 6)))
    check(lambda t: ours(t, t, t)[0], lambda t: theirs(t, t, t)[0], [x], n=12, what="MHA unbatched")


def test_multihead_attention_init_like_torch():
    ours = nn.MultiheadAttention(16, 4)
    bound = np.sqrt(6 / (16 + 48))  # xavier_uniform on (3E, E)
    assert np.abs(ours.in_proj_weight.data).max() <= bound
    assert np.abs(ours.in_proj_weight.data).max() > 0.9 * bound


def test_batchnorm_momentum_none_parity(rng):
    theirs = tnn.BatchNorm1d(3, momentum=None)
    ours = nn.BatchNorm1d(3, momentum=None)
    for _ in range(4):
        x = f32(rng.standard_normal((6, 3)) * 2 + 1)
        ours(ns.tensor(x))
        theirs(torch.tensor(x))
    assert_close(ours.running_mean, theirs.running_mean, n=24)
    assert_close(ours.running_var, theirs.running_var, n=24)


def test_module_to_double_parity():
    theirs = tnn.Sequential(tnn.Linear(3, 2), tnn.BatchNorm1d(2)).double()
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).double()
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert a.dtype == np.dtype(str(b.dtype).replace("torch.", "")), name
    assert ours.to(torch.float32) is ours and ours[0].weight.dtype == np.float32  # torch dtypes are understood


# ----------------------------------------------------------------------------- nn.utils and schedules

@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_parity(norm_type, max_norm, rng):
    grads = [f32(rng.standard_normal(s)) for s in [(3, 4), (5,), (2, 2, 2)]]
    ours = [nn.Parameter(np.zeros(g.shape, np.float32)) for g in grads]
    theirs = [tnn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad, tp.grad = ns.tensor(g), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    t_total = tnn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert_close(total, t_total, n=20)
    for p, tp in zip(ours, theirs):
        assert_close(p.grad, tp.grad, n=20)
    nn.utils.clip_grad_value_(ours, 0.1)
    tnn.utils.clip_grad_value_(theirs, 0.1)
    for p, tp in zip(ours, theirs):
        assert_close(p.grad, tp.grad)


def test_parameters_to_vector_parity():
    t = tnn.Linear(3, 2)
    ours = _load(nn.Linear(3, 2), t)[0]
    assert_close(nn.utils.parameters_to_vector(ours.parameters()), tnn.utils.parameters_to_vector(t.parameters()))


@pytest.mark.parametrize("kind", ["LambdaLR", "MultiplicativeLR"])
def test_lambda_schedules_parity(kind):
    fns = [lambda epoch: 0.9 ** epoch if kind == "LambdaLR" else 0.9, lambda epoch: 1 / (epoch + 1)]

    def trajectory(optim, params):
        opt = optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=1.0)
        sched = getattr(optim.lr_scheduler, kind)(opt, fns)
        lrs = []
        for _ in range(6):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        return lrs

    ours = trajectory(ns.optim, [nn.Parameter(np.zeros(1, np.float32)) for _ in range(2)])
    theirs = trajectory(torch.optim, [tnn.Parameter(torch.zeros(1)) for _ in range(2)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
