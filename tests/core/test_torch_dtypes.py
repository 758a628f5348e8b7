"""nnscratch's dtypes are PyTorch-like objects: they print as ``torch.float32``, carry PyTorch's
attributes, and stand in for the NumPy dtype they hold (equal, same hash, accepted by NumPy)."""

import copy
import pickle

import numpy as np
import pytest

import nnscratch as ns

NAMES = {  # PyTorch's name -> the NumPy dtype it stands for
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16, "int64": np.int64, "long": np.int64, "int32": np.int32,
    "int": np.int32, "int16": np.int16, "short": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_,
}


@pytest.mark.parametrize("name", NAMES)
def test_each_dtype_prints_and_describes_itself_as_pytorch_does(name):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(ns, name), getattr(torch, name)
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
    for attribute in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert isinstance(ours, ns.dtype)


@pytest.mark.parametrize("name", NAMES)
def test_tensor_dtype_prints_as_pytorch_for_each_dtype(name):
    torch = pytest.importorskip("torch")
    ours, theirs = ns.zeros(2, 3, dtype=getattr(ns, name)), torch.zeros(2, 3, dtype=getattr(torch, name))
    assert str(ours.dtype) == str(theirs.dtype) and repr(ours.dtype) == repr(theirs.dtype)
    assert f"Shape of y: {ours.dtype} {ours.dtype!r:>15}" == f"Shape of y: {theirs.dtype} {theirs.dtype!r:>15}"
    assert ours.dtype is getattr(ns, name)  # one object per dtype


def test_inferred_dtypes_print_as_pytorch():
    torch = pytest.importorskip("torch")
    for make in (lambda t: t.tensor([1, 2]), lambda t: t.tensor([1.5]), lambda t: t.tensor([1, 2]) > 1,
                 lambda t: t.tensor([[1.0, 3.0]]).argmax(1), lambda t: t.arange(3), lambda t: t.arange(0.0, 1.0, 0.5),
                 lambda t: t.tensor([1, 2]) / 2, lambda t: t.randperm(4), lambda t: t.tensor([1.0]).double().sum()):
        assert str(make(ns).dtype) == str(make(torch).dtype)
    assert str(ns.get_default_dtype()) == str(torch.get_default_dtype()) == "torch.float32"


def test_aliases_are_the_same_object():
    assert ns.float is ns.float32 and ns.double is ns.float64 and ns.long is ns.int64 and ns.half is ns.float16
    assert ns.int is ns.int32 and ns.short is ns.int16 and ns.get_default_dtype() is ns.float32
    assert ns.tensor([1.0]).dtype is ns.float and ns.tensor([True]).dtype is ns.bool
    assert copy.deepcopy(ns.float32) is ns.float32 and copy.copy(ns.long) is ns.long
    assert pickle.loads(pickle.dumps(ns.bool)) is ns.bool


@pytest.mark.parametrize("name, numpy_type", NAMES.items())
def test_equal_and_hash_like_the_numpy_dtype_both_ways(name, numpy_type):
    ours, numpy_dtype = getattr(ns, name), np.dtype(numpy_type)
    assert ours == numpy_dtype and numpy_dtype == ours and ours == numpy_type and numpy_type == ours
    assert not ours != numpy_dtype and not numpy_dtype != ours
    assert hash(ours) == hash(numpy_dtype)
    assert {numpy_dtype: "found"}[ours] == "found" and {ours: "found"}[numpy_dtype] == "found"
    assert ours in (numpy_type,) and ours.dtype == numpy_dtype
    others = [getattr(ns, other) for other, t in NAMES.items() if np.dtype(t) != numpy_dtype]
    assert all(ours != other and ours != np.dtype(other) for other in others)
    assert ours != None and ours != object()  # noqa: E711 (the == operator is what is tested)


def test_tensor_dtype_equals_numpy_and_nnscratch_dtypes():
    x = ns.ones(2)
    assert x.dtype == ns.float32 and x.dtype == np.float32 and x.dtype == np.dtype("float32")
    assert x.dtype != ns.float64 and x.dtype != np.float64 and x.dtype in (np.float32, np.float64)
    assert x.long().dtype == ns.long and (x > 0).dtype == bool


def test_numpy_accepts_the_dtype_objects():
    assert np.zeros(2, dtype=ns.float32).dtype == np.float32
    assert np.arange(3.0).astype(ns.long).dtype == np.int64
    assert np.dtype(ns.bool) == np.bool_ and np.array([1, 0], dtype=ns.uint8).dtype == np.uint8
    assert np.issubdtype(ns.float32, np.floating) and np.issubdtype(ns.int64, np.integer)
    assert np.finfo(ns.float32).eps == np.finfo(np.float32).eps and np.iinfo(ns.long).max == 2**63 - 1
    assert np.result_type(ns.float32, np.float64) == np.float64 and np.can_cast(ns.int32, ns.int64)
    assert np.asarray(ns.ones(2), dtype=ns.float64).dtype == np.float64


def test_numpy_attributes_forwarded_for_numpy_style_code():
    assert ns.float32.kind == "f" and ns.long.kind == "i" and ns.bool.kind == "b" and ns.uint8.kind == "u"
    assert ns.float64.itemsize == 8 and ns.float32.name == "float32" and ns.float32.type is np.float32
    assert ns.float32.char == "f" and ns.float32.str == np.dtype(np.float32).str
    assert isinstance(ns.float32.type(0.5), np.float32)


def test_constructors_and_conversions_take_the_dtype_objects():
    assert ns.zeros(2, dtype=ns.long).dtype is ns.long and ns.ones(2, dtype=ns.float64).dtype is ns.float64
    assert ns.tensor([1, 2], dtype=ns.float).dtype is ns.float32 and ns.full((2,), 3, dtype=ns.int8).dtype is ns.int8
    assert ns.arange(3, dtype=ns.float64).dtype is ns.float64 and ns.randn(2, dtype=ns.double).dtype is ns.double
    assert ns.randint(0, 3, (2,), dtype=ns.int32).dtype is ns.int32 and ns.eye(2, dtype=ns.bool).dtype is ns.bool
    x = ns.tensor([1.5, 2.5], requires_grad=True)
    assert x.to(ns.float64).dtype is ns.float64 and x.type(ns.int64).dtype is ns.int64
    assert x.to(ns.float32) is x and ns.zeros_like(x, dtype=ns.long).dtype is ns.long
    assert ns.from_numpy(np.zeros(2, np.uint8)).dtype is ns.uint8 and x.sum(dtype=ns.float64).dtype is ns.float64
    model = ns.nn.Linear(2, 3).to(ns.double)
    assert model.weight.dtype is ns.float64 and model(ns.ones(1, 2, dtype=ns.double)).dtype is ns.float64
    model.to(ns.float)
    assert model.weight.dtype is ns.float32
    with pytest.raises(TypeError):
        model.to(ns.half)  # refused clearly: nnscratch computes in float32 and float64
    assert "dtype=torch.float64" in repr(ns.ones(2, dtype=ns.float64))


def test_default_dtype_is_a_dtype_object():
    try:
        ns.set_default_dtype(ns.float64)
        assert ns.get_default_dtype() is ns.float64 and ns.tensor([1.0]).dtype is ns.float64
        assert repr(ns.tensor([1.0])) == "tensor([1.])"  # the default dtype is not printed
    finally:
        ns.set_default_dtype(np.float32)
    assert ns.get_default_dtype() is ns.float32
