"""The settings of a run that continues another (``--resume``) or starts from its weights
(``--fine-tune-from``)."""

import os

from ..presets import resolve
from ..train import load_checkpoint
from .rundir import model_path


def _option(key, value):
    """How the command line spells a setting: ``--lr 0.5``, ``--hidden 64,32``, ``dataset fashion-mnist``."""
    if key == "dataset":
        return f"dataset {value}"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}")


def resume_settings(last, dataset, model, given):
    """(settings, completed epochs) of the run whose checkpoint is ``last``, for ``--resume``.
    Everything asked must equal the run's own settings, except ``epochs``, which may extend it."""
    out = os.path.dirname(last)
    if not os.path.exists(last):
        raise FileNotFoundError(f"cannot resume: {last} does not exist (give --out the run directory to resume)")
    checkpoint = load_checkpoint(last)
    settings = (checkpoint.get("config") or {}).get("settings")
    if not isinstance(settings, dict):
        raise ValueError(f"cannot resume: {last} holds no run settings; it was not written by nnscratch train")
    completed = checkpoint["epoch"]
    asked = {"dataset": dataset, "model": model, **given}
    changed = {k: v for k, v in asked.items() if v is not None and k != "epochs" and settings.get(k) != v}
    if changed:
        was = ", ".join(_option(k, settings.get(k)) for k in changed)
        fine_tune = "" if "model" in changed else (  # another network cannot start from these weights
            f", or fine-tune this run's weights in a new run directory: nnscratch train "
            f"{' '.join(v if k == 'dataset' else _option(k, v) for k, v in changed.items())} "
            f"--fine-tune-from {out} --out NEW_DIR")
        raise ValueError(
            f"cannot resume {out} with {', '.join(_option(k, v) for k, v in changed.items())}: --resume continues "
            f"the run exactly as it was trained ({was}), and only --epochs may change, to extend it. For other "
            f"settings start a new run with another --out{fine_tune}")
    epochs = given.get("epochs", settings["epochs"])
    if epochs < completed:
        raise ValueError(f"cannot resume {out} with --epochs {epochs}: it has already trained {completed} epochs "
                         f"(--epochs is the number of the last epoch; give at least {completed})")
    return {**settings, "epochs": epochs}, completed


def fine_tune_settings(source, dataset, model, given):
    """(settings, initial state dict) of a new run that starts from the weights of ``source`` (a run
    directory or checkpoint): that run's settings, with ``dataset`` and the ``given`` overrides applied."""
    checkpoint = load_checkpoint(model_path(source))
    base = (checkpoint.get("config") or {}).get("settings")
    if not isinstance(base, dict):
        raise ValueError(f"cannot fine-tune from {source}: it holds no run settings (not written by nnscratch train)")
    if model is not None and model != base["model"]:
        raise ValueError(f"cannot fine-tune from {source} with --model {model}: the network is that run's "
                         f"({base['model']}); leave --model out, or train a {model} from scratch")
    inherited = {k: v for k, v in base.items() if k not in ("model", "dataset", "fine_tune_from")}
    settings = resolve(base["model"], {**inherited, **given})
    settings.update(dataset=dataset or base["dataset"], fine_tune_from=os.fspath(source))
    return settings, checkpoint["model"]
