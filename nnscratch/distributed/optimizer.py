"""Keeping the replicas of a model identical: broadcast once, then average gradients every step.

Data parallelism: every rank holds a full copy of the model and computes the gradient of the
mean loss over its own part of the global batch. If rank r's part has b samples (the same b on
every rank) and g_r is its mean gradient, the mean gradient over the whole global batch of
size·b samples is

    g = (1/size) Σ_r g_r

which ``DistributedOptimizer.step`` computes with one all-reduce before the wrapped optimizer's
update. Since every rank starts from rank 0's parameters and applies the same g, the replicas
stay identical without ever sending parameters again.
"""

import numpy as np

from ..optim import Optimizer
from ..tensor import Tensor


def _pack(arrays, dtype):
    """One contiguous 1-D array holding ``arrays`` one after the other."""
    flat = np.empty(sum(a.size for a in arrays), dtype=dtype)
    offset = 0
    for a in arrays:
        flat[offset:offset + a.size] = a.ravel()
        offset += a.size
    return flat


def _unpack_into(flat, arrays):
    offset = 0
    for a in arrays:
        a[...] = flat[offset:offset + a.size].reshape(a.shape)
        offset += a.size


def _check_shapes(comm, arrays, what):
    from .communicator import check_same
    check_same(comm, [(tuple(a.shape), str(a.dtype)) for a in arrays], f"{what} (shapes and dtypes)")


def broadcast_arrays_(arrays, comm, root=0, what="arrays"):
    """Copy rank ``root``'s values of ``arrays`` into every rank's, in one broadcast per dtype
    (after checking that all ranks have the same shapes)."""
    arrays = [a for a in arrays if a is not None]
    if comm.size == 1 or not arrays:
        return
    _check_shapes(comm, arrays, what)
    for dtype in sorted({a.dtype.str for a in arrays}):
        group = [a for a in arrays if a.dtype.str == dtype]
        flat = comm.bcast_array_(_pack(group, dtype), root)
        _unpack_into(flat, group)


def broadcast_state(module, comm, root=0):
    """Make every rank's parameters and buffers of ``module`` equal to rank ``root``'s."""
    broadcast_arrays_([t.data for t in module.state_dict().values()], comm, root, "model's parameters and buffers")


def average_buffers(module, comm):
    """Replace every floating-point buffer of ``module`` (BatchNorm's running mean and variance) by
    its mean over the ranks, so evaluation uses statistics of all the data seen, not one shard's."""
    buffers = [b.data for _, b in module.named_buffers() if b is not None and b.data.dtype.kind == "f"]
    if comm.size == 1 or not buffers:
        return
    for dtype in sorted({b.dtype.str for b in buffers}):
        group = [b for b in buffers if b.dtype.str == dtype]
        _unpack_into(comm.allreduce_mean(_pack(group, dtype)), group)


class DistributedOptimizer(Optimizer):
    """Wrap ``optimizer`` for data-parallel training on ``comm`` (Horovod's DistributedOptimizer).

    On creation the parameters (and, when ``module`` is given, its buffers too) are broadcast
    from rank 0. ``step()`` first averages the gradients over the ranks — packed into one
    contiguous buffer, one all-reduce per step however many parameters there are — then lets the
    wrapped optimizer update. A parameter without a gradient on some ranks counts as a zero
    gradient there; one without a gradient on every rank keeps ``grad = None`` (and is skipped).

    ``synchronize()`` averages the gradients without stepping (call it before clipping gradient
    norms, so every rank clips the same averaged gradient); ``step`` then does not reduce again.
    ``param_groups``, ``state``, ``defaults``, ``state_dict`` and ``load_state_dict`` are the
    wrapped optimizer's, so schedulers and checkpoints work as without the wrapper.
    """

    def __init__(self, optimizer, comm, module=None, broadcast=True):
        if isinstance(optimizer, DistributedOptimizer):
            raise TypeError("the optimizer is already a DistributedOptimizer; wrap the plain optimizer once")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"DistributedOptimizer wraps an nnscratch Optimizer, not {type(optimizer).__name__}")
        self.optimizer, self.comm = optimizer, comm
        # The base class's set-up (checks of the groups, work arrays) on the wrapped optimizer's groups.
        # Its assignments to param_groups and state go through to the wrapped optimizer (see the
        # properties below), so the wrapped optimizer's own list and state are put back after it.
        groups, state = optimizer.param_groups, optimizer.state
        super().__init__(groups, optimizer.defaults)
        optimizer.param_groups, optimizer.state = groups, state
        self._synchronized = False
        self.bytes_per_step = 0  # bytes sent into the last all-reduce
        if broadcast:
            if module is not None:
                broadcast_state(module, comm)
            else:
                broadcast_arrays_([p.data for p in self._params()], comm, what="optimizer's parameters")

    # the wrapped optimizer's attributes, read and written through
    param_groups = property(lambda self: self.optimizer.param_groups,
                            lambda self, value: setattr(self.optimizer, "param_groups", value))
    state = property(lambda self: self.optimizer.state, lambda self, value: setattr(self.optimizer, "state", value))
    defaults = property(lambda self: self.optimizer.defaults,
                        lambda self, value: setattr(self.optimizer, "defaults", value))

    def __repr__(self):
        return f"DistributedOptimizer({self.optimizer!r}, {self.comm!r})"

    def _params(self):
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none)
        self._synchronized = False

    def synchronize(self):
        """p.grad <- the mean of p.grad over the ranks, for every parameter, in one all-reduce of
        Σ p.size + (number of parameters) values (the extra values say which ranks had a gradient)."""
        self._synchronized = True
        if self.comm.size == 1:
            return
        params = self._params()
        dtype = np.result_type(*[p.data.dtype for p in params])
        sizes = [p.size for p in params]
        total = sum(sizes)
        flat = np.empty(total + len(params), dtype=dtype)  # new every step: the gradients become views of it
        offset = 0
        for i, (p, n) in enumerate(zip(params, sizes)):
            if p.grad is None:
                flat[offset:offset + n] = 0
                flat[total + i] = 0
            else:
                flat[offset:offset + n] = p.grad.data.ravel()
                flat[total + i] = 1
            offset += n
        self.bytes_per_step = flat.nbytes
        self.comm.allreduce_mean(flat)
        offset = 0
        for i, (p, n) in enumerate(zip(params, sizes)):
            if flat[total + i] > 0:
                p.grad = Tensor._wrap(flat[offset:offset + n].reshape(p.shape))
            offset += n

    def step(self, closure=None):
        """Average the gradients over the ranks (unless ``synchronize`` already did), then step."""
        loss = None
        if closure is not None:
            from ..tensor import enable_grad
            with enable_grad():
                loss = closure()
        if not self._synchronized:
            self.synchronize()
        self._synchronized = False
        self.optimizer.step()
        return loss

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(state_dict)

    def add_param_group(self, param_group):
        self.optimizer.add_param_group(param_group)
