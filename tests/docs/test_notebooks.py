"""The notebooks in docs/notebooks/ run from top to bottom in a real Jupyter kernel (nbclient with
ipykernel's ``python3``), print the worked values of their source, and are committed without outputs."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "docs" / "notebooks"
DATA = os.environ.get("NNSCRATCH_DATA")
HAS_MNIST = bool(DATA) and os.path.isdir(os.path.join(DATA, "mnist"))

# notebook -> (a value it must print, whether it reads MNIST)
EXPECTED = {
    "01_loss_functions_and_mini_batches": ("cross-entropy 0.510825457099338", True),
    "02_numerical_differentiation_and_gradients": ("0.1999999999990898", False),
    "03_the_learning_algorithm": ("the book's iterations per epoch: 600", True),
    "04_how_a_network_learns": ("parameters: 13002", True),
    "05_from_the_perceptron_to_dbn": ("best of 720 x 801 lines gets 75%", True),
}


def _printed(nb):
    """Everything the notebook's code cells wrote to stdout."""
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.get("output_type") == "stream")


def test_every_notebook_is_checked():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_is_stored_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: strip the outputs before committing"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs(name, tmp_path, monkeypatch):
    value, needs_mnist = EXPECTED[name]
    if needs_mnist and not HAS_MNIST:
        pytest.skip("NNSCRATCH_DATA with mnist/ is not set")
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits this environment
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails
    assert value in _printed(nb)
