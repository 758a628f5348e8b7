"""nnscratch.optim on its own: hand-computed steps, the Optimizer contract, state dicts,
schedulers and clipping. Parity with torch.optim is in test_optim_parity.py."""

import math

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import optim
from nnscratch.optim import lr_scheduler


def param(values, dtype=np.float64):
    return ns.tensor(values, requires_grad=True, dtype=dtype)


def with_grad(p, grad):
    p.grad = ns.tensor(grad, dtype=p.dtype)
    return p


# ----------------------------------------------------------------------------- a small MLP

def mlp(dtype=np.float64, seed=0):
    """Parameters of a 5-8-3 tanh MLP and a closure computing its loss on a fixed batch."""
    rng = np.random.default_rng(seed)
    x = ns.tensor(rng.standard_normal((12, 5)), dtype=dtype)
    y = rng.integers(0, 3, 12)
    shapes = [(5, 8), (8,), (8, 3), (3,)]
    params = [param(rng.standard_normal(s) * 0.5, dtype) for s in shapes]

    def loss():
        W1, b1, W2, b2 = params
        logits = (x @ W1 + b1).tanh() @ W2 + b2
        return -F.log_softmax(logits, axis=1)[np.arange(12), y].mean()

    return params, loss


def train(opt, params, loss, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()
    return [p.data.copy() for p in params]


ALL_OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Momentum", {}),
    ("Nesterov", {}),
    ("Adagrad", dict(lr_decay=0.01, initial_accumulator_value=0.1)),
    ("RMSprop", dict(momentum=0.5, centered=True, weight_decay=0.01)),
    ("Adadelta", dict(weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01, maximize=True)),
]
ALL_IDS = [f"{name}{options}" for name, options in ALL_OPTIMIZERS]


# ----------------------------------------------------------------------------- updates by hand

def test_sgd_step_is_p_minus_lr_grad():
    p = with_grad(param([1.0, -2.0]), [0.5, 1.0])
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -2.1])


def test_sgd_momentum_buffer_starts_at_first_gradient_then_dampens():
    p = param([0.0, 0.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    with_grad(p, [1.0, 2.0])
    opt.step()  # b = g1 (no dampening on the first step)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.0, 2.0])
    np.testing.assert_allclose(p.data, [-0.1, -0.2])
    with_grad(p, [3.0, -1.0])
    opt.step()  # b = 0.9 b + 0.5 g2 = [2.4, 1.3]
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [2.4, 1.3])
    np.testing.assert_allclose(p.data, [-0.34, -0.33])


def test_sgd_nesterov_weight_decay_and_maximize():
    p = with_grad(param([1.0, 2.0]), [0.5, -0.5])
    opt = optim.SGD([p], lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.1, maximize=True)
    opt.step()  # d = -g + 0.1 p = [-0.4, 0.7];  b = d;  p -= 0.1 (d + 0.5 b) = p - 0.15 d
    np.testing.assert_allclose(p.data, [1.06, 1.895])


def test_adam_first_step_moves_each_coordinate_by_lr():
    # after bias correction m/sqrt(v) = g/|g| on the first step
    p = with_grad(param([1.0, 1.0, 1.0]), [0.3, -2.0, 1e-3])
    optim.Adam([p], lr=0.01, eps=0).step()
    np.testing.assert_allclose(p.data, [0.99, 1.01, 0.99])


def test_adamw_decays_the_parameter_not_the_gradient():
    p = with_grad(param([2.0]), [0.0])
    optim.AdamW([p], lr=0.1, weight_decay=0.5).step()  # zero gradient: only p *= 1 - 0.1 * 0.5
    np.testing.assert_allclose(p.data, [1.9])
    q = with_grad(param([2.0]), [0.0])
    optim.Adam([q], lr=0.1, weight_decay=0.5, eps=0).step()  # L2: d = 0.5 * 2 = 1, first step moves lr
    np.testing.assert_allclose(q.data, [1.9])
    with_grad(p, [0.0])
    with_grad(q, [0.0])
    optim.AdamW([p], lr=0.1, weight_decay=0.5).step()
    assert p.data[0] == pytest.approx(1.805)


def test_adagrad_divides_by_accumulated_root():
    p = with_grad(param([0.0]), [2.0])
    opt = optim.Adagrad([p], lr=1.0, initial_accumulator_value=5.0, eps=0, lr_decay=1.0)
    opt.step()  # s = 5 + 4 = 9;  p -= 1 * 2 / 3
    np.testing.assert_allclose(p.data, [-2 / 3])
    with_grad(p, [4.0])
    opt.step()  # s = 25;  lr_t = 1 / (1 + 1 * 1) = 0.5;  p -= 0.5 * 4 / 5
    np.testing.assert_allclose(p.data, [-2 / 3 - 0.4])
    assert opt.state[p]["step"] == 2


def test_rmsprop_and_adadelta_by_hand():
    p = with_grad(param([0.0]), [2.0])
    optim.RMSprop([p], lr=0.1, alpha=0.75, eps=0).step()  # v = 0.25 * 4 = 1;  p -= 0.1 * 2 / 1
    np.testing.assert_allclose(p.data, [-0.2])
    q = with_grad(param([0.0]), [2.0])
    optim.Adadelta([q], lr=1.0, rho=0.75, eps=1e-2).step()
    # v = 1;  delta = sqrt(0 + eps) / sqrt(1 + eps) * 2
    np.testing.assert_allclose(q.data, [-0.1 / math.sqrt(1.01) * 2])


def test_momentum_is_the_books_velocity_update():
    """The book: v <- αv - η∇, W <- W + v. Ours (torch's): b <- μb + ∇, W <- W - ηb. Same path."""
    params, loss = mlp()
    book = [p.data.copy() for p in params]
    velocity = [np.zeros_like(w) for w in book]
    opt = optim.Momentum(params, lr=0.05, momentum=0.9)
    for _ in range(20):
        opt.zero_grad()
        loss().backward()
        for w, v, p in zip(book, velocity, params):
            v *= 0.9
            v -= 0.05 * p.grad.data
            w += v
        opt.step()
    for w, p in zip(book, params):
        np.testing.assert_allclose(p.data, w, rtol=1e-12, atol=1e-12)


def test_nesterov_is_the_velocity_form_with_the_old_velocity():
    """p <- p + μ²v - (1 + μ)ηd with v the velocity before its update, then v <- μv - ηd."""
    params, loss = mlp()
    book = [p.data.copy() for p in params]
    velocity = [np.zeros_like(w) for w in book]
    opt = optim.Nesterov(params, lr=0.05, momentum=0.9)
    for _ in range(20):
        opt.zero_grad()
        loss().backward()
        for w, v, p in zip(book, velocity, params):
            g = p.grad.data
            w += 0.81 * v - 1.9 * 0.05 * g
            v *= 0.9
            v -= 0.05 * g
        opt.step()
    for w, p in zip(book, params):
        np.testing.assert_allclose(p.data, w, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- the Optimizer contract

@pytest.mark.parametrize("name, options", ALL_OPTIMIZERS, ids=ALL_IDS)
def test_every_optimizer_lowers_the_loss_in_float32_and_keeps_float32(name, options):
    params, loss = mlp(np.float32)
    opt = getattr(optim, name)(params, **options)
    before = loss().item()
    train(opt, params, loss, 30)
    after = loss().item()
    if options.get("maximize"):
        assert after > before + 0.05
    else:
        assert after < before - 0.05
    for p in params:
        assert p.dtype == np.float32 and p.is_leaf and p.grad_fn is None and p.requires_grad
        for value in opt.state.get(p, {}).values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32 and value.shape == p.shape


def test_works_with_module_parameters():
    from nnscratch import nn
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)  # a generator of nn.Parameter
    weight = model.weight.data.copy()
    (model(ns.ones(4, 3)) ** 2).mean().backward()
    opt.step()
    np.testing.assert_allclose(model.weight.data, weight - 0.1 * model.weight.grad.data, rtol=1e-6)
    assert model.weight in opt.state and isinstance(model.weight, nn.Parameter)


def test_float32_stays_float32_with_numpy_float64_hyperparameters():
    p = with_grad(param([1.0, 2.0], np.float32), [0.5, 0.5])
    opt = optim.Adam([p], lr=np.float64(0.1), betas=(np.float64(0.9), 0.999), weight_decay=np.float64(0.1))
    opt.step()
    assert p.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize("name, options", ALL_OPTIMIZERS, ids=ALL_IDS)
def test_step_never_writes_into_a_gradient_array(name, options):
    a, b = param([1.0, -1.0, 0.5]), param([0.0, 0.0, 0.0])
    shared = ns.tensor([0.3, -0.2, 0.1], dtype=np.float64)
    a.grad = b.grad = shared  # one gradient object for two tensors, as backward may hand out
    opt = getattr(optim, name)([a], **options)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared.data, [0.3, -0.2, 0.1])
    assert a.grad is shared
    assert not np.array_equal(a.data, [1.0, -1.0, 0.5])


def test_parameters_without_gradient_are_skipped():
    p, q = with_grad(param([1.0]), [1.0]), param([5.0])
    opt = optim.Adam([p, q], lr=0.1)
    opt.step()
    assert q.data[0] == 5.0 and q not in opt.state
    assert p.data[0] < 1.0 and opt.state[p]["step"] == 1


def test_zero_grad_sets_none_or_new_zero_tensor():
    a, b = with_grad(param([1.0, 2.0]), [3.0, 4.0]), param([0.0, 0.0])
    b.grad = a.grad  # shared
    opt = optim.SGD([a], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not b.grad
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    np.testing.assert_array_equal(b.grad.data, [3.0, 4.0])  # the other tensor's gradient is untouched
    opt.zero_grad()
    assert a.grad is None and b.grad is not None


def test_step_with_closure_returns_its_loss_and_records_inside_no_grad():
    params, loss = mlp()
    opt = optim.SGD(params, lr=0.1)

    def closure():
        opt.zero_grad()
        value = loss()
        value.backward()
        return value

    with ns.no_grad():
        first = opt.step(closure)
    second = opt.step(closure)
    assert isinstance(first, ns.Tensor) and second.item() < first.item()


def test_parameter_groups_have_their_own_options_and_defaults():
    p, q = with_grad(param([1.0]), [1.0]), with_grad(param([1.0]), [1.0])
    opt = optim.SGD([{"params": [p]}, {"params": q, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.9
    opt.step()
    np.testing.assert_allclose([p.data[0], q.data[0]], [0.9, 0.5])
    r = with_grad(param([1.0]), [1.0])
    opt.add_param_group({"params": [r], "lr": 1.0})
    opt.step()
    np.testing.assert_allclose(r.data, [0.0])
    assert "Parameter Group 2" in repr(opt) and "lr: 1.0" in repr(opt)


@pytest.mark.parametrize("params, error, match", [
    (ns.tensor([1.0], requires_grad=True), TypeError, "single Tensor"),
    ([], ValueError, "empty"),
    ([np.zeros(2)], TypeError, "only optimize Tensors"),
    ({ns.tensor([1.0], requires_grad=True)}, TypeError, "set"),
])
def test_bad_params_are_refused(params, error, match):
    with pytest.raises(error, match=match):
        optim.SGD(params, lr=0.1)


def test_refuses_non_leaf_and_repeated_parameters():
    p = param([1.0])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([p, p], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires momentum > 0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
    (lambda p: optim.SGD(p, lr=-1), "Invalid lr value: -1"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "beta parameter at index 1"),
    (lambda p: optim.RMSprop(p, momentum=-0.5), "Invalid momentum"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Invalid rho"),
])
def test_invalid_hyperparameters_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make([param([1.0])])


# ----------------------------------------------------------------------------- state dicts

def test_state_dict_layout_and_copies():
    params, loss = mlp()
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.01)
    train(opt, params, loss, 2)
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2, 3]]
    assert [g["lr"] for g in saved["param_groups"]] == [0.01, 0.5]
    assert saved["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(saved["state"]) == [0, 1, 2, 3]
    assert set(saved["state"][2]) == {"step", "exp_avg", "exp_avg_sq"} and saved["state"][2]["step"] == 2
    kept = saved["state"][0]["exp_avg"].copy()
    train(opt, params, loss, 1)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], kept)  # later steps don't touch it
    assert opt.state[params[0]]["step"] == 3


@pytest.mark.parametrize("name, options", ALL_OPTIMIZERS, ids=ALL_IDS)
def test_state_dict_round_trip_continues_the_same_trajectory(name, options):
    params, loss = mlp()
    uninterrupted = train(getattr(optim, name)(params, **options), params, loss, 20)

    params, loss = mlp()
    first = getattr(optim, name)(params, **options)
    train(first, params, loss, 10)
    saved = first.state_dict()
    del first
    resumed_params, resumed_loss = mlp()
    for p, q in zip(resumed_params, params):
        p.data[...] = q.data
    second = getattr(optim, name)(resumed_params, **dict(options, lr=123.0))  # lr comes from the dict
    second.load_state_dict(saved)
    assert second.param_groups[0]["lr"] == options.get("lr", getattr(optim, name)(params).defaults["lr"])
    resumed = train(second, resumed_params, resumed_loss, 10)
    for a, b in zip(resumed, uninterrupted):
        np.testing.assert_array_equal(a, b)


def test_optimizer_and_scheduler_survive_save_and_load_to_a_file(tmp_path):
    def run(steps, resume_from=None):
        params, loss = mlp()
        opt = optim.Adam(params, lr=0.05, amsgrad=True)
        scheduler = lr_scheduler.MultiStepLR(opt, milestones=[3, 6, 6], gamma=0.5)
        if resume_from is not None:
            saved = ns.load(resume_from)
            for p, value in zip(params, saved["params"]):
                p.data[...] = value
            opt.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
        for _ in range(steps):
            train(opt, params, loss, 1)
            scheduler.step()
        return params, opt, scheduler

    expected, _, _ = run(10)
    params, opt, scheduler = run(4)
    path = tmp_path / "checkpoint.npz"
    ns.save({"params": [p.data for p in params], "optimizer": opt.state_dict(),
             "scheduler": scheduler.state_dict()}, path)
    resumed, _, scheduler = run(6, resume_from=path)
    for a, b in zip(resumed, expected):
        np.testing.assert_array_equal(a.data, b.data)
    assert scheduler.get_last_lr() == [0.05 * 0.5 ** 3]


def test_load_state_dict_names_the_mismatch():
    p, q, r = param([1.0]), param([1.0, 2.0]), param([3.0])
    saved = optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="has 2 parameter groups, but this optimizer has 1"):
        optim.SGD([p, q], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="parameter group 1 of the loaded state dict has 1 parameters, "
                                         "but this optimizer's group 1 has 2"):
        optim.SGD([{"params": [p]}, {"params": [q, r]}], lr=0.1).load_state_dict(saved)
    with_grad(q, [1.0, 1.0])
    opt = optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1, momentum=0.9)
    opt.step()
    with pytest.raises(ValueError, match=r"parameter 1, 'momentum_buffer' has shape \(2,\), but the "
                                         r"parameter has shape \(1,\)"):
        optim.SGD([{"params": [p]}, {"params": [r]}], lr=0.1).load_state_dict(opt.state_dict())


def test_load_state_dict_casts_to_the_parameter_dtype():
    p = with_grad(param([1.0, 2.0]), [1.0, 1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    q = param([1.0, 2.0], np.float32)
    other = optim.SGD([q], lr=0.1, momentum=0.9)
    other.load_state_dict(opt.state_dict())
    assert other.state[q]["momentum_buffer"].dtype == np.float32


# ----------------------------------------------------------------------------- schedulers

def scheduled(make, lr=1.0, steps=10, optimizer=optim.SGD, **options):
    opt = optimizer([param([0.0])], lr=lr, **options)
    scheduler = make(opt)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == lrs[-1]
    return lrs


def test_step_multistep_and_exponential_lr():
    assert scheduled(lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5), steps=5) == \
        pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])
    assert scheduled(lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 3, 3], gamma=0.5), steps=4) == \
        pytest.approx([1, 0.5, 0.5, 0.125, 0.125])
    assert scheduled(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9), steps=3) == \
        pytest.approx([1, 0.9, 0.81, 0.729])


def test_cosine_annealing_follows_the_closed_form_through_two_periods():
    lrs = scheduled(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.1), steps=20)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 5)) / 2 for t in range(21)]
    assert lrs == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_linear_warmup_then_constant():
    lrs = scheduled(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3), lr=0.4, steps=5)
    assert lrs == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4])


def test_sequential_warmup_then_cosine():
    def make(o):
        return lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, start_factor=0.5, total_iters=2),
                                             lr_scheduler.CosineAnnealingLR(o, T_max=4)], milestones=[2])
    assert scheduled(make, steps=6) == pytest.approx([0.5, 0.75, 1.0, 0.8535533905932737, 0.5,
                                                      0.14644660940672627, 0.0])


def test_reduce_lr_on_plateau_patience_cooldown_and_min_lr():
    opt = optim.SGD([param([0.0])], lr=1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3]:
        scheduler.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    # bad epochs: 4 (1), 4 (2 > patience: halve, cooldown), 4 (cooldown), 4 (1), 4 (2: halve) ...
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25]
    for _ in range(4):
        scheduler.step(3)
    assert opt.param_groups[0]["lr"] == 0.2  # never below min_lr
    assert scheduler.get_last_lr() == [0.2]


def test_one_cycle_lr_and_momentum_shape():
    opt = optim.SGD([param([0.0])], lr=0.1, momentum=0.0)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    lrs, momenta = [scheduler.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(9):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    assert lrs[0] == pytest.approx(1 / 25) and momenta[0] == pytest.approx(0.95)
    assert lrs[2] == pytest.approx(1.0) and momenta[2] == pytest.approx(0.85)  # the peak: step 0.3 * 10 - 1
    assert lrs[-1] == pytest.approx(1 / 25 / 1e4) and momenta[-1] == pytest.approx(0.95)
    assert lrs[1] == pytest.approx(1.0 + (1 / 25 - 1) / 2 * (1 + math.cos(math.pi / 2)))
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        scheduler.step()
        scheduler.step()


def test_one_cycle_cycles_adam_beta1():
    opt = optim.Adam([param([0.0])], lr=0.1, betas=(0.9, 0.99))
    lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=4, base_momentum=0.7, max_momentum=0.8)
    assert opt.param_groups[0]["betas"] == (0.8, 0.99)
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([param([0.0])]), max_lr=0.5, total_steps=4)


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6),
    lambda o: lr_scheduler.OneCycleLR(o, max_lr=2.0, total_steps=20),
    lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, total_iters=3),
                                            lr_scheduler.ExponentialLR(o, gamma=0.8)], milestones=[3]),
], ids=["StepLR", "CosineAnnealingLR", "OneCycleLR", "SequentialLR"])
def test_scheduler_state_dict_resumes_the_schedule(make):
    opt = optim.SGD([param([0.0])], lr=1.0, momentum=0.9)
    scheduler = make(opt)
    for _ in range(5):
        scheduler.step()
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in saved
    expected = []
    for _ in range(8):
        scheduler.step()
        expected.append(scheduler.get_last_lr())

    opt2 = optim.SGD([param([0.0])], lr=1.0, momentum=0.9)
    scheduler2 = make(opt2)
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved)
    resumed = []
    for _ in range(8):
        scheduler2.step()
        resumed.append(scheduler2.get_last_lr())
    assert resumed == expected


def test_scheduler_needs_an_optimizer_and_initial_lr_to_resume():
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optim.SGD([param([0.0])]), step_size=1, last_epoch=3)


# ----------------------------------------------------------------------------- clipping

def test_clip_grad_norm_scales_to_max_norm_and_returns_the_total():
    a, b = with_grad(param([0.0, 0.0]), [3.0, 4.0]), with_grad(param([0.0]), [12.0])
    total = optim.clip_grad_norm_([a, b], max_norm=6.5)
    assert total.item() == pytest.approx(13.0)
    scale = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad.data, [3 * scale, 4 * scale])
    np.testing.assert_allclose(b.grad.data, [12 * scale])
    total = optim.clip_grad_norm_([a, b], max_norm=100.0)  # already small enough: unchanged
    assert total.item() == pytest.approx(6.5, rel=1e-6)
    np.testing.assert_allclose(b.grad.data, [12 * scale])


def test_clip_grad_norm_other_norms_and_edge_cases():
    a = with_grad(param([1.0, -5.0]), [1.0, -5.0])
    assert optim.clip_grad_norm_(a, 100.0, norm_type=math.inf).item() == 5.0
    assert optim.clip_grad_norm_([a], 100.0, norm_type=1).item() == 6.0
    assert optim.clip_grad_norm_([param([1.0])], 1.0).item() == 0.0  # no gradients at all
    with_grad(a, [np.nan, 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite=False"):
        optim.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def test_clipping_leaves_a_shared_gradient_array_alone():
    a, b = param([3.0, -4.0]), param([1.0, 1.0])
    (a + b).sum().backward()  # addition hands the same gradient to both
    b_grad = b.grad.data.copy()
    a.grad = b.grad = ns.tensor([30.0, -40.0], dtype=np.float64)  # shared for sure
    optim.clip_grad_norm_([a], max_norm=5.0)
    optim.clip_grad_value_([a], 1.0)
    np.testing.assert_array_equal(b.grad.data, [30.0, -40.0])
    assert a.grad is not b.grad
    np.testing.assert_allclose(a.grad.data, [1.0, -1.0])
    np.testing.assert_array_equal(b_grad, [1.0, 1.0])


def test_clip_grad_value():
    a = with_grad(param([0.0, 0.0, 0.0], np.float32), [-3.0, 0.2, 7.0])
    old = a.grad
    optim.clip_grad_value_(a, 0.5)
    np.testing.assert_array_equal(a.grad.data, np.array([-0.5, 0.2, 0.5], dtype=np.float32))
    assert a.grad.dtype == np.float32
    np.testing.assert_array_equal(old.data, np.array([-3.0, 0.2, 7.0], dtype=np.float32))
