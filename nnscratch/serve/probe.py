"""Look inside a trained network: the activations of its hidden layers for one input, and the
weight image of each hidden unit (what the unit responds to).

The network is walked as a chain of leaf modules (nested ``Sequential``s, such as ``nn.MLP``, are
opened). A *probe point* is the output of every activation module (ReLU, Sigmoid, ...) and every
residual block except the last leaf: for an MLP these are the hidden layers (one value per unit),
for a CNN the feature maps (channels x height x width). The weights feeding a probe point are
those of the nearest ``Linear`` or ``Conv2d`` before it.

The network is ``frozen`` (eval mode, parameters that do not require gradients), so no graph is
recorded. (Grad mode is per thread, so a ``no_grad`` in the server's threads would not stop
``nnscratch train --serve`` training in another either.)
"""

import math

import numpy as np

from .. import functional as F
from ..nn import Conv2d, Flatten, Linear, Sequential
from ..nn import activation as activations
from ..tensor import from_numpy
from .images import InputError

ACTIVATIONS = (activations.Step, activations.Sigmoid, activations.Tanh, activations.ReLU,
               activations.LeakyReLU, activations.Softplus)
MAX_TILES = 16  # weight images shown per unit (input channels of a convolution, or of a flattened map)


def leaves(module):
    """The chain of modules that ``module`` applies, with nested Sequentials opened."""
    if isinstance(module, Sequential):
        return [leaf for child in module for leaf in leaves(child)]
    return [module]


def frozen(network):
    """``network`` in eval mode with parameters that do not require gradients (no graph is recorded)."""
    return network.eval().requires_grad_(False)


def grid(n):
    """(rows, cols) of the near-square grid that lays out n units: cols = ceil(sqrt(n))."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def probe_points(network, input_shape=(1, 28, 28)):
    """(``network`` must be ``frozen``.) One dict per probe point: position in the leaf chain, name, kind ('dense' or 'conv'), the
    output shape (without the batch axis), the weight layer feeding it and that layer's input shape."""
    chain = leaves(network)
    points, source, source_input = [], None, None
    shape = tuple(input_shape)
    unflattened = None  # the input shape of a Flatten just before a Linear: show its weights as those maps
    h = from_numpy(np.zeros((1, *input_shape), np.float32))
    for position, layer in enumerate(chain):
        if isinstance(layer, (Linear, Conv2d)):
            source, source_input = layer, unflattened or shape
        unflattened = shape if isinstance(layer, Flatten) and len(shape) == 3 else None
        h = layer(h)
        shape = tuple(h.shape[1:])
        is_block = type(layer).__name__ == "ResidualBlock"
        if (isinstance(layer, ACTIVATIONS) or is_block) and position < len(chain) - 1 and len(shape) in (1, 3):
            kind = "dense" if len(shape) == 1 else "conv"
            name = f"{'hidden' if kind == 'dense' else 'conv'} {sum(p['kind'] == kind for p in points) + 1}"
            points.append({"position": position, "name": f"{name} ({type(layer).__name__})", "kind": kind,
                           "shape": shape, "source": None if is_block else source, "source_input": source_input})
    return points


def describe(points):
    """The JSON description of the probe points (what the page needs to lay them out)."""
    out = []
    for index, p in enumerate(points):
        entry = {"index": index, "name": p["name"], "kind": p["kind"], "has_weights": p["source"] is not None}
        if p["kind"] == "dense":
            entry.update(units=p["shape"][0], grid=list(grid(p["shape"][0])))
        else:
            entry.update(channels=p["shape"][0], height=p["shape"][1], width=p["shape"][2])
        out.append(entry)
    return out


def _rounded(array, digits=4):
    return np.round(np.asarray(array, np.float64), digits).tolist()


def activations_of(network, points, image):
    """(probabilities (C,), [activation array of each probe point]) for one 28x28 input image and a
    ``frozen`` network:
    the probabilities are softmax(network(x)), the activations the probe points' outputs."""
    chain = leaves(network)
    wanted = {p["position"]: i for i, p in enumerate(points)}
    values = [None] * len(points)
    h = from_numpy(np.asarray(image, np.float32)[None, None])
    for position, layer in enumerate(chain):
        h = layer(h)
        if position in wanted:
            values[wanted[position]] = h.data[0]
    probabilities = F.softmax(h, axis=1).data[0]
    return probabilities, values


def activations_json(points, values):
    """The probe points' descriptions with their values (rounded to 4 decimals) added."""
    return [{**entry, "values": _rounded(v)} for entry, v in zip(describe(points), values)]


def _as_tiles(vector, input_shape):
    """A weight vector over a layer's inputs arranged as pictures: the 28x28 image for the first
    layer, one tile per channel of flattened feature maps, or else the previous layer's grid."""
    if len(input_shape) == 3:  # (C, H, W): the image itself, or feature maps flattened
        return vector.reshape(input_shape)[:MAX_TILES]
    rows, cols = grid(vector.size)  # the page lays out a dense layer of n units in this grid too
    padded = np.full(rows * cols, np.nan)
    padded[:vector.size] = vector
    return padded.reshape(1, rows, cols)


def weight_images(points, index, units):
    """[{"unit": j, "scale": max |w|, "images": [2-D lists of w / scale]}] for the units ``units``
    of probe point ``index``: a dense unit's incoming weights as a picture over the layer before it
    (the 28x28 input for the first layer), a convolution channel's kernels (one per input channel)."""
    point = points[index]
    layer = point["source"]
    if layer is None:
        raise InputError(f"{point['name']} has no single weight layer to show")
    weight = layer.weight.data
    out = []
    for j in units:
        if isinstance(layer, Conv2d):
            tiles = weight[j][:MAX_TILES]
        else:
            tiles = _as_tiles(weight[j], point["source_input"])
        scale = float(np.nanmax(np.abs(tiles))) or 1.0
        images = np.where(np.isnan(tiles), 0.0, tiles / scale)
        out.append({"unit": int(j), "scale": scale, "images": _rounded(images, 3)})
    return out

