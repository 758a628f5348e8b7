"""The computational graph of an expression, traced from its result and drawn.

``trace_graph(loss)`` walks back from ``loss`` through ``.creator`` (PyTorch's ``grad_fn``) and
each Function's inputs, and returns plain data: a node per tensor (its shape, and its value and
gradient when small) and per Function (its name), and the edges input -> Function -> output.
``draw_graph(loss)`` draws it: with graphviz when the ``graphviz`` package and its ``dot`` program
are installed, else with matplotlib (boxes in columns by distance from the result, arrows
between them). Reused tensors (``b = a + a``) are one node whose edge is marked "×2".

Gradients of intermediate tensors are dropped by ``backward()`` unless kept: call
``retain_grads(loss)`` before ``loss.backward(retain_graph=True)`` to see them on every node.
"""

import shutil
from dataclasses import dataclass, field

import numpy as np

from .tensor import Tensor

SMALL = 6
"""Tensors with at most this many elements show their value and gradient, larger ones their shape."""


@dataclass
class Node:
    """One box of the graph: ``kind`` is "tensor" or "function"; ``label`` the text drawn in it;
    ``level`` its longest distance (in edges) from the result, which is level 0."""

    id: int
    kind: str
    label: str
    level: int = 0


@dataclass
class Graph:
    """The traced graph: ``nodes`` (result first) and ``edges`` as ``(source id, target id, uses)``,
    ``uses`` > 1 where a tensor enters the same Function more than once."""

    nodes: list
    edges: list = field(default_factory=list)

    def node(self, id):
        """The node with this id."""
        return next(n for n in self.nodes if n.id == id)


def _walk(output):
    """(tensors, functions, edges) reachable from ``output``, visiting each once (iteratively)."""
    tensors, functions, edges = {id(output): output}, {}, {}
    stack = [output]
    while stack:
        t = stack.pop()
        fn = t.creator
        if fn is None or fn.inputs is None:  # a leaf, or a graph freed by backward()
            continue
        edges[(id(fn), id(t))] = 1
        if id(fn) in functions:
            continue
        functions[id(fn)] = fn
        for x in fn.inputs:
            key = (id(x), id(fn))
            edges[key] = edges.get(key, 0) + 1
            if id(x) not in tensors:
                tensors[id(x)] = x
                stack.append(x)
    return tensors, functions, edges


def graph_tensors(output):
    """Every tensor of ``output``'s graph, ``output`` first."""
    return list(_walk(output)[0].values())


def retain_grads(output):
    """Ask every intermediate tensor of ``output``'s graph that requires grad to keep its ``.grad``
    after backward, so that ``draw_graph`` can show a gradient on every node."""
    for t in graph_tensors(output):
        if t.creator is not None and t.requires_grad:
            t.retain_grad()


def _format(array):
    array = np.asarray(array)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    return np.array2string(array, precision=4, separator=", ", suppress_small=True, max_line_width=40)


def tensor_label(t, name=None):
    """The text of a tensor's node: its name, shape and dtype, and its value and gradient when it
    has at most ``SMALL`` elements."""
    lines = [name] if name else []
    shape = "scalar" if t.data.ndim == 0 else "shape " + str(tuple(t.data.shape))
    lines.append(f"{shape} {t.data.dtype}")
    if t.data.size <= SMALL:
        lines.append("value " + _format(t.data))
        if t.grad is not None:
            lines.append("grad " + _format(t.grad.data))
    elif t.grad is not None:
        lines.append(f"grad: shape {tuple(t.grad.data.shape)}")
    return "\n".join(lines)


def function_name(fn):
    """PyTorch's name of the operation (``Mul``, ``MatMul``, ...)."""
    return getattr(fn, "torch_name", type(fn).__name__)


def _levels(output_id, edges):
    """Longest path (in edges) from each node to the result, so every input sits left of its use:
    a node is placed once all of its consumers are (Kahn's algorithm, from the result back)."""
    producers, waiting = {}, {}
    for src, dst, _ in edges:
        producers.setdefault(dst, []).append(src)
        waiting[src] = waiting.get(src, 0) + 1
    level, ready = {output_id: 0}, [output_id]
    while ready:
        node = ready.pop()
        for src in producers.get(node, []):
            level[src] = max(level.get(src, 0), level[node] + 1)
            waiting[src] -= 1
            if waiting[src] == 0:
                ready.append(src)
    return level


def trace_graph(output, names=None):
    """The :class:`Graph` of ``output``: ``names`` optionally maps a label to a tensor of the graph
    (``{"x": x, "loss": loss}``) to name its node."""
    if not isinstance(output, Tensor):
        raise TypeError(f"trace_graph needs a Tensor (the result of an expression), got {type(output).__name__}")
    by_id = {id(t): name for name, t in (names or {}).items()}
    tensors, functions, uses = _walk(output)
    edges = [(src, dst, n) for (src, dst), n in uses.items()]
    level = _levels(id(output), edges)
    nodes = [Node(i, "tensor", tensor_label(t, by_id.get(i)), level.get(i, 0)) for i, t in tensors.items()]
    nodes += [Node(i, "function", function_name(fn), level.get(i, 0)) for i, fn in functions.items()]
    return Graph(nodes, edges)


def to_dot(graph):
    """The graph in graphviz's DOT language, drawn left to right (inputs first)."""
    def quote(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    lines = ["digraph {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for n in graph.nodes:
        style = 'shape=box, style="rounded,filled", fillcolor="#dbe9f6"' if n.kind == "tensor" \
            else 'shape=ellipse, style=filled, fillcolor="#fde2c4"'
        lines.append(f"  n{n.id} [label={quote(n.label)}, {style}];")
    for src, dst, uses in graph.edges:
        label = f' [label="×{uses}"]' if uses > 1 else ""
        lines.append(f"  n{src} -> n{dst}{label};")
    lines.append("}")
    return "\n".join(lines)


def graphviz_available():
    """True when the ``graphviz`` Python package and the ``dot`` program are both installed."""
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def _positions(graph):
    """(column, row) of every node: columns by level (the result rightmost), rows ordered so a node
    sits near the nodes it feeds (one barycentre pass from the result back to the inputs)."""
    depth = max(n.level for n in graph.nodes)
    columns = {}
    for n in graph.nodes:
        columns.setdefault(n.level, []).append(n.id)
    targets = {}
    for src, dst, _ in graph.edges:
        targets.setdefault(src, []).append(dst)
    kinds = {n.id: n.kind for n in graph.nodes}
    # a column of operations only needs about half the width of a column of tensor boxes
    width = [0.55 if all(kinds[i] == "function" for i in columns.get(level, [])) else 1.0
             for level in range(depth, -1, -1)]
    x = np.concatenate([[0.0], np.cumsum([(a + b) / 2 for a, b in zip(width[:-1], width[1:])])])
    position = {}
    for level in range(depth + 1):
        ids = columns.get(level, [])
        ids.sort(key=lambda i: np.mean([position[t][1] for t in targets.get(i, []) if t in position] or [0.0]))
        for row, i in enumerate(ids):
            position[i] = (float(x[depth - level]), row - (len(ids) - 1) / 2)
    return position


def draw_on_figure(graph, fig, title=None):
    """Draw ``graph`` on the matplotlib figure ``fig`` (boxes for tensors, rounded orange boxes for
    Functions, arrows from inputs to uses) and size the figure to fit."""
    position = _positions(graph)
    xs = [x for x, _ in position.values()]
    span = max(xs) + 1
    rows = max(xs.count(x) for x in set(xs))
    fig.set_size_inches(max(4.0, 2.2 * span), max(2.5, 1.3 * rows + 0.6))
    ax = fig.add_axes([0, 0, 1, 0.93 if title else 1])
    ax.set_xlim(-0.5, span - 0.5)
    ax.set_ylim(-rows / 2, rows / 2)
    ax.axis("off")
    boxes = {}
    for n in graph.nodes:
        x, y = position[n.id]
        style = dict(boxstyle="square,pad=0.4", facecolor="#dbe9f6", edgecolor="#4a7ab0") if n.kind == "tensor" \
            else dict(boxstyle="round,pad=0.5", facecolor="#fde2c4", edgecolor="#c07020")
        boxes[n.id] = ax.text(x, y, n.label, ha="center", va="center", fontsize=8, bbox=style,
                              family="monospace" if n.kind == "tensor" else None)
    for src, dst, uses in graph.edges:
        ax.annotate("", xy=position[dst], xytext=position[src],
                    arrowprops=dict(arrowstyle="-|>", color="#555555", patchA=boxes[src].get_bbox_patch(),
                                    patchB=boxes[dst].get_bbox_patch(), shrinkA=2, shrinkB=2))
        if uses > 1:
            (x0, y0), (x1, y1) = position[src], position[dst]
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.08, f"×{uses}", ha="center", fontsize=9, color="#aa2222")
    if title:
        fig.suptitle(title)
    return fig


def draw_graph(output, path=None, names=None, engine="auto", title=None):
    """Draw the computational graph of ``output`` (a Tensor, or a :class:`Graph` from
    :func:`trace_graph`); ``names`` labels tensors as in :func:`trace_graph`.

    ``engine``: "graphviz" (returns a ``graphviz.Source``), "matplotlib" (returns the ``Figure``)
    or "auto" (graphviz when installed, else matplotlib). With ``path`` the drawing is also saved as
    a PNG there."""
    graph = output if isinstance(output, Graph) else trace_graph(output, names)
    if engine not in ("auto", "graphviz", "matplotlib"):
        raise ValueError(f"engine must be 'auto', 'graphviz' or 'matplotlib', got {engine!r}")
    if engine == "graphviz" or (engine == "auto" and graphviz_available()):
        import graphviz
        source = graphviz.Source(to_dot(graph))
        if path is not None:
            with open(path, "wb") as f:
                f.write(source.pipe(format="png"))
        return source
    from .viz import _pyplot, save_figure
    fig = draw_on_figure(graph, _pyplot().figure(), title)
    if path is not None:
        save_figure(fig, path)
    return fig
