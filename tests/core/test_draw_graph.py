"""The computational-graph drawer (``nnscratch.viz.draw_graph``): traced nodes, edges and labels
on a graph with a reused node and one with broadcasting; the DOT text; the matplotlib fallback
writes a PNG without graphviz."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.compgraph import retain_grads, to_dot, trace_graph
from nnscratch.viz import draw_graph


def _by_kind(graph, kind):
    return sorted(n.label for n in graph.nodes if n.kind == kind)


def test_reused_node_is_one_node_with_a_double_edge():
    a = ns.tensor(3.0, requires_grad=True)
    b = a + a
    c = b * b
    retain_grads(c)
    c.backward(retain_graph=True)
    graph = trace_graph(c, names={"a": a, "b": b, "c": c})
    assert len(graph.nodes) == 5 and len(graph.edges) == 4
    assert _by_kind(graph, "function") == ["Add", "Mul"]
    labels = {n.label.split("\n")[0]: n for n in graph.nodes if n.kind == "tensor"}
    assert labels["a"].label == "a\nscalar float32\nvalue 3\ngrad 24"   # dc/da = 8a
    assert labels["b"].label == "b\nscalar float32\nvalue 6\ngrad 12"
    assert labels["c"].label == "c\nscalar float32\nvalue 36\ngrad 1"
    assert [labels[k].level for k in "cba"] == [0, 2, 4]
    assert sorted(uses for _, _, uses in graph.edges) == [1, 1, 2, 2]
    dot = to_dot(graph)
    assert dot.startswith("digraph {") and dot.count("->") == 4 and dot.count('[label="×2"]') == 2


def test_broadcast_graph_shapes_and_gradients():
    x = ns.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = ns.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * w + 1).sum()
    retain_grads(y)
    y.backward(retain_graph=True)
    graph = trace_graph(y, names={"x": x, "w": w, "y": y})
    # tensors x, w, x*w, the constant 1, x*w + 1, y; functions Mul, Add, Sum
    assert len(graph.nodes) == 9 and len(graph.edges) == 8
    assert _by_kind(graph, "function") == ["Add", "Mul", "Sum"]
    w_label = next(n.label for n in graph.nodes if n.label.startswith("w\n"))
    assert w_label == "w\nshape (3,) float32\nvalue [1., 2., 3.]\ngrad [5., 7., 9.]"  # summed over the broadcast rows
    np.testing.assert_array_equal(w.grad.data, [5.0, 7.0, 9.0])
    assert max(n.level for n in graph.nodes) == 6  # x, w -> Mul -> x*w -> Add -> x*w + 1 -> Sum -> y


def test_large_tensors_show_their_shape_only_and_a_leaf_is_a_one_node_graph():
    x = ns.randn(10, 4, requires_grad=True)
    y = x.sum()
    label = next(n.label for n in trace_graph(y).nodes if "(10, 4)" in n.label)
    assert label == "shape (10, 4) float32"
    assert len(trace_graph(x).nodes) == 1 and trace_graph(x).edges == []
    with pytest.raises(TypeError, match="needs a Tensor"):
        trace_graph(np.ones(3))


def test_matplotlib_fallback_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    a = ns.tensor([1.0, -2.0], requires_grad=True)
    b = ns.tensor(0.5, requires_grad=True)
    loss = ((a * b).tanh() + a).sum()
    path = tmp_path / "graph.png"
    fig = draw_graph(loss, path=path, engine="matplotlib", names={"a": a, "b": b, "loss": loss})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"Mul", "Tanh", "Add", "Sum"} <= set(texts)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    with pytest.raises(ValueError, match="engine must be"):
        draw_graph(loss, engine="svg")
