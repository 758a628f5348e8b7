"""The core differentiable operations: arithmetic, elementwise math, reductions, shapes, indexing.

Each operation is a small ``Function``: ``forward`` computes on arrays, ``backward`` turns
dL/d(output) into dL/d(input) with the derivative written next to it. The public functions
(``add``, ``matmul``, ``sum`` ...) wrap them; ``nnscratch.functional`` attaches them to
``Tensor`` as operators and methods (``a + b``, ``x.sum()``).
"""

import builtins

import numpy as np

from .. import backend
from ..tensor import Function, ShapeError, Tensor

# ----------------------------------------------------------------------------- helpers


def as_tensor(x, like=None):
    """``x`` as a Tensor. Numbers and arrays combined with a float tensor ``like`` take its dtype,
    except boolean masks: NumPy promotes those inside the operation (``gy * (y > 0)`` in a
    backward pass), so they are not copied to floats first."""
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    if like is not None and like.data.dtype.kind == "f" and array.dtype.kind != "b":
        array = array.astype(like.data.dtype, copy=False)
    elif array.dtype.kind == "f":
        array = array.astype(backend.get_default_dtype(), copy=False)
    return Tensor._wrap(array)


def _pair(a, b):
    if (type(b) is float or type(b) is int) and type(a) is Tensor and a.data.dtype.kind == "f":  # x * 0.5, x * 2
        return a, Tensor._wrap(np.array(b, dtype=a.data.dtype))
    a_number, b_number = not isinstance(a, Tensor), not isinstance(b, Tensor)
    if a_number:
        a = as_tensor(a, like=b)
    if b_number:
        b = as_tensor(b, like=a)
    da, db = a.data.dtype, b.data.dtype
    if da is not db and da != db:  # (dtypes are usually the same object: the cheap test first)
        dtype = _result_dtype(a, a_number, b, b_number)
        # a boolean mask (``gy * (y > 0)``) is left as it is: NumPy promotes it inside the operation
        # to the same dtype, without the copy a cast would make
        if da != dtype and da.kind != "b":
            a = astype(a, dtype)
        if db != dtype and db.kind != "b":
            b = astype(b, dtype)
    return a, b


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _promote(x, y):
    """PyTorch's promote_types: within a category (bool < integer < float) NumPy's rule; across
    categories the higher one's dtype (int64 with float32 is float32, where NumPy gives float64)."""
    cx, cy = _CATEGORY.get(x.kind, 3), _CATEGORY.get(y.kind, 3)
    if cx == cy:
        return np.promote_types(x, y)
    return x if cx > cy else y


def _result_dtype(a, a_number, b, b_number):
    """The dtype of ``a op b`` by PyTorch's rules. Operands rank by how much they say about the
    result: a tensor with dimensions, then a 0-d tensor, then a Python number. A lower-ranked
    operand only matters when its category is higher: ``int_tensor * 0.5`` is float32 (the
    default dtype), ``float32_tensor * float64_0d_tensor`` stays float32."""
    rank_a = 0 if a_number else (2 if a.data.ndim else 1)
    rank_b = 0 if b_number else (2 if b.data.ndim else 1)
    x, y = a.data.dtype, b.data.dtype
    if rank_a == rank_b:
        return _promote(x, y)
    (high, low), low_is_number = ((x, y), b_number) if rank_a > rank_b else ((y, x), a_number)
    if _CATEGORY.get(low.kind, 3) <= _CATEGORY.get(high.kind, 3):
        return high
    if low_is_number and low.kind == "f":
        low = backend.get_default_dtype()
    return _promote(high, low)


def _axes(axis, ndim):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(a % ndim if ndim else a for a in axis))


def _keepdims_shape(shape, axis):
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def pair(value, name):
    """(value, value) for an int, the pair itself for a pair of ints (kernel sizes, strides ...)."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(isinstance(v, (int, np.integer))
                                                                          for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(value[0]), int(value[1])


def _pick(axis, dim):
    """Accept PyTorch's ``dim=`` as a synonym of ``axis=``."""
    return axis if dim is None else dim


# ----------------------------------------------------------------------------- arithmetic

class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        return gy, -gy


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)


class Div(Function):
    """y = a / b;  dy/da = 1 / b, dy/db = -a / b**2 = -y / b."""

    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        ga = gy / self.inputs[1]
        return ga, (-ga * self.output() if self.needs_input_grad[1] else None)


class Neg(Function):
    """y = -a;  dy/da = -1."""

    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy


class PowScalar(Function):
    """y = a ** c for a number c;  dy/da = c * a ** (c - 1) (0 for c = 0, even at a = 0)."""

    torch_name = "Pow"

    def forward(self, a, exponent):
        self.exponent = exponent
        return a ** exponent

    def backward(self, gy):
        (a,) = self.inputs
        c = self.exponent
        if c == 0:
            return gy * 0.0
        return gy * c if c == 1 else gy * c * a ** (c - 1)


class Pow(Function):
    """y = a ** b;  dy/da = b * a ** (b - 1), dy/db = y * log(a).

    As in PyTorch, dy/da is 0 where b = 0, and dy/db is 0 where a = 0 and b >= 0 (the limit of
    y log a), instead of the 0 * inf = nan the formulas would give there."""

    def forward(self, a, b):
        return a ** b

    def backward(self, gy):
        a, b = self.inputs
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = where(b.data == 0, 0.0, gy * b * a ** (b - 1))
        if self.needs_input_grad[1]:
            zero_base = a.data == 0
            safe_a = where(zero_base, 1.0, a)  # log(1) = 0 there: no -inf to mask afterwards
            gb = where(zero_base & (b.data >= 0), 0.0, gy * self.output() * log(safe_a))
        return ga, gb


class MatMul(Function):
    """y = a @ b (batched over leading axes);  dL/da = dL/dy @ b^T, dL/db = a^T @ dL/dy."""

    def forward(self, a, b):
        return np.matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs
        # A 1-D operand is a row (a) or a column (b) vector, as in np.matmul.
        if a.ndim == 1:
            a, gy = a.reshape(1, -1), gy.unsqueeze(-2)
        if b.ndim == 1:
            b, gy = b.reshape(-1, 1), gy.unsqueeze(-1)
        ga = gy @ b.swapaxes(-1, -2) if self.needs_input_grad[0] else None
        gb = a.swapaxes(-1, -2) @ gy if self.needs_input_grad[1] else None
        if self.inputs[0].ndim == 1 and ga is not None:
            ga = ga.squeeze(-2)
        if self.inputs[1].ndim == 1 and gb is not None:
            gb = gb.squeeze(-1)
        return ga, gb


def add(a, b):
    """a + b (broadcasting)."""
    return Add.apply(*_pair(a, b))


def sub(a, b):
    """a - b (broadcasting)."""
    return Sub.apply(*_pair(a, b))


def mul(a, b):
    """a * b elementwise (broadcasting)."""
    return Mul.apply(*_pair(a, b))


def div(a, b, *, rounding_mode=None):
    """a / b elementwise (broadcasting). Integers divide to floats as in PyTorch (``7 / 2 = 3.5``
    in the default float dtype); ``rounding_mode="floor"`` or ``"trunc"`` rounds the quotient
    (no gradient then, as in PyTorch)."""
    a, b = _pair(a, b)
    if rounding_mode is not None:
        return floor_divide(a, b) if rounding_mode == "floor" else _trunc_divide(a, b, rounding_mode)
    if a.data.dtype.kind != "f":
        a, b = astype(a, backend.get_default_dtype()), astype(b, backend.get_default_dtype())
    return Div.apply(a, b)


def _trunc_divide(a, b, mode):
    if mode != "trunc":
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {mode!r}")
    if a.data.dtype.kind == "f":
        return Tensor._wrap(np.trunc(a.data / b.data))
    return Tensor._wrap((np.sign(a.data) * np.sign(b.data) * (np.abs(a.data) // np.abs(b.data))).astype(a.dtype))


def floor_divide(a, b):
    """floor(a / b) elementwise, the ``//`` operator; integers stay integers. No gradient (it is
    zero almost everywhere), so the result does not require grad."""
    a, b = _pair(a, b)
    return Tensor._wrap(np.floor_divide(a.data, b.data))


def remainder(a, b):
    """a - floor(a / b) * b, the ``%`` operator (the sign follows b, as Python's and PyTorch's);
    dL/da = 1, dL/db = -floor(a / b)."""
    a, b = _pair(a, b)
    return a - floor_divide(a, b) * b


def neg(a):
    """-a."""
    return Neg.apply(as_tensor(a))


def pow(a, b):
    """a ** b; a number exponent uses the cheaper rule c * a ** (c - 1)."""
    if isinstance(a, Tensor) and isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, bool):
        return PowScalar.apply(a, exponent=b.item() if isinstance(b, np.generic) else b)
    return Pow.apply(*_pair(a, b))


def matmul(a, b):
    """Matrix product a @ b with NumPy's rules: 1-D vectors, and batches over leading axes."""
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul needs tensors of at least 1 dimension, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not fit: the last axis of the first "
                          f"({k_a}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} axis of the "
                          f"second ({k_b})")
    return MatMul.apply(a, b)


# ----------------------------------------------------------------------------- elementwise math

class Exp(Function):
    """y = exp(a);  dy/da = y."""

    def forward(self, a):
        return np.exp(a)

    def backward(self, gy):
        return gy * self.output()


class Log(Function):
    """y = log(a) (natural);  dy/da = 1 / a."""

    def forward(self, a):
        return np.log(a)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    """y = sqrt(a);  dy/da = 1 / (2 y)."""

    def forward(self, a):
        return np.sqrt(a)

    def backward(self, gy):
        return gy / (2 * self.output())


class Abs(Function):
    """y = |a|;  dy/da = sign(a) (0 at 0)."""

    def forward(self, a):
        return np.abs(a)

    def backward(self, gy):
        return gy * np.sign(self.inputs[0].data)


class Clip(Function):
    """y = min(max(a, lo), hi);  dy/da = 1 where lo <= a <= hi, else 0."""

    def forward(self, a, lo, hi):
        self.lo, self.hi = lo, hi
        return np.clip(a, lo, hi)

    def backward(self, gy):
        a = self.inputs[0].data
        inside = np.ones(a.shape, dtype=bool)
        if self.lo is not None:
            inside &= a >= self.lo
        if self.hi is not None:
            inside &= a <= self.hi
        return gy * inside


def _tie_weights(a, b, a_wins):
    """Gradient shares of maximum/minimum: 1 to the winner, 0 to the loser, 1/2 each on a tie."""
    w = np.where(a_wins, 1.0, np.where(a == b, 0.5, 0.0)).astype(a.dtype)
    return w, (1 - w)


class Maximum(Function):
    """y = max(a, b) elementwise;  the gradient goes to the larger input (split in half on ties)."""

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, gy):
        a, b = (t.data for t in self.inputs)
        wa, wb = _tie_weights(a, b, a > b)
        return gy * wa, gy * wb


class Minimum(Function):
    """y = min(a, b) elementwise;  the gradient goes to the smaller input (split in half on ties)."""

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, gy):
        a, b = (t.data for t in self.inputs)
        wa, wb = _tie_weights(a, b, a < b)
        return gy * wa, gy * wb


class Where(Function):
    """y = a where cond else b;  dy/da = cond, dy/db = not cond."""

    def forward(self, a, b, cond):
        self.cond = cond
        return np.where(cond, a, b)

    def backward(self, gy):
        zero = Tensor._wrap(np.zeros((), dtype=gy.dtype))
        return where(self.cond, gy, zero), where(self.cond, zero, gy)


def exp(x):
    """e ** x."""
    return Exp.apply(as_tensor(x))


def log(x):
    """Natural logarithm."""
    return Log.apply(as_tensor(x))


def sqrt(x):
    """Square root."""
    return Sqrt.apply(as_tensor(x))


def abs(x):
    """|x|."""
    return Abs.apply(as_tensor(x))


def clip(x, min=None, max=None):
    """Clamp every element into [min, max] (either bound may be None). Alias: ``clamp``."""
    if min is None and max is None:
        raise ValueError("clip() needs at least one of min and max")
    x = as_tensor(x)
    cast = x.dtype.type if x.dtype.kind == "f" else (lambda v: v)  # a float64 bound must not upcast x
    return Clip.apply(x, lo=None if min is None else cast(min), hi=None if max is None else cast(max))


clamp = clip


def maximum(a, b):
    """Elementwise maximum of a and b (broadcasting)."""
    return Maximum.apply(*_pair(a, b))


def minimum(a, b):
    """Elementwise minimum of a and b (broadcasting)."""
    return Minimum.apply(*_pair(a, b))


def where(condition, a, b):
    """Elementwise ``a if condition else b``; ``condition`` is a boolean array or tensor."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    a, b = _pair(a, b)
    return Where.apply(a, b, cond=cond.astype(bool, copy=False))


# ----------------------------------------------------------------------------- reductions

class Sum(Function):
    """y = sum of a over ``axis``;  dy/da = 1 for every summed element."""

    def forward(self, a, axis, keepdims):
        self.axis = axis
        return np.sum(a, axis=axis, keepdims=keepdims)

    def backward(self, gy):
        shape = self.inputs[0].shape
        return gy.reshape(_keepdims_shape(shape, self.axis)).broadcast_to(shape)


class Max(Function):
    """y = max of a over ``axis``;  the gradient goes to the maximum, shared evenly among ties."""

    def forward(self, a, axis, keepdims, fn):
        self.axis = axis
        return fn(a, axis=axis, keepdims=keepdims)

    def backward(self, gy):
        a = self.inputs[0].data
        kd = _keepdims_shape(a.shape, self.axis)
        hits = a == self.output().data.reshape(kd)
        share = hits / hits.sum(axis=self.axis, keepdims=True, dtype=a.dtype)
        return gy.reshape(kd) * share.astype(a.dtype, copy=False)


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
    """Σ x over ``axis`` (all axes when None); ``dtype`` converts x first (PyTorch's
    ``sum(dtype=torch.float64)``). Booleans and integers add up to int64, as in PyTorch."""
    x = as_tensor(x)
    if dtype is not None:
        x = astype(x, dtype)
    elif x.data.dtype.kind in "bui" and x.data.dtype != np.int64:
        x = astype(x, np.int64)
    return Sum.apply(x, axis=_dims(_pick(axis, dim)), keepdims=bool(keepdim or keepdims))


def _dims(axis):
    """A list of axes (PyTorch accepts lists) as a tuple; ints and None as they are."""
    return tuple(axis) if isinstance(axis, list) else axis


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
    """Σ x / n over ``axis``. As in PyTorch, integer and boolean tensors have no mean: convert them
    first (``x.float().mean()``) or pass ``dtype=``."""
    x = as_tensor(x)
    if dtype is not None:
        x = astype(x, dtype)
    if x.data.dtype.kind != "f":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {backend.dtype_name(x.dtype)} (use x.float().mean() or "
                           "mean(dtype=torch.float32))")
    axis = _dims(_pick(axis, dim))
    n = int(np.prod([x.shape[i] for i in _axes(axis, x.ndim)]))
    return sum(x, axis, keepdim or keepdims) * (1.0 / n)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """Largest value over ``dim`` (one axis, several, or all when None); ties share the gradient
    evenly, as torch.amax."""
    return Max.apply(as_tensor(x), axis=_dims(_pick(axis, dim)), keepdims=bool(keepdim or keepdims), fn=np.max)


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """Smallest value over ``dim``; ties share the gradient evenly, as torch.amin."""
    return Max.apply(as_tensor(x), axis=_dims(_pick(axis, dim)), keepdims=bool(keepdim or keepdims), fn=np.min)


def _extremum(x, dim, keepdim, axis, keepdims, reduce, elementwise, arg, name):
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return elementwise(x, dim)
    if axis is not None or dim is None or isinstance(dim, (tuple, list)):
        return reduce(x, dim, keepdim, axis=axis, keepdims=keepdims)  # NumPy's axis=, or all axes: values only
    x = as_tensor(x)
    indices = arg(x, dim, keepdim=True)
    values = gather(x, dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return return_types.make(name, values, indices)


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """PyTorch's three forms: ``max(x)`` the largest value (ties share the gradient, as amax);
    ``max(x, dim, keepdim=False)`` the named tuple (values, indices) of the maxima along ``dim``
    (the gradient goes to the element at ``indices``); ``max(a, b)`` the elementwise maximum.
    NumPy's keyword ``axis=`` (one axis or several) gives the values only, as ``amax``."""
    return _extremum(x, dim, keepdim, axis, keepdims, amax, maximum, argmax, "max")


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """The smallest value, (values, indices) along ``dim``, or the elementwise minimum: as ``max``."""
    return _extremum(x, dim, keepdim, axis, keepdims, amin, minimum, argmin, "min")


def _arg_extremum(fn, x, dim, keepdim):
    a = as_tensor(x).data
    if dim is None:
        i = np.asarray(fn(a), dtype=np.int64)
        return Tensor._wrap(i.reshape((1,) * a.ndim) if keepdim else i)
    return Tensor._wrap(fn(a, axis=dim, keepdims=bool(keepdim)).astype(np.int64, copy=False))


def argmax(x, dim=None, keepdim=False, *, axis=None):
    """Index of the largest value along ``dim`` (int64; of the flattened tensor when dim is None).
    The first one wins a tie, as in PyTorch."""
    return _arg_extremum(np.argmax, x, _pick(dim, axis), keepdim)


def argmin(x, dim=None, keepdim=False, *, axis=None):
    """Index of the smallest value along ``dim`` (int64; of the flattened tensor when dim is None)."""
    return _arg_extremum(np.argmin, x, _pick(dim, axis), keepdim)


def _correction(unbiased, correction):
    if isinstance(unbiased, bool) and correction is not None:
        raise TypeError("give unbiased= or correction=, not both")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False):
    """Σ (x - mean)² / (n - correction) over ``dim``: correction=1 (``unbiased=True``, PyTorch's
    default) is the unbiased estimate, correction=0 (``unbiased=False``) the population variance
    (NumPy's default). ``var(x, False)`` is the population variance of all elements, as in PyTorch."""
    if isinstance(dim, bool):  # torch.var(x, unbiased)
        dim, unbiased = None, dim
    x = as_tensor(x)
    axis = _dims(_pick(axis, dim))
    correction = _correction(unbiased, correction)
    n = int(np.prod([x.shape[i] for i in _axes(axis, x.ndim)]))
    d = x - mean(x, axis, keepdims=True)
    scale = 1.0 / (n - correction) if n > correction else float("nan")
    return sum(d * d, axis, keepdim or keepdims) * scale


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False):
    """sqrt(var(x)): the standard deviation over ``dim``, unbiased (correction=1) by default as in
    PyTorch;  dy/dx = (x - mean) / ((n - correction) y)."""
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims))


# ----------------------------------------------------------------------------- shape

class Reshape(Function):
    """y = a viewed with another shape;  the gradient is reshaped back."""

    def forward(self, a, shape):
        return a.reshape(shape)

    def backward(self, gy):
        return gy.reshape(self.inputs[0].shape)


class Transpose(Function):
    """y = a with axes permuted by ``perm``;  the gradient is permuted back."""

    def forward(self, a, perm):
        self.perm = perm
        return np.transpose(a, perm)

    def backward(self, gy):
        return gy.permute(*np.argsort(self.perm))


class BroadcastTo(Function):
    """y = a repeated to ``shape``;  dL/da sums the gradient over the repeats."""

    def forward(self, a, shape):
        return np.broadcast_to(a, shape)

    def backward(self, gy):
        return gy.sum_to(self.inputs[0].shape)


class SumTo(Function):
    """y = a summed down to ``shape`` (undoes broadcasting);  dL/da broadcasts the gradient."""

    def forward(self, a, shape):
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
        y = a.sum(axis=axes, keepdims=True) if axes else a
        return y.reshape(shape) if lead else y

    def backward(self, gy):
        return gy.broadcast_to(self.inputs[0].shape)


class Concat(Function):
    """y = inputs joined along ``axis``;  each input gets its slice of the gradient."""

    def forward(self, *arrays, axis):
        self.axis = axis
        return np.concatenate(arrays, axis=axis)

    def backward(self, gy):
        axis = self.axis % gy.ndim
        grads, start = [], 0
        for t in self.inputs:
            stop = start + t.shape[axis]
            grads.append(gy[(slice(None),) * axis + (slice(start, stop),)])
            start = stop
        return tuple(grads)


class Cast(Function):
    """y = a converted to ``dtype``;  the gradient is converted back."""

    def forward(self, a, dtype):
        return a.astype(dtype)

    def backward(self, gy):
        return gy.astype(self.inputs[0].dtype)


def reshape(x, *shape):
    """The same elements in another shape; one axis may be -1."""
    return Reshape.apply(as_tensor(x), shape=_shape_arg(shape))


def _shape_arg(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def permute(x, *dims):
    """Reorder the axes: ``y.shape[i] = x.shape[dims[i]]``."""
    x = as_tensor(x)
    dims = _shape_arg(dims)
    if sorted(d % x.ndim for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not an ordering of the {x.ndim} axes of shape {tuple(x.shape)}")
    return Transpose.apply(x, perm=tuple(d % x.ndim for d in dims))


def transpose(x, dim0=None, dim1=None):
    """Swap two axes (``transpose(x, 0, 1)``, as PyTorch); with no axes, reverse them all."""
    x = as_tensor(x)
    if dim0 is None and dim1 is None:
        return Transpose.apply(x, perm=tuple(range(x.ndim))[::-1])
    perm = list(range(x.ndim))
    perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
    return Transpose.apply(x, perm=tuple(perm))


def swapaxes(x, axis1, axis2):
    """Swap two axes (NumPy's name for ``transpose(x, axis1, axis2)``)."""
    return transpose(x, axis1, axis2)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes start_dim..end_dim into one (``flatten(x, 1)`` keeps the batch axis)."""
    x = as_tensor(x)
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x if s == e else x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])


def squeeze(x, axis=None):
    """Drop axes of length 1 (only ``axis`` when given)."""
    x = as_tensor(x)
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = _axes(axis, x.ndim)
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return x.reshape(shape)


def unsqueeze(x, axis):
    """Insert an axis of length 1 at position ``axis``."""
    x = as_tensor(x)
    axis = axis % (x.ndim + 1)
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def broadcast_to(x, *shape):
    """Repeat ``x`` along broadcast axes up to ``shape`` (NumPy's broadcasting rules)."""
    return BroadcastTo.apply(as_tensor(x), shape=_shape_arg(shape))


def sum_to(x, *shape):
    """Sum ``x`` down to ``shape``, the inverse of broadcasting (used for gradients)."""
    x = as_tensor(x)
    shape = _shape_arg(shape)
    return x if x.shape == shape else SumTo.apply(x, shape=shape)


def concat(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis (alias ``cat``)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concat() needs at least one tensor")
    return Concat.apply(*tensors, axis=_pick(axis, dim))


cat = concat


def stack(tensors, axis=0, *, dim=None):
    """Join tensors of equal shape along a new axis."""
    axis = _pick(axis, dim)
    return concat([unsqueeze(t, axis) for t in tensors], axis)


def split(x, split_size_or_sections, axis=0, *, dim=None):
    """Cut ``x`` along ``axis`` into pieces of a given size (int), or of the listed sizes."""
    x = as_tensor(x)
    axis = _pick(axis, dim) % x.ndim
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {builtins.sum(sizes)}, but axis {axis} has length {n}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[(slice(None),) * axis + (slice(start, start + size),)])
        start += size
    return tuple(pieces)


def astype(x, dtype):
    """Convert to ``dtype`` (differentiable between float types)."""
    x = as_tensor(x)
    return x if x.dtype == dtype else Cast.apply(x, dtype=np.dtype(dtype))


# ----------------------------------------------------------------------------- indexing

def _index(index):
    """An index with tensors and lists turned into arrays; True when it is purely basic."""
    items = index if isinstance(index, tuple) else (index,)
    out, basic = [], True
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray):
            basic = False
        out.append(item)
    return (tuple(out) if isinstance(index, tuple) else out[0]), basic


class GetItem(Function):
    """y = a[index];  dL/da is zero except at the picked elements, where repeats add up."""

    def forward(self, a, index, basic):
        self.index, self.basic = index, basic
        return a[index]

    def backward(self, gy):
        return IndexAdd.apply(gy, index=self.index, basic=self.basic, shape=self.inputs[0].shape)


class IndexAdd(Function):
    """y = zeros(shape) with g added at ``index`` (the gradient of indexing);  dL/dg = (dL/dy)[index]."""

    def forward(self, g, index, basic, shape):
        self.index, self.basic = index, basic
        out = np.zeros(shape, dtype=g.dtype)
        if basic or _is_mask(index):
            out[index] = g  # no element is picked twice
        else:
            np.add.at(out, index, g)
        return out

    def backward(self, ggy):
        return GetItem.apply(ggy, index=self.index, basic=self.basic)


def _is_mask(index):
    return isinstance(index, np.ndarray) and index.dtype == bool


def getitem(x, index):
    """``x[index]`` with slices, integers, integer arrays or boolean masks."""
    index, basic = _index(index)
    return GetItem.apply(as_tensor(x), index=index, basic=basic)


# ----------------------------------------------------------------------------- comparisons

def _compare(ufunc):
    def compare(a, b):
        a, b = _pair(a, b)
        return Tensor._wrap(ufunc(a.data, b.data))
    compare.__doc__ = f"Elementwise {ufunc.__name__}; a boolean tensor with no gradient."
    return compare


eq, ne, lt, le, gt, ge = (_compare(u) for u in (np.equal, np.not_equal, np.less, np.less_equal,
                                                  np.greater, np.greater_equal))
for _f, _name in ((eq, "eq"), (ne, "ne"), (lt, "lt"), (le, "le"), (gt, "gt"), (ge, "ge")):
    _f.__name__ = _f.__qualname__ = _name


def logical_and(a, b):
    """Elementwise a and b (the ``&`` operator on boolean tensors; bitwise on integers)."""
    a, b = _pair(a, b)
    return Tensor._wrap(np.bitwise_and(a.data, b.data))


def logical_or(a, b):
    """Elementwise a or b (the ``|`` operator on boolean tensors; bitwise on integers)."""
    a, b = _pair(a, b)
    return Tensor._wrap(np.bitwise_or(a.data, b.data))


def logical_xor(a, b):
    """Elementwise a xor b (the ``^`` operator on boolean tensors; bitwise on integers)."""
    a, b = _pair(a, b)
    return Tensor._wrap(np.bitwise_xor(a.data, b.data))


def logical_not(x):
    """Elementwise not (the ``~`` operator on boolean tensors; bitwise on integers)."""
    x = as_tensor(x)
    if x.data.dtype.kind == "f":
        raise TypeError("~ (bitwise not) is only defined for integer and boolean tensors, as in PyTorch")
    return Tensor._wrap(np.invert(x.data))


def isnan(x):
    """A boolean tensor: True where x is NaN."""
    return Tensor._wrap(np.isnan(as_tensor(x).data))


def isinf(x):
    """A boolean tensor: True where x is +inf or -inf."""
    return Tensor._wrap(np.isinf(as_tensor(x).data))


def isfinite(x):
    """A boolean tensor: True where x is neither NaN nor infinite."""
    return Tensor._wrap(np.isfinite(as_tensor(x).data))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when |a - b| <= atol + rtol * |b| everywhere (a Python bool, as torch.allclose)."""
    a, b = _pair(a, b)
    return builtins.bool(np.allclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def all(x, dim=None, keepdim=False):
    """True where every element along ``dim`` (all of them when None) is non-zero; a bool tensor."""
    return Tensor._wrap(np.all(as_tensor(x).data, axis=_dims(dim), keepdims=keepdim))


def any(x, dim=None, keepdim=False):
    """True where some element along ``dim`` (any of them when None) is non-zero; a bool tensor."""
    return Tensor._wrap(np.any(as_tensor(x).data, axis=_dims(dim), keepdims=keepdim))


def equal(a, b):
    """True when a and b have the same shape and the same elements (a Python bool)."""
    a, b = as_tensor(a), as_tensor(b)
    return a.shape == b.shape and builtins.bool(np.array_equal(a.data, b.data))


# ----------------------------------------------------------------------------- trigonometry, squares, sums

class Sin(Function):
    """y = sin(a);  dy/da = cos(a)."""

    def forward(self, a):
        return np.sin(a)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


class Cos(Function):
    """y = cos(a);  dy/da = -sin(a)."""

    def forward(self, a):
        return np.cos(a)

    def backward(self, gy):
        return -gy * sin(self.inputs[0])


class CumSum(Function):
    """y_i = Σ_{j<=i} a_j along ``axis``;  dL/da_j = Σ_{i>=j} dL/dy_i, the cumulative sum of the
    gradient taken from the end."""

    def forward(self, a, axis):
        self.axis = axis
        return np.cumsum(a, axis=axis)

    def backward(self, gy):
        reverse = (slice(None),) * (self.axis % gy.ndim) + (slice(None, None, -1),)
        return cumsum(gy[reverse], self.axis)[reverse]


def sin(x):
    """sin(x), x in radians."""
    return Sin.apply(_floating(as_tensor(x)))


def cos(x):
    """cos(x), x in radians."""
    return Cos.apply(_floating(as_tensor(x)))


def _floating(x):
    """Integer tensors become the default float dtype, as PyTorch does for sin, cos, exp ..."""
    return x if x.data.dtype.kind == "f" else astype(x, backend.get_default_dtype())


def square(x):
    """x², composed as x * x (dy/dx = 2x)."""
    x = as_tensor(x)
    return mul(x, x)


def cumsum(x, dim, *, dtype=None):
    """Running sums along ``dim``: y_i = x_0 + ... + x_i (integers and booleans sum in int64)."""
    x = as_tensor(x)
    if dtype is not None:
        x = astype(x, dtype)
    elif x.data.dtype.kind in "bui":
        x = astype(x, np.int64)
    if x.ndim == 0:
        return x.reshape(()) if dim in (0, -1) else _dim_error(dim, 0)
    return CumSum.apply(x, axis=dim % x.ndim)


def _dim_error(dim, ndim):
    raise IndexError(f"Dimension out of range (expected to be in range of [{-builtins.max(ndim, 1)}, "
                     f"{builtins.max(ndim, 1) - 1}], but got {dim})")


# ----------------------------------------------------------------------------- gather, sort, top-k

def _along(index, axis, shape):
    """The full index tuple that picks ``index`` along ``axis`` and every position elsewhere."""
    ndim = index.ndim
    grids = [np.arange(n).reshape((1,) * d + (n,) + (1,) * (ndim - d - 1)) for d, n in enumerate(index.shape)]
    grids[axis] = index
    return tuple(grids)


class Gather(Function):
    """y[..., i, ...] = a[..., index[..., i, ...], ...] along ``axis``;  dL/da adds each dL/dy
    into the place it was picked from (``scatter_add``, repeats add up)."""

    def forward(self, a, index, axis):
        self.index, self.axis = index, axis
        return a[_along(index, axis, a.shape)]

    def backward(self, gy):
        return ScatterAdd.apply(gy, index=self.index, axis=self.axis, shape=self.inputs[0].shape)


class ScatterAdd(Function):
    """y = zeros(shape) with g added at ``index`` along ``axis`` (the gradient of gather);
    dL/dg = gather of dL/dy at the same places."""

    def forward(self, g, index, axis, shape):
        self.index, self.axis = index, axis
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, _along(index, axis, shape), g)
        return out

    def backward(self, ggy):
        return Gather.apply(ggy, index=self.index, axis=self.axis)


def gather(x, dim, index):
    """Pick along ``dim``: ``y[i][j] = x[index[i][j]][j]`` for dim=0, ``x[i][index[i][j]]`` for
    dim=1 (any rank). ``index`` is an int64 tensor of x's rank, no larger than x along the other
    axes; y has index's shape. Gradient: each picked element gets the gradient of its copies."""
    x = as_tensor(x)
    index = index.data if isinstance(index, Tensor) else np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather(): index must be an integer (int64) tensor, got {index.dtype}")
    if index.ndim != x.ndim:
        raise ShapeError(f"gather(): index has {index.ndim} dimensions but the input has {x.ndim}; "
                         "they must have the same number of dimensions")
    axis = dim % builtins.max(x.ndim, 1)
    if builtins.any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != axis):
        raise ShapeError(f"gather(): index shape {tuple(index.shape)} is larger than the input shape {tuple(x.shape)} "
                         f"outside dimension {dim}")
    if index.size and (index.min() < -x.shape[axis] or index.max() >= x.shape[axis]):
        raise IndexError(f"gather(): index {int(index.max())} is out of bounds for dimension {dim} "
                         f"with size {x.shape[axis]}")
    return Gather.apply(x, index=index, axis=axis)


def argsort(x, dim=-1, descending=False, *, stable=False):
    """The indices that sort x along ``dim`` (ascending; ``descending=True`` for largest first).
    The sort is stable: equal elements keep their order."""
    a = as_tensor(x).data
    if a.ndim == 0:
        return Tensor._wrap(np.zeros((), dtype=np.int64))
    if descending:  # largest first, equal elements still in their order: sort -a ascending
        keys = -a.astype(np.int64) if a.dtype.kind in "bu" else -a
        return Tensor._wrap(np.argsort(keys, axis=dim, kind="stable").astype(np.int64, copy=False))
    return Tensor._wrap(np.argsort(a, axis=dim, kind="stable").astype(np.int64, copy=False))


def sort(x, dim=-1, descending=False, *, stable=False):
    """The named tuple (values, indices): x sorted along ``dim`` and where each value came from.
    The values are differentiable (each gets the gradient of its place in the sorted order)."""
    x = as_tensor(x)
    indices = argsort(x, dim, descending)
    return return_types.make("sort", gather(x, dim, indices) if x.ndim else x, indices)


def topk(x, k, dim=-1, largest=True, sorted=True):
    """The named tuple (values, indices) of the ``k`` largest elements along ``dim`` (smallest
    with ``largest=False``), largest first. The values are differentiable."""
    x = as_tensor(x)
    n = x.shape[dim] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k={k} is out of range for dimension {dim} of size {n}")
    order = argsort(x, dim, descending=largest).data
    indices = np.take(order, np.arange(k), axis=dim % builtins.max(x.ndim, 1)) if x.ndim else order
    indices = Tensor._wrap(indices)
    return return_types.make("topk", gather(x, dim, indices) if x.ndim else x, indices)


# ----------------------------------------------------------------------------- norms

class Norm2(Function):
    """y = sqrt(Σ a²) over ``axis``;  dy/da = a / y (0 where y = 0, as PyTorch's subgradient)."""

    def forward(self, a, axis, keepdims):
        self.axis = axis
        return np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims))

    def backward(self, gy):
        a, y = self.inputs[0], self.output()
        kd = _keepdims_shape(a.shape, self.axis)
        y, gy = y.reshape(kd), gy.reshape(kd)
        zero = y.data == 0
        return a * where(zero, 0.0, gy / where(zero, 1.0, y))


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm (Σ |x|^p)^(1/p) over ``dim`` (all elements when None): p=2 or "fro" the
    Euclidean norm (gradient x / ||x||, 0 at x = 0), p=1 Σ|x|, p=inf max|x|, p=-inf min|x|,
    p=0 the number of non-zero elements, any other number by the formula."""
    x = as_tensor(x)
    if dtype is not None:
        x = astype(x, dtype)
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"norm(): input dtype should be floating point, got {backend.dtype_name(x.dtype)}")
    axis = _dims(dim)
    if p in ("fro", 2, 2.0):
        return Norm2.apply(x, axis=axis, keepdims=builtins.bool(keepdim))
    if p == float("inf"):
        return amax(abs(x), axis, keepdim)
    if p == float("-inf"):
        return amin(abs(x), axis, keepdim)
    if p == 0:
        return sum(astype(x != 0, x.dtype), axis, keepdim)
    if p == 1:
        return sum(abs(x), axis, keepdim)
    if isinstance(p, str):
        raise ValueError(f"norm(): p={p!r} is not supported by nnscratch; use a number, 'fro' or inf")
    return sum(abs(x) ** p, axis, keepdim) ** (1.0 / p)


# ----------------------------------------------------------------------------- einsum

def _einsum_parse(subscripts, operands):
    """Subscripts with '...' replaced by letters, and the output spelled out: (inputs, output)."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, out = subscripts.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        raise ValueError(f"einsum(): {subscripts!r} names {len(inputs)} operands but {len(operands)} were given")
    used = set(subscripts) - set(".,->")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    n_ellipsis = builtins.max([t.ndim - (len(s) - 3) for s, t in zip(inputs, operands) if "..." in s], default=0)
    fill = "".join(spare[:n_ellipsis])
    spelled = []
    for s, t in zip(inputs, operands):
        if "..." in s:
            k = t.ndim - (len(s) - 3)
            s = s.replace("...", fill[n_ellipsis - k:])
        if len(s) != t.ndim:
            raise ValueError(f"einsum(): the subscripts {s!r} have {len(s)} letters for an operand of shape {tuple(t.shape)}")
        spelled.append(s)
    if arrow:
        out = out.replace("...", fill)
    else:  # implicit mode: the ellipsis axes, then the letters used once, in alphabetical order
        letters = "".join(spelled)
        out = fill + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in fill))
    return spelled, out


class Einsum(Function):
    """y = einsum(subscripts, *operands): sums of products over the repeated letters.
    dL/d(operand k) = einsum of dL/dy with the other operands, written back to operand k's
    letters (a letter only operand k has is broadcast back, its sum having a derivative of 1)."""

    def forward(self, *arrays, inputs, output):
        self.inputs_subscripts, self.output_subscript = inputs, output
        return np.einsum(",".join(inputs) + "->" + output, *arrays, optimize=len(arrays) > 2)

    def backward(self, gy):
        subs, out = self.inputs_subscripts, self.output_subscript
        grads = []
        for k, (s, t) in enumerate(zip(subs, self.inputs)):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            if len(set(s)) != len(s):
                raise RuntimeError(f"einsum backward: the operand {s!r} repeats a letter (a diagonal); "
                                   "nnscratch cannot differentiate that yet")
            others = [(o, self.inputs[j]) for j, o in enumerate(subs) if j != k]
            present = set(out).union(*[set(o) for o, _ in others])
            kept = "".join(c for c in s if c in present)
            g = einsum(",".join([out] + [o for o, _ in others]) + "->" + kept, gy, *[u for _, u in others])
            if kept != s:  # letters summed away inside operand k alone: dy/dx = 1 along them
                g = g.reshape([t.shape[i] if c in present else 1 for i, c in enumerate(s)]).broadcast_to(t.shape)
            grads.append(g)
        return tuple(grads)


def einsum(subscripts, *operands):
    """Einstein summation, ``einsum("ij,jk->ik", a, b)`` (= a @ b): each operand's axes are named
    by letters; letters missing from the output are summed over. '...' stands for the leading
    axes; without '->' the output is the letters used once, in alphabetical order."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [as_tensor(t) for t in operands]
    dtype = operands[0].data.dtype
    for t in operands[1:]:
        dtype = _promote(dtype, t.data.dtype)
    operands = [t if t.data.dtype == dtype else astype(t, dtype) for t in operands]
    inputs, output = _einsum_parse(subscripts, operands)
    return Einsum.apply(*operands, inputs=inputs, output=output)


# ----------------------------------------------------------------------------- matrices, shapes, masks

def mm(a, b):
    """The matrix product of two 2-D tensors (no broadcasting, as torch.mm)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm(): both arguments must be 2-D matrices, got shapes {tuple(a.shape)} and {tuple(b.shape)}; "
                         "use matmul for vectors and batches")
    return matmul(a, b)


def bmm(a, b):
    """Batched matrix product of (B, n, m) and (B, m, p) tensors: (B, n, p)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ShapeError(f"bmm(): both arguments must be 3-D with the same batch size, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def t(x):
    """The transpose of a matrix (tensors of at most 2 dimensions, as torch.t)."""
    x = as_tensor(x)
    if x.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D; use transpose(dim0, dim1)")
    return transpose(x) if x.ndim == 2 else x


def masked_fill(x, mask, value):
    """x with ``value`` where ``mask`` is True (mask broadcasts to x's shape). The gradient flows to
    x where the mask is False, and to a tensor ``value`` from where it is True."""
    x = as_tensor(x)
    mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ShapeError(f"masked_fill only supports a 0-dimensional value tensor, but got one of shape "
                             f"{tuple(value.shape)}")
        value = astype(value, x.dtype)
    else:
        value = Tensor._wrap(np.array(value, dtype=x.dtype))
    return Where.apply(value, x, cond=np.broadcast_to(mask, x.shape))


def expand(x, *sizes):
    """x repeated along its axes of length 1 to ``sizes`` (new leading axes may be added; -1 keeps
    an axis). A broadcast: no copy, and the gradient sums over the repeats."""
    x = as_tensor(x)
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
                         f"the number of dimensions in the tensor ({x.ndim})")
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    return x if shape == x.shape else broadcast_to(x, shape)


def repeat(x, *repeats):
    """x tiled ``repeats[i]`` times along axis i (as torch.Tensor.repeat, NumPy's tile): each axis
    of length n becomes r·n by a reshape, a broadcast and a reshape, so the gradient sums the copies."""
    x = as_tensor(x)
    repeats = _shape_arg(repeats)
    if len(repeats) < x.ndim:
        raise ShapeError(f"repeat: number of repeat dims ({len(repeats)}) can not be smaller than the number "
                         f"of dimensions of the tensor ({x.ndim})")
    shape = (1,) * (len(repeats) - x.ndim) + x.shape
    spread = x.reshape(tuple(v for n in shape for v in (1, n)))
    tiled = spread.broadcast_to(tuple(v for r, n in zip(repeats, shape) for v in (r, n)))
    return tiled.reshape(tuple(r * n for r, n in zip(repeats, shape)))


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces along ``dim``, each of ceil(n / chunks) elements but the last
    (so there may be fewer pieces, as torch.chunk)."""
    x = as_tensor(x)
    if chunks <= 0:
        raise ValueError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x.shape[dim]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


class Clone(Function):
    """y = a copy of a;  dy/da = 1."""

    def forward(self, a):
        return a.copy()

    def backward(self, gy):
        return gy


def clone(x):
    """A copy of x with its own memory; the gradient flows back to x."""
    return Clone.apply(as_tensor(x))


# ----------------------------------------------------------------------------- named results

class return_types:
    """PyTorch's named tuples for results with values and indices (``x.max(1).indices``)."""

    _types = {}

    @classmethod
    def make(cls, name, values, indices):
        kind = cls._types.get(name)
        if kind is None:
            import collections

            base = collections.namedtuple(name, ["values", "indices"])
            kind = type(name, (base,), {"__slots__": (), "__repr__": cls._repr, "__module__": "torch.return_types"})
            cls._types[name] = kind
        return kind(values, indices)

    @staticmethod
    def _repr(self):
        return f"torch.return_types.{type(self).__name__}(\nvalues={self.values!r},\nindices={self.indices!r})"
