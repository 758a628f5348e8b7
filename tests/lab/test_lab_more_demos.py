"""The lab demos of training failures and of the book's chapter-4 run: dying-relu, exploding-gradient. Numbers are asserted on the default (small) runs; each figure is drawn once with Agg."""

import math

import pytest

from nnscratch import lab

MORE_DEMOS = ["dying-relu", "exploding-gradient"]


@pytest.fixture(scope="module")
def results():
    return {name: lab.run(name) for name in MORE_DEMOS}


def test_registered_and_titled():
    titles = lab.titles()
    for name in MORE_DEMOS:
        assert name in lab.DEMOS and titles[name] and "\n" not in titles[name]


def test_dying_relu_high_lr_kills_relu_units_not_leaky_ones(results):
    n = results["dying-relu"].numbers
    relu, leaky, gentle = "ReLU, lr 3.0", "LeakyReLU, lr 3.0", "ReLU, lr 0.1"
    assert len(n["dead_fraction"][relu]) == n["epochs"] + 1
    assert n["dead_before"][relu] < 0.2 and n["dead_after"][relu] > 0.5
    assert max(n["dead_fraction"][leaky]) == 0.0
    assert n["dead_after"][gentle] < 0.2
    # lr 3.0 amplifies rounding: the accuracies differ between BLAS kernels (LeakyReLU 0.925-0.995), the order does not
    assert n["accuracy"][leaky] > 0.9 and n["accuracy"][relu] < n["accuracy"][leaky]


def test_exploding_gradient_grows_downwards_and_clipping_trains(results):
    n = results["exploding-gradient"].numbers
    norms = n["gradient_norms"]
    assert all(a > b for a, b in zip(norms, norms[1:]))  # larger at every layer nearer the input
    assert n["first_over_last"] > 100
    assert not n["plain_finite"] and not all(map(math.isfinite, n["loss_plain"][:5]))
    assert all(map(math.isfinite, n["loss_clipped"]))
    assert n["clipped_final_over_initial"] < 0.2
    assert n["loss_plain"][0] == n["loss_clipped"][0]  # same start


def test_figures_are_written(results, tmp_path):
    pytest.importorskip("matplotlib")
    for name, result in results.items():
        paths = result.save(tmp_path / name)
        assert len(paths) == len(result.figures) and all(p.endswith(".png") for p in paths)
