"""The worked values of Deep Learning from Scratch, ch. 4 (numerical differentiation, gradients,
gradient descent, simpleNet)."""

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
from nnscratch import gradient_descent, numerical_diff, numerical_gradient


def function_1(x):
    return 0.01 * x ** 2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


@pytest.mark.parametrize("x, slope", [(5, 0.2), (10, 0.3)])
def test_numerical_diff_of_function_1(x, slope):
    assert abs(numerical_diff(function_1, x) - slope) < 1e-6


def test_partial_derivatives_of_function_2_at_3_4():
    assert abs(numerical_diff(lambda x0: x0 ** 2 + 4.0 ** 2, 3.0) - 6.0) < 1e-6
    assert abs(numerical_diff(lambda x1: 3.0 ** 2 + x1 ** 2, 4.0) - 8.0) < 1e-6


@pytest.mark.parametrize("point, expected", [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)),
                                             ((3.0, 0.0), (6.0, 0.0))])
def test_numerical_gradient_of_function_2(point, expected):
    x = np.array(point)
    np.testing.assert_allclose(numerical_gradient(function_2, x), expected, atol=1e-6)
    np.testing.assert_array_equal(x, point)  # every perturbed element was restored


def test_numerical_gradient_on_a_matrix():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(numerical_gradient(lambda a: (a ** 2).sum(), x), 2 * x, atol=1e-6)


def test_numerical_gradient_refuses_integers():
    with pytest.raises(TypeError, match="floating-point"):
        numerical_gradient(function_2, np.array([3, 4]))


def test_gradient_descent_reaches_the_minimum_with_lr_0_1():
    init = np.array([-3.0, 4.0])
    x = gradient_descent(function_2, init, lr=0.1, step_num=100)
    assert np.all(np.abs(x) < 1e-8)
    np.testing.assert_array_equal(init, [-3.0, 4.0])  # the starting point is not modified


def test_gradient_descent_diverges_with_lr_10_and_stalls_with_lr_1e_10():
    assert np.abs(gradient_descent(function_2, np.array([-3.0, 4.0]), lr=10.0, step_num=100)).max() > 1e10
    x = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=1e-10, step_num=100)
    assert np.abs(x - [-3.0, 4.0]).max() < 1e-6


def test_gradient_descent_history_is_the_path():
    x, path = gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=3, return_history=True)
    assert path.shape == (4, 2)
    np.testing.assert_allclose(path[1], [-2.4, 3.2])  # the seed's first step
    np.testing.assert_array_equal(path[-1], x)


# ----------------------------------------------------------------------------- simpleNet

W_SEED = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
X_SEED = np.array([0.6, 0.9])
T_SEED = np.array([0.0, 0.0, 1.0])
DW_SEED = np.array([[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]])


def simple_net_loss(W):
    """softmax(x @ W) and the seed's cross-entropy error -Σ t log(y + 1e-7)."""
    y = F.softmax(ns.tensor(X_SEED, dtype=np.float64) @ W)
    return -(ns.tensor(T_SEED, dtype=np.float64) * (y + 1e-7).log()).sum()


def test_simple_net_forward_values():
    W = ns.tensor(W_SEED, dtype=np.float64)
    z = ns.tensor(X_SEED, dtype=np.float64) @ W
    np.testing.assert_allclose(z.data, [1.05414809, 0.63071653, 1.1328074], atol=1e-8)
    np.testing.assert_allclose(F.softmax(z).data, [0.36541271, 0.23927078, 0.39531651], atol=1e-8)
    assert int(np.argmax(z.data)) == 2
    assert abs(simple_net_loss(W).item() - 0.92806853663) < 1e-6


def test_simple_net_numerical_and_autograd_gradients_agree_with_the_seed():
    W = ns.tensor(W_SEED, dtype=np.float64, requires_grad=True)
    numeric = numerical_gradient(lambda _: simple_net_loss(W.detach()), W.data)
    np.testing.assert_allclose(numeric, DW_SEED, atol=1e-6)
    simple_net_loss(W).backward()
    np.testing.assert_allclose(W.grad.data, DW_SEED, atol=1e-6)


def test_gradcheck_reports_the_input_and_element_of_a_wrong_gradient():
    class BadSquare(ns.Function):
        def forward(self, a):
            return a * a

        def backward(self, gy):
            return gy * self.inputs[0] * 3  # wrong: should be 2a

    with pytest.raises(ns.GradcheckError, match=r"input 0 \(shape \(2, 2\)\) is wrong at index .*autograd"):
        ns.gradcheck(BadSquare.apply, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert ns.gradcheck(lambda a: a * a, np.array([[1.0, 2.0], [3.0, 4.0]]))
