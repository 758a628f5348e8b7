"""Recurrent layers: float64 gradient checks of every cell and layer type, long sequences, truncated
backpropagation through time, shapes, errors, parameters; the sequence datasets."""

import math

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn
from nnscratch.data import DataLoader, SequenceDataset, adding_problem, seasonal_series
from nnscratch.tensor import ShapeError

pytestmark = pytest.mark.usefixtures("kernel_path")  # every test on NumPy alone and with the compiled LSTM step

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def weights(rng, kind, I, H, num_layers=1, directions=1, bias=True):
    """PyTorch's flat weight list in float64: per layer and direction W_ih, W_hh[, b_ih, b_hh]."""
    gh, out = GATES[kind] * H, []
    for layer in range(num_layers):
        inp = I if layer == 0 else H * directions
        for _ in range(directions):
            out += [rng.uniform(-0.6, 0.6, (gh, inp)), rng.uniform(-0.6, 0.6, (gh, H))]
            if bias:
                out += [rng.uniform(-0.5, 0.5, gh), rng.uniform(-0.5, 0.5, gh)]
    return out


def layer_fn(kind, **options):
    """f(x, h0[, c0], *weights) -> one tensor holding output, h_n (and c_n), for gradcheck."""
    nonlinearity = options.pop("nonlinearity", "tanh")

    def f(x, h0, *rest):
        if kind == "lstm":
            c0, ws = rest[0], list(rest[1:])
            out, (h, c) = F.lstm(x, ws, (h0, c0), **options)
            return F.concat([out.flatten(), h.flatten(), c.flatten()])
        call = F.gru if kind == "gru" else (lambda *a, **k: F.rnn(*a, nonlinearity=nonlinearity, **k))
        out, h = call(x, list(rest), h0, **options)
        return F.concat([out.flatten(), h.flatten()])
    return f


# ----------------------------------------------------------------------------- gradient checks

@pytest.mark.parametrize("kind, nonlinearity", [("rnn", "tanh"), ("rnn", "relu"), ("lstm", None), ("gru", None)])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_gradcheck(rng, kind, nonlinearity, bias):
    N, I, H = 3, 4, 5
    x, h, c = rng.standard_normal((N, I)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    ws = weights(rng, kind, I, H, bias=bias)

    def f(x, h, c, *ws):
        if kind == "lstm":
            h1, c1 = F.lstm_cell(x, (h, c), *ws)
            return F.concat([h1, c1], axis=1)
        if kind == "gru":
            return F.gru_cell(x, h, *ws)
        return F.rnn_cell(x, h, *ws, nonlinearity=nonlinearity)
    assert ns.gradcheck(f, x, h, c, *ws)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers, bidirectional, batch_first", [
    (1, False, False), (1, True, True), (2, False, True), (2, True, False)])
def test_layer_gradcheck(rng, kind, num_layers, bidirectional, batch_first):
    T, N, I, H = 4, 2, 3, 3
    D = 2 if bidirectional else 1
    x = rng.standard_normal((N, T, I) if batch_first else (T, N, I))
    h0, c0 = rng.standard_normal((num_layers * D, N, H)), rng.standard_normal((num_layers * D, N, H))
    ws = weights(rng, kind, I, H, num_layers, D)
    f = layer_fn(kind, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    args = (x, h0, c0, *ws) if kind == "lstm" else (x, h0, *ws)
    assert ns.gradcheck(f, *args)


def test_relu_rnn_and_no_bias_layer_gradcheck(rng):
    T, N, I, H = 5, 2, 3, 4
    x, h0 = rng.standard_normal((T, N, I)), rng.standard_normal((2, N, H))
    ws = weights(rng, "rnn", I, H, directions=2, bias=False)
    assert ns.gradcheck(layer_fn("rnn", nonlinearity="relu", bidirectional=True), x, h0, *ws)
    ws = weights(rng, "gru", I, H, bias=False)
    assert ns.gradcheck(layer_fn("gru"), x, h0[:1], *ws)


def test_unbatched_input_matches_batch_of_one(rng):
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    out, (h, c) = lstm(x)
    out_b, (h_b, c_b) = lstm(x[:, None])
    assert out.shape == (6, 8) and h.shape == (4, 4) and c.shape == (4, 4)
    np.testing.assert_allclose(out.data, out_b.data[:, 0], atol=1e-6)
    np.testing.assert_allclose(h.data, h_b.data[:, 0], atol=1e-6)
    cell = nn.GRUCell(3, 4)
    np.testing.assert_allclose(cell(x[0]).data, cell(x[:1]).data[0], atol=1e-6)


# ----------------------------------------------------------------------------- long sequences, truncated BPTT

def test_thousand_step_sequence_backprop_matches_cell_loop(rng):
    """The sequence function and 1,000 LSTMCell steps (a 1,000-deep graph) give the same gradients."""
    T, N, I, H = 1000, 2, 3, 4
    lstm, cell = nn.LSTM(I, H), nn.LSTMCell(I, H)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})   # weight_ih_l0 -> weight_ih
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    out, (h_n, c_n) = lstm(x)
    (out.sum() + c_n.sum()).backward()

    h = c = None
    outs = []
    for t in range(T):
        h, c = cell(x[t], None if h is None else (h, c))
        outs.append(h)
    (F.stack(outs).sum() + c.sum()).backward()

    np.testing.assert_allclose(out.data[-1], outs[-1].data, atol=1e-5)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        g_seq, g_cell = getattr(lstm, name + "_l0").grad.data, getattr(cell, name).grad.data
        assert np.all(np.isfinite(g_seq)) and np.abs(g_seq).max() > 1e-2
        np.testing.assert_allclose(g_seq, g_cell, rtol=1e-3, atol=1e-3)


def test_truncated_bptt_with_detach(rng):
    """Chunks carried with .detach(): the same forward values as one pass, and no gradient
    crosses the cut."""
    T, N, I, H = 12, 3, 2, 5
    x = rng.standard_normal((N, T, I)).astype(np.float32)
    gru = nn.GRU(I, H, batch_first=True)
    full, _ = gru(x)

    x1, x2 = ns.tensor(x[:, :6], requires_grad=True), ns.tensor(x[:, 6:], requires_grad=True)
    out1, h = gru(x1)
    (out1 ** 2).sum().backward()
    grad_chunk1 = gru.weight_hh_l0.grad.data.copy()
    gru.zero_grad()
    out2, h = gru(x2, h.detach())
    (out2 ** 2).sum().backward()

    np.testing.assert_allclose(np.concatenate([out1.data, out2.data], axis=1), full.data, atol=1e-6)
    assert x1.grad is not None and x2.grad is not None
    # chunk 2's loss trained the weights only through chunk 2: the same as starting from a constant h
    gru2 = nn.GRU(I, H, batch_first=True)
    gru2.load_state_dict(gru.state_dict())
    out2b, _ = gru2(x[:, 6:], ns.tensor(out1.data[:, -1][None]))
    (out2b ** 2).sum().backward()
    np.testing.assert_allclose(gru.weight_hh_l0.grad.data, gru2.weight_hh_l0.grad.data, atol=1e-6)
    assert not np.allclose(grad_chunk1, gru.weight_hh_l0.grad.data)


def test_lstm_state_carries_gradient_when_not_detached(rng):
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    lstm = nn.LSTM(3, 4)
    x1 = ns.tensor(x[:2], requires_grad=True)
    _, state = lstm(x1)
    out2, _ = lstm(x[2:], state)
    out2.sum().backward()
    assert x1.grad is not None and np.abs(x1.grad.data).max() > 1e-4


def test_reused_work_arrays_never_mix_graphs(rng):
    """Internal arrays are pooled between calls: interleaved graphs, a no_grad forward in between
    and retain_graph must all give the gradients of separate, fresh runs."""
    lstm = nn.LSTM(3, 4, bidirectional=True)
    xs = [rng.standard_normal((5, 2, 3)).astype(np.float32) for _ in range(2)]

    def grads(x, retain=False):
        lstm.zero_grad()
        out, _ = lstm(x)
        (out * out).sum().backward(retain_graph=retain)
        return [p.grad.data.copy() for p in lstm.parameters()]
    fresh = [grads(x) for x in xs]

    lstm.zero_grad()
    out0, _ = lstm(xs[0])
    out1, _ = lstm(xs[1])
    with ns.no_grad():
        lstm(xs[1] * 3)
    (out1 * out1).sum().backward()
    second = [p.grad.data.copy() for p in lstm.parameters()]
    lstm.zero_grad()
    (out0 * out0).sum().backward()
    for a, b, c in zip(second, [p.grad.data for p in lstm.parameters()], zip(*fresh)):
        np.testing.assert_allclose(a, c[1], atol=1e-6)
        np.testing.assert_allclose(b, c[0], atol=1e-6)

    lstm.zero_grad()
    out, _ = lstm(xs[0])
    (out * out).sum().backward(retain_graph=True)
    lstm(xs[1])[0].sum().backward()
    (out * out).sum().backward()          # the retained graph still has its saved arrays
    twice = [p.grad.data for p in lstm.parameters()]
    lstm.zero_grad()
    lstm(xs[1])[0].sum().backward()
    for t, g0, g1 in zip(twice, fresh[0], [p.grad.data for p in lstm.parameters()]):
        np.testing.assert_allclose(t, 2 * g0 + g1, atol=1e-5)


def test_create_graph_through_recurrence_is_refused():
    rnn = nn.RNN(2, 3)
    out, _ = rnn(ns.randn(4, 1, 2))
    with pytest.raises(RuntimeError, match="create_graph"):
        ns.grad(out.sum(), [rnn.weight_hh_l0], create_graph=True)


# ----------------------------------------------------------------------------- modules

@pytest.mark.parametrize("cls, gates", [(nn.RNN, 1), (nn.LSTM, 4), (nn.GRU, 3)])
def test_parameter_names_shapes_and_init(cls, gates):
    ns.manual_seed(0)
    m = cls(10, 64, num_layers=2, bidirectional=True)
    names = [f"{w}_l{k}{s}" for k in range(2) for s in ("", "_reverse")
             for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert list(m.state_dict()) == names
    assert m.weight_ih_l0.shape == (gates * 64, 10) and m.weight_ih_l1.shape == (gates * 64, 128)
    assert m.weight_hh_l1_reverse.shape == (gates * 64, 64) and m.bias_hh_l0.shape == (gates * 64,)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.data.ravel() for p in m.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound and values.min() < -0.95 * bound and values.max() > 0.95 * bound
    assert abs(values.mean()) < 0.05 * bound   # uniform, centred
    assert len(list(cls(3, 4, bias=False).parameters())) == 2


def test_cells_parameters_and_outputs():
    cell = nn.LSTMCell(3, 5)
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert cell.weight_hh.shape == (20, 5) and nn.GRUCell(3, 5).weight_ih.shape == (15, 3)
    h, c = cell(ns.randn(2, 3))
    assert h.shape == c.shape == (2, 5) and h.dtype == np.float32
    assert np.all(np.abs(h.data) < 1)   # h = o · tanh(c)
    relu = nn.RNNCell(3, 5, nonlinearity="relu")
    assert np.all(relu(ns.randn(4, 3)).data >= 0)
    assert nn.RNNCell(3, 5, bias=False).bias_ih is None


def test_lstm_cell_equations_by_hand(rng):
    """One LSTM step written out with NumPy, gates i, f, g, o in PyTorch's order."""
    cell = nn.LSTMCell(2, 3)
    x, h, c = (rng.standard_normal(s).astype(np.float32) for s in ((4, 2), (4, 3), (4, 3)))
    a = x @ cell.weight_ih.data.T + cell.bias_ih.data + h @ cell.weight_hh.data.T + cell.bias_hh.data
    sig = lambda v: 1 / (1 + np.exp(-v))
    i, f, g, o = sig(a[:, :3]), sig(a[:, 3:6]), np.tanh(a[:, 6:9]), sig(a[:, 9:])
    c1 = f * c + i * g
    h1, c1_ = cell(x, (h, c))
    np.testing.assert_allclose(c1_.data, c1, atol=1e-6)
    np.testing.assert_allclose(h1.data, o * np.tanh(c1), atol=1e-6)


def test_gru_cell_equations_by_hand(rng):
    cell = nn.GRUCell(2, 3)
    x, h = rng.standard_normal((4, 2)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    xi, hh = x @ cell.weight_ih.data.T + cell.bias_ih.data, h @ cell.weight_hh.data.T + cell.bias_hh.data
    sig = lambda v: 1 / (1 + np.exp(-v))
    r, z = sig(xi[:, :3] + hh[:, :3]), sig(xi[:, 3:6] + hh[:, 3:6])
    n = np.tanh(xi[:, 6:] + r * hh[:, 6:])
    np.testing.assert_allclose(cell(x, h).data, (1 - z) * n + z * h, atol=1e-6)


def test_dropout_between_layers_only_in_training(rng):
    ns.manual_seed(1)
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = rng.standard_normal((5, 4, 3)).astype(np.float32)
    lstm.eval()
    a, _ = lstm(x)
    b, _ = lstm(x)
    np.testing.assert_array_equal(a.data, b.data)
    lstm.train()
    c, _ = lstm(x)
    assert not np.allclose(a.data, c.data)
    single = nn.LSTM(3, 8, dropout=0.5)   # one layer: nothing between layers, no dropout
    single.train()
    np.testing.assert_array_equal(single(x)[0].data, single(x)[0].data)


def test_output_shapes_and_state_order(rng):
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = rng.standard_normal((5, 7, 3)).astype(np.float32)
    out, h = gru(x)
    assert out.shape == (5, 7, 8) and h.shape == (4, 5, 4) and out.dtype == np.float32
    # h_n: index l·D + d; the top layer's forward final state is its output at the last step,
    # the reverse direction's is its output at the first step
    np.testing.assert_allclose(h.data[2], out.data[:, -1, :4], atol=1e-7)
    np.testing.assert_allclose(h.data[3], out.data[:, 0, 4:], atol=1e-7)


def test_sequence_classifier_inputs():
    ns.manual_seed(0)
    model = nn.SequenceClassifier(28, 16, 10)
    images = ns.rand(4, 1, 28, 28)
    logits = model(images)
    assert logits.shape == (4, 10)
    np.testing.assert_allclose(model(images.reshape(4, 28, 28)).data, logits.data, atol=1e-6)
    np.testing.assert_allclose(model(images.reshape(4, 784)).data, logits.data, atol=1e-6)
    F.cross_entropy(logits, np.arange(4)).backward()
    assert model.rnn.weight_hh_l0.grad is not None and model.fc.weight.grad is not None
    gru = nn.SequenceClassifier(5, 8, 3, num_layers=2, cell="gru")
    assert gru(ns.randn(2, 9, 5)).shape == (2, 3)
    with pytest.raises(ShapeError, match="expects"):
        model(ns.randn(4, 28, 27))


# ----------------------------------------------------------------------------- errors

def test_shape_errors_are_clear():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ShapeError, match="input has 5 features.*input_size is 3"):
        lstm(ns.randn(6, 2, 5))
    with pytest.raises(ShapeError, match=r"expected input of shape \(T, N, input_size\)"):
        lstm(ns.randn(6, 2, 3, 1))
    with pytest.raises(ShapeError, match=r"expected h0 of shape \(2, 2, 4\).*got \(1, 2, 4\)"):
        lstm(ns.randn(6, 2, 3), (ns.zeros(1, 2, 4), ns.zeros(2, 2, 4)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(ns.randn(6, 2, 3), ns.zeros(2, 2, 4))
    with pytest.raises(ShapeError, match=r"\(N, T, input_size\)"):
        nn.GRU(3, 4, batch_first=True)(ns.randn(3))
    with pytest.raises(ShapeError, match=r"hidden state hx of shape \(1, 2, 4\)"):
        nn.RNN(3, 4)(ns.randn(6, 2, 3), ns.zeros(2, 4))
    with pytest.raises(ShapeError, match=r"GRUCell: expected input of shape \(N, 3\)"):
        nn.GRUCell(3, 4)(ns.randn(2, 4))
    with pytest.raises(ShapeError, match=r"LSTMCell: expected a state of shape \(2, 4\)"):
        nn.LSTMCell(3, 4)(ns.randn(2, 3), (ns.zeros(3, 4), ns.zeros(3, 4)))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


# ----------------------------------------------------------------------------- data

def test_sequence_dataset_windows_1d():
    series = np.arange(20, dtype=np.float32)
    ds = SequenceDataset(series, window=5, horizon=2, stride=3)
    assert len(ds) == (20 - 7) // 3 + 1 == 5
    x, t = ds[2]
    np.testing.assert_array_equal(x[:, 0], [6, 7, 8, 9, 10])
    np.testing.assert_array_equal(t, [11, 12])
    xb, tb = ds.get_batch(np.array([4, 0]))
    assert xb.shape == (2, 5, 1) and tb.shape == (2, 2) and xb.dtype == np.float32
    np.testing.assert_array_equal(xb[0, :, 0], [12, 13, 14, 15, 16])
    np.testing.assert_array_equal(tb[1], [5, 6])
    xs, ts = next(iter(DataLoader(ds, batch_size=5)))
    assert xs.shape == (5, 5, 1) and ts.shape == (5, 2)


def test_sequence_dataset_multivariate_and_view():
    series = np.arange(30, dtype=np.float64).reshape(10, 3)
    ds = SequenceDataset(series, window=4)
    assert len(ds) == 6
    x, t = ds[5]
    np.testing.assert_array_equal(x, series[5:9])
    np.testing.assert_array_equal(t, series[9:10])
    assert x.dtype == np.float32 and t.shape == (1, 3)
    assert np.shares_memory(ds.windows, ds.series)   # windows are a strided view, not copies
    with pytest.raises(ValueError, match="fewer than window"):
        SequenceDataset(series, window=10)
    with pytest.raises(ValueError, match="shape"):
        SequenceDataset(np.zeros((3, 3, 3)), window=1)


def test_adding_problem():
    x, t = adding_problem(4000, 30, seed=0)
    assert x.shape == (4000, 30, 2) and t.shape == (4000, 1) and x.dtype == t.dtype == np.float32
    markers = x[:, :, 1]
    np.testing.assert_array_equal(markers.sum(axis=1), 2)
    assert np.all(markers[:, :15].sum(axis=1) == 1) and np.all(markers[:, 15:].sum(axis=1) == 1)
    np.testing.assert_allclose(t[:, 0], (x[:, :, 0] * markers).sum(axis=1), atol=1e-6)
    assert 0.15 < np.mean((t - 1) ** 2) < 0.18   # the trivial baseline MSE ≈ 1/6
    np.testing.assert_array_equal(adding_problem(5, 10, seed=3)[0], adding_problem(5, 10, seed=3)[0])


def test_seasonal_series():
    y = seasonal_series(200, period=20, trend=0.0, noise=0.0, seed=0)
    assert y.shape == (200,) and y.dtype == np.float32
    np.testing.assert_allclose(y[20:], y[:-20], atol=1e-5)   # periodic without noise and trend
    noisy = seasonal_series(2000, period=20, trend=0.01, noise=0.3, seed=1)
    clean = seasonal_series(2000, period=20, trend=0.01, noise=0.0, seed=1)
    assert 0.27 < np.std(noisy - clean) < 0.33
    np.testing.assert_allclose(clean[100] - clean[80], 0.2, atol=1e-4)   # trend · period
    np.testing.assert_array_equal(seasonal_series(50, seed=7), seasonal_series(50, seed=7))
