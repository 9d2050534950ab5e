"""The run directory: the one module that knows its layout and reads or writes its files.

  config.json      the full configuration, lam/gamma as resolved (section 3.2 heuristic for "auto"), and "stack":
                   the TensorFlow stack that created the run (compat.stack; none before: classic)
  metrics.jsonl    one JSON line per logged generator step and per evaluation ({"event": "evaluation", ...})
  checkpoints/     tf.train.CheckpointManager: generator, critic, EMA generator, optimizers, step counters
  tensorboard/     scalars, sample grids, dD at real images; tensorboard/eval: evaluation scalars
  samples/         PNG grids of the EMA generator from a fixed z (2-D data: points over the critic's contours) and
                   reals.png, a grid of 64 real training images
  provenance.jsonl one line per start or resume: command, host, time, versions, git commit, settings changed
  log.txt          what the runs printed
  snapshots/       an SGDR phase only (runs.restarts): restart_R/ holds the EMA generator's weights at the end of
                   restart R
  table4.json      an SGDR phase only: the scores of its ensemble (runs.table4)
  .lock            held (flock) by the trainer writing the run directory
"""
import contextlib
import errno
import fcntl
import json
import os

from bwgan_tf import compat
from bwgan_tf.io import files

CONFIG = "config.json"
METRICS = "metrics.jsonl"
PROVENANCE = "provenance.jsonl"
LOG = "log.txt"
LOCK = ".lock"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
SAMPLES = "samples"
SNAPSHOTS = "snapshots"
TABLE4 = "table4.json"


class RunDirectoryBusy(RuntimeError):
    """Another process is training into the run directory."""


def config_path(run_dir: str) -> str:
    return os.path.join(run_dir, CONFIG)


def exists(run_dir: str) -> bool:
    """Whether run_dir holds a config.json (is a bwgan_tf run directory)."""
    return os.path.isfile(config_path(run_dir))


def create(run_dir: str) -> str:
    """Makes run_dir and its sub-folders; returns run_dir. ValueError when run_dir is an existing file."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise ValueError(f"output_dir: {run_dir!r} is a file, not a directory; give a new or existing run directory")
    for sub in ("", CHECKPOINTS, TENSORBOARD, SAMPLES):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    return run_dir


def read_config(run_dir: str) -> dict:
    """config.json as a dict; ValueError naming run_dir when it is not a run directory, and starting with the
    file's path when it is damaged (cut short, not JSON, not an object)."""
    if not exists(run_dir):
        raise ValueError(f"run_dir: {run_dir!r} holds no {CONFIG} (not a bwgan_tf run directory)")
    config = files.read_json(config_path(run_dir))
    if not isinstance(config, dict):
        raise ValueError(f"{config_path(run_dir)}: not a JSON object of settings; the file is damaged")
    return with_absolute_paths(config, run_dir)


def stack_of(config: dict) -> dict:
    """The stack that created a run, from its config.json; runs created before it was recorded are classic."""
    return config.get("stack") or {"name": "classic"}


def check_stack(config: dict, run_dir: str) -> None:
    """ValueError, one line, when the run was created by the other stack (Keras 2 and Keras 3 checkpoints differ)."""
    saved, here = stack_of(config), compat.stack()
    if saved["name"] != here["name"]:
        versions = f" (TensorFlow {saved['tensorflow']}, Keras {saved['keras']})" if "keras" in saved else ""
        raise ValueError(f"output_dir: {run_dir!r} was written by the {saved['name']} stack{versions}; continue it "
                         f"there: this is the {here['name']} stack (TensorFlow {here['tensorflow']}, Keras "
                         f"{here['keras']}), whose checkpoints differ")


def with_absolute_paths(config: dict, run_dir: str) -> dict:
    """config with a relative npz:/folder: dataset path or data_dir (as versions before 0.2 stored what was typed)
    resolved against the working directory of the run's first start (provenance.jsonl)."""
    from bwgan_tf import data  # the data package loads TensorFlow's input pipeline

    starts = [r["cwd"] for r in read_provenance(run_dir) if r.get("cwd")]
    if not starts:
        return config
    resolved = dict(config)
    if isinstance(config.get("dataset"), str):
        resolved["dataset"] = data.absolute(config["dataset"], starts[0])
    if config.get("data_dir") and not os.path.isabs(config["data_dir"]):
        resolved["data_dir"] = os.path.normpath(os.path.join(starts[0], config["data_dir"]))
    return resolved


def write_config(run_dir: str, config: dict) -> str:
    return files.write_json_atomically(config_path(run_dir), config)


def read_metrics(run_dir: str) -> list:
    """The records of metrics.jsonl (a line cut short by a kill is skipped)."""
    return files.read_jsonl(os.path.join(run_dir, METRICS))


def evaluations(run_dir: str) -> list:
    """The metrics.jsonl records written by evaluations."""
    return [r for r in read_metrics(run_dir) if r.get("event") == "evaluation"]


def append_metrics(run_dir: str, record: dict) -> None:
    """Appends one record to metrics.jsonl as a single write of a complete line, flushed."""
    _append_line(os.path.join(run_dir, METRICS), json.dumps(record, sort_keys=True))


def append_provenance(run_dir: str, record: dict) -> None:
    _append_line(os.path.join(run_dir, PROVENANCE), json.dumps(record, sort_keys=True))


def read_provenance(run_dir: str) -> list:
    return files.read_jsonl(os.path.join(run_dir, PROVENANCE))


def append_log(run_dir: str, text: str) -> None:
    _append_line(os.path.join(run_dir, LOG), text)


def _append_line(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")
        f.flush()


@contextlib.contextmanager
def locked(run_dir: str):
    """Holds an exclusive flock on run_dir/.lock for the block; RunDirectoryBusy when another process (or another
    trainer in this one) holds it. The kernel drops the lock when its holder exits, so a crash leaves none."""
    path = os.path.join(run_dir, LOCK)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise RunDirectoryBusy(f"output_dir: {run_dir!r} is being trained by {holder}; wait for it to finish "
                                   f"or stop it (a stopped or crashed trainer releases it)") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {os.uname().nodename}")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def truncate_metrics(run_dir: str, step: int) -> None:
    """After a resume from `step`, drops the records an interrupted run logged past it."""
    path = os.path.join(run_dir, METRICS)
    if os.path.exists(path):
        kept = [r for r in read_metrics(run_dir) if r.get("step", 0) <= step]
        files.write_text_atomically(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))


def checkpoint_dir(run_dir: str) -> str:
    return os.path.join(run_dir, CHECKPOINTS)


def tensorboard_dir(run_dir: str, sub: str = "") -> str:
    return os.path.join(run_dir, TENSORBOARD, sub) if sub else os.path.join(run_dir, TENSORBOARD)


def reals_path(run_dir: str) -> str:
    """samples/reals.png: a grid of real training images, written when the run starts."""
    return os.path.join(run_dir, SAMPLES, "reals.png")


def sample_path(run_dir: str, step: int) -> str:
    return os.path.join(run_dir, SAMPLES, f"step_{step:07d}.png")


def snapshot_path(run_dir: str, restart: int) -> str:
    """snapshots/restart_R: the EMA generator at the end of SGDR restart R (1-based)."""
    return os.path.join(run_dir, SNAPSHOTS, f"restart_{restart}")


def write_snapshot(run_dir: str, restart: int, generator) -> str:
    """Writes the generator's weights as restart R's snapshot (atomically; an existing one is kept: a resumed phase
    reaches the same weights again) and returns its folder."""
    path = snapshot_path(run_dir, restart)
    if not os.path.isdir(path):
        with files.atomic_path(path) as tmp:
            os.makedirs(tmp)
            compat.write_weights(generator, os.path.join(tmp, "generator"))
    return path


def snapshot_weights(run_dir: str, restart: int):
    """The weights prefix of restart R's snapshot for compat.read_weights, or None when it is not written."""
    path = snapshot_path(run_dir, restart)
    return os.path.join(path, "generator") if os.path.isdir(path) else None


def write_table4(run_dir: str, record: dict) -> str:
    """table4.json: the Table 4 protocol's scores of an SGDR phase (atomically); returns its path."""
    return files.write_json_atomically(os.path.join(run_dir, TABLE4), record)
