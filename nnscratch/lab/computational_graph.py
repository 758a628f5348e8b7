"""The computational graph (backpropagation made visible): every operation of an expression is a
node, the forward pass writes a value on each tensor, and backward() writes the gradient of the
result with respect to each of them, from the result back to the inputs.

The expression is one neuron, o = tanh(x1·w1 + x2·w2 + b), with the values micrograd's
walkthrough uses (x = (2, 0), w = (-3, 1), b = 6.8813735870195432, so o = tanh(0.8814) = √½):
do/dn = 1 - o² = 0.5, and each input's gradient is 0.5 times the other factor of its product
(x1: 0.5·w1 = -1.5, w1: 0.5·x1 = 1). A second figure draws the graph of a small network's loss.
"""

import numpy as np

from .. import backend, nn
from .. import functional as F
from ..compgraph import draw_on_figure, retain_grads, trace_graph
from ..tensor import tensor
from .base import Result

TITLE = "the computational graph of a neuron and of a small network, forward values and gradients on every node"

INPUTS = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


def neuron():
    """o = tanh(x1·w1 + x2·w2 + b) in float64 on :data:`INPUTS`; returns (o, {name: tensor}) after
    ``o.backward()`` with every intermediate gradient kept."""
    t = {k: tensor(v, dtype=np.float64, requires_grad=True) for k, v in INPUTS.items()}
    t["x1w1"] = t["x1"] * t["w1"]
    t["x2w2"] = t["x2"] * t["w2"]
    t["n"] = t["x1w1"] + t["x2w2"] + t["b"]
    t["o"] = t["n"].tanh()
    retain_grads(t["o"])
    t["o"].backward(retain_graph=True)
    return t["o"], t


def small_network(seed=0):
    """A 2-2-1 sigmoid network's squared-error loss on one sample, in float64, after backward with
    every intermediate gradient kept; returns (loss, {name: tensor})."""
    previous = backend.get_default_dtype()
    backend.set_default_dtype(np.float64)
    try:
        backend.manual_seed(seed)
        hidden, out = nn.Linear(2, 2), nn.Linear(2, 1)
        x = tensor([[1.0, -1.0]])
        loss = F.mse_loss(out(hidden(x).sigmoid()).sigmoid(), tensor([[1.0]]))
    finally:
        backend.set_default_dtype(previous)
    retain_grads(loss)
    loss.backward(retain_graph=True)
    names = {"x": x, "W1": hidden.weight, "b1": hidden.bias, "W2": out.weight, "b2": out.bias, "loss": loss}
    return loss, names


def run(seed=0, full=False):
    """The neuron's values and gradients (numbers "values", "grads") and both traced graphs."""
    o, t = neuron()
    values = {k: float(v.data) for k, v in t.items()}
    grads = {k: float(v.grad.data) for k, v in t.items()}
    graph = trace_graph(o, names=t)
    loss, names = small_network(seed)
    net_graph = trace_graph(loss, names=names)
    numbers = {"values": values, "grads": grads, "nodes": len(graph.nodes), "edges": len(graph.edges),
               "network_nodes": len(net_graph.nodes), "network_loss": float(loss.data)}
    lines = ["o = tanh(x1·w1 + x2·w2 + b): forward value and d o / d(node) on every node",
             f"  {'node':6s} {'value':>12s} {'gradient':>12s}"]
    lines += [f"  {k:6s} {values[k]:12.6f} {grads[k]:12.6f}" for k in t]
    lines.append(f"the graph: {numbers['nodes']} nodes (tensors and operations), {numbers['edges']} edges; "
                 f"a 2-2-1 sigmoid network's loss ({numbers['network_loss']:.4f}) has {numbers['network_nodes']} nodes")
    lines.append("in code: nnscratch.viz.draw_graph(loss, 'graph.png') draws any expression's graph")
    return Result("computational-graph", numbers, "\n".join(lines), {
        "neuron_graph.png": lambda fig: draw_on_figure(graph, fig, "o = tanh(x1·w1 + x2·w2 + b): values and gradients"),
        "network_graph.png": lambda fig: draw_on_figure(net_graph, fig, "a 2-2-1 sigmoid network's loss"),
    })
