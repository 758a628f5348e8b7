"""The as-torch import hook: `import torch` / `import torchvision` answered by nnscratch, the
`nnscratch as-torch SCRIPT` command, and the PyTorch snippets of the PyTorch textbook chapter and the
neural-network introduction printing what real PyTorch prints."""

import contextlib
import io
import re
import subprocess
import sys
import textwrap

import pytest

import nnscratch
from nnscratch import torch_hook
from tolerance import tolerance


def test_torch_names_resolve_to_nnscratch_modules():
    with nnscratch.as_torch():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim.lr_scheduler as sched
        import torchvision
        from torch.utils.data import DataLoader
        from torchvision import datasets, transforms, utils

        assert torch.Tensor is nnscratch.Tensor
        assert torch.tensor is nnscratch.tensor
        assert nn.Linear is nnscratch.nn.Linear
        assert F.relu is torch_hook.alias_module("torch.nn.functional").relu
        assert sched.StepLR is nnscratch.optim.lr_scheduler.StepLR
        assert DataLoader is nnscratch.utils.data.DataLoader
        assert datasets.MNIST is nnscratch.vision.datasets.MNIST
        assert transforms.ToTensor is nnscratch.vision.transforms.ToTensor
        assert utils.save_image is nnscratch.vision.utils.save_image
        assert torch.nn is nn and torchvision.transforms is transforms  # attribute access = import
        assert torch.optim.SGD is nnscratch.optim.SGD  # torch.optim reached without importing it


def test_sys_modules_restored_and_blocks_nest():
    before = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    with nnscratch.as_torch():
        import torch
        with nnscratch.as_torch():
            import torch.nn  # noqa: F401
        assert sys.modules["torch"] is torch  # the inner exit did not tear the hook down
        assert torch.Tensor is nnscratch.Tensor
    after = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)
    assert torch_hook._Hook.finder not in sys.meta_path


def test_real_torch_comes_back():
    real = pytest.importorskip("torch")
    with nnscratch.as_torch():
        import torch as aliased
        assert aliased.Tensor is nnscratch.Tensor
    import torch
    assert torch is real and torch.Tensor is not nnscratch.Tensor


@pytest.mark.parametrize("statement, name", [
    ("import torch.fft", "torch.fft"),
    ("import torch.jit", "torch.jit"),
    ("from torch import sparse", "torch.sparse"),
    ("import torch.distributed", "torch.distributed"),
    ("import torchvision.models", "torchvision.models"),
    ("from torch.nn import NoSuchLayer", "torch.nn.NoSuchLayer"),
])
def test_missing_modules_name_themselves(statement, name):
    with nnscratch.as_torch():
        with pytest.raises(ImportError, match=f"{name} is not available in nnscratch"):
            exec(statement, {})


@pytest.mark.parametrize("expression, name", [
    ("torch.fft.rfft", "torch.fft"),
    ("torch.jit.script", "torch.jit"),
    ("torch.nn.NoSuchLayer", "torch.nn.NoSuchLayer"),
    ("torch.lab", "torch.lab"),  # an nnscratch module PyTorch has not is not exposed as torch's
    ("torch.data", "torch.data"),
])
def test_missing_attributes_name_themselves(expression, name):
    with nnscratch.as_torch():
        import torch
        with pytest.raises(AttributeError, match=f"{name} is not available in nnscratch"):
            eval(expression, {"torch": torch})


def test_unsupported_names_say_what_to_do():
    assert "call the model directly" in torch_hook.missing_message("torch.jit")
    assert "CPU" in torch_hook.missing_message("torch.cuda.amp")


# ----------------------------------------------------------------------------- the command

def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nnscratch.cli", "as-torch", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_script_runs_as_python_would(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "helper.py").write_text("VALUE = 42\n")
    (tmp_path / "notes.txt").write_text("relative to the working directory\n")
    script = folder / "train.py"
    script.write_text(textwrap.dedent("""
        import sys
        import torch
        import helper                       # the script's folder is on sys.path
        print("argv", sys.argv[1:])
        print("helper", helper.VALUE)
        print("notes", open("notes.txt").read().strip())
        print("engine", type(torch.zeros(1)).__module__)
        if __name__ == "__main__":
            print("main")
    """))
    result = _cli(str(script), "--epochs", "2", "-v", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == ["argv ['--epochs', '2', '-v']", "helper 42", "notes relative to the working directory",
                     "engine nnscratch.tensor", "main"]


def test_script_exit_status_and_errors(tmp_path):
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n")
    assert _cli(str(tmp_path / "exits.py")).returncode == 3
    (tmp_path / "fails.py").write_text("import torch\n\ndef f():\n    return torch.fft.fft(torch.zeros(4))\n\nf()\n")
    result = _cli(str(tmp_path / "fails.py"))
    assert result.returncode == 1
    assert "torch.fft is not available in nnscratch" in result.stderr
    assert 'fails.py", line 4, in f' in result.stderr  # a traceback into the script, as python shows
    assert "runpy" not in result.stderr  # without the hook's own frames
    missing = _cli(str(tmp_path / "nowhere.py"))
    assert missing.returncode == 1 and "no such script" in missing.stderr


# ----------------------------------------------------------------------------- the notes' snippets

PRELUDE = """
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

def fixed_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    model.load_state_dict({k: torch.from_numpy((0.1 * rng.standard_normal(tuple(v.shape))).astype(np.float32))
                           for k, v in model.state_dict().items()})
    return model

def show(t, digits=5):
    print(np.array2string(np.round(t.detach().numpy().astype(np.float64), digits), precision=digits))
"""

SNIPPETS = {
    # the neural-network introduction: autograd on y = sum(w * x), loss = (y - 10)^2
    "autograd": """
w = torch.tensor([1.0, 2.0], requires_grad=True)
x = torch.tensor([3.0, 4.0])
y = torch.sum(w * x)
loss = (y - 10) ** 2
print(loss)
loss.backward()
print(w.grad)
""",
    # the same introduction: a Sequential with Dropout; in eval mode dropout is the identity
    "dropout_sequential": """
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
print(model)
fixed_weights(model)
x = torch.from_numpy(np.linspace(0, 1, 2 * 784, dtype=np.float32).reshape(2, 784))
model.eval()
show(model(x))
model.train()
print(model(x).shape)
""",
    # the PyTorch textbook: MSELoss(reduction='sum')
    "mse_sum": """
model = fixed_weights(nn.Linear(3, 2))
x = torch.from_numpy(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
y = torch.from_numpy(np.ones((4, 2), dtype=np.float32))
loss_fn = torch.nn.MSELoss(reduction='sum')
y_pred = model(x)
loss = loss_fn(y_pred, y)
print(round(loss.item(), 4))
loss.backward()
show(model.weight.grad, 4)
""",
    # the PyTorch textbook: a Net with ReLU(inplace=True) and Softmax(dim=n_output)
    "net_relu_softmax": """
class Net(torch.nn.Module):
    def __init__(self, n_feature, n_hidden, n_output):
        super(Net, self).__init__()
        self.hidden = torch.nn.Linear(n_feature, n_hidden)
        self.relu = torch.nn.ReLU(inplace=True)
        self.out = torch.nn.Linear(n_hidden, n_output)
        self.softmax = torch.nn.Softmax(dim=n_output)
    def forward(self, x):
        x = self.hidden(x)
        x = self.relu(x)
        x = self.out(x)
        x = self.softmax(x)
        return x

net = fixed_weights(Net(2, 5, 1))
print(net)
x = torch.from_numpy(np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7]], dtype=np.float32))
show(net(x))
net3 = Net(2, 5, 3)
try:
    net3(x)                                     # dim=3 does not exist for a (3, 3) input
except Exception as e:
    print(type(e).__name__)
""",
    # the PyTorch textbook: a DropoutModel using F.relu
    "dropout_model": """
class DropoutModel(torch.nn.Module):
    def __init__(self):
        super(DropoutModel, self).__init__()
        self.layer1 = torch.nn.Linear(784, 1200)
        self.dropout1 = torch.nn.Dropout(0.5)
        self.layer2 = torch.nn.Linear(1200, 1200)
        self.dropout2 = torch.nn.Dropout(0.5)
        self.layer3 = torch.nn.Linear(1200, 10)
    def forward(self, x):
        x = F.relu(self.layer1(x))
        x = self.dropout1(x)
        x = F.relu(self.layer2(x))
        x = self.dropout2(x)
        return self.layer3(x)

model = fixed_weights(DropoutModel()).eval()
print(model)
show(model(torch.from_numpy(np.linspace(-1, 1, 784, dtype=np.float32).reshape(1, 784))), 4)
""",
    # the PyTorch textbook: a custom Dataset of torch.FloatTensor samples in a shuffling DataLoader
    "custom_dataset": """
from torch.utils.data import Dataset, DataLoader

class CustomDataset(Dataset):
    def __init__(self):
        self.x_data = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
        self.y_data = [[12], [18], [11]]
    def __len__(self):
        return len(self.x_data)
    def __getitem__(self, idx):
        x = torch.FloatTensor(self.x_data[idx])
        y = torch.FloatTensor(self.y_data[idx])
        return x, y

dataset = CustomDataset()
dataloader = DataLoader(dataset, batch_size=2, shuffle=True)
print(len(dataloader), dataset[1])
seen = []
for x, y in dataloader:
    print(tuple(x.shape), tuple(y.shape), x.dtype)
    seen += [(x[i].tolist(), y[i].item()) for i in range(len(x))]
print(sorted(seen))
""",
}


def _run_snippet(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(PRELUDE + code, "<snippet>", "exec"), {"__name__": "__snippet__"})
    return out.getvalue()


_NUMBER = re.compile(r"-?\d+\.\d*(?:e[-+]?\d+)?")


def assert_same_output(ours, expected, n=1):
    """The same text, with printed decimals equal up to float32 rounding: a sum of ``n`` terms
    (tests/tolerance.py) plus one unit in the last printed digit."""
    assert _NUMBER.sub("#", ours) == _NUMBER.sub("#", expected)
    for a, b in zip(_NUMBER.findall(ours), _NUMBER.findall(expected)):
        digits = len(b.split(".")[1].split("e")[0])
        assert abs(float(a) - float(b)) <= tolerance(n, max(1.0, abs(float(b)))) + 10.0 ** -digits, (a, b)


# Largest sum of products behind each snippet's printed numbers.
REDUCTION = {"dropout_sequential": 784, "dropout_model": 1200}
@pytest.mark.parametrize("name", list(SNIPPETS))
def test_notes_snippets_print_what_pytorch_prints(name):
    pytest.importorskip("torch")
    expected = _run_snippet(SNIPPETS[name])
    with nnscratch.as_torch():
        ours = _run_snippet(SNIPPETS[name])
    assert_same_output(ours, expected, REDUCTION.get(name, 1))


def test_autograd_snippet_value():
    """y = 1*3 + 2*4 = 11, loss = (y - 10)^2 = 1, dloss/dw = 2 (y - 10) x = [6, 8]."""
    with nnscratch.as_torch():
        out = _run_snippet(SNIPPETS["autograd"])
    assert out.splitlines() == ["tensor(1., grad_fn=<PowBackward0>)", "tensor([6., 8.])"]


# ----------------------------------------------------------------------------- the coverage table

def test_coverage_table_is_generated_from_the_code(tmp_path):
    """docs/pytorch-coverage.md is what docs/api_coverage.py writes now (regenerate it with
    `python docs/api_coverage.py` after adding names)."""
    from pathlib import Path
    docs = Path(__file__).resolve().parents[2] / "docs"
    out = tmp_path / "coverage.md"
    subprocess.run([sys.executable, str(docs / "api_coverage.py"), str(docs / "torch-tutorial-names.txt"),
                    "-o", str(out)], check=True, capture_output=True, timeout=120)
    assert out.read_text() == (docs / "pytorch-coverage.md").read_text(), \
        "docs/pytorch-coverage.md is out of date: run `python docs/api_coverage.py`"


def test_coverage_counts_missing_names(tmp_path):
    from pathlib import Path
    names = tmp_path / "names.txt"
    names.write_text("# comment\ntorch: tensor no_such_thing\ntorch.fft: fft\nTensor: backward\n")
    script = Path(__file__).resolve().parents[2] / "docs" / "api_coverage.py"
    text = subprocess.run([sys.executable, str(script), str(names), "-o", "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout
    assert "**2 of 4 names (50%)**" in text
    assert "| `torch` | `nnscratch` | 1/2 | `no_such_thing` |" in text
    assert "| `torch.fft` | (none) | 0/1 | `fft` |" in text
