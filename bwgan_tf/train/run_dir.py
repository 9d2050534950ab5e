"""The run directory: the one module that knows its layout and reads or writes its files.

  config.json      the full configuration, lam/gamma as resolved (section 3.2 heuristic for "auto")
  metrics.jsonl    one JSON line per logged generator step and per evaluation ({"event": "evaluation", ...})
  checkpoints/     tf.train.CheckpointManager: generator, critic, EMA generator, optimizers, step counters
  tensorboard/     scalars, sample grids, dD at real images; tensorboard/eval: evaluation scalars
  samples/         PNG grids of the EMA generator from a fixed z (2-D data: points over the critic's contours)
"""
import json
import os

from bwgan_tf import files

CONFIG = "config.json"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
SAMPLES = "samples"


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
    """config.json as a dict; ValueError naming run_dir when it is not a run directory."""
    if not exists(run_dir):
        raise ValueError(f"run_dir: {run_dir!r} holds no {CONFIG} (not a bwgan_tf run directory)")
    with open(config_path(run_dir)) as f:
        return json.load(f)


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
    with open(os.path.join(run_dir, METRICS), "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()


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


def sample_path(run_dir: str, step: int) -> str:
    return os.path.join(run_dir, SAMPLES, f"step_{step:07d}.png")
