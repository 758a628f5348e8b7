"""The run directory module (file names, default name, loading) and the report module, as
``nnscratch train`` uses them, and the presets table for the docs."""

import os
import re
import subprocess
import sys

from nnscratch import runner
from nnscratch.app import report, rundir
from nnscratch.cli import EXPECTED_ERRORS, build_parser, main


def test_default_run_dir_is_runs_dataset_model_time():
    assert re.fullmatch(r"runs[/\\]fashion-mnist-cnn-\d{8}-\d{6}", rundir.default_run_dir("fashion-mnist", "cnn"))
    assert os.path.basename(rundir.default_run_dir()).startswith("mnist-mlp-")


def test_a_run_writes_the_files_rundir_names_and_loads_from_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(report, "write_plots", lambda *args: None)
    out = tmp_path / "run"
    assert main(["train", "spirals", "--hidden", "8", "--epochs", "2", "--out", str(out)]) == 0
    for name in (rundir.CONFIG, rundir.MODEL, rundir.LAST, rundir.HISTORY_CSV, rundir.HISTORY_JSON, rundir.SUMMARY):
        assert (out / name).is_file(), name
    printed = capsys.readouterr().out
    assert f"  {out / rundir.MODEL}" in printed and f"  {out / rundir.SUMMARY}" in printed
    assert rundir.model_path(out) == str(out / rundir.MODEL)
    network, config = runner.load_model(out)
    assert config["settings"]["model"] == "mlp" and len(rundir.history_of(out / rundir.LAST).loss) == 2
    assert (out / rundir.SUMMARY).read_text().splitlines()[-1].startswith("test accuracy: ")


def test_runner_keeps_its_public_names():
    for name in ("train_run", "load_model", "load_data", "load_weights", "model_path", "history_of", "test_report",
                 "write_outputs", "write_plots", "pretrain_dbn", "thread_count", "OPTIMIZERS", "SCHEDULES"):
        assert hasattr(runner, name), name


def test_train_help_is_derived_from_the_records(monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option
    parser = build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.values() if a.prog.endswith("train"))
    text = train.format_help()
    assert "one per core for the cnn, lenet5 and deep-cnn presets" in " ".join(text.split())
    assert "dbn preset: epochs of unsupervised pre-training per RBM (default 10)" in " ".join(text.split())


def test_the_cli_reports_one_set_of_errors():
    assert ValueError in EXPECTED_ERRORS and KeyboardInterrupt not in EXPECTED_ERRORS


def test_presets_table_in_markdown():
    out = subprocess.run([sys.executable, "-m", "nnscratch.presets", "--markdown"], capture_output=True, text=True,
                         check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "| preset | architecture | network and training |"
    assert any(line.startswith("| `cnn` | `simple_cnn` (`SimpleConvNet`) |") for line in lines)
