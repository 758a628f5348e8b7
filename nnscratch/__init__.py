"""nnscratch: deep learning from first principles on NumPy.

``import nnscratch as ns``: ``ns.tensor``, the autograd ``Tensor``, and the operations on it;
``import nnscratch.functional as F`` for activations and losses.
"""

__version__ = "0.1.0"

from . import functional, nn, optim
from . import accelerator, backends, cuda
from .backend import (Generator, device, double, dtype, float16, float32, float64, get_default_dtype, half, int8,
                      int16, int32, int64, long, manual_seed, set_default_dtype, short, uint8)
from .functional import (abs, all, allclose, amax, amin, any, argmax, argmin, argsort, bmm, broadcast_to, cat,
                         chunk, clamp, clip, clone, concat, cos, cumsum, einsum, eq, equal, exp, flatten,
                         gather, ge, gt, isfinite, isinf, isnan, le, log, log_softmax, lt, masked_fill, matmul,
                         max, maximum, mean, min, minimum, mm, ne, norm, permute, relu, repeat, reshape,
                         return_types, sigmoid, sin, softmax, sort, split, sqrt, square, squeeze, stack, std,
                         sum, t, tanh, topk, transpose, unsqueeze, var, where)
from .functional import add, div, mul, pow, sub
from .serialization import load, save
from .torch_hook import as_torch
from .gradcheck import GradcheckError, gradcheck, gradient_descent, numerical_diff, numerical_gradient
from .tensor import (BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor,  # noqa: F401
                     Function, ShapeError, Size, Tensor, arange, as_tensor, empty, empty_like, enable_grad, eye,
                     from_numpy, full, full_like, grad, is_grad_enabled, linspace, no_grad, ones, ones_like, rand,
                     rand_like, randint, randn, randn_like, randperm, set_grad_enabled, tensor, zeros, zeros_like)

# torch.bool, torch.float (float32) and torch.int (int32) are API, so they are attributes here; they are
# also the names of builtins, so they are bound last, where no code of this module can mistake them.
from .backend import bool_ as bool, float_ as float, int_ as int  # noqa: E402,A001
