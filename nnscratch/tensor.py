"""Tensor: an array that remembers how it was computed, so that gradients can flow back.

Forward.  Every operation is a ``Function`` (see ``functional.py``). ``Function.apply`` runs the
operation's ``forward`` on plain NumPy arrays and wraps the result in a new ``Tensor``. When grad
mode is on and an input requires a gradient, the function is recorded as the result's
``creator`` and keeps its inputs: the recorded functions form a graph from every result back to
the leaves (tensors made by the user, such as weights).

Backward.  ``loss.backward()`` applies the chain rule. It sorts the graph so that each function
comes after every function that used its output (reverse topological order), then visits each
function once, handing it dL/d(output) and receiving dL/d(input) for each input:

    dL/dx = sum over the uses of x of  (dL/dy) * (dy/dx)

Gradients arriving at a tensor from several uses are added up (``b = a + a`` gives 2). An input
that was broadcast in the forward pass gets its gradient summed back to its own shape, and an
input that was promoted to a wider dtype gets it in its own dtype. Leaves
that require a gradient receive it in ``.grad``; intermediate gradients are dropped unless
``retain_grad()`` asked to keep them. The graph is freed afterwards unless ``retain_graph=True``.

The backward formulas are themselves written with tensor operations. Normally they run with
grad mode off (no graph is built); with ``create_graph=True`` they are recorded, so a gradient
can be differentiated again (second derivatives, Hessian-vector products).

Gradient arrays may be shared between tensors (``a + b`` hands the same gradient to both), so
nnscratch never writes into a gradient in place; code that changes a gradient assigns a new one.
"""

import contextlib
import threading
import weakref

import numpy as np

from . import backend



class _GradMode(threading.local):
    """Whether operations record the graph: one flag per thread, as in PyTorch, so that a
    ``no_grad`` block in one thread (say, a server predicting) does not affect training in another."""
    enabled = True


_grad_mode = _GradMode()


class ShapeError(ValueError):
    """An operation got inputs whose shapes do not fit together."""


# ----------------------------------------------------------------------------- grad mode

def is_grad_enabled():
    """True when operations record the graph for backward."""
    return _grad_mode.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager and decorator that turns graph recording on or off inside it."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._previous = []

    def __enter__(self):
        self._previous.append(_grad_mode.enabled)
        _grad_mode.enabled = self.mode

    def __exit__(self, *exc):
        _grad_mode.enabled = self._previous.pop()
        return False


class no_grad(set_grad_enabled):
    """``with no_grad():`` or ``@no_grad`` / ``@no_grad()``: compute without building a graph."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):  # used as a bare decorator: @no_grad
            self.__init__()
            return self(func)
        return self

    def __init__(self, func=None):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Turn graph recording back on inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


# ----------------------------------------------------------------------------- Function

class Function:
    """One differentiable operation: ``forward`` on arrays, ``backward`` on Tensors.

    Subclasses implement ``forward(self, *arrays, **params) -> array`` and
    ``backward(self, grad_output) -> grad_input or tuple of them`` (None where an input gets no
    gradient). ``self.inputs`` are the input Tensors, ``self.output()`` is the output Tensor and
    ``self.needs_input_grad`` says which inputs want a gradient. Values saved in ``forward`` are
    plain attributes; they are released with the graph after backward.

    A function whose backward computes on saved arrays rather than with tensor operations sets
    ``once_differentiable = True``: its gradient is right, but cannot be differentiated again,
    so ``create_graph=True`` through it is refused instead of silently giving wrong values.
    """

    __slots__ = ("inputs", "output", "needs_input_grad", "__dict__")
    once_differentiable = False

    @classmethod
    def apply(cls, *inputs, **params):
        fn = cls.__new__(cls)
        # Under no_grad nothing will be differentiated, so forward need not keep anything for backward.
        needs = tuple([t._requires_grad for t in inputs]) if _grad_mode.enabled else (False,) * len(inputs)
        fn.needs_input_grad = needs
        try:
            y = fn.forward(*[t.data for t in inputs], **params)
        except ValueError as e:
            shapes = ", ".join(str(t.shape) for t in inputs)
            raise ShapeError(f"{cls.__name__} got input shapes {shapes}: {e}") from e
        if type(y) is not np.ndarray:
            y = np.asarray(y)
        out = Tensor._wrap(y)
        if True in needs:
            fn.inputs = inputs
            fn.output = weakref.ref(out)
            out._requires_grad = True
            out.creator = fn
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def release(self):
        """Drop the inputs and saved values: the graph through this function is freed."""
        self.inputs = None
        self.__dict__.clear()

    def __repr__(self):
        return f"<{type(self).__name__}>"


# ----------------------------------------------------------------------------- Tensor

def _to_array(data, dtype=None, copy=True):
    """An ndarray from ``data``: floats become the default dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        data = data.data
    array = np.asarray(data)
    if dtype is None:
        kind = array.dtype.kind
        if kind == "f":
            dtype = backend.get_default_dtype()
        elif kind not in "biu":
            raise TypeError(f"cannot make a tensor from data of dtype {array.dtype}; "
                            "give numbers, nested lists of numbers or a numeric array")
    return np.array(array, dtype=dtype, copy=True if copy else None)  # None: copy only if needed


class Tensor:
    """An n-dimensional array with an optional gradient and a link to the Function that made it.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data``; floating-point data
    becomes float32 (the default dtype) unless ``dtype`` says otherwise.
    """

    __slots__ = ("data", "grad", "_requires_grad", "creator", "retains_grad", "__weakref__")
    __array_ufunc__ = None  # numpy defers to us: ndarray * Tensor calls Tensor.__rmul__
    __hash__ = object.__hash__  # __eq__ is elementwise, but tensors still work as dict keys

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self.creator = None
        self.retains_grad = False
        self._requires_grad = False
        self.requires_grad = requires_grad

    @staticmethod
    def _wrap(array):
        """A Tensor around ``array`` without copying or checking (used by operations)."""
        t = object.__new__(Tensor)
        t.data = array
        t.grad = None
        t.creator = None
        t.retains_grad = False
        t._requires_grad = False
        return t

    # -- gradient bookkeeping
    @property
    def requires_grad(self):
        """Whether gradients are computed for this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, this one is "
                            f"{self.data.dtype}; make it with dtype=float32 (or call .float())")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        """The Function that produced this tensor (None for leaves)."""
        return self.creator

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded operation."""
        return self.creator is None

    def retain_grad(self):
        """Keep ``.grad`` on this intermediate tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self.retains_grad = True

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def detach(self):
        """A tensor sharing this one's data but cut from the graph."""
        return Tensor._wrap(self.data)

    # -- array facts
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def T(self):
        """All axes reversed (the matrix transpose for 2-D tensors)."""
        return self.transpose()

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != backend.get_default_dtype() and self.data.dtype != np.int64:
            extras.append(f"dtype={self.data.dtype}")
        if self.creator is not None:
            extras.append(f"grad_fn={self.creator!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # -- backward
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to ``leaf.grad``.

        ``grad`` is dL/d(self); it may be left out only when self has one element (it is then 1).
        """
        _run_backward([self], [grad], retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple; ``.grad`` is untouched.

    ``grad_outputs`` are dL/d(outputs) (default 1 for one-element outputs). With
    ``create_graph=True`` the returned gradients can be differentiated again.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if retain_graph is None:
        retain_graph = create_graph
    grads = _run_backward(outputs, list(grad_outputs), retain_graph, create_graph, inputs)
    for i, g in enumerate(grads):
        if g is None and not allow_unused:
            raise RuntimeError(f"input {i} was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
    return tuple(grads)


def _initial_grad(output, grad):
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(f"backward() without grad needs a one-element output, this one has shape "
                               f"{output.shape}; pass grad= (dL/d(output), same shape) or reduce it first, "
                               "e.g. y.sum().backward()")
        return Tensor._wrap(np.ones_like(output.data))
    grad = grad if isinstance(grad, Tensor) else Tensor._wrap(np.asarray(grad, dtype=output.dtype))
    if grad.shape != output.shape:
        raise ShapeError(f"grad has shape {grad.shape} but the output has shape {output.shape}")
    return grad


def _topological_order(roots):
    """Functions reachable from ``roots``, each after every function that consumed its output."""
    order, seen = [], set()
    stack = [(fn, False) for fn in roots]
    while stack:
        fn, children_done = stack.pop()
        if children_done:
            order.append(fn)
            continue
        if fn in seen:
            continue
        seen.add(fn)
        if fn.inputs is None:
            raise RuntimeError(f"trying to backward through the graph a second time (at {fn!r}): its "
                               "saved values were freed by the first backward(); pass retain_graph=True "
                               "to the first backward() if you need to backward twice")
        stack.append((fn, True))
        for t in fn.inputs:
            if t.creator is not None and t.creator not in seen:
                stack.append((t.creator, False))
    order.reverse()
    return order


def _run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=None):
    """The backward engine behind ``Tensor.backward`` (inputs=None) and ``grad`` (inputs given).

    With ``inputs`` given, the gradients of those tensors are returned instead of being stored
    in ``.grad``.
    """
    wanted = None if inputs is None else {id(t): i for i, t in enumerate(inputs)}
    found = [None] * (0 if inputs is None else len(inputs))

    def deliver(tensor, g):  # the gradient g reaches a leaf, a retained or a wanted tensor
        if wanted is None:
            tensor.grad = g if tensor.grad is None else tensor.grad + g
        elif id(tensor) in wanted:
            i = wanted[id(tensor)]
            found[i] = g if found[i] is None else found[i] + g

    pending = {}  # Function -> dL/d(its output), summed over the uses seen so far
    previous_mode, _grad_mode.enabled = _grad_mode.enabled, create_graph
    try:
        for out, g in zip(outputs, grad_outputs):
            if not out._requires_grad:
                raise RuntimeError("backward() on a tensor that does not require grad: no input of it "
                                   "has requires_grad=True (or it was computed under no_grad)")
            g = _initial_grad(out, g)
            if out.creator is None:
                deliver(out, g)
            else:
                pending[out.creator] = g + pending[out.creator] if out.creator in pending else g

        order = _topological_order(list(pending))
        for fn in order:
            gy = pending.pop(fn, None)
            if gy is None:  # no gradient flowed into this function's output
                continue
            if create_graph and fn.once_differentiable:
                raise RuntimeError(f"{fn!r} has no second derivative in nnscratch: create_graph=True "
                                   "cannot differentiate through it")
            if wanted is not None or fn.output().retains_grad:
                deliver(fn.output(), gy)
            gxs = fn.backward(gy)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            for x, gx in zip(fn.inputs, gxs):
                if gx is None or not x._requires_grad:
                    continue
                if gx.data.shape != x.data.shape:  # x was broadcast in the forward pass
                    gx = gx.sum_to(x.data.shape)
                if gx.data.dtype != x.data.dtype:  # x was promoted (float32 + float64 -> float64)
                    gx = gx.astype(x.data.dtype)
                creator = x.creator
                if creator is None:
                    deliver(x, gx)
                else:
                    pending[creator] = pending[creator] + gx if creator in pending else gx
        if not retain_graph:  # only now: outputs that later backward steps use stay alive until here
            for fn in order:
                fn.release()
    finally:
        _grad_mode.enabled = previous_mode
    return found


# ----------------------------------------------------------------------------- factories

def tensor(data, requires_grad=False, dtype=None):
    """A new tensor holding a copy of ``data`` (floats become float32 unless ``dtype`` is given)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with ``array`` and keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy() expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _float_dtype(dtype):
    return np.dtype(dtype) if dtype is not None else backend.get_default_dtype()


def _new(array, requires_grad):
    t = Tensor._wrap(array)
    t.requires_grad = requires_grad
    return t


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _new(np.zeros(_shape(shape), dtype=_float_dtype(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones."""
    return _new(np.ones(_shape(shape), dtype=_float_dtype(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``shape`` filled with ``fill_value``."""
    return _new(np.full(shape, fill_value, dtype=_float_dtype(dtype)), requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    """Samples of the standard normal distribution N(0, 1), from the seedable generator."""
    dtype = _float_dtype(dtype)
    return _new(backend.generator().standard_normal(_shape(shape), dtype=dtype), requires_grad)


def rand(*shape, dtype=None, requires_grad=False):
    """Samples of the uniform distribution on [0, 1), from the seedable generator."""
    dtype = _float_dtype(dtype)
    return _new(backend.generator().random(_shape(shape), dtype=dtype), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in [start, stop): int64 for integer arguments, float32 otherwise."""
    if stop is None:
        start, stop = 0, start
    if dtype is None and not all(isinstance(v, (int, np.integer)) for v in (start, stop, step)):
        dtype = backend.get_default_dtype()
    return _new(np.arange(start, stop, step, dtype=dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros with the shape (and dtype, unless given) of ``t``."""
    return _new(np.zeros(np.shape(_data(t)), dtype=dtype or _data(t).dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    """Ones with the shape (and dtype, unless given) of ``t``."""
    return _new(np.ones(np.shape(_data(t)), dtype=dtype or _data(t).dtype), requires_grad)


def _data(t):
    return t.data if isinstance(t, Tensor) else np.asarray(t)
