"""nnscratch: deep learning from first principles on NumPy.

``import nnscratch as ns``: ``ns.tensor``, the autograd ``Tensor``, and the operations on it;
``import nnscratch.functional as F`` for activations and losses.
"""

__version__ = "0.1.0"

from . import functional, nn, optim
from .backend import float32, float64, get_default_dtype, int64, manual_seed, set_default_dtype
from .functional import (abs, as_tensor, broadcast_to, cat, clamp, clip, concat, exp, flatten, log,
                         log_softmax, matmul, max, maximum, mean, min, minimum, permute, relu, reshape,
                         sigmoid, softmax, split, sqrt, squeeze, stack, sum, tanh, transpose, unsqueeze,
                         var, where)
from .serialization import load, save
from .gradcheck import GradcheckError, gradcheck, gradient_descent, numerical_diff, numerical_gradient
from .tensor import (Function, ShapeError, Tensor, arange, enable_grad, from_numpy, full, grad,
                     is_grad_enabled, no_grad, ones, ones_like, rand, randn, set_grad_enabled, tensor,
                     zeros, zeros_like)

bool = functional.np.bool_
