"""Parameters as one flat vector and back (``torch.nn.utils.parameters_to_vector``)."""

import numpy as np

from ...functional import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive pieces of the 1-D ``vec`` into the parameters, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__name__}")
    data, start = np.asarray(vec.data), 0
    for p in parameters:
        n = p.data.size
        p.data[...] = data[start:start + n].reshape(p.data.shape)
        start += n
