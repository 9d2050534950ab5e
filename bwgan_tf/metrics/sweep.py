"""Sweep tables: one row per run directory, its Banach space and its last evaluation (Adler & Lunz Figs. 2, 3, 6).

Run directories are read only through bwgan_tf.train.run_dir (config.json and metrics.jsonl).
"""
import os

from bwgan_tf import spaces
from bwgan_tf.metrics import registry
from bwgan_tf.train import run_dir as run_dir_lib


def _space_spec(config: dict):
    for key in ("space", "banach_space", "norm"):
        value = config.get(key)
        if isinstance(value, str):
            return value
    nested = config.get("lipschitz")
    return nested.get("space") if isinstance(nested, dict) else None


def sweep_table(run_dirs) -> list:
    """One row per run directory: its space spec, s and p, step and the last evaluation's metrics.

    Metric columns are the metric labels (registry.is_metric_label: fid10k, pr10k_k3_precision, ...) in the
    last metrics.jsonl record that has any of them."""
    rows = []
    for run_dir in run_dirs:
        spec = _space_spec(run_dir_lib.read_config(run_dir))
        row = {"run_dir": os.fspath(run_dir), "space": spec, "s": None, "p": None}
        if spec:
            space = spaces.parse(spec)
            row["s"] = getattr(space, "s", 0.0 if hasattr(space, "p") else None)
            row["p"] = getattr(space, "p", None)
        for record in reversed(run_dir_lib.read_metrics(run_dir)):
            found = {k: v for k, v in record.items() if registry.is_metric_label(k) and isinstance(v, (int, float))}
            if found:
                row["step"] = record.get("step")
                row.update(found)
                break
        rows.append(row)
    return rows
