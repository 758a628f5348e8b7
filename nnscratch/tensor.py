"""Tensor: an array that remembers how it was computed, so that gradients can flow back.

Forward.  Every operation is a ``Function`` (see the ``functional`` package). ``Function.apply`` runs
the operation's ``forward`` on plain NumPy arrays and wraps the result in a new ``Tensor``. When grad
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
from .tensor_str import tensor_repr


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
        except np.exceptions.AxisError as e:  # PyTorch's error for a dimension the input lacks
            n = max(e.ndim, 1)
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got "
                             f"{e.axis})") from None
        except ValueError as e:
            shapes = ", ".join(str(t.data.shape) for t in inputs)
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

    def __repr__(self):  # PyTorch's spelling: grad_fn=<MulBackward0>
        return f"<{getattr(self, 'torch_name', type(self).__name__)}Backward0>"


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


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as PyTorch's ``torch.Size([2, 3])``, in
    f-strings too (``f"{x.shape}"``), as PyTorch's tutorials show it."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        n = 1
        for d in self:
            n *= d
        return n


class _Count(int):
    """``t.size``: the number of elements (NumPy's ``array.size``, which nnscratch code uses) that
    can also be called as PyTorch's method: ``t.size()`` is the shape, ``t.size(dim)`` one length."""

    def __call__(self, dim=None):
        return Size(self.shape) if dim is None else self.shape[dim]


_LEAF_IN_PLACE = "a leaf Variable that requires grad is being used in an in-place operation."


class Tensor:
    """An n-dimensional array with an optional gradient and a link to the Function that made it.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data``; floating-point data
    becomes float32 (the default dtype) unless ``dtype`` says otherwise.
    """

    __slots__ = ("data", "grad", "_requires_grad", "creator", "retains_grad", "__weakref__")
    __array_ufunc__ = None  # numpy defers to us: ndarray * Tensor calls Tensor.__rmul__
    __hash__ = object.__hash__  # __eq__ is elementwise, but tensors still work as dict keys
    is_cuda = False

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        backend.check_device(device)
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
        """The length of each axis, a ``Size`` (a tuple)."""
        return Size(self.data.shape)

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        """The number of elements as an int (NumPy's ``size``); called, PyTorch's method:
        ``t.size()`` is the shape, ``t.size(dim)`` the length of one axis."""
        count = _Count(self.data.size)
        count.shape = self.data.shape
        return count

    def dim(self):
        """The number of axes (``ndim``)."""
        return self.data.ndim

    ndimension = dim

    def numel(self):
        """The number of elements."""
        return self.data.size

    nelement = numel

    @property
    def dtype(self):
        """The element type, as PyTorch names it (``torch.float32``); equal to the NumPy dtype of
        ``data``, which NumPy also accepts as a dtype."""
        return backend.as_dtype(self.data.dtype)

    @property
    def device(self):
        """Always the CPU: ``device(type='cpu')``."""
        return backend.cpu

    @property
    def T(self):
        """All axes reversed (the matrix transpose for 2-D tensors)."""
        return self.transpose()

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def element_size(self):
        """Bytes per element."""
        return self.data.itemsize

    def numpy(self, *, force=False):
        """The underlying ndarray (shared, not copied). As in PyTorch, a tensor that requires grad
        must be detached first (``t.detach().numpy()``)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self.data

    def __array__(self, dtype=None, copy=None):  # np.asarray(t), plotting libraries
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def tolist(self):
        """The values as (nested) Python lists of numbers; a number for a 0-d tensor."""
        return self.data.tolist()

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(f"a Tensor with {self.data.size} elements cannot be converted to Scalar")
        return self.data.item()

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        """The sub-tensors along the first axis (``for row in matrix``), each differentiable."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "biu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec):  # f"{loss:.4f}" for a 0-d tensor, as in PyTorch
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        return format(repr(self), spec) if spec == "" else object.__format__(self, spec)

    def __repr__(self):
        return tensor_repr(self.data, backend.get_default_dtype(), self.creator and repr(self.creator)[1:-1],
                           self._requires_grad)

    # -- device and dtype conversions
    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other)`` (its dtype): self
        when nothing changes, as in PyTorch, else a converted tensor (differentiable). Only the
        CPU exists: a CUDA device is an error that says so."""
        dtype, where, copy = kwargs.pop("dtype", None), kwargs.pop("device", None), kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, backend.device)):
                where = a
            elif isinstance(a, (bool, np.bool_)):
                continue  # to(dtype, non_blocking, copy) positional flags
            else:
                dtype = a
        backend.check_device(where)
        out = self if dtype is None or np.dtype(dtype) == self.data.dtype else self.astype(dtype)
        return out.clone() if copy and out is self else out

    def cpu(self):
        """Self: every nnscratch tensor is on the CPU."""
        return self

    def cuda(self, device=None, non_blocking=False):
        """Refused: nnscratch runs on the CPU."""
        backend.check_device("cuda")

    def type(self, dtype=None, non_blocking=False):
        """With no argument, PyTorch's type string (``'torch.FloatTensor'``); with a dtype (or such
        a string), the tensor converted to it."""
        if dtype is None:
            return backend.legacy_type_name(self.data.dtype)
        if isinstance(dtype, str):
            dtype = backend.dtype_of_type_name(dtype)
        return self.to(dtype)

    def type_as(self, other):
        """Converted to ``other``'s dtype."""
        return self.to(other.dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def short(self):
        return self.to(np.int16)

    def char(self):
        return self.to(np.int8)

    def byte(self):
        return self.to(np.uint8)

    def bool(self):
        return self.to(np.bool_)

    def contiguous(self, memory_format=None):
        """Self (nnscratch makes a contiguous copy wherever an operation needs one)."""
        return self

    # -- in-place operations (PyTorch's trailing underscore)
    def _check_in_place(self, value=None, what="an in-place operation"):
        """PyTorch's rule: while grad mode is on, a leaf that requires grad may not be changed in
        place (do it under ``no_grad()``). nnscratch also refuses to change a tensor of a recorded
        graph in place (its gradient could not be right); write the out-of-place form instead."""
        if not _grad_mode.enabled:
            return
        if self._requires_grad:
            if self.creator is None:
                raise RuntimeError(_LEAF_IN_PLACE if what == "an in-place operation" else
                                   "a view of a leaf Variable that requires grad is being used in an in-place "
                                   "operation.")
            raise RuntimeError(f"{what} on a tensor that is part of the autograd graph is not supported by "
                               "nnscratch; use the out-of-place form (y = x + 1 instead of x.add_(1)), or do it "
                               "under torch.no_grad()")
        if isinstance(value, Tensor) and value._requires_grad:
            raise RuntimeError(f"{what} that writes a tensor requiring grad into one that does not is not "
                               "supported by nnscratch; build the result out of place (torch.where, torch.cat)")

    def _assign(self, values, casting="same_kind"):
        """Write ``values`` (broadcast to this shape) into this tensor's memory and return self.
        Views of it see the change. A result that cannot be cast (float into an int tensor) is an
        error, as in PyTorch."""
        values = values.data if isinstance(values, Tensor) else np.asarray(values)
        if casting == "same_kind" and not np.can_cast(values.dtype, self.data.dtype, "same_kind"):
            raise RuntimeError(f"result type {backend.dtype_name(values.dtype)} can't be cast to the desired "
                               f"output type {backend.dtype_name(self.data.dtype)}")
        if np.broadcast_shapes(values.shape, self.data.shape) != self.data.shape:
            raise RuntimeError(f"output with shape {list(self.data.shape)} doesn't match the broadcast shape "
                               f"{list(np.broadcast_shapes(values.shape, self.data.shape))}")
        if self.data.flags.writeable:
            np.copyto(self.data, values, casting="unsafe")
        else:  # a read-only view (a broadcast gradient): this tensor gets memory of its own
            self.data = np.array(np.broadcast_to(values, self.data.shape), dtype=self.data.dtype)
        return self

    def _in_place(self, op, other, alpha=None):
        self._check_in_place(other)
        with no_grad():
            if alpha is not None and alpha != 1:
                other = other * alpha
            return self._assign(op(self, other).data)

    def add_(self, other, *, alpha=1):
        """self += alpha * other, in place."""
        return self._in_place(type(self).__add__, other, alpha)

    def sub_(self, other, *, alpha=1):
        """self -= alpha * other, in place."""
        return self._in_place(type(self).__sub__, other, alpha)

    def mul_(self, other):
        """self *= other, in place."""
        return self._in_place(type(self).__mul__, other)

    def div_(self, other, *, rounding_mode=None):
        """self /= other, in place (an integer tensor cannot hold the float quotient)."""
        if rounding_mode is not None:
            return self._in_place(lambda a, b: a.div(b, rounding_mode=rounding_mode), other)
        return self._in_place(type(self).__truediv__, other)

    def pow_(self, exponent):
        """self **= exponent, in place."""
        return self._in_place(type(self).__pow__, exponent)

    def clamp_(self, min=None, max=None):
        """Clamp into [min, max], in place."""
        return self._in_place(lambda a, _: a.clamp(min, max), None)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        """Set ``value`` where ``mask`` is True, in place."""
        return self._in_place(lambda a, v: a.masked_fill(mask, v), value)

    def zero_(self):
        """Set every element to 0, in place."""
        self._check_in_place()
        return self._assign(np.zeros((), dtype=self.data.dtype))

    def fill_(self, value):
        """Set every element to ``value``, in place."""
        self._check_in_place(value)
        value = value.data if isinstance(value, Tensor) else value
        return self._assign(np.asarray(value).astype(self.data.dtype), casting="unsafe")

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast to this shape, converted to this dtype) into this tensor."""
        self._check_in_place(src)
        return self._assign(np.asarray(src.data if isinstance(src, Tensor) else src), casting="unsafe")

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with samples of the uniform distribution on [a, b), in place."""
        self._check_in_place()
        return self._assign(backend.rng(generator).uniform(a, b, self.data.shape), casting="unsafe")

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with samples of the normal distribution N(mean, std²), in place."""
        self._check_in_place()
        return self._assign(backend.rng(generator).normal(mean, std, self.data.shape), casting="unsafe")

    def __setitem__(self, index, value):
        """``t[index] = value`` on a tensor that needs no gradient (or under no_grad), as in PyTorch."""
        self._check_in_place(value, "an indexed assignment (t[i] = v)")
        items = index if isinstance(index, tuple) else (index,)
        items = tuple(i.data if isinstance(i, Tensor) else np.asarray(i) if isinstance(i, list) else i for i in items)
        index = items if isinstance(index, tuple) else items[0]
        value = value.data if isinstance(value, Tensor) else np.asarray(value)
        if not self.data.flags.writeable:
            self.data = self.data.copy()
        self.data[index] = value

    def _augmented(self, op, other):
        """``x += y`` and friends: in place like PyTorch's ``add_``; but when a gradient is being
        recorded through x or y, the out-of-place result is bound to x instead (Python's
        fallback), which keeps the graph right; a leaf that requires grad is refused as in PyTorch."""
        if _grad_mode.enabled and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            if self._requires_grad and self.creator is None:
                raise RuntimeError(_LEAF_IN_PLACE)
            return NotImplemented
        with no_grad():
            return self._assign(op(self, other).data)

    def __iadd__(self, other):
        return self._augmented(type(self).__add__, other)

    def __isub__(self, other):
        return self._augmented(type(self).__sub__, other)

    def __imul__(self, other):
        return self._augmented(type(self).__mul__, other)

    def __itruediv__(self, other):
        return self._augmented(type(self).__truediv__, other)

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
                               f"{tuple(output.shape)}; pass grad= (dL/d(output), same shape) or reduce it first, "
                               "e.g. y.sum().backward()")
        return Tensor._wrap(np.ones_like(output.data))
    grad = grad if isinstance(grad, Tensor) else Tensor._wrap(np.asarray(grad, dtype=output.dtype))
    if grad.shape != output.shape:
        raise ShapeError(f"grad has shape {tuple(grad.shape)} but the output has shape {tuple(output.shape)}")
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
    backend.keep_freed_memory()  # the process trains: let malloc keep freed arrays for the next step
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
# PyTorch's signatures: sizes as ``zeros(2, 3)`` or ``zeros((2, 3))``; ``dtype``, ``device`` (the
# CPU only) and ``requires_grad`` keywords; random ones take ``generator=``.

def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``. Its dtype is inferred as PyTorch does: Python
    ints give int64, floats float32 (the default dtype), bools bool; ``dtype`` overrides."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


class _LegacyTensorType(type):
    def __instancecheck__(cls, obj):  # isinstance(x, torch.FloatTensor): a tensor of that dtype
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


def _legacy_constructor(dtype):
    """PyTorch's legacy typed constructors: ``FloatTensor([1, 2])`` copies data into a tensor of
    that dtype, ``FloatTensor(2, 3)`` makes one of that shape (zero-filled here, uninitialised in PyTorch)."""

    def __new__(cls, *args):
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return Tensor(args[0], dtype=dtype)
        return zeros(*args, dtype=dtype)

    name = backend.legacy_type_name(dtype).split(".")[1]
    return _LegacyTensorType(name, (), {"__new__": __new__, "dtype": np.dtype(dtype),
                                        "__doc__": f"``torch.{name}``: {_legacy_constructor.__doc__.split(':', 1)[1]}"})


FloatTensor, DoubleTensor, LongTensor, IntTensor, BoolTensor, ByteTensor = (
    _legacy_constructor(d) for d in (np.float32, np.float64, np.int64, np.int32, np.bool_, np.uint8))


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a tensor or ndarray of the right dtype."""
    backend.check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or np.dtype(dtype) == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return Tensor._wrap(data)
    return Tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with ``array`` and keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy() expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _float_dtype(dtype):
    return np.dtype(dtype) if dtype is not None else backend.get_default_dtype()


def _new(array, requires_grad, device=None):
    backend.check_device(device)
    t = Tensor._wrap(array)
    t.requires_grad = requires_grad
    return t


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _new(np.zeros(_shape(shape), dtype=_float_dtype(dtype)), requires_grad, device)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    """A tensor of ones."""
    return _new(np.ones(_shape(shape), dtype=_float_dtype(dtype)), requires_grad, device)


def empty(*shape, dtype=None, device=None, requires_grad=False):
    """A tensor to be filled in (PyTorch leaves it uninitialised; nnscratch gives zeros, so a
    forgotten fill shows up as zeros rather than as garbage)."""
    return zeros(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``shape`` filled with ``fill_value``; its dtype follows the value as in
    PyTorch (bool, int64, or the default float dtype) unless ``dtype`` is given."""
    if dtype is None:
        value = fill_value.item() if isinstance(fill_value, (Tensor, np.generic)) else fill_value
        dtype = (np.bool_ if isinstance(value, (bool, np.bool_)) else
                 np.int64 if isinstance(value, (int, np.integer)) else backend.get_default_dtype())
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _new(np.full(shape, fill_value, dtype=dtype), requires_grad, device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix (ones on the diagonal; m = n by default)."""
    return _new(np.eye(n, n if m is None else m, dtype=_float_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, both included."""
    return _new(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad, device)


def randn(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Samples of the standard normal distribution N(0, 1), from the seedable generator."""
    dtype = _float_dtype(dtype)
    return _new(backend.rng(generator).standard_normal(_shape(shape), dtype=dtype), requires_grad, device)


def rand(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Samples of the uniform distribution on [0, 1), from the seedable generator."""
    dtype = _float_dtype(dtype)
    return _new(backend.rng(generator).random(_shape(shape), dtype=dtype), requires_grad, device)


def randint(low, high=None, size=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    """Random integers in [low, high) of ``size``, int64: ``randint(10, (3,))`` or
    ``randint(3, 10, (2, 2))`` as in PyTorch."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing the size argument, e.g. randint(10, (3,))")
    values = backend.rng(generator).integers(low, high, _shape((size,)) if isinstance(size, int) else tuple(size))
    return _new(values.astype(np.int64 if dtype is None else dtype, copy=False), requires_grad, device)


def randperm(n, *, dtype=None, device=None, requires_grad=False, generator=None):
    """A random ordering of 0, 1, ..., n - 1 (int64)."""
    values = backend.rng(generator).permutation(n)
    return _new(values.astype(np.int64 if dtype is None else dtype, copy=False), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Evenly spaced values in [start, end): int64 for integer arguments, float32 otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None and not all(isinstance(v, (int, np.integer)) for v in (start, end, step)):
        dtype = backend.get_default_dtype()
    return _new(np.arange(start, end, step, dtype=dtype), requires_grad, device)


def _like(maker, t, dtype, device, requires_grad):
    backend.check_device(device)
    return _new(maker(np.shape(_data(t)), dtype or _data(t).dtype), requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    """Zeros with the shape (and dtype, unless given) of ``t``."""
    return _like(np.zeros, t, dtype, device, requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    """Ones with the shape (and dtype, unless given) of ``t``."""
    return _like(np.ones, t, dtype, device, requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    """A tensor shaped like ``t`` to be filled in (zeros in nnscratch)."""
    return zeros_like(t, dtype, device, requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    """``fill_value`` everywhere, with the shape (and dtype, unless given) of ``t``."""
    return _like(lambda shape, dt: np.full(shape, fill_value, dtype=dt), t, dtype, device, requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform samples on [0, 1) with the shape (and dtype, unless given) of ``t``."""
    return rand(np.shape(_data(t)), dtype=dtype or _data(t).dtype, device=device, requires_grad=requires_grad,
                generator=generator)


def randn_like(t, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal samples with the shape (and dtype, unless given) of ``t``."""
    return randn(np.shape(_data(t)), dtype=dtype or _data(t).dtype, device=device, requires_grad=requires_grad,
                 generator=generator)


def _data(t):
    return t.data if isinstance(t, Tensor) else np.asarray(t)
