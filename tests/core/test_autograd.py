"""The backward engine: graph order, accumulation, freeing, grad modes, higher order, errors."""

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F


def f64(data, requires_grad=True):
    return ns.tensor(data, requires_grad=requires_grad, dtype=np.float64)


def test_reused_node_accumulates():
    a = f64(3.0)
    b = a + a          # db/da = 2
    c = b * b          # dc/db = 2b = 12
    c.backward()
    assert a.grad.item() == 24.0


def test_diamond_graph_visits_each_node_once():
    x = f64([1.0, 2.0])
    y = x.exp()
    z = (y * y + y.log() + y).sum()   # y used three times
    z.backward()
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(x.grad.data, 2 * e * e + 1 + e)


def test_chain_of_10000_operations_backprops_without_recursion():
    x = f64(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001 ** 10_000, rtol=1e-9)


def test_gradients_accumulate_across_backward_calls_and_zero_grad_clears():
    x = f64([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_intermediate_gradients_freed_unless_retained():
    x = f64([1.0, 2.0])
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad.data, h.data)
    np.testing.assert_array_equal(x.grad.data, 2 * 3 * x.data + 3 * 2 * x.data)


def test_graph_freed_after_backward_and_second_backward_explains():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, 4 * x.data)


def test_grad_mode_is_per_thread():
    """A no_grad block in one thread (a server predicting) leaves training in another recording."""
    import threading
    x = f64([1.0])
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def predict():
        with ns.no_grad():
            seen["worker"] = ns.is_grad_enabled()
            inside.set()
            outside.wait(5)

    worker = threading.Thread(target=predict)
    worker.start()
    inside.wait(5)
    y = x * 2            # while the other thread is inside no_grad
    outside.set()
    worker.join()
    assert seen["worker"] is False
    assert y.requires_grad and ns.is_grad_enabled()


def test_no_grad_context_and_decorator_build_no_graph():
    x = f64([1.0])
    with ns.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @ns.no_grad
    def bare(t):
        return t * 2

    @ns.no_grad()
    def called(t):
        return t * 2

    assert not bare(x).requires_grad and not called(x).requires_grad
    assert ns.is_grad_enabled()
    with ns.no_grad():
        with ns.enable_grad():
            assert (x * 2).requires_grad
        assert not ns.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = f64([1.0, 2.0])
    y = (x.detach() * x).sum()   # only the second factor is differentiated
    y.backward()
    np.testing.assert_array_equal(x.grad.data, x.data)


def test_second_derivative_of_cube_at_two_is_twelve():
    x = f64(2.0)
    (dy,) = ns.grad(x ** 3, x, create_graph=True)
    assert dy.item() == pytest.approx(12.0)
    dy.backward()
    assert x.grad.item() == pytest.approx(12.0)


def test_backward_create_graph_then_differentiate_gradient():
    x = f64([1.0, 2.0, 3.0])
    y = x.tanh().sum()
    y.backward(create_graph=True)
    g = x.grad               # 1 - tanh²
    x.grad = None
    g.sum().backward()       # d/dx (1 - tanh²) = -2 tanh (1 - tanh²)
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad.data, -2 * t * (1 - t * t), rtol=1e-12)


def test_grad_leaves_dot_grad_untouched_and_reports_unused_inputs():
    x, z = f64([1.0, 2.0]), f64([5.0])
    (g,) = ns.grad((x * x).sum(), [x])
    np.testing.assert_array_equal(g.data, 2 * x.data)
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        ns.grad((x * x).sum(), [x, z])
    gx, gz = ns.grad((x * x).sum(), [x, z], allow_unused=True)
    assert gz is None


def test_grad_of_intermediate_tensor():
    x = f64([1.0, 2.0])
    h = x * 3
    (gh,) = ns.grad((h * h).sum(), [h])
    np.testing.assert_array_equal(gh.data, 2 * h.data)


def test_float32_stays_float32_through_forward_and_backward():
    x = ns.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    w = ns.randn(2, 3, requires_grad=True)
    y = F.log_softmax((x @ w).relu() * 0.5 + 1, axis=1).sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_python_floats_make_float32_and_float64_on_request():
    assert ns.tensor([1.0, 2.0]).dtype == np.float32
    assert ns.tensor(np.array([1.0, 2.0])).dtype == np.float32
    assert ns.tensor([1.0], dtype=ns.float64).dtype == np.float64
    assert ns.tensor([1, 2]).dtype == np.int64
    assert ns.from_numpy(np.zeros(2)).dtype == np.float64


# ----------------------------------------------------------------------------- bad input

def test_non_scalar_backward_without_grad_says_so():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*grad="):
        (x * 2).backward()


def test_non_scalar_backward_with_grad():
    x = f64([1.0, 2.0])
    (x * x).backward(ns.tensor([1.0, 10.0], dtype=np.float64))
    np.testing.assert_array_equal(x.grad.data, [2.0, 40.0])


def test_matmul_shape_mismatch_names_both_shapes():
    a, b = ns.randn(100, 784), ns.randn(100, 10)
    with pytest.raises(ns.ShapeError, match=r"\(100, 784\) and \(100, 10\)"):
        a @ b


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ns.ShapeError, match=r"\(3, 4\), \(5,\)"):
        ns.ones(3, 4) + ns.ones(5)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        ns.tensor([1, 2], requires_grad=True)
    t = ns.arange(3)
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad = True


def test_backward_on_tensor_without_grad_explains():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ns.tensor(1.0).backward()


def test_comparisons_are_plain_boolean_tensors():
    x = f64([1.0, 2.0, 3.0])
    m = x > 1.5
    assert m.dtype == bool and not m.requires_grad
    np.testing.assert_array_equal(m.data, [False, True, True])


def test_factories():
    ns.manual_seed(0)
    a = ns.randn(2, 3)
    ns.manual_seed(0)
    b = ns.randn((2, 3))
    np.testing.assert_array_equal(a.data, b.data)
    assert a.dtype == np.float32 and ns.rand(4).data.min() >= 0
    assert ns.zeros(2, 3).shape == (2, 3) and ns.ones(2).data.sum() == 2
    assert ns.arange(5).dtype == np.int64 and ns.arange(0.0, 1.0, 0.25).shape == (4,)
    assert ns.zeros_like(a).shape == a.shape and ns.ones_like(a).data.sum() == 6
    shared = np.zeros(3)
    ns.from_numpy(shared).data[0] = 7
    assert shared[0] == 7


def test_tensor_basics():
    x = ns.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert x.T.shape == (3, 2) and x.sum().item() == 21.0
    assert isinstance(x.numpy(), np.ndarray)
    assert "tensor(" in repr(x) and "grad_fn=<MulBackward0>" in repr(ns.tensor([1.0], requires_grad=True) * 2)
    with pytest.raises(RuntimeError, match="a Tensor with 6 elements cannot be converted to Scalar"):  # as torch
        x.item()


def test_ndarray_on_the_left_defers_to_tensor():
    x = f64([1.0, 2.0])
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, ns.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_outputs_needed_by_backward_survive_when_only_the_graph_holds_them():
    x = f64([1.0, 2.0])
    ((x * 2).exp().sigmoid() * 3).sum().backward()   # exp and sigmoid use their outputs
    s = 1 / (1 + np.exp(-np.exp(2 * x.data)))
    np.testing.assert_allclose(x.grad.data, 3 * s * (1 - s) * np.exp(2 * x.data) * 2)


def test_promoted_input_gets_its_gradient_in_its_own_dtype():
    a = ns.tensor([1.0, 2.0], requires_grad=True)                 # float32
    b = ns.tensor([3.0, 4.0], requires_grad=True, dtype=np.float64)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])


def test_functions_see_no_input_needing_grad_under_no_grad():
    seen = []

    class Probe(ns.Function):
        def forward(self, x):
            seen.append(self.needs_input_grad)
            return x * 2

    x = ns.ones(3, requires_grad=True)
    with ns.no_grad():
        Probe.apply(x)
    Probe.apply(x)
    assert seen == [(False,), (True,)]
