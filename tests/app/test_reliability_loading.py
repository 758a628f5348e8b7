"""Loading under bad input, as the command line meets it: damaged or hand-made checkpoint files,
model states that would silently give wrong answers, images with nothing to classify, and
options that could only make training produce NaN. Each case is one clear error (a single line
``nnscratch: error: ...`` naming the file and the problem on the command line), and the files
involved are left as they were."""

import io
import json
import os
import zipfile

import numpy as np
import pytest

from nnscratch import Tensor, load, save
from nnscratch.cli import main
from nnscratch.data.preprocess import check_ink, to_mnist
from nnscratch.runner import load_model

DATA = os.environ.get("NNSCRATCH_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not os.path.isdir(os.path.join(DATA, "mnist")),
                                 reason="NNSCRATCH_DATA with mnist/ is not set")


def one_error_line(capsys, *parts):
    """The command's stderr is one line ``nnscratch: error: ...`` holding every one of ``parts``."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnscratch: error: "), err
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


# ----------------------------------------------------------------------------- damaged files

def npy_bytes(array=None, header=None, data=b""):
    """A .npy member: ``array`` as numpy writes it, or a hand-made ``header`` dict followed by ``data``."""
    out = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(out, np.asarray(array), allow_pickle=False)
    else:
        np.lib.format.write_array_header_1_0(out, header)
        out.write(data)
    return out.getvalue()


def write_archive(path, meta, **members):
    """An .npz holding ``meta`` (JSON-encoded unless it is a string already) as __nnscratch__ and
    ``members`` (name: .npy bytes)."""
    text = meta if isinstance(meta, str) else json.dumps(meta)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__nnscratch__.npy", npy_bytes(np.array(text)))
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def state_meta(tree):
    return {"format": "nnscratch-state", "version": 1, "tree": tree}


ARRAY = {"__array__": 0, "tensor": True}


def deeply_nested(depth):
    """The JSON text of metadata whose tree is ``depth`` lists inside each other (too deep for json.dumps)."""
    tree = '{"__list__": [' * depth + json.dumps(ARRAY) + "]}" * depth
    return json.dumps(state_meta(None)).replace("null", tree)


DAMAGED = {  # name: (metadata, members, what the error says)
    "metadata-is-a-list": ([1, 2, 3], {}, "its __nnscratch__ entry is a JSON list, not an object"),
    "metadata-is-a-number": (7, {}, "its __nnscratch__ entry is a JSON int, not an object"),
    "no-tree": ({"format": "nnscratch-state", "version": 1}, {}, "has no 'tree'"),
    "version-not-a-number": ({"format": "nnscratch-state", "version": "2", "tree": 1}, {},
                             "format version '2' is not an integer"),
    "array-index-out-of-range": (state_meta({"__dict__": [["w", {"__array__": 5, "tensor": True}]]}),
                                 {"a0": npy_bytes(np.ones(3, np.float32))},
                                 "its structure refers to array 5, but the file holds 1 array"),
    "negative-array-index": (state_meta({"__array__": -1, "tensor": False}), {"a0": npy_bytes(np.ones(3))},
                             "refers to array -1"),
    "array-index-not-an-integer": (state_meta({"__array__": "0", "tensor": True}), {"a0": npy_bytes(np.ones(3))},
                                   "an array reference is malformed"),
    "array-without-tensor-flag": (state_meta({"__array__": 0}), {"a0": npy_bytes(np.ones(3))},
                                  "an array reference is malformed"),
    "bare-json-list-node": (state_meta({"__dict__": [["w", [1, 2]]]}), {}, "its structure holds [1, 2]"),
    "unknown-node": (state_meta({"weights": 1}), {}, 'its structure holds {"weights": 1}'),
    "two-kinds-in-one-node": (state_meta({"__list__": [], "__tuple__": []}), {}, "which save never writes"),
    "dict-entry-not-a-pair": (state_meta({"__dict__": [["a", 1, 2]]}), {}, "a dict entry is not a [key, value] pair"),
    "dict-key-not-a-string": (state_meta({"__dict__": [[[1], 1]]}), {}, "a dict entry is not a [key, value] pair"),
    "list-node-not-a-list": (state_meta({"__list__": 5}), {}, "__list__ must hold a list, got 5"),
    "nested-too-deeply": (deeply_nested(100_000), {"a0": npy_bytes(np.ones(3))},
                          "its structure is nested too deeply"),
    # a header claiming 2e10 float32 (80 GB) in a member of a few bytes: refused before any allocation
    "header-claims-2e10-floats": (state_meta(ARRAY), {"a0": npy_bytes(header={"descr": "<f4", "fortran_order": False,
                                                                              "shape": (20_000_000_000,)},
                                                                      data=b"\0" * 64)},
                                  "a0.npy's header claims shape (20000000000,) of float32 (80,000,000,000 bytes), "
                                  "but the member holds 64 bytes"),
    "header-claims-fewer-bytes": (state_meta(ARRAY), {"a0": npy_bytes(header={"descr": "<f8", "fortran_order": False,
                                                                              "shape": (2,)}, data=b"\0" * 24)},
                                  "claims shape (2,) of float64 (16 bytes), but the member holds 24 bytes"),
    "object-array": (state_meta(ARRAY), {"a0": npy_bytes(header={"descr": "|O", "fortran_order": False,
                                                                 "shape": (1,)}, data=b"\0" * 8)},
                     "a0.npy holds Python objects"),
    "garbled-header": (state_meta(ARRAY), {"a0": b"\x93NUMPY\x01\x00\x10\x00{'descr': 'zz' }\n"},
                       "a0.npy has no valid .npy header"),
}


@pytest.mark.parametrize("name", list(DAMAGED))
def test_a_damaged_file_is_one_value_error_naming_it(tmp_path, name):
    meta, members, problem = DAMAGED[name]
    path = write_archive(tmp_path / f"{name}.npz", meta, **members)
    before = path.read_bytes()
    with pytest.raises(ValueError) as info:
        load(path)
    assert type(info.value) is ValueError  # not IndexError, AttributeError, MemoryError, RecursionError ...
    message = str(info.value)
    assert message.startswith(str(path)) and problem in message, message
    assert "\n" not in message
    assert path.read_bytes() == before  # reading never changes the file


@pytest.mark.parametrize("name", ["metadata-is-a-list", "array-index-out-of-range", "header-claims-2e10-floats",
                                  "bare-json-list-node"])
def test_the_cli_reports_a_damaged_model_in_one_line(tmp_path, capsys, name):
    meta, members, problem = DAMAGED[name]
    path = write_archive(tmp_path / "model.npz", meta, **members)
    for command in (["info", str(path)], ["eval", str(path)], ["predict", str(path), str(tmp_path / "x.npy")]):
        assert main(command) == 1
        one_error_line(capsys, str(path), problem)


def test_arrays_round_trip_as_before(tmp_path):
    """The checks accept everything save writes: dtypes, shapes (0-d, empty, Fortran order), nesting."""
    obj = {"w": Tensor(np.arange(6, dtype=np.float32).reshape(2, 3)), "f": np.asfortranarray(np.ones((3, 2))),
           "empty": np.zeros((0, 4), np.int64), "scalar": np.array(2.5), "text": np.array("hi"),
           7: [1, (2.0, None), "x", True], "same": {"__array__": "not a node, just a key"}}
    save(obj, tmp_path / "ok.npz")  # returns None, as torch.save
    back = load(tmp_path / "ok.npz")
    assert back["w"].dtype == np.float32 and back["w"].data.tolist() == obj["w"].data.tolist()
    np.testing.assert_array_equal(back["f"], obj["f"])
    assert back["empty"].shape == (0, 4) and back["empty"].dtype == np.int64
    assert back["scalar"].shape == () and str(back["text"]) == "hi"
    assert back[7] == [1, (2.0, None), "x", True] and back["same"] == obj["same"]
    back["f"][0, 0] = 5  # loaded arrays are writable


# ----------------------------------------------------------------------------- model states

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A small trained MNIST model with batch norm (running statistics are buffers)."""
    if not DATA or not os.path.isdir(os.path.join(DATA, "mnist")):
        pytest.skip("NNSCRATCH_DATA with mnist/ is not set")
    from nnscratch.runner import train_run
    out = tmp_path_factory.mktemp("run")
    train_run("mnist", "mlp", out=str(out), epochs=1, limit=500, hidden=[16], batchnorm=True, verbose=False)
    return out


def tampered(run, tmp_path, change):
    """A copy of the run's model.npz whose model state went through ``change(state)``."""
    checkpoint = load(run / "model.npz")
    change(checkpoint["model"])
    save(checkpoint, tmp_path / "model.npz")
    return tmp_path / "model.npz"


def running_var_key(state):
    return next(k for k in state if k.endswith("running_var"))


def set_entry(key_of, value_of):
    def change(state):
        key = key_of(state)
        state[key] = value_of(np.asarray(state[key].data))
    return change


BAD_STATES = {  # name: (change to the state, what the error says)
    "nan-in-a-buffer": (set_entry(running_var_key, lambda v: np.full_like(v, np.nan)),
                        "running_var holds 16 NaN or infinite values of 16"),
    "inf-in-a-weight": (set_entry(lambda s: "2.0.weight", lambda w: np.where(np.arange(w.size).reshape(w.shape) == 3,
                                                                            np.inf, w).astype(w.dtype)),
                        "2.0.weight holds 1 NaN or infinite value of 12,544"),
    "float-buffer-saved-as-int64": (set_entry(running_var_key, lambda v: v.astype(np.int64)),
                                    "running_var is int64 but the network needs float32"),
    "counter-saved-as-float": (set_entry(lambda s: next(k for k in s if k.endswith("num_batches_tracked")),
                                         lambda v: v.astype(np.float32)),
                               "num_batches_tracked is float32 but the network needs int64"),
    "text-instead-of-weights": (set_entry(lambda s: "2.0.bias", lambda b: np.array("zeros")),
                                "2.0.bias is <U5, not an array of numbers"),
    "wrong-shape": (set_entry(lambda s: "2.0.bias", lambda b: np.zeros(17, b.dtype)),
                    "shape mismatch for 2.0.bias: checkpoint has shape (17,), the model has (16,)"),
    "missing-entry": (lambda s: s.pop("2.0.bias"), "missing keys ['2.0.bias']"),
    "unexpected-entry": (lambda s: s.update(extra=Tensor(np.ones(2, np.float32))), "unexpected keys ['extra']"),
}


@pytest.mark.parametrize("name", list(BAD_STATES))
def test_a_model_state_that_would_give_wrong_answers_is_refused(run, tmp_path, capsys, name):
    change, problem = BAD_STATES[name]
    path = tampered(run, tmp_path, change)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="^" + str(path)) as info:
        load_model(path)
    assert problem in str(info.value), str(info.value)
    for command in ("eval", "info"):  # eval printed "test loss nan, 9.80%" or 43% instead of 53% before
        assert main([command, str(path)]) == 1
        one_error_line(capsys, str(path), problem)
        assert path.read_bytes() == before
    assert capsys.readouterr().out == ""


def test_an_intact_model_still_loads_and_evaluates(run, capsys):
    network, config = load_model(run)
    assert not network.training and config["settings"]["dataset"] == "mnist"
    assert main(["eval", str(run)]) == 0
    assert "test accuracy: " in capsys.readouterr().out


def test_load_state_dict_keeps_pytorch_semantics():
    """Module.load_state_dict casts dtypes and copies any finite or non-finite value, as PyTorch's
    does; the checks above belong to loading a checkpoint file."""
    from nnscratch import nn
    bn = nn.BatchNorm1d(3)
    state = {k: np.asarray(v.data).copy() for k, v in bn.state_dict().items()}
    state["running_var"] = np.array([1, 2, 3], np.int64)
    state["running_mean"] = np.full(3, np.nan, np.float32)
    assert bn.load_state_dict(state) == ([], [])
    assert bn.running_var.dtype == np.float32 and bn.running_var.data.tolist() == [1, 2, 3]
    assert np.isnan(bn.running_mean.data).all()


# ----------------------------------------------------------------------------- predict

@pytest.mark.parametrize("name, image, problem", [
    ("blank", np.zeros((28, 28)), "no ink: every pixel has the same gray value, so there is nothing to classify"),
    ("white", np.full((40, 30), 255.0), "no ink: every pixel has the same gray value"),
    ("faint", np.random.default_rng(0).uniform(0.50, 0.52, (28, 28)),
     "no ink: its darkest and lightest pixels differ by only 2.0% of the gray range"),
    ("all-nan", np.full((28, 28), np.nan), "784 of its 784 pixels are not numbers (NaN or infinite)"),
    ("one-inf", np.where(np.eye(28) > 0, np.inf, 0.0)[:5], "5 of its 140 pixels are not numbers"),
    ("zero-rows", np.zeros((0, 5)), "the image has no pixels (shape (0, 5)); nothing to classify"),
])
def test_predict_refuses_an_image_with_nothing_to_classify(run, tmp_path, capsys, name, image, problem):
    good = np.zeros((28, 28))
    good[6:22, 12:16] = 1.0  # a "1"
    np.save(tmp_path / "good.npy", good)
    np.save(tmp_path / f"{name}.npy", image)
    assert main(["predict", str(run), str(tmp_path / "good.npy"), str(tmp_path / f"{name}.npy")]) == 1
    one_error_line(capsys, f"{tmp_path / f'{name}.npy'}: {problem}")


def test_predict_notes_a_nearly_empty_image_and_low_confidence(run, tmp_path, capsys):
    dot = np.zeros((28, 28))
    dot[14, 14] = 1.0  # to_mnist blows the single pixel up into a 20x20 blob
    np.save(tmp_path / "dot.npy", dot)
    path = tmp_path / "uniform.npz"
    save({**load(run / "model.npz"), "model": uniform_output(load(run / "model.npz")["model"])}, path)
    assert main(["predict", str(path), str(tmp_path / "dot.npy")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'dot.npy'}: ") and "10.0%" in lines[0]
    assert lines[1] == ("  note: low confidence: the best guess has only 10.0%; the image may not look like the "
                        "images the network learned from")
    assert lines[2] == ("  note: nearly empty: the ink spans only 1x1 pixel, blown up to fill the 20x20 box; the "
                        "prediction says little")


def test_predict_adds_no_note_to_a_clear_confident_answer(run, tmp_path, capsys):
    seven = np.zeros((28, 28))
    seven[6, 8:20], seven[6:22, 19] = 1.0, 1.0
    np.save(tmp_path / "seven.npy", seven)
    state = load(run / "model.npz")["model"]
    last = sorted(k for k in state if k.endswith(".bias"))[-1]
    state[last] = Tensor(np.where(np.arange(10) == 7, 50.0, 0.0).astype(np.float32))  # always a sure "7"
    path = tmp_path / "sure.npz"
    save({**load(run / "model.npz"), "model": state}, path)
    assert main(["predict", str(path), str(tmp_path / "seven.npy"), "--top", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{tmp_path / 'seven.npy'}: 7 100.0%"]


def uniform_output(state):
    """The model state with its last layer zeroed: every class gets probability 1/10."""
    last_weight, last_bias = (sorted(k for k in state if k.endswith(suffix))[-1] for suffix in (".weight", ".bias"))
    return {**state, last_weight: Tensor(np.zeros_like(state[last_weight].data)),
            last_bias: Tensor(np.zeros_like(state[last_bias].data))}


def test_check_ink_and_to_mnist_directly():
    dot = np.zeros((100, 100))
    dot[50:53, 40:42] = 1.0
    assert check_ink(dot).startswith("nearly empty: the ink spans only 3x2 pixels")
    digit = np.zeros((28, 28))
    digit[5:23, 13:15] = 1.0
    assert check_ink(digit) is None
    assert to_mnist(np.zeros((5, 5))).max() == 0  # to_mnist itself still maps a blank canvas to zeros
    with pytest.raises(ValueError, match="1 of its 4 pixels are not numbers"):
        to_mnist(np.array([[0, 1], [np.nan, 0]]))
    with pytest.raises(ValueError, match=r"the image has no pixels \(shape \(3, 0\)\)"):
        to_mnist(np.zeros((3, 0)))


# ----------------------------------------------------------------------------- training options

@pytest.mark.parametrize("option, value, problem", [
    ("--lr", "nan", "must be a finite number, got 'nan'"),
    ("--lr", "inf", "must be a finite number, got 'inf'"),
    ("--lr", "-inf", "must be a finite number, got '-inf'"),
    ("--lr", "0", "must be greater than 0, got '0'"),
    ("--lr", "-0.1", "must be greater than 0, got '-0.1'"),
    ("--lr", "fast", "invalid float value: 'fast'"),
    ("--weight-decay", "nan", "must be a finite number, got 'nan'"),
    ("--weight-decay", "-1e-4", "must be at least 0, got '-1e-4'"),
    ("--clip-grad-norm", "inf", "must be a finite number, got 'inf'"),
    ("--clip-grad-norm", "0", "must be greater than 0, got '0'"),
])
def test_training_options_that_could_only_give_nan_are_refused_at_parse_time(tmp_path, capsys, option, value,
                                                                               problem):
    out = tmp_path / "run"
    assert main(["train", "xor", f"{option}={value}", "--epochs", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"nnscratch train: argument {option}: {problem}")
    assert not out.exists()  # refused before anything was written


def test_valid_training_options_are_accepted(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "xor", "--lr", "1e-2", "--weight-decay", "0", "--clip-grad-norm", "5", "--epochs", "1",
                 "--batch-size", "4", "--validation-split", "0", "--out", str(out), "--quiet"]) == 0
    settings = json.loads((out / "config.json").read_text())["settings"]
    assert (settings["lr"], settings["weight_decay"], settings["clip_grad_norm"]) == (0.01, 0.0, 5.0)
