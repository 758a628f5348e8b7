"""The command line: version, help and the simpleNet check, run as a user would."""

import subprocess
import sys

from nnscratch import __version__
from nnscratch.cli import main


def test_version_and_help_from_the_installed_script():
    out = subprocess.run([sys.executable, "-m", "nnscratch.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"nnscratch {__version__}"
    out = subprocess.run([sys.executable, "-m", "nnscratch.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "check" in out.stdout


def test_check_agrees_with_numerical_gradient(capsys):
    assert main(["check"]) == 0
    text = capsys.readouterr().out
    assert "simpleNet loss 0.92806" in text and "OK" in text


def test_import_loads_no_optional_packages():
    code = "import sys, nnscratch; print(sorted(m for m in ('matplotlib', 'torch', 'tqdm', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
