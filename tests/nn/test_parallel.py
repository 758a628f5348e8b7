"""nn.DataParallel: a network computed on slices of the batch in threads gives the whole batch's
outputs and gradients; batch norm, dropout, errors, the BLAS thread limit, fit(threads=) and the CLI."""

import json
import os

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import backend, models, nn, optim
from nnscratch.data import DataLoader, TensorDataset
from nnscratch.runner import thread_count
from nnscratch.train import fit


@pytest.fixture
def float64():
    ns.set_default_dtype(np.float64)
    yield
    ns.set_default_dtype(np.float32)


def _outputs_and_grads(net, params, x, t):
    for p in params:
        p.grad = None
    xt = ns.tensor(x, requires_grad=True)
    out = net(xt)
    F.cross_entropy(out, t).backward()
    return out.data, [p.grad.data.copy() for p in params], xt.grad.data


@pytest.mark.parametrize("threads, batch", [(2, 10), (3, 7), (4, 3)])
def test_gradients_are_the_whole_batch_s(float64, threads, batch):
    ns.manual_seed(0)
    model = models.build_model({"arch": "simple_cnn"})
    params = list(model.parameters())
    x = np.random.default_rng(1).standard_normal((batch, 1, 28, 28))
    t = np.arange(batch) % 10
    y1, g1, gx1 = _outputs_and_grads(model, params, x, t)
    y2, g2, gx2 = _outputs_and_grads(nn.DataParallel(model, threads), params, x, t)
    np.testing.assert_allclose(y2, y1, rtol=0, atol=1e-12)
    for a, b in zip(g2, g1):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gx2, gx1, rtol=0, atol=1e-12)


def test_inference_and_state_dict_are_the_module_s():
    ns.manual_seed(0)
    model = models.build_model({"arch": "lenet5"})
    dp = nn.DataParallel(model, 2)
    x = ns.randn(9, 1, 28, 28)
    with ns.no_grad():
        np.testing.assert_allclose(dp(x).data, model(x).data, rtol=0, atol=1e-6)
    assert list(dp.parameters()) == list(model.parameters())
    assert all(k.startswith("module.") for k in dp.state_dict())   # PyTorch's naming


def test_replicas_follow_replaced_weights():
    """An optimizer or load_state_dict may give a parameter a new array: the threads must use it."""
    ns.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    dp = nn.DataParallel(model, 2)
    x = ns.randn(6, 4)
    with ns.no_grad():
        dp(x)
        model[0].weight.data = np.zeros_like(model[0].weight.data)
        model[0].bias.data = np.ones_like(model[0].bias.data)
        np.testing.assert_array_equal(dp(x).data, np.ones((6, 3), np.float32))


def test_batch_norm_statistics_come_from_each_slice(float64):
    ns.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    dp = nn.DataParallel(bn, 2)
    x = np.random.default_rng(0).standard_normal((8, 3, 4, 4)) * 2 + 1
    y = dp(ns.tensor(x)).data
    for part in (slice(0, 4), slice(4, 8)):          # each slice normalised by its own mean and variance
        xs = x[part]
        mean, var = xs.mean(axis=(0, 2, 3), keepdims=True), xs.var(axis=(0, 2, 3), keepdims=True)
        np.testing.assert_allclose(y[part], (xs - mean) / np.sqrt(var + 1e-5), atol=1e-12)
    first = x[:4]                                    # the running estimates: from the first slice
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * first.mean(axis=(0, 2, 3)), atol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * first.var(axis=(0, 2, 3), ddof=1), atol=1e-12)
    assert int(bn.num_batches_tracked.data) == 1
    bn.eval()
    with ns.no_grad():                               # eval mode reaches the threads, with the new estimates
        np.testing.assert_allclose(dp(ns.tensor(x)).data, bn(ns.tensor(x)).data, atol=1e-12)


def test_dropout_is_reproducible_and_differs_per_slice():
    def masks(seed):
        ns.manual_seed(seed)
        dp = nn.DataParallel(nn.Dropout(0.5), 2)
        return dp(ns.ones(8, 1000)).data
    a, b = masks(3), masks(3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:4], a[4:])
    assert not np.array_equal(a, masks(4))
    assert abs((a == 0).mean() - 0.5) < 0.02


def test_errors_reach_the_caller_and_the_blas_is_restored(two_blas_threads):
    class Fails(nn.Module):
        def forward(self, x):
            if x.data[0, 0] > 100:
                raise ValueError("bad slice")
            return x * 2

    x = np.zeros((4, 2), np.float32)
    x[2:] = 1000                                     # the second slice, computed in a worker thread
    with pytest.raises(ValueError, match="bad slice"):
        nn.DataParallel(Fails(), 2)(ns.tensor(x))
    assert all(lib.get_num_threads() == 2 for lib in two_blas_threads)
    with pytest.raises(TypeError, match="must return one tensor"):
        nn.DataParallel(nn.LSTM(2, 3, batch_first=True), 2)(ns.randn(4, 5, 2))
    with pytest.raises(ValueError, match="at least 1"):
        nn.DataParallel(Fails(), 0)


def _blas_libs():
    with backend.blas_threads(1):
        pass
    return backend._blas


@pytest.fixture
def two_blas_threads():
    """The BLAS on 2 threads during the test (whatever OPENBLAS_NUM_THREADS says), so that holding
    it to one is a change to see and undo."""
    libs = _blas_libs()
    before = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(2)
    yield libs
    for lib, n in zip(libs, before):
        lib.set_num_threads(n)


def test_blas_threads_limits_and_restores(two_blas_threads):
    assert two_blas_threads, "threadpoolctl found no BLAS under NumPy"
    with backend.blas_threads(1):
        assert all(lib.get_num_threads() == 1 for lib in two_blas_threads)
    assert all(lib.get_num_threads() == 2 for lib in two_blas_threads)


def test_fit_with_threads_matches_one_thread():
    """No dropout, no batch norm: the same gradients, so the same training curve (up to rounding)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 1, 12, 12)).astype(np.float32)
    t = (x[:, 0, :6].sum(axis=(1, 2)) > 0).astype(np.int64)

    def run(threads):
        ns.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(100, 2))
        history = fit(model, DataLoader(TensorDataset(x, t), 50, shuffle=True), loss=F.cross_entropy,
                      optimizer=optim.Adam(model.parameters(), lr=1e-2), epochs=3, seed=0, verbose=False,
                      threads=threads)
        return model, history

    m1, h1 = run(1)
    m2, h2 = run(2)
    np.testing.assert_allclose(h2.loss, h1.loss, rtol=1e-4)
    assert h2.loss[-1] < 0.9 * h2.loss[0]
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(q.data, p.data, atol=1e-4)
    assert list(m2.state_dict()) == list(m1.state_dict())   # fit wraps internally: no "module." names


def test_thread_count_setting():
    assert thread_count(1) == 1 and thread_count(3) == 3
    assert thread_count("cores") >= 1

    class Ranks:
        size = 64
    assert thread_count("cores", Ranks()) == 1


@pytest.mark.skipif(not os.environ.get("NNSCRATCH_DATA"), reason="set NNSCRATCH_DATA to the folder holding mnist/")
def test_cli_threads(tmp_path, capsys):
    """The cnn preset trains on one thread per core by default; --threads 1 gives the same run (no dropout
    in SimpleConvNet), and the run directory records what was asked."""
    from nnscratch.cli import main
    runs = {}
    for name, extra in (("default", []), ("one", ["--threads", "1"])):
        out = tmp_path / name
        assert main(["train", "mnist", "--model", "cnn", "--limit", "400", "--epochs", "1", "--out", str(out),
                     "--quiet", *extra]) == 0
        runs[name] = (json.loads((out / "config.json").read_text())["settings"]["threads"],
                      _weights(out / "last.npz"))
    capsys.readouterr()
    assert runs["default"][0] == "cores" and runs["one"][0] == 1
    for key, value in runs["one"][1].items():
        np.testing.assert_allclose(runs["default"][1][key], value, atol=1e-5)


def _weights(path):
    from nnscratch.train import load_checkpoint
    return {k: getattr(v, "data", v) for k, v in load_checkpoint(str(path))["model"].items()}
