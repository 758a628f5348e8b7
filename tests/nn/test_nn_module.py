"""Module mechanics, the book's losses and perceptrons, dropout statistics, init, save/load."""

import os

import numpy as np
import pytest

import nnscratch as ns
import nnscratch.functional as F
import nnscratch.nn as nn

# ----------------------------------------------------------------------------- the book's losses (Deep Learning from Scratch, ch. 4)

T_ONE_HOT = np.eye(10)[2]
Y_RIGHT = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y_WRONG = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


@pytest.mark.parametrize("y, sse, cee", [(Y_RIGHT, 0.0975, 0.510825457), (Y_WRONG, 0.5975, 2.302584093)])
@pytest.mark.parametrize("target", [T_ONE_HOT, 2], ids=["one-hot", "label"])
def test_seed_loss_values(y, sse, cee, target):
    y64 = ns.tensor(y, dtype=np.float64)
    t = target if isinstance(target, np.ndarray) else np.array(target)
    assert F.sum_squares_error(y64, t).item() == pytest.approx(sse, abs=1e-9)
    assert F.cross_entropy_error(y64, t).item() == pytest.approx(cee, abs=1e-8)
    assert F.cross_entropy_error(ns.tensor(y), t).item() == pytest.approx(cee, abs=1e-5)  # float32


def test_seed_losses_on_a_batch_average_cross_entropy_over_the_batch():
    y = np.stack([Y_RIGHT, Y_WRONG])
    cee = (0.510825457 + 2.302584093) / 2
    assert F.cross_entropy_error(ns.tensor(y, dtype=np.float64), np.array([2, 2])).item() == pytest.approx(cee)
    assert F.cross_entropy_error(ns.tensor(y, dtype=np.float64), np.eye(10)[[2, 2]]).item() == pytest.approx(cee)
    assert F.sum_squares_error(ns.tensor(y, dtype=np.float64), np.array([2, 2])).item() == pytest.approx(0.695)
    assert nn.CrossEntropyError()(ns.tensor(y, dtype=np.float64), np.array([2, 2])).item() == pytest.approx(cee)


def test_penalties():
    w = [ns.tensor([[1.0, -2.0]]), ns.tensor([3.0])]
    assert F.l1_penalty(w).item() == 6.0 and F.l2_penalty(w).item() == 14.0
    model = nn.Linear(2, 1)
    expected = sum(np.abs(p.data).sum() for p in model.parameters())
    assert F.l1_penalty(model).item() == pytest.approx(expected)


# ----------------------------------------------------------------------------- perceptrons

GATE_INPUTS = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)


@pytest.mark.parametrize("w, b, truth", [((0.5, 0.5), -0.7, [0, 0, 0, 1]),      # AND
                                          ((-0.5, -0.5), 0.7, [1, 1, 1, 0]),    # NAND
                                          ((0.5, 0.5), -0.2, [0, 1, 1, 1])])    # OR
def test_hand_set_perceptron_gates(w, b, truth):
    layer = nn.Linear(2, 1)
    layer.load_state_dict({"weight": [w], "bias": [b]})
    out = nn.Sequential(layer, nn.Step())(ns.tensor(GATE_INPUTS))
    np.testing.assert_array_equal(out.data.ravel(), truth)


def _train(model, x, t, steps, lr):
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(x), t)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad.data
    return ((model(x).data > 0) == (t.data > 0.5)).mean()


def test_single_perceptron_cannot_learn_xor_but_two_layers_can():
    ns.manual_seed(0)
    x, t = ns.tensor(GATE_INPUTS), ns.tensor([[0.0], [1.0], [1.0], [0.0]])
    assert _train(nn.Linear(2, 1), x, t, steps=2000, lr=0.5) <= 0.75   # one line can't separate XOR
    ns.manual_seed(0)
    two_layer = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    assert _train(two_layer, x, t, steps=2000, lr=0.5) == 1.0


# ----------------------------------------------------------------------------- dropout

def test_dropout_keeps_the_expectation_in_training_and_is_identity_in_eval():
    ns.manual_seed(0)
    drop = nn.Dropout(0.3)
    x = ns.ones(200_000)
    y = drop(x).data
    assert abs((y == 0).mean() - 0.3) < 0.005        # about p of the units are dropped
    assert abs(y.mean() - 1.0) < 0.01                 # the survivors are scaled by 1 / (1 - p)
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    drop.eval()
    assert drop(x) is x


def test_dropout_gradient_is_the_mask():
    ns.manual_seed(1)
    x = ns.ones(1000, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)


# ----------------------------------------------------------------------------- module mechanics

class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2, bias=False)
        self.scale = nn.Parameter(np.ones(2, np.float32))
        self.register_buffer("seen", np.zeros((), np.int64))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_parameters_in_definition_order_and_state_dict_names():
    m = TwoLayer()  # as PyTorch: a module's own parameters first, then its children's
    assert [n for n, _ in m.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert list(m.state_dict()) == ["scale", "seen", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert m.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2
    assert [type(c).__name__ for c in m.children()] == ["Linear", "ReLU", "Linear"]
    assert len(list(m.modules())) == 4


def test_parameter_order_is_the_same_in_a_fresh_process():
    import subprocess
    import sys
    code = ("import nnscratch.nn as nn; m = nn.MLP([3, 4, 4, 2], batchnorm=True); "
            "print(','.join(m.state_dict()))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2)}
    assert len(runs) == 1
    assert runs.pop().strip().split(",")[:3] == ["0.weight", "0.bias", "1.weight"]


def test_shared_parameter_listed_once():
    shared = nn.Linear(3, 3)
    m = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(m.parameters())) == 2


def test_train_eval_propagate_and_zero_grad():
    m = nn.MLP([4, 8, 2], dropout=0.5)
    m.eval()
    assert all(not sub.training for sub in m.modules())
    m.train()
    assert all(sub.training for sub in m.modules())
    m(ns.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_round_trip_is_bit_exact(tmp_path):
    ns.manual_seed(0)
    a = nn.MLP([6, 5, 3], batchnorm=True)
    a(ns.randn(8, 6))  # move the running statistics
    path = tmp_path / "model.npz"
    ns.save(a.state_dict(), path)
    b = nn.MLP([6, 5, 3], batchnorm=True)
    b.load_state_dict(ns.load(path))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and va.dtype == vb.dtype
        np.testing.assert_array_equal(va.data, vb.data)


def test_load_state_dict_names_the_offending_key():
    m = nn.MLP([4, 3, 2])
    state = m.state_dict()
    wrong = dict(state, **{"0.weight": np.zeros((5, 4), np.float32)})
    with pytest.raises(ValueError, match=r"0\.weight: checkpoint has shape \(5, 4\), the model has \(3, 4\)"):
        m.load_state_dict(wrong)
    missing = {k: v for k, v in state.items() if k != "2.bias"}
    with pytest.raises(KeyError, match=r"missing keys \['2\.bias'\]"):
        m.load_state_dict(missing)
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        m.load_state_dict(dict(state, extra=np.zeros(1)))
    assert m.load_state_dict(missing, strict=False) == (["2.bias"], [])


def test_save_load_nested_optimizer_like_state(tmp_path):
    obj = {"model": {"w": ns.tensor([1.0, 2.0])}, "optimizer": {"state": {0: {"step": 3, "m": np.ones(2)}},
                                                               "param_groups": [{"lr": 0.1, "params": [0]}]},
           "epoch": 4, "config": ("mlp", None, True)}
    ns.save(obj, tmp_path / "ckpt.npz")
    back = ns.load(tmp_path / "ckpt.npz")
    assert back["epoch"] == 4 and back["config"] == ("mlp", None, True)
    assert back["optimizer"]["state"][0]["step"] == 3
    np.testing.assert_array_equal(back["optimizer"]["state"][0]["m"], np.ones(2))
    assert isinstance(back["model"]["w"], ns.Tensor) and back["model"]["w"].dtype == np.float32
    assert back["optimizer"]["param_groups"][0]["params"] == [0]


def test_corrupt_truncated_and_foreign_files_are_named(tmp_path):
    good = tmp_path / "good.npz"
    ns.save({"w": np.arange(1000.0)}, good)
    data = open(good, "rb").read()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz is truncated or not an nnscratch file"):
        ns.load(tmp_path / "cut.npz")
    np.savez(tmp_path / "foreign.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="foreign.npz is a NumPy archive but not an nnscratch file"):
        ns.load(tmp_path / "foreign.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="text.npz is truncated"):
        ns.load(tmp_path / "text.npz")
    with pytest.raises(FileNotFoundError):
        ns.load(tmp_path / "nothing.npz")


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "m.npz"
    ns.save({"w": np.zeros(2)}, path)  # returns None, as torch.save
    with pytest.raises(TypeError, match="cannot store a object"):
        ns.save({"w": object()}, path)
    assert ns.load(path)["w"].shape == (2,)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_summary_shows_structure_and_counts():
    text = nn.MLP([784, 100, 10]).summary()
    assert "Linear(in_features=784, out_features=100, bias=True)  # 78,500 parameters" in text
    assert "79,510 parameters in total" in text


def test_linear_after_flatten_with_wrong_in_features_names_both_shapes():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(ns.ShapeError, match=r"input has 900 features \(shape \(2, 900\)\).*expects 784"):
        model(ns.zeros(2, 30, 30))


# ----------------------------------------------------------------------------- initialisation

@pytest.mark.parametrize("scheme, std", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 700)),
                                         ("normal", 0.01), (0.05, 0.05)])
def test_initialisation_scales(scheme, std):
    ns.manual_seed(0)
    layer = nn.Linear(400, 300, init=scheme)
    assert layer.weight.data.std() == pytest.approx(std, rel=0.02)
    assert np.all(layer.bias.data == 0)


def test_default_init_is_pytorchs_uniform_and_seeded():
    ns.manual_seed(3)
    a = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.weight.data).max() > 0.95 * bound
    ns.manual_seed(3)
    b = nn.Linear(100, 50)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.dtype == np.float32


def test_unknown_init_and_activation_are_explained():
    with pytest.raises(ValueError, match="unknown initialisation 'bogus'"):
        nn.Linear(2, 2, init="bogus")
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        nn.MLP([2, 2, 2], activation="swishy")


def test_parameter_from_lists_and_float64_arrays_becomes_float32():
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert nn.Parameter(np.zeros(3)).dtype == np.float32 and nn.Parameter(np.zeros(3)).requires_grad
    shared = np.zeros(3, np.float32)
    nn.Parameter(shared).data[0] = 5  # a float32 array is shared, as torch.nn.Parameter(tensor) shares
    assert shared[0] == 5
