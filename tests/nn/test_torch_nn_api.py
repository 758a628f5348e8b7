"""The torch.nn surface of nnscratch without PyTorch: the new operations gradchecked in float64,
erf against math.erf, and the semantics that PyTorch code relies on (Module.to and friends,
inplace flags, one_hot, legacy loss arguments, lambda schedules, clipping). The comparison with
PyTorch itself is in test_torch_nn_parity.py."""

import math
import warnings

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.nn as nn
import nnscratch.nn.functional as F
from nnscratch import functional as core
from nnscratch.functional.activations import _erf_array


def gc(fn, *arrays):
    assert ns.gradcheck(fn, *[np.asarray(a, dtype=np.float64) for a in arrays])


# ----------------------------------------------------------------------------- erf

@pytest.mark.parametrize("dtype, bound", [(np.float64, 4e-15), (np.float32, 2.5e-7)])
def test_erf_matches_math_erf(dtype, bound):
    x = np.concatenate([np.linspace(-7, 7, 2801), [0.0, 2.5, -2.5, 2.5000001, 1e-8, -30.0, 30.0]])
    expected = np.array([math.erf(v) for v in x])
    got = _erf_array(x.astype(dtype))
    assert got.dtype == dtype
    # relative to erf where erf is small, absolute 1 ulp-ish where it is near ±1
    np.testing.assert_allclose(got, expected, rtol=bound, atol=bound)
    assert _erf_array(np.array([np.inf, -np.inf, np.nan])).tolist()[:2] == [1.0, -1.0]
    assert np.isnan(_erf_array(np.array([np.nan]))[0])


def test_erf_gradient():
    gc(core.erf, np.linspace(-3, 3, 13))


# ----------------------------------------------------------------------------- gradchecks

@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_activation_gradchecks(shape, rng):
    x = rng.standard_normal(shape) * 2
    gc(lambda t: core.gelu(t), x)
    gc(lambda t: core.gelu(t, approximate="tanh"), x)
    gc(lambda t: core.elu(t, 0.7), np.where(np.abs(x) < 1e-3, 0.5, x))
    gc(core.silu, x)
    gc(lambda t: core.softplus(t, beta=2.0, threshold=3.0), np.where(np.abs(2 * x - 3) < 1e-3, 0, x))
    gc(lambda t: core.hardtanh(t, -0.5, 0.8), np.where(np.abs(np.abs(x) - 0.65) < 0.2, 0.1, x))


@pytest.mark.parametrize("shape, groups", [((2, 4, 3), 2), ((3, 6, 2, 2), 3), ((2, 4), 4), ((1, 4, 5), 1)])
def test_group_norm_gradcheck(shape, groups, rng):
    x = rng.standard_normal(shape)
    c = shape[1]
    gc(lambda t, w, b: core.group_norm(t, groups, w, b, 1e-5), x, rng.standard_normal(c), rng.standard_normal(c))
    gc(lambda t: core.group_norm(t, groups), x)


@pytest.mark.parametrize("p, dim", [(2, 1), (1, 0), (3, -1)])
def test_normalize_and_cosine_similarity_gradcheck(p, dim, rng):
    x = rng.standard_normal((3, 4)) + 0.1
    gc(lambda t: core.normalize(t, p, dim), x)
    gc(lambda a, b: core.cosine_similarity(a, b, dim), x, rng.standard_normal((3, 4)))
    gc(lambda a, b: core.cosine_similarity(a, b, -1), rng.standard_normal((2, 1, 5)), rng.standard_normal((3, 5)))


def test_normalize_of_a_zero_row_is_zero_with_finite_gradient():
    x = ns.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    y = F.normalize(x, dim=1)
    np.testing.assert_allclose(y.data, [[0, 0], [0.6, 0.8]], rtol=1e-6)
    y.sum().backward()
    assert np.isfinite(x.grad.data).all()


@pytest.mark.parametrize("pads, mode", [((1, 2), "constant"), ((1, 0, 2, 1), "constant"), ((-1, 2, 0, -1), "constant"),
                                        ((2, 1, 0, 0), "reflect"), ((1, 2, 2, 0), "reflect"), ((2, 3, 1, 1), "replicate"),
                                        ((1, 2, 3, 0), "circular")])
def test_pad_gradcheck(pads, mode, rng):
    x = rng.standard_normal((2, 3, 4, 5))
    gc(lambda t: core.pad(t, pads, mode), x)


def test_pad_values():
    x = ns.tensor([[1.0, 2.0, 3.0]])
    assert F.pad(x, (2, 1), value=9).data.tolist() == [[9, 9, 1, 2, 3, 9]]
    assert F.pad(x.reshape(1, 1, 3), (2, 2), mode="reflect").data.tolist() == [[[3, 2, 1, 2, 3, 2, 1]]]
    assert F.pad(x.reshape(1, 1, 3), (2, 1), mode="replicate").data.tolist() == [[[1, 1, 1, 2, 3, 3]]]
    assert F.pad(x.reshape(1, 1, 3), (1, 2), mode="circular").data.tolist() == [[[3, 1, 2, 3, 1, 2]]]
    assert F.pad(x, (-1, 0)).data.tolist() == [[2, 3]]
    with pytest.raises(ValueError, match="reflect"):
        F.pad(x.reshape(1, 1, 3), (3, 0), mode="reflect")


@pytest.mark.parametrize("size, scale, mode, align", [
    ((5, 7), None, "bilinear", False), ((5, 7), None, "bilinear", True), (None, 2, "bilinear", None),
    (None, (1.5, 0.5), "bilinear", False), ((6, 3), None, "nearest", None), (None, 2, "nearest-exact", None),
    ((2, 3), None, "area", None)])
def test_interpolate_gradcheck(size, scale, mode, align, rng):
    x = rng.standard_normal((2, 2, 4, 5))
    gc(lambda t: core.interpolate(t, size, scale, mode, align), x)


def test_interpolate_linear_gradcheck_and_values(rng):
    gc(lambda t: core.interpolate(t, 9, mode="linear", align_corners=True), rng.standard_normal((2, 3, 5)))
    x = ns.tensor([[[0.0, 1.0, 2.0]]])
    assert F.interpolate(x, 5, mode="linear", align_corners=True).data.tolist() == [[[0, 0.5, 1, 1.5, 2]]]
    assert F.interpolate(x, scale_factor=2).data.tolist() == [[[0, 0, 1, 1, 2, 2]]]
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, 4, 2)
    with pytest.raises(ValueError, match="align_corners option"):
        F.interpolate(x, 4, align_corners=True)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x.reshape(1, 1, 1, 3), 4, mode="bicubic")


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
def test_loss_gradchecks(reduction, rng):
    logq = core.log_softmax(ns.tensor(rng.standard_normal((3, 4)), dtype=np.float64), 1).data
    t = rng.uniform(0.1, 1, (3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc(lambda a, b: core.kl_div(a, b, reduction), logq, t)
        gc(lambda a, b: core.kl_div(a, b, reduction, log_target=True), logq, np.log(rng.uniform(0.1, 1, (3, 4))))
    if reduction != "batchmean":
        d = rng.standard_normal((3, 4))
        d = np.where(np.abs(np.abs(d) - 0.5) < 0.05, 0.2, d)
        gc(lambda a, b: core.smooth_l1_loss(a, b, reduction, beta=0.5), d, np.zeros((3, 4)))
        gc(lambda a: core.mse_loss(a, np.zeros((3, 4)), reduction, weight=np.arange(4.0)), d)


def test_multihead_attention_gradcheck(rng):
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    mask = np.zeros((3, 5), bool)
    mask[:, 4] = True  # no query may look at the last key

    def run(q, k, v, w_in, b_in, w_out):
        # the weights as plain attributes (bypassing registration), so that gradcheck can vary them
        object.__setattr__(mha, "in_proj_weight", w_in)
        object.__setattr__(mha, "in_proj_bias", b_in)
        object.__setattr__(mha.out_proj, "weight", w_out)
        out, weights = mha(q, k, v, attn_mask=mask)
        return out * 2 + weights.sum(-1, keepdims=True)

    gc(run, rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4)),
       mha.in_proj_weight.data, rng.standard_normal(12), mha.out_proj.weight.data)


def test_multihead_attention_shapes_and_masks(rng):
    mha = nn.MultiheadAttention(8, 2)
    q = ns.tensor(rng.standard_normal((5, 3, 8)))
    out, w = mha(q, q, q)
    assert out.shape == (5, 3, 8) and w.shape == (3, 5, 5)
    np.testing.assert_allclose(w.data.sum(-1), 1, rtol=1e-5)
    out, w = mha(q, q, q, need_weights=False)
    assert w is None
    _, w = mha(q, q, q, average_attn_weights=False)
    assert w.shape == (3, 2, 5, 5)
    padding = np.zeros((3, 5), bool)
    padding[:, 3:] = True
    _, w = mha(q, q, q, key_padding_mask=padding)
    assert np.all(w.data[..., 3:] == 0)
    out, w = mha(q[:, 0], q[:, 0], q[:, 0])  # unbatched
    assert out.shape == (5, 8) and w.shape == (5, 5)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(q, q, q, is_causal=True)
    assert [n for n, _ in mha.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                                       "out_proj.bias"]
    assert not mha.in_proj_bias.data.any() and not mha.out_proj.bias.data.any()


# ----------------------------------------------------------------------------- semantics

def test_one_hot():
    y = F.one_hot(ns.tensor([0, 2, 1]))
    assert y.dtype == np.int64 and y.data.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(ns.tensor([[1], [0]]), num_classes=4).shape == (2, 1, 4)
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(ns.tensor([3]), 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(ns.tensor([1.0]))


def test_softmax_without_dim_warns_and_picks_pytorch_dim(rng):
    x = ns.tensor(rng.standard_normal((2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.data.sum(1), 1, rtol=1e-6)
    with pytest.warns(UserWarning):
        y = nn.Softmax()(ns.tensor(rng.standard_normal((2, 3, 4))))  # 3-D: dim 0
    np.testing.assert_allclose(y.data.sum(0), 1, rtol=1e-6)
    assert F.softmax(x, dim=1, dtype=np.float64).dtype == np.float64


def test_legacy_size_average_and_reduce():
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.CrossEntropyLoss(reduce=False).reduction == "none"
    a, b = ns.tensor([1.0, 2.0]), ns.tensor([0.0, 0.0])
    with pytest.warns(UserWarning):
        assert F.mse_loss(a, b, False).item() == 5.0  # the third positional argument is size_average


def test_kl_div_counts_zero_targets_as_zero():
    logq = ns.tensor(np.log([[0.5, 0.5]]), requires_grad=True)
    loss = F.kl_div(logq, ns.tensor([[1.0, 0.0]]), reduction="sum")
    assert loss.item() == pytest.approx(np.log(2))
    loss.backward()
    assert logq.grad.data.tolist() == [[-1.0, 0.0]]


def test_kl_div_mean_warns_and_batchmean_divides_by_batch():
    logq, t = ns.tensor(np.log([[0.5, 0.5], [0.9, 0.1]])), ns.tensor([[0.5, 0.5], [0.5, 0.5]])
    total = F.kl_div(logq, t, reduction="sum").item()
    assert F.kl_div(logq, t, reduction="batchmean").item() == pytest.approx(total / 2)
    with pytest.warns(UserWarning, match="batchmean"):
        assert F.kl_div(logq, t).item() == pytest.approx(total / 4)
    assert nn.KLDivLoss(reduction="batchmean")(logq, t).item() == pytest.approx(total / 2)


def test_inplace_flags():
    x = ns.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    assert y is x and x.data.tolist() == [0.0, 2.0]
    w = ns.tensor([-1.0, 2.0], requires_grad=True)
    y = nn.ReLU(inplace=True)(w)
    assert y is not w and w.data.tolist() == [-1.0, 2.0]  # the graph still needs w
    y.sum().backward()
    assert w.grad.data.tolist() == [0.0, 1.0]
    with ns.no_grad():
        z = ns.tensor([-1.0, 3.0], requires_grad=True)
        assert F.elu(z, inplace=True) is z


def test_module_to_converts_parameters_buffers_and_grads_in_place():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    model(ns.randn(4, 3)).sum().backward()
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype == np.float64 and weight.grad.dtype == np.float64
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64  # integers stay integers
    assert model.to(np.float32) is model and weight.dtype == np.float32
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to("cpu", np.float64) is model and weight.dtype == np.float64
    assert model.to(ns.zeros(1, dtype=np.float32)) is model and weight.dtype == np.float32
    assert model.to(device="cpu", dtype=np.float64, non_blocking=True).float() is model
    assert weight.dtype == np.float32
    assert nn.Linear(2, 2, dtype=np.float64).weight.dtype == np.float64


@pytest.mark.parametrize("call", [lambda m: m.to("cuda"), lambda m: m.to("cuda:0"), lambda m: m.cuda(),
                                  lambda m: m.to(device="mps"), lambda m: nn.Linear(2, 2, device="cuda")])
def test_module_refuses_other_devices_naming_the_fix(call):
    with pytest.raises(RuntimeError, match="device='cpu'"):
        call(nn.Linear(2, 2))


def test_module_refuses_half_and_integer_dtypes():
    with pytest.raises(TypeError, match="float16 is not supported by nnscratch"):
        nn.Linear(2, 2).half()
    with pytest.raises(TypeError, match="floating point"):
        nn.Linear(2, 2).to(np.int64)


def test_add_module_and_get_submodule():
    m = nn.Module()
    m.add_module("body", nn.Sequential(nn.Linear(2, 2)))
    assert m.get_submodule("body.0") is m.body[0]
    assert [n for n, _ in m.named_parameters()] == ["body.0.weight", "body.0.bias"]


def test_loss_weights_are_buffers():
    loss = nn.CrossEntropyLoss(weight=ns.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []


def test_batchnorm_momentum_none_is_a_cumulative_average(rng):
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [rng.standard_normal((5, 2)).astype(np.float32) for _ in range(3)]
    for b in batches:
        bn(ns.tensor(b))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-5)


def test_conv2d_padding_modes_pad_before_convolving(rng):
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    x = ns.tensor(rng.standard_normal((1, 1, 4, 4)))
    expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), conv.weight)
    np.testing.assert_array_equal(conv(x).data, expected.data)
    same = nn.Conv2d(1, 1, 4, padding="same", padding_mode="replicate")
    assert same(x).shape == (1, 1, 4, 4)
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")


def test_unflatten_and_upsample():
    x = ns.arange(12).reshape(2, 6).float()
    assert nn.Unflatten(1, (2, 3))(x).shape == (2, 2, 3)
    assert nn.Unflatten(-1, (3, -1))(x).shape == (2, 3, 2)
    assert nn.Upsample(scale_factor=2)(ns.zeros(1, 1, 2, 3)).shape == (1, 1, 4, 6)


def test_summary_keeps_parameter_counts_and_repr_matches_pytorch_layout():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(inplace=True))
    assert repr(model) == ("Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n"
                           "  (1): ReLU(inplace=True)\n)")
    assert "# 15 parameters" in model.summary() and "15 parameters in total" in model.summary()


def test_clip_grad_norm_returns_the_total_norm_and_scales():
    a, b = ns.tensor([3.0], requires_grad=True), ns.tensor([4.0], requires_grad=True)
    (a * 1.0 + b * 1.0).sum().backward()  # gradients 1, 1
    a.grad, b.grad = ns.tensor([3.0]), ns.tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, ns.Tensor) and total.item() == pytest.approx(5.0)
    assert a.grad.item() == pytest.approx(0.6, rel=1e-5) and b.grad.item() == pytest.approx(0.8, rel=1e-5)
    nn.utils.clip_grad_value_([a, b], 0.7)
    assert b.grad.item() == pytest.approx(0.7)
    assert ns.optim.clip_grad_norm_ is nn.utils.clip_grad_norm_


def test_parameters_vector_round_trip():
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert np.all(model.weight.data == 1) and np.all(model.bias.data == 1)


def test_lambda_schedules():
    p = nn.Parameter(np.zeros(1, np.float32))
    opt = ns.optim.SGD([p], lr=1.0)
    sched = ns.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(3):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1.0, 0.5, 0.25, 0.125]
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None] and state["last_epoch"] == 3
    opt2 = ns.optim.SGD([p], lr=1.0)
    mult = ns.optim.lr_scheduler.MultiplicativeLR(opt2, lambda epoch: 0.9)
    for _ in range(2):
        opt2.step()
        mult.step()
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.81)
    with pytest.raises(ValueError, match="lr_lambdas"):
        ns.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 2])
