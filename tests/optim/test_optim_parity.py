"""nnscratch.optim against torch.optim: the same parameter trajectories, lr sequences and clipping.

Skipped as a whole when torch is not installed.
"""

import itertools
import math

import numpy as np
import pytest
from tolerance import tolerance

torch = pytest.importorskip("torch")

import nnscratch as ns  # noqa: E402
import nnscratch.functional as F  # noqa: E402
from nnscratch import optim  # noqa: E402

STEPS = 25
BATCH = 16


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: torch's thread pool only adds overhead (and stalls on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------- the two MLPs

def initial_weights(dtype):
    """A fixed batch and the weights of a 5-8-3 MLP."""
    rng = np.random.default_rng(1234)
    x = rng.standard_normal((BATCH, 5))
    y = rng.integers(0, 3, BATCH)
    weights = [rng.standard_normal((5, 8)) * 0.5, rng.standard_normal(8) * 0.1,
               rng.standard_normal((8, 3)) * 0.5, rng.standard_normal(3) * 0.1]
    return x.astype(dtype), y, [w.astype(dtype) for w in weights]


def ns_loss(params, x, y):
    W1, b1, W2, b2 = params
    logits = (x @ W1 + b1).tanh() @ W2 + b2
    return -F.log_softmax(logits, axis=1)[np.arange(len(y)), y].mean()


def torch_loss(params, x, y):
    W1, b1, W2, b2 = params
    logits = torch.tanh(x @ W1 + b1) @ W2 + b2
    return -torch.log_softmax(logits, dim=1)[torch.arange(len(y)), y].mean()


def groups_of(params, groups):
    """``params`` as they go to the optimizer: a list, or parameter groups by index."""
    if groups is None:
        return params
    return [dict(options, params=[params[i] for i in indices]) for indices, options in groups]


def ns_trajectory(make, dtype, steps=STEPS, groups=None):
    x, y, weights = initial_weights(dtype)
    params = [ns.tensor(w, requires_grad=True, dtype=dtype) for w in weights]
    opt = make(optim, groups_of(params, groups))
    path = []
    for _ in range(steps):
        opt.zero_grad()
        ns_loss(params, ns.tensor(x, dtype=dtype), y).backward()
        opt.step()
        path.append([p.data.copy() for p in params])
    return path, opt, params


def torch_trajectory(make, dtype, steps=STEPS, groups=None, shuffle=None):
    """torch's path; with ``shuffle`` (a seed), from the batch's samples in another order: the same
    mathematics, summed in another order, so rounded differently."""
    x, y, weights = initial_weights(dtype)
    if shuffle is not None:
        order = np.random.default_rng(shuffle).permutation(len(y))
        x, y = x[order], y[order]
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    opt = make(torch.optim, groups_of(params, groups))
    path = []
    for _ in range(steps):
        opt.zero_grad()
        torch_loss(params, torch.from_numpy(x), torch.from_numpy(y)).backward()
        opt.step()
        path.append([p.detach().numpy().copy() for p in params])
    return path, opt


def assert_same_path(ours, theirs, dtype, reference=None, neighbours=()):
    """Same parameters after every step: to 1e-9 relative in float64; in float32 to the rounding
    of the sums that made them (tolerance.tolerance: each step adds a gradient summed over the
    BATCH samples, and the steps' roundings add up too, so n = BATCH * steps so far, for values
    of the size of the largest parameter) plus twice torch's own float32 rounding error, its
    distance from the exact (float64) ``reference`` path, or of the distance of its float32 paths
    from shuffled batches (``neighbours``), whichever is larger. That allowance matters only
    where rounding is amplified: RMSprop normalises near-zero gradients (maximize on a saturating
    loss) or divides by the cancelling sqrt(v - m²) (centered, on a fixed batch), and there torch's
    float32 path is itself up to 1e-3 away from the exact one (and ours, by another chance of
    rounding, may be further than torch's)."""
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for i, (pa, pb) in enumerate(zip(a, b, strict=True)):
            assert pa.dtype == dtype
            where = f"step {step + 1}, parameter {i}"
            if dtype == np.float64:
                np.testing.assert_allclose(pa, pb, rtol=1e-9, atol=1e-11, err_msg=where)
            else:
                rounding = tolerance(BATCH * (step + 1), np.abs(pb).max())
                spread = np.max([np.abs(path[step][i] - reference[step][i]) for path in [theirs, *neighbours]], axis=0)
                allowed = rounding + 2 * spread
                excess = np.abs(pa.astype(np.float64) - pb) - allowed
                assert excess.max() <= 0, f"{where}: off by {excess.max():.3g} more than allowed"
    moved = max(float(np.abs(first - last).max()) for first, last in zip(ours[0], ours[-1]))
    assert moved > 1e-3  # the optimizer really did something


def assert_same_state(ours, theirs):
    """Our state_dict has torch's layout: same indices, same state keys and values, same options."""
    ours, theirs = ours.state_dict(), theirs.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for index, state in ours["state"].items():
        assert state.keys() == theirs["state"][index].keys()
        for key, value in state.items():
            np.testing.assert_allclose(np.asarray(value, dtype=np.float64),
                                       np.asarray(theirs["state"][index][key], dtype=np.float64),
                                       rtol=1e-9, atol=1e-11, err_msg=f"state[{index}][{key!r}]")
    for group, their_group in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        for key, value in group.items():
            assert key in their_group and value == pytest.approx(their_group[key]), key


# ----------------------------------------------------------------------------- every option combination

def combos(**options):
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


SGD_CONFIGS = [c for c in combos(lr=[0.1], momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True],
                                 weight_decay=[0, 0.05], maximize=[False, True])
               if not (c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0))]
ADAM_CONFIGS = combos(lr=[0.01], betas=[(0.8, 0.95)], amsgrad=[False, True], weight_decay=[0, 0.1],
                      maximize=[False, True])
RMSPROP_CONFIGS = combos(lr=[0.01], alpha=[0.9], centered=[False, True], momentum=[0, 0.5],
                         weight_decay=[0, 0.05], maximize=[False, True])
ADAGRAD_CONFIGS = combos(lr=[0.1], lr_decay=[0, 0.05], initial_accumulator_value=[0, 0.1],
                         weight_decay=[0, 0.05], maximize=[False, True])
ADADELTA_CONFIGS = combos(lr=[1.0], rho=[0.9, 0.5], weight_decay=[0, 0.05], maximize=[False, True])

CASES = ([("SGD", c) for c in SGD_CONFIGS] + [("Adam", c) for c in ADAM_CONFIGS]
         + [("AdamW", c) for c in ADAM_CONFIGS] + [("RMSprop", c) for c in RMSPROP_CONFIGS]
         + [("Adagrad", c) for c in ADAGRAD_CONFIGS] + [("Adadelta", c) for c in ADADELTA_CONFIGS])


def case_id(case):
    name, config = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in config.items() if k != "lr")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_trajectory_matches_torch(case, dtype):
    name, config = case

    def make(lib, params):
        return getattr(lib, name)(params, **config)

    ours, opt, _ = ns_trajectory(make, dtype)
    theirs, torch_opt = torch_trajectory(make, dtype)
    reference = theirs if dtype == np.float64 else torch_trajectory(make, np.float64)[0]
    neighbours = [] if dtype == np.float64 else [torch_trajectory(make, dtype, shuffle=s)[0] for s in (1, 2)]
    assert_same_path(ours, theirs, dtype, reference, neighbours)
    if dtype == np.float64:
        assert_same_state(opt, torch_opt)


def test_default_hyperparameters_match_torch():
    p, tp = ns.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"):
        ours, theirs = getattr(optim, name)([p]).defaults, getattr(torch.optim, name)([tp]).defaults
        for key, value in ours.items():
            assert value == theirs[key], (name, key)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("book_name, torch_options", [
    ("Momentum", dict(lr=0.01, momentum=0.9)),
    ("Nesterov", dict(lr=0.01, momentum=0.9, nesterov=True)),
])
def test_book_names_are_torch_sgd(book_name, torch_options, dtype):
    ours, _, _ = ns_trajectory(lambda lib, params: getattr(optim, book_name)(params), dtype)
    make_torch = lambda lib, params: torch.optim.SGD(params, **torch_options)  # noqa: E731
    theirs, _ = torch_trajectory(make_torch, dtype)
    neighbours = [torch_trajectory(make_torch, dtype, shuffle=s)[0] for s in (1, 2)] if dtype == np.float32 else []
    assert_same_path(ours, theirs, dtype, torch_trajectory(make_torch, np.float64)[0], neighbours)


@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
])
def test_parameter_groups_with_their_own_options(name, options):
    # layer 1 at the default options, layer 2 with a smaller lr and weight decay
    groups = [([0, 1], {}), ([2, 3], dict(lr=options["lr"] / 10, weight_decay=0.1))]

    def make(lib, params):
        return getattr(lib, name)(params, **options)

    ours, opt, _ = ns_trajectory(make, np.float64, groups=groups)
    theirs, torch_opt = torch_trajectory(make, np.float64, groups=groups)
    assert_same_path(ours, theirs, np.float64)
    assert [g["lr"] for g in opt.param_groups] == [options["lr"], options["lr"] / 10]
    assert_same_state(opt, torch_opt)


# ----------------------------------------------------------------------------- schedulers

def lr_sequences(make_scheduler, optimizer="SGD", options=None, steps=30, metrics=None):
    """get_last_lr() after construction and after each of ``steps`` epochs, for both libraries,
    plus the momentum (or beta1) of every group at each point."""
    options = options or dict(lr=0.1, momentum=0.9)
    results = []
    for lib, make_tensor in ((optim, lambda: ns.tensor([1.0], requires_grad=True)),
                             (torch.optim, lambda: torch.tensor([1.0], requires_grad=True))):
        groups = [{"params": [make_tensor()]}, {"params": [make_tensor()], "lr": options["lr"] / 4}]
        opt = getattr(lib, optimizer)(groups, **options)
        scheduler = make_scheduler(lib.lr_scheduler, opt)
        lrs, momenta = [scheduler.get_last_lr()], [_momenta(opt)]
        for epoch in range(steps):
            opt.step()
            if metrics is None:
                scheduler.step()
            else:
                scheduler.step(metrics[epoch])
            lrs.append(scheduler.get_last_lr())
            momenta.append(_momenta(opt))
        results.append((lrs, momenta))
    return results


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def assert_same_sequences(results):
    (lrs, momenta), (torch_lrs, torch_momenta) = results
    np.testing.assert_allclose(np.array(lrs, dtype=float), np.array(torch_lrs, dtype=float),
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.array(momenta, dtype=float), np.array(torch_momenta, dtype=float),
                               rtol=1e-12, atol=0)
    assert len({tuple(lr) for lr in lrs}) > 1  # the schedule did change lr


SCHEDULERS = {
    "StepLR": lambda s, opt: s.StepLR(opt, step_size=4, gamma=0.5),
    "MultiStepLR": lambda s, opt: s.MultiStepLR(opt, milestones=[3, 7, 7, 20], gamma=0.3),
    "ExponentialLR": lambda s, opt: s.ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda s, opt: s.CosineAnnealingLR(opt, T_max=8),
    "CosineAnnealingLR-eta_min": lambda s, opt: s.CosineAnnealingLR(opt, T_max=10, eta_min=0.002),
    "LinearLR": lambda s, opt: s.LinearLR(opt, start_factor=0.1, total_iters=10),
    "LinearLR-decay": lambda s, opt: s.LinearLR(opt, start_factor=1.0, end_factor=0.2, total_iters=7),
    "SequentialLR": lambda s, opt: s.SequentialLR(
        opt, [s.LinearLR(opt, start_factor=0.25, total_iters=5), s.CosineAnnealingLR(opt, T_max=12)],
        milestones=[5]),
    "SequentialLR-three": lambda s, opt: s.SequentialLR(
        opt, [s.ExponentialLR(opt, gamma=0.8), s.StepLR(opt, step_size=3, gamma=0.5),
              s.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)], milestones=[6, 15]),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_torch(name):
    assert_same_sequences(lr_sequences(SCHEDULERS[name]))


PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.95, 0.9, 0.91, 0.85, 0.85, 0.8501, 0.86, 0.87, 0.84, 0.84, 0.84, 0.84,
                   0.83, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]


@pytest.mark.parametrize("options", [
    dict(patience=2),
    dict(patience=1, cooldown=2, factor=0.5),
    dict(patience=0, threshold=0.02, threshold_mode="abs", min_lr=[0.003, 0.002]),
    dict(mode="max", patience=1, factor=0.5, min_lr=0.01),
    dict(mode="max", patience=2, threshold=0.01, threshold_mode="abs", eps=0.03),
], ids=str)
def test_reduce_lr_on_plateau_matches_torch(options):
    make = lambda s, opt: s.ReduceLROnPlateau(opt, **options)  # noqa: E731
    assert_same_sequences(lr_sequences(make, metrics=PLATEAU_METRICS))


@pytest.mark.parametrize("optimizer, options", [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=0.01, betas=(0.9, 0.99))),
])
@pytest.mark.parametrize("schedule", [
    dict(max_lr=0.5, total_steps=30),
    dict(max_lr=[0.5, 0.2], epochs=5, steps_per_epoch=6, pct_start=0.25, anneal_strategy="linear"),
    dict(max_lr=0.3, total_steps=30, three_phase=True, base_momentum=0.8, max_momentum=0.9),
    dict(max_lr=0.3, total_steps=30, div_factor=10.0, final_div_factor=100.0, cycle_momentum=False),
], ids=str)
def test_one_cycle_matches_torch_including_momentum(optimizer, options, schedule):
    make = lambda s, opt: s.OneCycleLR(opt, **schedule)  # noqa: E731
    results = lr_sequences(make, optimizer, options, steps=29)
    assert_same_sequences(results)
    if schedule.get("cycle_momentum", True):
        momenta = [m[0] for m in results[0][1]]
        assert max(momenta) > min(momenta)  # momentum (beta1 for Adam) really cycles


# ----------------------------------------------------------------------------- clipping

def _grads(dtype):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(shape).astype(dtype) for shape in ((4, 3), (3,), (2, 2, 2))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1000.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    grads = _grads(dtype)
    params = [ns.zeros(*g.shape, dtype=dtype, requires_grad=True) for g in grads]
    tparams = [torch.zeros(g.shape, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
               for g in grads]
    for p, tp, g in zip(params, tparams, grads):
        p.grad, tp.grad = ns.tensor(g, dtype=dtype), torch.tensor(g)
    total = optim.clip_grad_norm_(params, max_norm, norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type)
    n = sum(g.size for g in grads)  # the norm sums every element's |g|**p
    tol = dict(rtol=tolerance(n, dtype=dtype), atol=0)
    assert total.dtype == dtype and total.shape == ()
    np.testing.assert_allclose(total.item(), torch_total.item(), **tol)
    for p, tp in zip(params, tparams):
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), **tol)


def test_clip_grad_value_matches_torch():
    grads = _grads(np.float32)
    params = [ns.zeros(*g.shape, requires_grad=True) for g in grads]
    tparams = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, tparams, grads):
        p.grad, tp.grad = ns.tensor(g), torch.tensor(g)
    optim.clip_grad_value_(params, 0.7)
    torch.nn.utils.clip_grad_value_(tparams, 0.7)
    for p, tp in zip(params, tparams):
        np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())
