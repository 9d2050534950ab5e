"""Starting or resuming a run directory: which settings may change on resume, the learning-rate plan, provenance.

A run directory's config.json fixes the run. Resuming it with a setting that changes what is trained is refused
with a list of the differences; the settings in RESUMABLE (how long the run goes, what it logs, evaluates and
keeps, where its data lives, how it executes) may change, and each change is printed and recorded in
provenance.jsonl.

The learning-rate plan is saved in config.json as ``lr_plan`` (bwgan_tf.schedules). Resuming with another --steps
re-plans it: the rate continues from its value at the resume step linearly to 0 at the new last step.
"""
import datetime
import os
import platform
import shlex
import socket
import subprocess
import sys
from typing import Callable, Optional, Tuple

from bwgan_tf import compat, schedules
from bwgan_tf.train import build
from bwgan_tf.train import run_dir as run_dir_lib
from bwgan_tf.train.config import TrainConfig

RESUMABLE = ("steps", "log_every", "checkpoint_every", "keep_checkpoints", "sample_every", "eval_every",
             "eval_metrics", "eval_num_samples", "eval_classifier", "inception", "data_dir", "output_dir", "xla",
             "strategy", "collective_timeout")
LABELS = ("preset",)  # names, not settings: the values they stand for are compared


def differences(saved: TrainConfig, config: TrainConfig, keys=None) -> dict:
    """{setting: (saved value, new value)} of the settings that differ; a new "auto" matches the saved value."""
    old, new = saved.to_dict(), config.to_dict()
    return {k: (old[k], new[k]) for k in (keys or new)
            if k not in LABELS and new[k] != "auto" and old[k] != new[k]}


def prepare_run_dir(config: TrainConfig, start: int, print_fn=print,
                    write: bool = True) -> Tuple[TrainConfig, Optional[list], Callable[[], None]]:
    """Settles the config of a new run, or checks an existing run against `config` and applies the resumable
    changes (`start`: the generator step it resumes from). Writes nothing itself.

    Returns (the run's config, lam, gamma and mixed_precision resolved; its learning-rate plan, None for a
    constant rate; `record`, which writes config.json and appends this start to provenance.jsonl: the loop calls
    it once the model is built, so a run refused while building leaves no config.json behind; with write=False,
    a multi-worker run's non-chief workers, it writes nothing).
    Raises ValueError naming output_dir and listing each setting that may not change.
    """
    run_dir = config.output_dir
    saved_dict = run_dir_lib.read_config(run_dir) if run_dir_lib.exists(run_dir) else None
    if saved_dict is None:
        source = {k: ("heuristic" if getattr(config, k) == "auto" else "given") for k in ("lam", "gamma")}
        config, changes = _new(config), {}
        plan = schedules.linear_plan(config.steps) if config.lr_decay else None
    else:
        run_dir_lib.check_stack(saved_dict, run_dir)
        config, changes = _resumed(config, saved_dict)
        source = saved_dict.get("lam_gamma_source")
        plan = saved_dict.get("lr_plan", schedules.linear_plan(saved_dict["steps"]) if config.lr_decay else None)
        for name, (old, new) in changes.items():
            print_fn(f"resume: {name} {old!r} -> {new!r}", flush=True)
        if plan is not None and "steps" in changes and config.steps > start:
            plan = _replanned(plan, start, config, print_fn)
    def record():
        if write:
            stack = run_dir_lib.stack_of(saved_dict) if saved_dict else compat.stack()
            run_dir_lib.write_config(run_dir, dict(config.to_dict(), lam_gamma_source=source, lr_plan=plan,
                                                   stack=stack))
            run_dir_lib.append_provenance(run_dir, provenance("resume" if saved_dict else "start", start, changes,
                                                              plan))

    return config, plan, record


def resolved(config: TrainConfig) -> Tuple[TrainConfig, Optional[str]]:
    """(the config a run would train with, writing nothing (tools/train.py --dry_run); None, or why lam and gamma
    stay "auto": the section 3.2 heuristic could not read the data)."""
    if run_dir_lib.exists(config.output_dir):
        saved = run_dir_lib.read_config(config.output_dir)
        run_dir_lib.check_stack(saved, config.output_dir)
        return _resumed(config, saved)[0], None
    try:
        return _new(config), None
    except OSError as error:  # the data cannot be read here (e.g. a TFDS dataset that is not prepared)
        return config.replace(mixed_precision=build.resolve_mixed_precision(config)), str(error)


def _new(config: TrainConfig) -> TrainConfig:
    """A new run's config: lam, gamma and mixed_precision resolved."""
    lam, gamma = build.lambda_gamma(config)
    return config.replace(lam=lam, gamma=gamma, mixed_precision=build.resolve_mixed_precision(config))


def _resumed(config: TrainConfig, saved_dict: dict) -> Tuple[TrainConfig, dict]:
    """(the saved run's config with `config`'s resumable changes, {setting: (old, new)}); ValueError listing each
    other difference."""
    saved = TrainConfig.from_dict(saved_dict, ignore_unknown=True)
    changes = differences(saved, config, keys=[k for k in saved_dict if k in config.to_dict()])
    fixed = {k: v for k, v in changes.items() if k not in RESUMABLE}
    if fixed:
        listed = "; ".join(f"{k}: {old!r} there, {new!r} now" for k, (old, new) in fixed.items())
        raise ValueError(f"output_dir: {config.output_dir!r} holds a run with other settings ({listed}); continue "
                         f"it with its own settings (--resume: only {', '.join(RESUMABLE)} may change) or choose "
                         f"another output_dir")
    return saved.replace(**{k: new for k, (_, new) in changes.items()}), changes


def _replanned(plan: list, start: int, config: TrainConfig, print_fn) -> list:
    if schedules.is_sgdr(plan):
        raise ValueError(f"steps: an SGDR phase runs its restarts x restart_steps generator steps (to step "
                         f"{schedules.snapshot_steps(plan)[-1]}); start another phase (tools/ensemble.py) to change "
                         f"them")
    fraction = schedules.plan_value(plan, start)
    if fraction == 0:
        raise ValueError(f"steps: the learning rate of this run has decayed to 0 by generator step {start}, so "
                         f"{config.steps - start} more steps would not train; start a new run with --steps="
                         f"{config.steps} instead")
    rate = fraction * build.base_lr(config)
    print_fn(f"resume: the learning rate continues from {rate:.3g} at generator step {start} linearly to 0 at step "
             f"{config.steps} (it was to reach 0 at step {plan[-1][0]})", flush=True)
    return schedules.replan(plan, start, config.steps)


def provenance(event: str, step: int, changes: dict, plan) -> dict:
    """Where, when and with what this start or resume ran: command, host, the stack (TensorFlow and Keras versions,
    estimator implementation), package versions (tensorflow_gan None where it is not installed), git commit."""
    versions = {package.replace("-", "_"): compat.version_of(package)
                for package in ("tensorflow", "tensorflow-gan", "numpy", "bwgan_tf")}
    return dict(stack=compat.stack(), event=event, step=step,
                time=datetime.datetime.now(datetime.timezone.utc).isoformat(), host=socket.gethostname(),
                pid=os.getpid(), cwd=os.getcwd(), command=shlex.join([sys.executable, *sys.argv]),
                python=platform.python_version(), **versions, git=_git_state(),
                changes={k: list(v) for k, v in changes.items()}, lr_plan=plan)


def _git_state() -> Optional[dict]:
    """{"commit", "dirty"} of the git checkout holding the package's code, or None outside one."""
    here = os.path.dirname(os.path.abspath(__file__))

    def git(*args):
        return subprocess.run(["git", "-C", here, *args], capture_output=True, text=True, timeout=10)

    try:
        commit = git("rev-parse", "HEAD")
        if commit.returncode:
            return None
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit.stdout.strip(), "dirty": dirty}
