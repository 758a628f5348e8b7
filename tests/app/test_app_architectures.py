"""The application layer's registry: one record per architecture, from which the presets, the
train options and model loading are derived; networks are classes; adding an architecture is one
record (and its model code)."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import models, nn, presets, runner
from nnscratch.app import architectures
from nnscratch.app.architectures import OPTIONS, REGISTRY, Architecture, build_model
from nnscratch.app.datasets import Data
from nnscratch.app.rundir import load_model


def test_every_preset_names_a_registered_architecture_and_gets_its_defaults():
    for name, preset in presets.PRESETS.items():
        arch = REGISTRY[preset["arch"]]
        for key, value in arch.defaults.items():
            assert presets.resolve(name, {})[key] == value, (name, key)
    assert [k for k, v in presets.PRESETS.items() if v.get("threads") == "cores"] == ["cnn", "lenet5", "deep-cnn"]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_architecture_is_a_module_class_under_its_stored_name(name):
    arch = REGISTRY[name]
    assert isinstance(arch.builder, type) and issubclass(arch.builder, nn.Module)
    assert getattr(models, name) is arch.builder and models.ARCHITECTURES[name] is arch.builder
    assert set(arch.net_options) <= set(arch.options) <= set(OPTIONS)


def test_the_book_s_names_are_classes():
    assert isinstance(models.SimpleConvNet(), models.SimpleConvNet)
    assert models.simple_cnn is models.SimpleConvNet and models.build_model is build_model
    for cls in (models.LeNet5, models.DeepConvNet, models.VGG, models.ResNet, models.RowLSTM):
        assert isinstance(cls(), nn.Sequential)


def test_weights_of_the_functions_the_classes_replace_still_load(rng):
    """A checkpoint of the SimpleConvNet built as a plain Sequential (how earlier versions built it)
    has the same state-dict keys, so it loads into the class."""
    ns.manual_seed(0)
    old = nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(30 * 12 * 12, 100),
                        nn.ReLU(), nn.Linear(100, 10))
    new = build_model({"arch": "simple_cnn"})
    new.load_state_dict(old.state_dict())
    x = ns.tensor(rng.random((2, 1, 28, 28), dtype=np.float32))
    np.testing.assert_array_equal(old(x).data, new(x).data)


def _data(image):
    shape = (20, 1, 28, 28) if image else (20, 2)
    x = np.zeros(shape, np.float32)
    return Data(x, np.zeros(20, int), x, np.zeros(20, int), ["0", "1"])


def test_net_config_reads_the_data_shape_as_the_record_says():
    settings = presets.resolve("dbn", {"hidden": [8]})
    assert architectures.net_config(settings, _data(True)) == {"arch": "dbn", "sizes": [784, 8, 2], "dropout": 0.2}
    settings = {**presets.resolve("cnn", {}), "dataset": "xor"}
    assert architectures.net_config(settings, _data(True))["in_channels"] == 1
    with pytest.raises(ValueError, match="the cnn preset is an image network"):
        architectures.net_config(settings, _data(False))


def test_options_an_architecture_does_not_take_are_refused_by_name():
    with pytest.raises(ValueError, match="--hidden applies to the MLP presets only, not to the cnn preset"):
        presets.resolve("cnn", {"hidden": [8]})
    with pytest.raises(ValueError, match=r"--cd-k applies to the dbn preset only \(nnscratch train --model dbn\)"):
        presets.resolve("mlp", {"cd_k": 2})
    assert presets.resolve("dbn", {"hidden": [8], "pcd": True})["pcd"] is True


def test_unknown_architecture_lists_the_registry():
    with pytest.raises(ValueError, match="unknown architecture 'alexnet'; known: mlp, simple_cnn, lenet5"):
        build_model({"arch": "alexnet"})


class TinyNet(nn.Sequential):
    """A one-hidden-layer tanh network: the example architecture of the test below."""

    def __init__(self, sizes, input_mean=None, input_std=None):
        super().__init__(nn.Linear(sizes[0], 16), nn.Tanh(), nn.Linear(16, sizes[-1]))


def test_adding_an_architecture_is_one_record_and_one_preset(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "tiny", Architecture("tiny", TinyNet, input="flat", options=("hidden",),
                                                       aliases=("tiny_net",)))
    monkeypatch.setitem(presets.PRESETS, "tiny", dict(description="a tiny tanh net", arch="tiny", hidden=[16],
                                                      optimizer="adam", lr=0.05, batch_size=32, epochs=2,
                                                      sampling="shuffle", validation_split=0.0))
    result = runner.train_run("moons", model="tiny", out=str(tmp_path / "run"), verbose=False)
    assert result["accuracy"] > 0.75
    network, config = load_model(tmp_path / "run")
    assert isinstance(network, TinyNet) and config["net"]["arch"] == "tiny"
    assert isinstance(build_model({**config["net"], "arch": "tiny_net"}), TinyNet)  # an older name still loads
    assert "| `tiny` | `tiny` (`TinyNet`) | a tiny tanh net |" in presets.markdown_table()
