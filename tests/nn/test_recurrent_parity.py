"""Recurrent layers against PyTorch: forward and backward of RNN, LSTM, GRU and their cells for every
option, in float32, with the weights copied by load_state_dict; state dicts both ways.

Values agree to float32 rounding (tolerance.assert_close) for sums of ``terms(T, N, I, H)``:
through time, a gradient adds up T*N outer products (time steps x samples) of a state gradient
that came back through up to T steps of (I + H)-term matrix products."""

import numpy as np
import pytest

from tolerance import assert_close

import nnscratch as ns
import nnscratch.nn as nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("kernel_path")  # NumPy alone and the compiled LSTM step, both against PyTorch


def terms(T, N, I, H):
    """The terms behind one value of a T-step layer over N samples (see the module docstring)."""
    return T * (N + I + H)


@pytest.fixture(autouse=True, scope="module")
def torch_single_thread():
    """Tiny ops: torch's idle OpenMP workers, spinning between calls, starve NumPy's BLAS threads
    on a 2-core machine (this file took 9 s instead of 3 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def close(ours, theirs, n):
    assert_close(ours.data if isinstance(ours, ns.Tensor) else ours, theirs.detach().numpy(), n)


def torch_state(module):
    return {k: torch.from_numpy(v.data.copy()) for k, v in module.state_dict().items()}


def pair(kind, *args, **kwargs):
    """The same layer in torch and in nnscratch, ours loaded from torch's state_dict."""
    theirs = getattr(torch.nn, kind)(*args, **kwargs)
    ours = getattr(nn, kind)(*args, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def leaf(array):
    return ns.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def close_grads(ours, theirs, n, *leaves):
    """The gradients of every parameter (by torch's names) and of each (ours, theirs) leaf agree."""
    for name, p in theirs.named_parameters():
        close(getattr(ours, name).grad, p.grad, n)
    for a, b in leaves:
        close(a.grad, b.grad, n)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("initial_state", [False, True])
def test_layer_parity(rng, kind, num_layers, bidirectional, batch_first, initial_state):
    T, N, I, H = 7, 3, 5, 6
    n = terms(T, N, I, H)
    D = 2 if bidirectional else 1
    ours, theirs = pair(kind, I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    x_ours, x_theirs = leaf(rng.standard_normal((N, T, I) if batch_first else (T, N, I)).astype(np.float32))
    hx_ours = hx_theirs = None
    if initial_state:
        h_ours, h_theirs = leaf(rng.standard_normal((num_layers * D, N, H)).astype(np.float32))
        c_ours, c_theirs = leaf(rng.standard_normal((num_layers * D, N, H)).astype(np.float32))
        hx_ours, hx_theirs = ((h_ours, c_ours), (h_theirs, c_theirs)) if kind == "LSTM" else (h_ours, h_theirs)

    out_ours, state_ours = ours(x_ours, hx_ours)
    out_theirs, state_theirs = theirs(x_theirs, hx_theirs)
    close(out_ours, out_theirs, n)
    # a loss that sends a different gradient to every output element and to the final states
    w_out = rng.standard_normal(out_ours.shape).astype(np.float32)
    loss_ours, loss_theirs = (out_ours * w_out).sum(), (out_theirs * torch.from_numpy(w_out)).sum()
    finals = zip(state_ours, state_theirs) if kind == "LSTM" else [(state_ours, state_theirs)]
    for s_ours, s_theirs in finals:
        close(s_ours, s_theirs, n)
        w = rng.standard_normal(s_ours.shape).astype(np.float32)
        loss_ours = loss_ours + (s_ours * s_ours * w).sum()
        loss_theirs = loss_theirs + (s_theirs * s_theirs * torch.from_numpy(w)).sum()
    loss_ours.backward()
    loss_theirs.backward()

    states = []
    if initial_state:
        states = [(h_ours, h_theirs)] + ([(c_ours, c_theirs)] if kind == "LSTM" else [])
    close_grads(ours, theirs, n, (x_ours, x_theirs), *states)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_options_parity_relu_no_bias_eval_dropout(rng, kind):
    """nonlinearity='relu' (RNN), bias=False, and dropout between layers (off in eval mode)."""
    extra = {"nonlinearity": "relu"} if kind == "RNN" else {}
    ours, theirs = pair(kind, 4, 5, num_layers=2, bias=False, dropout=0.3, **extra)
    ours.eval(), theirs.eval()
    x_ours, x_theirs = leaf(rng.standard_normal((6, 2, 4)).astype(np.float32))
    out_ours, _ = ours(x_ours)
    out_theirs, _ = theirs(x_theirs)
    n = terms(6, 2, 4, 5)
    close(out_ours, out_theirs, n)
    (out_ours ** 2).sum().backward()
    (out_theirs ** 2).sum().backward()
    close_grads(ours, theirs, n, (x_ours, x_theirs))


def test_unbatched_parity(rng):
    ours, theirs = pair("LSTM", 3, 4, num_layers=2, bidirectional=True)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    out_ours, (h_ours, c_ours) = ours(x)
    out_theirs, (h_theirs, c_theirs) = theirs(torch.from_numpy(x))
    n = terms(5, 1, 3, 4)
    close(out_ours, out_theirs, n)
    close(h_ours, h_theirs, n)
    close(c_ours, c_theirs, n)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("given_state", [False, True])
def test_cell_parity(rng, kind, given_state):
    ours, theirs = pair(kind, 4, 6)
    x_ours, x_theirs = leaf(rng.standard_normal((3, 4)).astype(np.float32))
    h_ours, h_theirs = leaf(rng.standard_normal((3, 6)).astype(np.float32))
    c_ours, c_theirs = leaf(rng.standard_normal((3, 6)).astype(np.float32))
    if kind == "LSTMCell":
        state_ours, state_theirs = ((h_ours, c_ours), (h_theirs, c_theirs)) if given_state else (None, None)
        h1_ours, c1_ours = ours(x_ours, state_ours)
        h1_theirs, c1_theirs = theirs(x_theirs, state_theirs)
        close(c1_ours, c1_theirs, terms(1, 3, 4, 6))
        loss_ours = (h1_ours * h1_ours).sum() + (c1_ours * 2).sum()
        loss_theirs = (h1_theirs * h1_theirs).sum() + (c1_theirs * 2).sum()
    else:
        h1_ours = ours(x_ours, h_ours if given_state else None)
        h1_theirs = theirs(x_theirs, h_theirs if given_state else None)
        loss_ours, loss_theirs = (h1_ours * h1_ours).sum(), (h1_theirs * h1_theirs).sum()
    close(h1_ours, h1_theirs, terms(1, 3, 4, 6))
    loss_ours.backward()
    loss_theirs.backward()
    states = []
    if given_state:
        states = [(h_ours, h_theirs)] + ([(c_ours, c_theirs)] if kind == "LSTMCell" else [])
    close_grads(ours, theirs, terms(1, 3, 4, 6), (x_ours, x_theirs), *states)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_state_dict_round_trip(rng, kind):
    """nnscratch -> torch -> nnscratch: same names, shapes and values, and the same outputs."""
    ns.manual_seed(3)
    ours = getattr(nn, kind)(4, 5, num_layers=2, bidirectional=True, batch_first=True)
    theirs = getattr(torch.nn, kind)(4, 5, num_layers=2, bidirectional=True, batch_first=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [[p.shape for p in group] for group in ours.all_weights] == \
        [[tuple(p.shape) for p in group] for group in theirs.all_weights]
    theirs.load_state_dict(torch_state(ours))            # strict: every name and shape must match
    back = getattr(nn, kind)(4, 5, num_layers=2, bidirectional=True, batch_first=True)
    back.load_state_dict(theirs.state_dict())
    for (name, a), b in zip(ours.state_dict().items(), back.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    x = rng.standard_normal((2, 6, 4)).astype(np.float32)
    close(back(x)[0], theirs(torch.from_numpy(x))[0], terms(6, 2, 4, 5))


def test_torch_default_init_has_our_distribution():
    """Both initialise every parameter from U(-1/sqrt(H), 1/sqrt(H))."""
    torch.manual_seed(0)
    ns.manual_seed(0)
    theirs = np.concatenate([p.detach().numpy().ravel() for p in torch.nn.LSTM(50, 100, 2).parameters()])
    ours = np.concatenate([p.data.ravel() for p in nn.LSTM(50, 100, 2).parameters()])
    assert theirs.size == ours.size
    np.testing.assert_allclose(np.percentile(ours, [0, 25, 50, 75, 100]),
                               np.percentile(theirs, [0, 25, 50, 75, 100]), atol=3e-3)
