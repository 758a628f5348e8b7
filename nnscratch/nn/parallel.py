"""DataParallel: one network computed on slices of each batch by several threads at once.

NumPy runs an elementwise operation (ReLU, pooling, im2col, Adam's update) on one core; only its
matrix products use more, through the BLAS. With ``threads=k``, DataParallel splits a batch of N
samples into k slices and runs the network on each slice in a thread of its own, with the BLAS
held to one thread: every core then works on every operation. NumPy releases Python's global lock
inside its loops, so the threads overlap except for the Python between operations.

    forward:   x = [x_1; ...; x_k]  ->  y_j = net(x_j) in thread j  ->  y = [y_1; ...; y_k]
    backward:  dL/dy = [g_1; ...; g_k]  ->  each slice's backward in its thread
               dL/dW = Σ_j dL/dW|_j        (the slices share W; their gradients add up)

Since a loss that averages over the batch is Σ_j (N_j / N) · (mean over slice j), the gradient is
that of the whole batch, up to the order of floating-point sums. Two things differ, as in
PyTorch's ``nn.DataParallel``: batch norm uses each slice's own statistics (its running estimates
come from the first slice), and dropout draws its masks in each thread from a child of the main
generator (``Generator.spawn``: a seeded run is reproducible for a given number of threads).

Each thread runs a *replica*: a shallow copy of the module tree whose parameters are new
``Parameter`` objects over the same arrays (so each thread's gradients stay separate) and whose
buffers are its own copies (refreshed from the module at each call). Wrap the finished network:
modules added to it afterwards are not replicated. The module must return one tensor whose first
axis is the batch.
"""

import copy
import os
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from .. import backend
from ..functional import compiled
from ..tensor import Function, Tensor, is_grad_enabled, set_grad_enabled
from .module import Module, Parameter


def _replicate(module, pairs):
    """A copy of ``module``'s tree sharing its parameter arrays; appends (original, copy) of each
    module to ``pairs``."""
    clone = copy.copy(module)
    params = {name: None if p is None else Parameter(p.data, requires_grad=p.requires_grad)
              for name, p in module._parameters.items()}
    buffers = {name: None if b is None else Tensor._wrap(b.data.copy()) for name, b in module._buffers.items()}
    children = {name: None if m is None else _replicate(m, pairs) for name, m in module._modules.items()}
    for registry, values in (("_parameters", params), ("_buffers", buffers), ("_modules", children)):
        object.__setattr__(clone, registry, values)
        clone.__dict__.update(values)
    pairs.append((module, clone))
    return clone


class _Replica:
    """One thread's copy of the network, and how to bring it up to date with the original."""

    def __init__(self, module):
        self.pairs = []
        self.module = _replicate(module, self.pairs)
        self.params = [(p, q) for m, r in self.pairs for p, q in zip(m._parameters.values(), r._parameters.values())
                       if p is not None]
        self.buffers = [(b, c) for m, r in self.pairs for b, c in zip(m._buffers.values(), r._buffers.values())
                        if b is not None]

    def sync(self):
        """Point at the original's current parameter arrays (an optimizer or load_state_dict may have
        replaced them), copy its buffers and its train/eval mode."""
        for p, q in self.params:
            q.data, q._requires_grad = p.data, p._requires_grad
        for b, c in self.buffers:
            if c.data.shape == b.data.shape:
                np.copyto(c.data, b.data)
            else:
                c.data = b.data.copy()
        for m, r in self.pairs:
            object.__setattr__(r, "training", m.training)

    def keep_buffers(self):
        """Copy this replica's buffers (batch-norm running estimates) back into the original."""
        for b, c in self.buffers:
            b.data = c.data.copy()


def _call_slice(replica, x, grad, rng):
    with set_grad_enabled(grad), backend.thread_generator(rng):
        y = replica.module(x)
    if not isinstance(y, Tensor):
        raise TypeError(f"DataParallel: the module must return one tensor, not {type(y).__name__}")
    return y


class _Parallel(Function):
    """The whole network on all slices, as one graph node whose inputs are x and the parameters."""

    once_differentiable = True

    def forward(self, x, *weights, parallel):
        self.parallel = parallel  # applied only when a gradient is wanted: the slices record their graphs
        self.xs, self.ys = parallel._forward_slices(x, True, self.needs_input_grad[0])
        return np.concatenate([y.data for y in self.ys])

    def backward(self, gy):
        parallel, ys = self.parallel, self.ys
        cuts = np.cumsum([len(y.data) for y in ys])[:-1]
        parallel._map(lambda y, g: y.backward(Tensor._wrap(g)), ys, np.split(gy.data, cuts))
        grads = []
        for i in range(len(parallel._replicas[0].params)):
            parts = [r.params[i][1] for r in parallel._replicas[:len(ys)]]
            found = [q.grad.data for q in parts if q.grad is not None]
            total = found[0] if found else None
            for g in found[1:]:
                total = total + g
            grads.append(None if total is None else Tensor._wrap(total))
            for q in parts:
                q.grad = None
        gx = Tensor._wrap(np.concatenate([x.grad.data for x in self.xs])) if self.needs_input_grad[0] else None
        self.xs = self.ys = None
        return (gx, *grads)


class DataParallel(Module):
    """``DataParallel(module, threads=None)``: ``module`` computed on ``threads`` slices of each
    batch at once (default: one per core). Parameters, state dict and train/eval mode are
    ``module``'s (the state dict's names start with ``module.``, as in PyTorch)."""

    def __init__(self, module, threads=None):
        super().__init__()
        threads = (os.cpu_count() or 1) if threads is None else int(threads)
        if threads < 1:
            raise ValueError(f"DataParallel: threads must be at least 1, got {threads}")
        self.module = module
        self.threads = threads
        object.__setattr__(self, "_replicas", [])
        object.__setattr__(self, "_pool", None)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        if self.threads == 1 or len(x.data) < 2:
            return self.module(x)
        if not self._replicas:
            self._replicas.extend(_Replica(self.module) for _ in range(self.threads))
            object.__setattr__(self, "_pool", ThreadPoolExecutor(self.threads - 1, "nnscratch-parallel"))
        params = [p for p, _ in self._replicas[0].params]
        if is_grad_enabled() and (x._requires_grad or any(p._requires_grad for p in params)):
            return _Parallel.apply(x, *params, parallel=self)
        _, ys = self._forward_slices(x.data, False, False)
        return Tensor._wrap(np.concatenate([y.data for y in ys]))

    def _forward_slices(self, x, grad, x_grad):
        k = min(self.threads, len(x))
        replicas = self._replicas[:k]
        for r in replicas:
            r.sync()
        xs = [Tensor._wrap(part) for part in np.array_split(x, k)]
        for xj in xs:
            xj._requires_grad = x_grad
        # Children of the main generator's seed (spawning draws no numbers from it, so shuffling is
        # the same as without threads); in eval mode nothing random runs.
        rngs = backend.generator().spawn(k) if self.module.training else [None] * k
        ys = self._map(lambda r, xj, rng: _call_slice(r, xj, grad, rng), replicas, xs, rngs)
        if self.module.training:
            replicas[0].keep_buffers()
        return xs, ys

    def _map(self, fn, *columns):
        """fn over the rows of ``columns``, the first in this thread and the others in the pool,
        with the BLAS and the compiled kernels on one thread each."""
        rows = list(zip(*columns))

        def one_thread(*row):
            with compiled.threads(1):
                return fn(*row)

        with backend.blas_threads(1):
            futures = [self._pool.submit(one_thread, *row) for row in rows[1:]]
            try:
                first = one_thread(*rows[0])
            finally:
                wait(futures)  # never leave a thread running with the BLAS held to one thread
            return [first] + [f.result() for f in futures]

    def extra_repr(self):
        return f"threads={self.threads}"
