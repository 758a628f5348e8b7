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
    if type(b) is float and type(a) is Tensor and a.data.dtype.kind == "f":  # fast path: x * 0.5
        return a, Tensor._wrap(np.array(b, dtype=a.data.dtype))
    if not isinstance(a, Tensor):
        a = as_tensor(a, like=b)
    if not isinstance(b, Tensor):
        b = as_tensor(b, like=a)
    return a, b


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


def div(a, b):
    """a / b elementwise (broadcasting)."""
    return Div.apply(*_pair(a, b))


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
        raise ShapeError(f"matmul needs tensors of at least 1 dimension, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the first "
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


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Σ x over ``axis`` (all axes when None)."""
    return Sum.apply(as_tensor(x), axis=_pick(axis, dim), keepdims=keepdim or keepdims)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Σ x / n over ``axis``."""
    x = as_tensor(x)
    axis = _pick(axis, dim)
    n = int(np.prod([x.shape[i] for i in _axes(axis, x.ndim)]))
    return sum(x, axis, keepdim or keepdims) * (1.0 / n)


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Largest value over ``axis``; ties share the gradient evenly (as torch.amax)."""
    return Max.apply(as_tensor(x), axis=_pick(axis, dim), keepdims=keepdim or keepdims, fn=np.max)


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Smallest value over ``axis``; ties share the gradient evenly (as torch.amin)."""
    return Max.apply(as_tensor(x), axis=_pick(axis, dim), keepdims=keepdim or keepdims, fn=np.min)


def var(x, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None):
    """Σ (x - mean)² / (n - correction) over ``axis``; correction=1 is the unbiased estimate
    (PyTorch's default), correction=0 the population variance (NumPy's default)."""
    x = as_tensor(x)
    axis = _pick(axis, dim)
    n = int(np.prod([x.shape[i] for i in _axes(axis, x.ndim)]))
    d = x - mean(x, axis, keepdims=True)
    scale = 1.0 / (n - correction) if n > correction else float("nan")
    return sum(d * d, axis, keepdim or keepdims) * scale


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
        raise ValueError(f"permute: {dims} is not an ordering of the {x.ndim} axes of shape {x.shape}")
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
