"""The lab demos that make backpropagation and non-convex descent visible: computational-graph,
backprop-by-hand, local-minima, partial-derivatives. Numbers are asserted against closed forms and
the book's printed values; each figure is drawn once with the Agg backend."""

import math

import numpy as np
import pytest

from nnscratch import lab
from nnscratch.cli import main

NEW_DEMOS = ["computational-graph", "backprop-by-hand", "local-minima", "partial-derivatives"]


@pytest.fixture(scope="module")
def results():
    return {name: lab.run(name) for name in NEW_DEMOS}


def test_registered_and_titled():
    titles = lab.titles()
    for name in NEW_DEMOS:
        assert name in lab.DEMOS and titles[name] and "\n" not in titles[name]


def test_computational_graph_neuron_values_and_gradients(results):
    n = results["computational-graph"].numbers
    assert n["values"]["o"] == pytest.approx(math.sqrt(0.5), abs=1e-12)
    # do/dn = 1 - o² = 0.5; each product's inputs get 0.5 times the other factor
    assert n["grads"]["n"] == pytest.approx(0.5, abs=1e-12)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "x1w1": 0.5, "o": 1.0}
    for name, g in expected.items():
        assert n["grads"][name] == pytest.approx(g, abs=1e-12), name
    assert (n["nodes"], n["edges"]) == (15, 14)  # 10 tensors, 5 operations
    assert n["network_nodes"] > n["nodes"]


def test_backprop_by_hand_equals_autograd_and_numerical(results):
    n = results["backprop-by-hand"].numbers
    assert n["forward"]["y"] == pytest.approx(0.7513650695523157, abs=1e-12)
    assert n["forward"]["L"] == pytest.approx(0.5 * (0.7513650695523157 - 0.01) ** 2, abs=1e-12)
    assert n["max_diff_autograd"] < 1e-15
    assert n["max_diff_numerical"] < 1e-9
    for name, factors, product in n["steps"]:
        assert product == pytest.approx(np.prod(factors), rel=1e-15), name
    assert len(n["steps"]) == 9  # b2, w2 (2), W1 (4), b1 (2)
    assert n["by_hand"]["b2"] == pytest.approx(0.1384985616, abs=1e-10)
    assert n["by_hand"]["W1"][0][0] == pytest.approx(0.0006683960, abs=1e-10)
    report = results["backprop-by-hand"].report
    assert "dL/dW1_00 = 0.741365 · 0.186816 · 0.400000 · 0.241301 · 0.050000 = 0.0006683960" in report


def test_local_minima_start_decides_the_minimum(results):
    n = results["local-minima"].numbers
    left, right = -1.3008395, 1.1309047  # the roots of 4x³ - 6x + 1 that are minima
    assert n["ends_1d"] == pytest.approx([left, left, left, right, right], abs=1e-5)
    assert n["values_1d"][0] == pytest.approx(-3.5139, abs=1e-4) and n["values_1d"][-1] == pytest.approx(-1.0702, abs=1e-4)
    minima = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126), (3.0, 2.0)]
    for end, expected in zip(n["ends_2d"], minima):
        assert end == pytest.approx(expected, abs=1e-4)
    assert max(n["values_2d"]) < 1e-12
    on_axis, off_axis = n["saddle_ends"]
    assert on_axis[1] == 0.0 and abs(on_axis[0]) < 1e-3 and n["saddle_gradient_norms"][0] < 1e-3  # stalled
    assert off_axis[1] == pytest.approx(0.001 * 1.2 ** 40, rel=1e-6) and n["saddle_values"][1] < -2


def test_partial_derivatives_are_the_books_printed_values(results):
    n = results["partial-derivatives"].numbers
    assert n["df_dx0"] == 6.00000000000378
    assert n["df_dx1"] == 7.999999999999119
    assert "6.00000000000378" in results["partial-derivatives"].report


def test_figures_are_written(results, tmp_path):
    pytest.importorskip("matplotlib")
    for name, result in results.items():
        paths = result.save(tmp_path / name)
        assert len(paths) == len(result.figures)
        for path in paths:
            with open(path, "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n"
            assert 20_000 < (tmp_path / name / path.split("/")[-1]).stat().st_size < 2_000_000


def test_cli_runs_a_new_demo(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert main(["lab", "partial-derivatives", "--out", str(tmp_path)]) == 0
    assert "7.999999999999119" in capsys.readouterr().out
    assert (tmp_path / "partial_derivatives.png").exists()
