"""The fast kernels against the readable references of ``nnscratch.functional.reference``, in
float64 and without PyTorch: F.conv2d, F.max_pool2d, F.lstm_cell and F.lstm (forward and every
gradient) give the references' numbers for each case of the tables below. The references
themselves are checked against central differences and a hand-computed value.
"""

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import gradcheck
from nnscratch.functional import reference as ref
from tolerance import assert_close

_rng = np.random.default_rng(17)


def tensor(*shape):
    return ns.tensor(_rng.standard_normal(shape), dtype=ns.float64, requires_grad=True)


def forward_and_grads(fn, inputs, gy=None):
    """fn(*inputs), and the gradients of Σ gy · fn(*inputs) with respect to each input."""
    for t in inputs:
        t.grad = None
    y = fn(*inputs)
    outputs = y if isinstance(y, tuple) else (y,)
    if gy is None:
        gy = [_rng.standard_normal(o.shape) for o in outputs]
    loss = sum((o * ns.tensor(g)).sum() for o, g in zip(outputs, gy))
    loss.backward()
    return [o.detach() for o in outputs], [t.grad for t in inputs], gy


def assert_same_passes(fast, reference, inputs, n):
    """Outputs and input gradients of ``fast`` equal those of ``reference`` (sums of about n terms)."""
    y_fast, g_fast, gy = forward_and_grads(fast, inputs)
    y_ref, g_ref, _ = forward_and_grads(reference, inputs, gy)
    for k, (a, b) in enumerate(zip(y_fast, y_ref)):
        assert_close(a, b, n=n, what=f"output {k}")
    for k, (a, b) in enumerate(zip(g_fast, g_ref)):
        assert_close(a, b, n=n, what=f"gradient of input {k}")


# (N, C, O, H, W, kernel, stride, padding, dilation, groups, bias)
CONV_CASES = [
    (2, 3, 4, 7, 8, (3, 3), 1, 0, 1, 1, True),
    (1, 2, 3, 9, 6, (3, 2), 2, 1, 1, 1, False),
    (3, 4, 4, 8, 8, (5, 5), 1, 2, 1, 2, True),
    (2, 1, 2, 10, 9, (3, 3), 3, 1, 2, 1, True),
    (1, 3, 2, 6, 6, (1, 1), 1, 0, 1, 1, True),
    (2, 2, 2, 7, 7, (2, 2), (2, 1), (0, 1), (1, 2), 2, False),
]


@pytest.mark.parametrize("N, C, O, H, W, kernel, stride, padding, dilation, groups, bias", CONV_CASES)
def test_conv2d_matches_the_reference(N, C, O, H, W, kernel, stride, padding, dilation, groups, bias):
    inputs = [tensor(N, C, H, W), tensor(O, C // groups, *kernel)] + ([tensor(O)] if bias else [])
    n = C * kernel[0] * kernel[1] * N * H * W

    def call(module):
        return lambda x, w, b=None: module.conv2d(x, w, b, stride, padding, dilation, groups)

    assert_same_passes(call(F), call(ref), inputs, n)


# (N, C, H, W, kernel, stride, padding, dilation)
POOL_CASES = [
    (2, 3, 8, 8, 2, None, 0, 1),
    (1, 2, 7, 9, 3, 2, 1, 1),
    (2, 2, 9, 9, (3, 2), (2, 1), (1, 0), 1),
    (1, 1, 10, 11, 3, 1, 1, 2),
    (2, 2, 6, 6, 3, 3, 0, 1),
    (1, 2, 5, 5, 3, 1, 0, 1),
]


@pytest.mark.parametrize("N, C, H, W, kernel, stride, padding, dilation", POOL_CASES)
def test_max_pool2d_matches_the_reference(N, C, H, W, kernel, stride, padding, dilation):
    def call(module):
        return lambda x: module.max_pool2d(x, kernel, stride, padding, dilation)

    assert_same_passes(call(F), call(ref), [tensor(N, C, H, W)], n=1)


# (N, I, H, bias)
LSTM_CASES = [(3, 4, 5, True), (1, 2, 3, False), (4, 6, 2, True)]


@pytest.mark.parametrize("N, I, H, bias", LSTM_CASES)
def test_lstm_cell_matches_the_reference(N, I, H, bias):
    weights = [tensor(4 * H, I), tensor(4 * H, H)] + ([tensor(4 * H), tensor(4 * H)] if bias else [])
    inputs = [tensor(N, I), tensor(N, H), tensor(N, H)] + weights

    def call(cell):
        return lambda x, h, c, *w: cell(x, (h, c), *w)

    assert_same_passes(call(F.lstm_cell), call(ref.lstm_cell), inputs, n=N * (I + H))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("N, I, H, bias", LSTM_CASES)
def test_lstm_over_a_sequence_matches_the_reference_cell_unrolled(N, I, H, bias, bidirectional):
    """Backpropagation through time in the fast sequence kernel = autograd through T reference steps
    (the reverse direction reads the steps from last to first)."""
    T, D = 5, 2 if bidirectional else 1
    weights = []
    for _ in range(D):
        weights += [tensor(4 * H, I), tensor(4 * H, H)] + ([tensor(4 * H), tensor(4 * H)] if bias else [])
    inputs = [tensor(T, N, I), tensor(D, N, H), tensor(D, N, H)] + weights

    def fast(x, h0, c0, *w):
        out, (h_n, c_n) = F.lstm(x, list(w), (h0, c0), bidirectional=bidirectional)
        return out, h_n, c_n

    def reference(x, h0, c0, *w):
        per = len(w) // D
        outs, hs, cs = [], [], []
        for d in range(D):
            h, c, steps = h0[d], c0[d], range(T - 1, -1, -1) if d else range(T)
            out = [None] * T
            for t in steps:
                h, c = ref.lstm_cell(x[t], (h, c), *w[d * per:(d + 1) * per])
                out[t] = h
            outs.append(ns.stack(out, axis=0))
            hs.append(h)
            cs.append(c)
        return ns.cat(outs, dim=2), ns.stack(hs, axis=0), ns.stack(cs, axis=0)

    assert_same_passes(fast, reference, inputs, n=T * N * (I + H))


def test_the_references_match_central_differences():
    x, w, b = tensor(1, 2, 6, 5), tensor(3, 2, 3, 2), tensor(3)
    assert gradcheck(lambda x, w, b: ref.conv2d(x, w, b, 2, 1, (1, 2)), x, w, b)
    assert gradcheck(lambda x: ref.max_pool2d(x, 3, 2, 1), x)
    h, c, w_ih, w_hh, b_ih, b_hh = tensor(2, 3), tensor(2, 3), tensor(12, 4), tensor(12, 3), tensor(12), tensor(12)
    assert gradcheck(lambda *a: ref.lstm_cell(a[0], (a[1], a[2]), *a[3:])[0], tensor(2, 4), h, c, w_ih, w_hh,
                     b_ih, b_hh)


def test_reference_values_by_hand():
    x = ns.tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    # a 2x2 kernel of ones sums each 2x2 window: 0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8
    assert ref.conv2d(x, ns.ones(1, 1, 2, 2, dtype=ns.float64)).numpy().ravel().tolist() == [8, 12, 20, 24]
    # padding 1 with -inf: each 2x2 window of the padded 5x5 grid, stride 2
    assert ref.max_pool2d(x, 2, 2, 1).numpy().ravel().tolist() == [0, 2, 6, 8]
    # zero weights: every gate's pre-activation is 0, so i = f = o = 1/2, g = 0: c' = c/2, h' = tanh(c')/2
    h, c = ref.lstm_cell(ns.ones(1, 2), (ns.zeros(1, 1), ns.ones(1, 1)), ns.zeros(4, 2), ns.zeros(4, 1))
    assert np.allclose(c.numpy(), 0.5) and np.allclose(h.numpy(), np.tanh(0.5) / 2)
