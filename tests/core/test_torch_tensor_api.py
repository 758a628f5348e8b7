"""PyTorch's Tensor and torch.* semantics that need no PyTorch to check: in-place operations and
their rules, devices, dtype names, shapes and sizes, save/load, and the names tutorials use.
(Values, gradients and printed text are compared with PyTorch in test_torch_tensor_parity.py.)"""

import io

import numpy as np
import pytest

import nnscratch as torch  # as a PyTorch script would use it
from nnscratch import gradcheck


def test_dtype_names_are_pytorchs():
    assert torch.float is torch.float32 and torch.double is torch.float64 and torch.long is torch.int64
    assert torch.int is torch.int32 and torch.half is torch.float16 and torch.bool == np.bool_
    assert torch.tensor([1, 2]).dtype == torch.long and torch.tensor([1.0]).dtype == torch.float
    assert torch.tensor([True]).dtype == torch.bool and torch.tensor([1, 2.5]).dtype == torch.float32
    assert torch.tensor(np.array([1, 2], dtype=np.uint8)).dtype == torch.uint8
    assert torch.tensor([1.0, 2.0]).type() == "torch.FloatTensor"
    assert torch.tensor([1.0]).type("torch.LongTensor").dtype == torch.long


def test_cpu_device_everywhere_and_cuda_refused_with_the_fix():
    assert not torch.cuda.is_available() and not torch.accelerator.is_available()
    assert torch.cuda.device_count() == 0 and not torch.backends.mps.is_available()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = torch.zeros(2, 3, device=device)
    assert x.device == torch.device("cpu") and x.device.type == "cpu" and str(x.device) == "cpu"
    assert x.to(device) is x and x.cpu() is x and x.to("cpu", torch.float32) is x and not x.is_cuda
    assert torch.device("cuda:1").index == 1 and str(torch.device("cuda", 0)) == "cuda:0"
    message = "CUDA is not available in nnscratch, which runs on the CPU; use device='cpu'"
    for use in (lambda: x.cuda(), lambda: x.to("cuda"), lambda: x.to(torch.device("cuda:0")),
                lambda: torch.ones(2, device="cuda"), lambda: torch.tensor([1.0], device="cuda")):
        with pytest.raises(RuntimeError, match=message):
            use()
    with pytest.raises(RuntimeError, match="Expected one of cpu"):
        torch.device("gpu")


def test_size_shape_dim_numel():
    x = torch.zeros(4, 5, 6)
    assert x.size() == (4, 5, 6) == x.shape and x.size(1) == 5 and x.size(-1) == 6
    assert x.dim() == 3 and x.numel() == 120 and x.size == 120  # NumPy's attribute still works
    assert isinstance(x.shape, torch.Size) and x.shape.numel() == 120
    assert f"{x.shape}" == str(x.shape) == "torch.Size([4, 5, 6])"  # as PyTorch prints it in f-strings too


def test_tolist_item_iteration_and_conversions():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and torch.tensor(7).item() == 7
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]
    sum(r.sum() * (i + 1) for i, r in enumerate(rows)).backward()  # iteration is differentiable
    np.testing.assert_array_equal(x.grad.data, [[1, 1], [2, 2]])
    with pytest.raises(TypeError, match="0-d tensor"):
        iter(torch.tensor(1.0))
    with pytest.raises(RuntimeError, match="Use tensor.detach"):
        x.numpy()
    assert np.asarray(x.detach()).shape == (2, 2) and range(10)[torch.tensor(3)] == 3


def test_in_place_on_a_leaf_that_requires_grad_is_refused_as_in_pytorch():
    w = torch.ones(3, requires_grad=True)
    leaf = "a leaf Variable that requires grad is being used in an in-place operation."
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.sub_(1), lambda: w.div_(2), lambda: w.zero_(),
               lambda: w.fill_(1), lambda: w.copy_(torch.zeros(3)), lambda: w.uniform_(), lambda: w.normal_()):
        with pytest.raises(RuntimeError, match=leaf):
            op()
    with pytest.raises(RuntimeError, match=leaf):
        w += 1
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        w[0] = 5.0
    np.testing.assert_array_equal(w.data, [1, 1, 1])


def test_manual_sgd_updates_parameters_in_place_under_no_grad():
    """The update of PyTorch's autograd tutorial: ``w -= lr * w.grad`` keeps w the same leaf."""
    torch.manual_seed(0)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    w = torch.randn(3, 1, requires_grad=True)
    same = w
    for _ in range(3):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        before = w.detach().clone()
        with torch.no_grad():
            w -= 0.1 * w.grad
            w.grad.zero_()
        assert w is same and w.is_leaf and w.requires_grad
        np.testing.assert_array_equal(w.grad.data, np.zeros((3, 1)))
        assert not np.array_equal(w.data, before.data)


def test_in_place_ops_write_into_the_same_memory():
    x = torch.zeros(2, 3)
    view = x[0]  # a view: PyTorch's in-place ops show through views
    x.add_(1).mul_(3)
    x.sub_(torch.ones(3), alpha=2)
    assert x.tolist() == [[1.0] * 3] * 2 and view.tolist() == [1.0] * 3
    x.div_(2).fill_(4.0)
    x.copy_(torch.tensor([1, 2, 3]))  # broadcast and converted
    assert x.tolist() == [[1.0, 2.0, 3.0]] * 2
    x[1, 0] = 9
    x[:, 2] = torch.tensor([7.0, 8.0])
    x[x > 8] = 0.0
    assert x.tolist() == [[1.0, 2.0, 7.0], [0.0, 2.0, 8.0]]
    x.masked_fill_(x == 2.0, -1.0).clamp_(min=0.0)
    assert x.tolist() == [[1.0, 0.0, 7.0], [0.0, 0.0, 8.0]]
    x.zero_()
    assert x.tolist() == [[0.0] * 3] * 2
    torch.manual_seed(1)
    u = torch.empty(1000).uniform_(-2, 3)
    n = torch.empty(1000).normal_(5, 0.1)
    assert -2 <= u.min().item() and u.max().item() < 3 and abs(n.mean().item() - 5) < 0.05


def test_in_place_dtype_rules():
    i = torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i += 0.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.div_(2)
    i += 1
    i.fill_(2.7)  # fill_ and copy_ convert, as in PyTorch
    assert i.tolist() == [2, 2] and i.dtype == torch.long


def test_augmented_assignment_in_a_graph_stays_differentiable():
    """``h += x`` on tensors of a recorded graph binds the out-of-place result (the graph stays
    right); the method form is refused with the fix instead of giving a wrong gradient."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h += x * x
    h.sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 7.0])
    total = torch.zeros(())  # accumulating a loss into a plain tensor
    total += (x * 2).sum()
    assert total.requires_grad
    with pytest.raises(RuntimeError, match="part of the autograd graph"):
        (x * 3).add_(1)


def test_grad_of_a_sum_can_be_zeroed_in_place():
    """A gradient may be a read-only broadcast view; zero_() still works (it gets its own memory)."""
    x = torch.ones(2, 3, requires_grad=True)
    x.sum().backward()
    x.grad.zero_()
    assert x.grad.tolist() == [[0.0] * 3] * 2


def test_max_min_with_dim_return_values_and_indices():
    x = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = torch.max(x, 1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0] and indices.dtype == torch.long
    r = x.min(dim=0, keepdim=True)
    assert r.values.tolist() == [[1.0, 0.0, 2.0]] and r.indices.tolist() == [[0, 1, 0]]
    assert x.max().item() == 7.0 and torch.max(x, axis=1).tolist() == [5.0, 7.0]  # NumPy's axis=: values
    _, predicted = torch.max(x, 1)  # the classic accuracy line
    assert (predicted == torch.tensor([1, 0])).sum().item() == 2


def test_torch_mean_of_integers_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        torch.tensor([1, 2]).mean()
    assert torch.tensor([1, 2]).float().mean().item() == 1.5
    assert torch.tensor([True, False]).sum().item() == 1


@pytest.mark.parametrize("f", [
    lambda x: x.gather(1, torch.tensor([[0, 0], [2, 1]])), lambda x: x.repeat(2, 1, 3), lambda x: x.expand(4, 2, 3),
    lambda x: x.std(0), lambda x: x.norm(dim=1), lambda x: x.cumsum(1), lambda x: x.sort(1).values,
    lambda x: x.topk(2).values, lambda x: x.masked_fill(x > 0.5, 0.0), lambda x: torch.einsum("ij,kj->ik", x, x),
    lambda x: x.mm(x.t()), lambda x: torch.bmm(x[None], x.t()[None]), lambda x: x.max(1).values,
    lambda x: torch.chunk(x, 2, 1)[1], lambda x: x.sin() * x.cos(), lambda x: x.square().pow(1.5),
])
def test_gradcheck_without_torch(f):
    x = np.array([[0.3, 1.7, -0.9], [2.1, -0.4, 0.8]])
    assert gradcheck(f, x)


def test_norm_gradient_at_zero_is_zero_as_torch():
    x = torch.zeros(3, requires_grad=True)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_shape_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="out of range"):
        torch.tensor([[1.0, 2.0]]).topk(3)
    with pytest.raises(IndexError, match="out of bounds"):
        torch.tensor([[1.0, 2.0]]).gather(1, torch.tensor([[2]]))
    with pytest.raises(ValueError, match="mm\\(\\): both arguments must be 2-D"):
        torch.mm(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        torch.ones(2, 2, 2).t()


def test_save_returns_none_and_load_takes_torchs_arguments(tmp_path):
    state = {"w": torch.randn(2, 3), "step": 3}
    assert torch.save(state, tmp_path / "model.pth") is None
    back = torch.load(tmp_path / "model.pth", map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(back["w"].data, state["w"].data)
    back = torch.load(str(tmp_path / "model.pth"), map_location=torch.device("cpu"), weights_only=False)
    assert back["step"] == 3
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        torch.load(tmp_path / "model.pth", map_location="cuda:0")
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    assert torch.load(buffer)["step"] == 3
    with pytest.raises(TypeError, match="save model.state_dict\\(\\)"):
        torch.save(object(), tmp_path / "x.pth")
