"""The Tensor methods and torch.* functions that PyTorch tutorials use, against PyTorch itself.

Each differentiable case runs forward and backward (one random upstream gradient) in both
libraries from the same float32 inputs; outputs and input gradients must agree to the rounding
of the sums involved (``tolerance.assert_close``, with ``n`` the number of terms summed into each
value). Each is also gradchecked in float64 against central differences. The other cases compare
values, dtypes, shapes and the text that ``print`` shows.

Skipped when torch is not installed (``pip install torch==2.13.0``, the CPU build).
"""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import gradcheck
from tolerance import assert_close

torch = pytest.importorskip("torch")

IDX_ROWS = np.array([[2, 0, 1, 1], [0, 0, 2, 1]])       # gather along dim 0 of a (3, 4)
IDX_COLS = np.array([[3, 3], [0, 1], [2, 0]])             # gather along dim 1 of a (3, 4), repeats
MASK = np.array([[True, False, False, True], [False, True, False, False], [True, True, False, False]])


def both(index):
    """An int64 index array as (nnscratch tensor, torch tensor)."""
    return ns.tensor(index), torch.from_numpy(index.copy())


NO_GRADCHECK = {"to-double-and-back"}  # goes through float32 on purpose


def case(case_id, fn, t_fn, *shapes, kind="n", n=1):
    return pytest.param(fn, t_fn or fn, shapes, kind, n, id=case_id)


gi_r, tgi_r = both(IDX_ROWS)
gi_c, tgi_c = both(IDX_COLS)

CASES = [
    case("gather-dim0", lambda x: x.gather(0, gi_r), lambda x: x.gather(0, tgi_r), (3, 4)),
    case("gather-dim1-repeats", lambda x: ns.gather(x, 1, gi_c), lambda x: torch.gather(x, 1, tgi_c), (3, 4)),
    case("gather-smaller-index", lambda x: x.gather(1, gi_c[:2, :1]), lambda x: x.gather(1, tgi_c[:2, :1]),
         (3, 4)),
    case("expand", lambda x: x.expand(2, 3, 4) * 1.5, None, (3, 1), n=2),
    case("expand-minus1", lambda x: x.expand(-1, 5), None, (3, 1), n=5),
    case("repeat-2d", lambda x: x.repeat(2, 3), None, (2, 3), n=6),
    case("repeat-new-axes", lambda x: x.repeat(2, 1, 2), None, (3,), n=4),
    case("chunk-join", lambda x: ns.cat([c * (i + 1.0) for i, c in enumerate(x.chunk(3, 1))], 1),
         lambda x: torch.cat([c * (i + 1.0) for i, c in enumerate(x.chunk(3, 1))], 1), (2, 7)),
    case("std", lambda x: x.std(), None, (4, 5), n=20),
    case("std-dim-keepdim", lambda x: x.std(1, keepdim=True), None, (4, 5), n=5),
    case("std-unbiased-false", lambda x: x.std(0, False), None, (4, 5), n=4),
    case("var-dim-unbiased", lambda x: ns.var(x, 1, True), lambda x: torch.var(x, 1, True), (4, 5), n=5),
    case("norm", lambda x: x.norm(), None, (4, 5), n=20),
    case("norm-dim", lambda x: x.norm(dim=1), None, (4, 5), n=5),
    case("norm-p1", lambda x: x.norm(p=1), None, (4, 5), kind="nz", n=20),
    case("norm-p3-dim", lambda x: x.norm(p=3, dim=0, keepdim=True), None, (4, 5), kind="nz", n=4),
    case("norm-inf", lambda x: ns.norm(x, float("inf")), lambda x: torch.norm(x, float("inf")), (4, 5),
         kind="distinct"),
    case("cumsum-dim0", lambda x: x.cumsum(0), None, (5, 3), n=5),
    case("cumsum-dim-last", lambda x: ns.cumsum(x, dim=-1), lambda x: torch.cumsum(x, dim=-1), (2, 3, 6), n=6),
    case("sin", lambda x: x.sin(), None, (3, 4)),
    case("cos", lambda x: ns.cos(x), lambda x: torch.cos(x), (3, 4)),
    case("pow-method", lambda x: x.pow(3), None, (3, 4)),
    case("square", lambda x: x.square(), None, (3, 4)),
    case("torch-square", lambda x: ns.square(x) + 1, lambda x: torch.square(x) + 1, (3, 4)),
    case("abs-builtin", lambda x: abs(x), None, (3, 4), kind="nz"),
    case("topk-values", lambda x: x.topk(2).values, None, (3, 5), kind="distinct"),
    case("topk-smallest-dim0", lambda x: ns.topk(x, 2, dim=0, largest=False)[0],
         lambda x: torch.topk(x, 2, dim=0, largest=False)[0], (4, 3), kind="distinct"),
    case("sort-values", lambda x: x.sort(dim=1).values, None, (3, 5), kind="distinct"),
    case("sort-descending", lambda x: ns.sort(x, 0, descending=True)[0],
         lambda x: torch.sort(x, 0, descending=True)[0], (4, 3), kind="distinct"),
    case("max-dim-values", lambda x: x.max(1).values, None, (3, 5), kind="distinct"),
    case("min-dim-keepdim", lambda x: x.min(0, keepdim=True)[0], None, (3, 5), kind="distinct"),
    case("max-elementwise", lambda a, b: ns.max(a, b), lambda a, b: torch.max(a, b), (3, 4), (4,), kind="gridA"),
    case("masked-fill", lambda x: x.masked_fill(ns.tensor(MASK), -2.5) * 2,
         lambda x: x.masked_fill(torch.from_numpy(MASK), -2.5) * 2, (3, 4)),
    case("masked-fill-broadcast-mask", lambda x: x.masked_fill(ns.tensor(MASK[0]), 0.0),
         lambda x: x.masked_fill(torch.from_numpy(MASK[0].copy()), 0.0), (3, 4)),
    case("einsum-matmul", lambda a, b: ns.einsum("ij,jk->ik", a, b),
         lambda a, b: torch.einsum("ij,jk->ik", a, b), (3, 4), (4, 5), n=4),
    case("einsum-batched", lambda a, b: ns.einsum("bij,bjk->bik", a, b),
         lambda a, b: torch.einsum("bij,bjk->bik", a, b), (2, 3, 4), (2, 4, 5), n=4),
    case("einsum-outer", lambda a, b: ns.einsum("i,j->ij", a, b), lambda a, b: torch.einsum("i,j->ij", a, b),
         (3,), (4,), n=4),
    case("einsum-dot-implicit", lambda a, b: ns.einsum("i,i", a, b), lambda a, b: torch.einsum("i,i", a, b),
         (5,), (5,), n=5),
    case("einsum-transpose-sum", lambda x: ns.einsum("ijk->kj", x), lambda x: torch.einsum("ijk->kj", x),
         (2, 3, 4), n=2),
    case("einsum-ellipsis", lambda a, b: ns.einsum("...ij,...jk", a, b),
         lambda a, b: torch.einsum("...ij,...jk", a, b), (2, 3, 4), (2, 4, 2), n=4),
    case("einsum-bilinear", lambda a, w, b: ns.einsum("bi,oij,bj->bo", a, w, b),
         lambda a, w, b: torch.einsum("bi,oij,bj->bo", a, w, b), (2, 3), (4, 3, 5), (2, 5), n=15),
    case("mm", lambda a, b: a.mm(b), None, (3, 4), (4, 2), n=4),
    case("bmm", lambda a, b: ns.bmm(a, b), lambda a, b: torch.bmm(a, b), (2, 3, 4), (2, 4, 2), n=4),
    case("matmul-method", lambda a, b: a.matmul(b), None, (3, 4), (4,), n=4),
    case("t", lambda x: x.t() * ns.tensor([1.0, 2.0, 3.0]), lambda x: x.t() * torch.tensor([1.0, 2.0, 3.0]),
         (3, 4)),
    case("clone", lambda x: x.clone() * 2, None, (3, 4)),
    case("iterate-rows", lambda x: ns.stack([r * (i + 1.0) for i, r in enumerate(x)]),
         lambda x: torch.stack([r * (i + 1.0) for i, r in enumerate(x)]), (3, 4)),
    case("to-double-and-back", lambda x: (x.to(ns.float64) * 3).float(),
         lambda x: (x.to(torch.float64) * 3).float(), (3, 4)),
]


def _make(kind, shape, rng):
    if kind == "nz":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 1.5, shape)
    if kind == "gridA":
        return rng.integers(-4, 4, shape) * 0.5 + 0.25 + rng.uniform(-0.05, 0.05, shape)
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(-0.02, 0.02, n)).reshape(shape)
    return rng.standard_normal(shape)


@pytest.mark.parametrize("fn, t_fn, shapes, kind, n", CASES)
def test_forward_and_backward_match_torch(fn, t_fn, shapes, kind, n, rng):
    arrays = [_make(kind, s, rng).astype(np.float32) for s in shapes]
    if kind == "gridA" and len(arrays) == 2:  # the second operand on the other grid: never a tie
        arrays[1] = arrays[1] - 0.25
    xs = [ns.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = fn(*xs), t_fn(*ts)
    assert out.shape == tuple(t_out.shape) and str(out.dtype) == str(t_out.dtype)
    assert_close(out, t_out, n, what="output")
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    t_out.backward(torch.from_numpy(g))
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert_close(x.grad, t.grad, max(n, out.size // max(x.size, 1)), what=f"gradient of argument {i}")


@pytest.mark.parametrize("fn, t_fn, shapes, kind, n", [c for c in CASES if c.id not in NO_GRADCHECK])
def test_gradcheck_float64(fn, t_fn, shapes, kind, n, rng):
    arrays = [_make(kind, s, rng) for s in shapes]
    if kind == "gridA" and len(arrays) == 2:
        arrays[1] = arrays[1] - 0.25
    assert gradcheck(fn, *arrays)


def test_second_derivatives_through_gather_einsum_and_cumsum(rng):
    """The backward passes are written in tensor operations, so they differentiate again."""
    x = rng.standard_normal((3, 4))
    for f in (lambda x: (x.gather(1, gi_c) ** 2).sum(), lambda x: ns.einsum("ij,ij->i", x, x).sin().sum(),
              lambda x: (x.cumsum(1) ** 3).sum(), lambda x: x.norm() ** 3):
        def first_derivative(x, f=f):
            with ns.enable_grad():  # gradcheck evaluates its function under no_grad
                return ns.grad(f(x), x, create_graph=True)[0]
        assert gradcheck(first_derivative, x)


# ----------------------------------------------------------------------------- values, indices, dtypes


def _same(ours, theirs, n=1):
    """Same shape and dtype; the same values (floats to the rounding of sums of ``n`` terms)."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.data if isinstance(ours, ns.Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    if ours.dtype.kind == "f":
        assert_close(ours, theirs, n, what="values")
    else:
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call", [
    lambda m, x: m.argmax(x), lambda m, x: m.argmax(x, 1), lambda m, x: m.argmin(x, dim=0, keepdim=True),
    lambda m, x: x.argmax(dim=1), lambda m, x: x.argmin(), lambda m, x: x.argmax(1, keepdim=True),
    lambda m, x: x.max(1)[1], lambda m, x: x.min(0).indices, lambda m, x: m.max(x, 1, keepdim=True).indices,
    lambda m, x: x.sort(1)[1], lambda m, x: x.argsort(0, descending=True), lambda m, x: x.topk(2, 1)[1],
    lambda m, x: m.sort(x, descending=True).indices, lambda m, x: x.max(), lambda m, x: m.min(x),
])
def test_indices_and_values_match_torch(call, rng):
    x = rng.permutation(20).reshape(4, 5).astype(np.float32)
    _same(call(ns, ns.tensor(x)), call(torch, torch.tensor(x)))


def test_ties_pick_the_same_index_as_torch():
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]], dtype=np.float32)
    _same(ns.tensor(x).argmax(1), torch.tensor(x).argmax(1))
    _same(ns.tensor(x).max(1).indices, torch.tensor(x).max(1).indices)
    _same(ns.sort(ns.tensor(x), stable=True).indices, torch.sort(torch.tensor(x), stable=True).indices)


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1, 2, 3]), lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([True, False]),
    lambda m: m.tensor(3), lambda m: m.tensor(2.5), lambda m: m.tensor([[1, 2], [3, 4]], dtype=m.float64),
    lambda m: m.tensor([1, 2]) / m.tensor([2, 4]), lambda m: m.tensor([1, 2]) * 0.5,
    lambda m: m.tensor([5, -7]) // 2, lambda m: m.tensor([5.0, -7.0]) // 2, lambda m: m.tensor([5, -7]) % 3,
    lambda m: m.tensor([1, 2], dtype=m.int32) + 1, lambda m: m.tensor([1, 2], dtype=m.int32) * 1.5,
    lambda m: m.tensor([1.0, 2.0]) * m.tensor(2.0, dtype=m.float64),
    lambda m: m.tensor([1, 2]) * m.tensor(2.0, dtype=m.float64),
    lambda m: m.tensor([True, False]) + 1, lambda m: m.tensor([True, False]).sum(),
    lambda m: m.tensor([1, 2], dtype=m.int32).sum(), lambda m: m.tensor([1.0, 2.0]).sum(dtype=m.float64),
    lambda m: m.tensor([1, 2, 3]) == 2, lambda m: m.tensor([1.0, 2.0]).eq(m.tensor([1.0, 3.0])),
    lambda m: m.tensor([1.0, 2.0]).ne(1.0), lambda m: m.tensor([1.0, 2.0]).lt(2), lambda m: m.tensor([1, 2]).ge(2),
    lambda m: m.tensor([1, 2]).le(1), lambda m: m.tensor([1, 2]).gt(1),
    lambda m: (m.tensor([1, 0]) > 0) & (m.tensor([1, 1]) > 0), lambda m: ~(m.tensor([1, 0]) > 0),
    lambda m: m.tensor([[1.0, 0.0], [1.0, 1.0]]).all(), lambda m: m.tensor([[1.0, 0.0], [0.0, 0.0]]).any(1),
    lambda m: m.tensor([1.5, 2.5]).long(), lambda m: m.tensor([1.5, -2.5]).int(), lambda m: m.tensor([0, 2]).bool(),
    lambda m: m.tensor([1, 2]).float(), lambda m: m.tensor([1, 2]).double(),
    lambda m: m.tensor([1.0]).half(),
    lambda m: m.tensor([1, 2]).type(m.float32), lambda m: m.tensor([1.7]).to(m.long),
    lambda m: m.tensor([1, 2]).to(m.tensor([1.0])), lambda m: m.tensor([1.0, float("nan"), float("inf")]).isnan(),
    lambda m: m.isfinite(m.tensor([1.0, float("nan"), float("-inf")])), lambda m: m.tensor([3, 1, 2]).cumsum(0),
    lambda m: m.arange(5), lambda m: m.arange(0, 1, 0.25), lambda m: m.linspace(0, 1, 5), lambda m: m.eye(3),
    lambda m: m.eye(2, 3), lambda m: m.zeros(2, 3, dtype=m.long), lambda m: m.ones((2,), dtype=m.bool),
    lambda m: m.empty(2, 3).zero_(), lambda m: m.full((2,), 7), lambda m: m.full((2,), 0.5),
    lambda m: m.full((1,), True),
    lambda m: m.zeros_like(m.tensor([1, 2])), lambda m: m.full_like(m.tensor([1.0, 2.0]), 3),
    lambda m: m.tensor([[1, 2], [3, 4]]).t(), lambda m: m.tensor([1, 2, 3]).repeat(2, 2),
    lambda m: m.tensor([[1], [2]]).expand(2, 3), lambda m: m.tensor([0.0, 3.0, 4.0]).norm(),
    lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]).std(), lambda m: m.tensor([1.0, 2.0, 4.0]).var(unbiased=False),
    lambda m: m.einsum("ii->i", m.tensor([[1, 2], [3, 4]])), lambda m: m.tensor([1, -2]).abs(),
    lambda m: m.tensor([4.0, 9.0]).sqrt(), lambda m: m.tensor([1, 2]).sin(), lambda m: m.tensor([[1, 2]]).square(),
    lambda m: m.tensor([2, 3]).pow(2), lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]).mm(m.eye(2)),
])
def test_values_and_dtypes_match_torch(make):
    _same(make(ns), make(torch), n=4)


def test_random_factories_have_torch_shapes_dtypes_and_ranges():
    ns.manual_seed(0)
    for ours, theirs in [(ns.randint(0, 10, (3, 4)), torch.randint(0, 10, (3, 4))),
                         (ns.randint(5, (7,)), torch.randint(5, (7,))), (ns.randperm(6), torch.randperm(6)),
                         (ns.rand(2, 3), torch.rand(2, 3)), (ns.randn((2, 3)), torch.randn((2, 3))),
                         (ns.randn_like(ns.zeros(2, dtype=ns.float64)), torch.randn_like(torch.zeros(2).double()))]:
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)
    assert sorted(ns.randperm(6).tolist()) == list(range(6))
    r = ns.randint(3, 10, (1000,))
    assert r.min().item() == 3 and r.max().item() == 9
    g = ns.Generator().manual_seed(5)
    assert ns.randperm(10, generator=g).tolist() == ns.randperm(10, generator=ns.Generator().manual_seed(5)).tolist()


def test_allclose_like_torch():
    a = [1.0, 2.0]
    for b in ([1.0, 2.0000001], [1.0, 2.001], [1.0, float("nan")]):
        assert ns.allclose(ns.tensor(a), ns.tensor(b)) == torch.allclose(torch.tensor(a), torch.tensor(b))
    assert ns.tensor([1.0, 2.0]).allclose(ns.tensor([1.0, 2.0 + 1e-9]))


def test_chunk_and_split_pieces_like_torch():
    for n, chunks in [(7, 3), (6, 3), (5, 4), (2, 5)]:
        ours = [p.shape for p in ns.arange(n).chunk(chunks)]
        theirs = [tuple(p.shape) for p in torch.arange(n).chunk(chunks)]
        assert ours == theirs


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.0, 2.0], requires_grad=True), lambda m: m.tensor(3.0), lambda m: m.tensor(3),
    lambda m: m.tensor([1, 2]), lambda m: m.tensor([True, False]), lambda m: m.tensor([0.1, 2.12345678]),
    lambda m: m.tensor([1e-5, 1.0]), lambda m: m.tensor([1.5, 2], dtype=m.float64),
    lambda m: m.tensor([[1, 2], [3, 4]], dtype=m.int32), lambda m: m.tensor(2.5, dtype=m.float64),
    lambda m: m.tensor([float("nan"), 1.0, float("inf")]), lambda m: m.zeros(0), lambda m: m.zeros(2, 0),
    lambda m: m.arange(2000.0), lambda m: m.arange(1200).reshape(40, 30), lambda m: m.tensor([-1.0, 123456.0]),
    lambda m: m.tensor([1e9, 1.0]), lambda m: m.linspace(-1, 1, 30), lambda m: m.tensor([[-0.5, 100.0]]),
    lambda m: m.arange(24.0).reshape(2, 3, 4) / 7, lambda m: m.tensor([[[True]]]),
    lambda m: m.tensor([1, 2], dtype=m.uint8), lambda m: m.tensor([1.0, 2.0], dtype=m.float16),
    lambda m: m.tensor([2.0, 3.0], requires_grad=True) * 2,
    lambda m: m.tensor([2.0, 3.0], dtype=m.float64, requires_grad=True) + 1,
    lambda m: m.arange(6).reshape(2, 3).max(1), lambda m: m.tensor([3.0, 1.0, 2.0]).sort(descending=True),
    lambda m: m.tensor([3.0, 1.0, 2.0]).topk(2), lambda m: m.Size([2, 3]), lambda m: m.zeros(2, 3).shape,
    lambda m: m.zeros(4, 5).size(), lambda m: m.device("cpu"), lambda m: m.tensor([1.0]).device,
    lambda m: m.tensor([1.0]).type(), lambda m: m.tensor([1]).type(), lambda m: m.tensor([True]).type(),
])
def test_print_shows_what_torch_shows(make):
    assert str(make(ns)) == str(make(torch))
    assert repr(make(ns)) == repr(make(torch))


def test_format_of_a_scalar_tensor_like_torch():
    for spec in (".2f", ">8.3f", "", ".1e"):
        assert format(ns.tensor(3.14159), spec) == format(torch.tensor(3.14159), spec)
    assert f"{ns.tensor([1.0, 2.0])}" == f"{torch.tensor([1.0, 2.0])}"
