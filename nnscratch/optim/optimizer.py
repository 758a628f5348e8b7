"""Optimizer: the base class of every optimizer (SGD, Adam, ...).

An optimizer owns a list of *parameter groups*: dicts holding a list of parameters
(``group["params"]``) and the hyper-parameters used for them (``group["lr"]``, ...). Options
missing from a group come from the optimizer's ``defaults``. Per-parameter memory (momentum
buffers, running averages, step counts) lives in ``state[param]``.

One training step is::

    optimizer.zero_grad()     # forget the previous gradients
    loss.backward()           # fill p.grad for every parameter
    optimizer.step()          # p <- p - (something computed from p.grad and state[p])

``step`` visits every parameter that has a gradient, turns its gradient into the *direction*
``d = ±grad + weight_decay * p`` (sign flipped when ``maximize=True``) and hands it to the
subclass's ``_update``, which changes ``p.data`` in place. Updates work on NumPy arrays, never
on Tensor operations, so no graph is recorded. Gradient arrays may be shared between tensors,
so an optimizer reads ``p.grad`` but never writes into it.
"""

import copy

import numpy as np

from ..tensor import Tensor, enable_grad, no_grad


class Optimizer:
    """Base class: holds ``param_groups`` and ``state``; subclasses implement ``_update``.

    ``Optimizer(params, defaults)``: ``params`` is an iterable of tensors, or of dicts (parameter
    groups, each ``{"params": [...], "lr": ..., ...}`` with its own options); ``defaults`` maps
    each option to the value used when a group does not set it.

    A subclass implements ``_update(p, d, state, group)``, which changes the parameter array
    ``p`` in place given the direction ``d`` (see ``_direction``), and optionally
    ``_init_state(p, group)``, which returns the parameter's initial state dict.
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params should be an iterable of Tensors or of dicts, but got a single "
                            "Tensor; wrap it in a list: [param]")
        self.defaults = dict(defaults)
        self.state = {}  # parameter Tensor -> dict of its state (tensors hash by identity)
        self.param_groups = []
        self._scratch = {}  # reusable work arrays, see _buffer
        groups = _ordered(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params"]
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------ parameter groups

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and optional options), e.g. layers
        being unfrozen during fine-tuning. Options it leaves out take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else _ordered(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is a "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (one computed from others); "
                                 "optimize the leaves it was computed from, or detach() it")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError("a parameter appears twice in the same parameter group; it would be "
                             "updated twice per step")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.param_groups.append(group)

    # ------------------------------------------------------------------ the step

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: ``p.grad = None`` (default), or, with ``set_to_none=False``,
        give every parameter that has a gradient a new all-zero gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    # a new array: the old one may be shared with another tensor's gradient
                    p.grad = None if set_to_none else Tensor._wrap(np.zeros_like(p.grad.data))

    def step(self, closure=None):
        """Update every parameter that has a gradient (parameters with ``grad=None`` are skipped).

        ``closure``, if given, is called first (with grad mode on) to recompute the loss; its
        result is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.get(p)
                    if state is None:
                        state = self._init_state(p.data, group)
                        if state:
                            self.state[p] = state
                    direction = self._direction(p, group)
                    if group.get("decoupled_weight_decay") and group["weight_decay"] != 0:
                        p.data *= 1 - group["lr"] * group["weight_decay"]  # p <- p (1 - lr wd)
                    self._update(p.data, direction, state, group)
        return loss

    def _init_state(self, p, group):
        """The state of parameter array ``p`` before its first update (arrays in p's dtype)."""
        return {}

    def _update(self, p, d, state, group):
        """Change ``p`` (the parameter's array) in place, given the direction ``d``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def _direction(self, p, group):
        """d = g + weight_decay * p, with g = -grad when ``maximize`` else grad.

        The weight decay here is the classic L2 penalty folded into the gradient; with
        ``decoupled_weight_decay`` (AdamW) it is applied to the parameter in ``step`` instead.
        The result may be the gradient's own array: read it, never write into it.
        """
        grad = p.grad.data
        maximize = group.get("maximize", False)
        weight_decay = group.get("weight_decay", 0)
        if group.get("decoupled_weight_decay"):
            weight_decay = 0
        if not maximize and weight_decay == 0:
            return grad
        d = self._buffer("direction", p.data)
        if weight_decay == 0:
            return np.negative(grad, out=d)
        np.multiply(p.data, weight_decay, out=d)
        if maximize:
            d -= grad
        else:
            d += grad
        return d

    def _buffer(self, name, like):
        """A work array shaped like ``like``, reused from step to step (no allocation in the
        hot path). One flat array per name and dtype, as large as the largest parameter."""
        key = (name, like.dtype)
        flat = self._scratch.get(key)
        if flat is None or flat.size < like.size:
            flat = self._scratch[key] = np.empty(like.size, dtype=like.dtype)
        return flat[:like.size].reshape(like.shape)

    # ------------------------------------------------------------------ saving and loading

    def state_dict(self):
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [{..., "params":
        [index, ...]}]}``, parameters numbered in the order of the groups (PyTorch's layout).
        Arrays are copies: later steps do not change a saved state dict."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` saved. The groups must have the same number of
        parameters, in the same order; hyper-parameters (lr, ...) are taken from the saved dict."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, but this "
                             f"optimizer has {len(self.param_groups)}")
        by_index = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"parameter group {i} of the loaded state dict has "
                                 f"{len(saved['params'])} parameters, but this optimizer's group {i} "
                                 f"has {len(group['params'])}")
            by_index.update(zip(saved["params"], group["params"]))
        state = {}
        for index, saved in state_dict["state"].items():
            if index not in by_index:
                raise ValueError(f"loaded state dict has state for parameter {index}, which is in "
                                 "none of its parameter groups")
            p = by_index[index]
            state[p] = {key: _array_like(value, p, f"state of parameter {index}, '{key}'")
                        for key, value in saved.items()}
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            restored = {key: copy.deepcopy(value) for key, value in saved.items() if key != "params"}
            restored["params"] = group["params"]
            groups.append(restored)
        self.state, self.param_groups = state, groups


def _ordered(params):
    if isinstance(params, set):
        raise TypeError("optimizer parameters must be in an ordered collection (a list), not a "
                        "set: the order of a set changes between runs")
    return list(params)


def _array_like(value, p, where):
    """A copy of a saved state value; arrays get the parameter's dtype and must have its shape."""
    if not isinstance(value, np.ndarray):
        return copy.deepcopy(value)
    if value.shape != p.shape:
        raise ValueError(f"{where} has shape {tuple(value.shape)}, but the parameter has shape {tuple(p.shape)}")
    return value.astype(p.dtype) if value.dtype.kind == "f" else value.copy()


# ---------------------------------------------------------------------- shared update pieces

def check_nonnegative(**hyperparameters):
    """Raise ValueError naming the first hyper-parameter that is negative."""
    for name, value in hyperparameters.items():
        if value < 0:
            raise ValueError(f"Invalid {name} value: {value} (it must be >= 0)")


def ema_(average, value, beta, tmp):
    """average <- beta * average + (1 - beta) * value, in place (an exponential moving average).

    ``tmp`` is a work array like ``average``; ``value`` may be ``tmp`` itself.
    """
    np.multiply(value, 1 - beta, out=tmp)
    average *= beta
    average += tmp


def descend_(p, lr, direction, tmp):
    """p <- p - lr * direction, in place (``direction`` may be the work array ``tmp``)."""
    np.multiply(direction, lr, out=tmp)
    p -= tmp
