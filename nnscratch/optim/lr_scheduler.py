"""Learning-rate schedulers: change ``group["lr"]`` of an optimizer as training goes on.

Call ``scheduler.step()`` once per epoch (or per batch for OneCycleLR; ``step(metric)`` for
ReduceLROnPlateau), after ``optimizer.step()``: each scheduler says which in its ``step_on``,
and ``fit`` steps it accordingly. Creating a scheduler already sets the learning rate for epoch 0.
The schedules follow ``torch.optim.lr_scheduler``: most compute the next lr from the
current one (so they compose with other changes to lr), and the numbers match PyTorch's.
"""

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter

from .optimizer import Optimizer


class LRScheduler:
    """Base class. ``last_epoch`` counts the calls of ``step()`` (0 after construction);
    subclasses implement ``get_lr()``, the learning rates for epoch ``last_epoch``.

    ``base_lrs`` are the learning rates the groups had when the schedule started (saved in each
    group as ``"initial_lr"``). ``last_epoch`` other than -1 resumes a schedule; the groups must
    then already have ``"initial_lr"`` (e.g. from a loaded optimizer state).

    ``step_on`` says when a training loop calls ``step``: ``"epoch"`` (after each epoch),
    ``"batch"`` (after each optimizer step) or ``"monitor"`` (after each epoch, as
    ``step(value)`` with a monitored value such as the validation loss). A subclass declares it
    as a class attribute; setting it on an instance (``LambdaLR(...).step_on = "batch"``) makes
    ``fit`` step that scheduler per batch.
    """

    step_on = "epoch"

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = _check_optimizer(optimizer)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param_groups[{i}] has no 'initial_lr', needed to resume a schedule at "
                               f"last_epoch={last_epoch}; load the optimizer's state dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rate of each group for epoch ``last_epoch``."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch=None):
        """Advance one epoch and set the groups' learning rates. (Passing ``epoch`` jumps there
        using the closed form; deprecated in PyTorch, kept for compatibility.)"""
        if epoch is not None:
            warnings.warn("passing an epoch to scheduler.step() is deprecated; call step() once per "
                          "epoch instead", UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (which has its own state dict)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` saved."""
        self.__dict__.update(state_dict)


def _lambdas(lr_lambda, optimizer):
    """One function per parameter group (a single function serves every group)."""
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
        return list(lr_lambda)
    return [lr_lambda] * len(optimizer.param_groups)


class _LambdaState:
    """State dicts of the lambda schedules: a plain function cannot be saved, so it is stored as
    None (as PyTorch does); a callable object keeps its attributes."""

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaState, LRScheduler):
    """lr = base_lr * lr_lambda(epoch): any schedule given as a function of the epoch (one per
    parameter group, or one for all), e.g. ``LambdaLR(opt, lambda epoch: 0.95 ** epoch)``."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = _check_optimizer(optimizer)
        self.lr_lambdas = _lambdas(lr_lambda, optimizer)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """lr = lr * lr_lambda(epoch) at every step after the first: the factor compounds,
    e.g. ``MultiplicativeLR(opt, lambda epoch: 0.95)`` is ExponentialLR(opt, 0.95)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = _check_optimizer(optimizer)
        self.lr_lambdas = _lambdas(lr_lambda, optimizer)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch > 0:
            return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, self._lrs())]
        return self._lrs()


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): multiply by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones <= epoch): multiply by gamma at each milestone."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]

    def _get_closed_form_lr(self):
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)  # a saved file may give back a plain dict


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch: multiply by gamma every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear warm-up: the factor on base_lr goes linearly from start_factor to end_factor over
    total_iters epochs, then stays::

        lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._lrs()
        # the ratio of this epoch's factor to the previous one
        change = self.end_factor - self.start_factor
        ratio = 1 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        return [lr * ratio for lr in self._lrs()]

    def _get_closed_form_lr(self):
        change = self.end_factor - self.start_factor
        factor = self.start_factor + change * min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * factor for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr down to eta_min over T_max epochs (then back up, periodically)::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    Like PyTorch, each step computes the new lr from the current one (so the schedule also works
    when something else changed lr); without such changes it equals the formula above.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._lrs()
        if self._step_count == 1 and t > 0:  # resumed: no current lr to continue from
            return self._get_closed_form_lr()
        if (t - 1 - T) % (2 * T) == 0:  # leaving the minimum: the ratio below would be 0/0
            return [lr + (base - low) * (1 - math.cos(math.pi / T)) / 2
                    for base, lr in zip(self.base_lrs, self._lrs())]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - low) + low for lr in self._lrs()]

    def _get_closed_form_lr(self):
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * cosine / 2 for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its
    epoch 0), and so on; e.g. ``SequentialLR(opt, [LinearLR(opt, ...), CosineAnnealingLR(opt, ...)],
    milestones=[5])`` warms up for 5 epochs, then anneals."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler")
        for i, scheduler in enumerate(schedulers):
            if scheduler.step_on == "monitor":
                raise ValueError(f"SequentialLR does not support {type(scheduler).__name__} (schedulers[{i}]): "
                                 "its step() needs a metric")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"schedulers[{i}] belongs to a different optimizer than SequentialLR's")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR needs one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self.optimizer = optimizer
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        # the schedulers' constructors already stepped once: undo that, then start the first one
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            _undo_initial_step(scheduler)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        """Advance one epoch with the scheduler in charge of it."""
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._update_lr(0)  # a fresh start: the closed form at epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        for scheduler, saved in zip(self._schedulers, state.pop("_schedulers")):
            scheduler.load_state_dict(saved)
        self.__dict__.update(state)


def _undo_initial_step(scheduler):
    if hasattr(scheduler, "_schedulers"):
        for inner in scheduler._schedulers:
            _undo_initial_step(inner)
    else:
        scheduler.last_epoch -= 1


class ReduceLROnPlateau(LRScheduler):
    """Multiply lr by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    ``step(metric)`` once per epoch (``step_on = "monitor"``: ``fit`` passes the validation loss,
    or the training loss without validation data, or the log named by ``scheduler.monitor`` when
    that attribute is set). In mode 'min' a value improves on the best so far when it is
    below best * (1 - threshold) (threshold_mode 'rel') or best - threshold ('abs'); in mode 'max'
    when above best * (1 + threshold) or best + threshold. After more than ``patience`` epochs
    without improvement: lr <- max(lr * factor, min_lr) (skipped if the change is below ``eps``),
    then ``cooldown`` epochs during which bad epochs are not counted.
    """

    step_on = "monitor"

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError(f"factor must be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.optimizer = _check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs (one per parameter group), got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * n
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0
        super().__init__(optimizer)

    def _initial_step(self):
        """Unlike a schedule, nothing to set before the first metric: start at epoch 0 with the
        groups' learning rates as they are."""
        self._step_count = 0
        self.last_epoch = 0
        self._last_lr = self._lrs()

    def _is_better(self, value):
        relative = self.threshold_mode == "rel"
        if self.mode == "min":
            return value < (self.best * (1 - self.threshold) if relative else self.best - self.threshold)
        return value > (self.best * (1 + self.threshold) if relative else self.best + self.threshold)

    def _match_groups(self):
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):  # a group was added after this scheduler was made
            if self.default_min_lr is None:
                raise RuntimeError(f"the optimizer now has {len(groups)} parameter groups but min_lr "
                                   f"was given for {len(self.min_lrs)}; set scheduler.min_lrs to one "
                                   "value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)

    def step(self, metrics):
        """Record this epoch's metric (a number or one-element tensor) and maybe reduce lr."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._match_groups()
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._lrs()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith, 2018), stepped once per *batch* (``step_on = "batch"``), as
    PyTorch's ``OneCycleLR``.

    Over ``total_steps`` (or ``epochs * steps_per_epoch``) steps the lr goes from
    ``max_lr / div_factor`` up to ``max_lr`` (the first ``pct_start`` of the steps), then down to
    ``max_lr / div_factor / final_div_factor``. With ``three_phase=True`` it comes back down to the
    start value symmetrically first, and only the third phase goes to the minimum. Within a phase
    going from a to b at fraction x of the phase::

        'cos':    b + (a - b) * (1 + cos(pi * x)) / 2        'linear':  a + (b - a) * x

    With ``cycle_momentum`` the momentum (beta1 for Adam-like optimizers) moves the opposite way,
    between ``max_momentum`` (when lr is low) and ``base_momentum`` (when lr is at max_lr).
    """

    step_on = "batch"

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _check_optimizer(optimizer)
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value <= 0:
                    raise ValueError(f"Expected positive integer {name}, but got {value}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        # (last step of the phase, lr from, lr to, momentum from, momentum to): names of group keys
        up = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if three_phase:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                             "base_momentum", "max_momentum"),
                            (last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (last, "max_lr", "min_lr", "base_momentum", "max_momentum")]

        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, top in zip(groups, _per_group("max_lr", max_lr, groups)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option "
                                 "enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                highs = _per_group("max_momentum", max_momentum, groups)
                lows = _per_group("base_momentum", base_momentum, groups)
                for group, high, low in zip(groups, highs, lows):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m_from], group[m_to], pct))
                    break
                start = end
        return lrs


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
    return optimizer


def _per_group(name, value, groups):
    """``value`` repeated for every group, or checked to have one entry per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{name} must have one value per parameter group: got {len(value)} values "
                             f"for {len(groups)} groups")
        return list(value)
    return [value] * len(groups)
