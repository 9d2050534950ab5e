"""Sweeps over runs (Adler & Lunz Figs. 2, 3, 6): one row per run directory with its Banach space, its (s, p) and
its last evaluation; the metrics against s or p (runs at the same value are one point, mean +- std); and training
curves of several runs. Run directories are read only through bwgan_tf.train.run_dir (config.json, metrics.jsonl).
"""
import csv
import io
import json
import math
import os
import statistics

from bwgan_tf import spaces
from bwgan_tf.io import files, plots
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
    """One row per run directory: its space spec, s and p (Space.sweep_axes), step and the last evaluation's metrics.

    Metric columns are the metric labels (registry.is_metric_label: fid10k, pr10k_k3_precision, ...) in the
    last metrics.jsonl record that has any of them: evaluations made during training (--eval_every) or written
    into metrics.jsonl by the study; tools/evaluate.py prints its results and writes none there."""
    rows = []
    for run_dir in run_dirs:
        spec = _space_spec(run_dir_lib.read_config(run_dir))
        row = {"run_dir": os.fspath(run_dir), "space": spec, "s": None, "p": None}
        if spec:
            row["s"], row["p"] = spaces.parse(spec).sweep_axes
        for record in reversed(run_dir_lib.read_metrics(run_dir)):
            found = {k: v for k, v in record.items() if registry.is_metric_label(k) and isinstance(v, (int, float))}
            if found:
                row["step"] = record.get("step")
                row.update(found)
                break
        rows.append(row)
    return rows


def choose_x(rows, x="auto"):
    if x != "auto":
        return x
    varying = [k for k in ("s", "p") if len({r.get(k) for r in rows if r.get(k) is not None}) > 1]
    return varying[0] if varying else "s"


def metric_keys(rows) -> list:
    """The plotted keys (registry.plotted_labels): each metric's plotted values, a stand-in's cs/fd only when the
    Inception is/fid is absent."""
    return registry.plotted_labels(set().union(*(r.keys() for r in rows)) if rows else set())


def aggregate(rows, x, key) -> list:
    """(x, mean, error) per value of x: the error is the standard deviation over the runs at that x (several
    seeds; ddof 1), or the single run's own key_std (e.g. IS over splits), else None."""
    groups = {}
    for row in rows:
        value = row.get(key)
        if row.get(x) is not None and isinstance(value, (int, float)) and math.isfinite(value):
            groups.setdefault(float(row[x]), []).append((float(value), row.get(f"{key}_std")))
    points = []
    for position, found in sorted(groups.items()):
        values = [v for v, _ in found]
        error = statistics.stdev(values) if len(values) > 1 else found[0][1]
        points.append((position, statistics.fmean(values), error))
    return points


NO_EVALUATION = ("metrics.jsonl holds no evaluation (plot_sweep reads the evaluations made during training with "
                 "--eval_every, or written there by tools/study.py; tools/evaluate.py prints its results instead)")


def unplotted(rows, x) -> tuple:
    """(warnings, panels): one warning per run with no evaluation or no value of x, and per metric with no point;
    panels {metric: points} of the metrics that have points. ValueError naming --run_dirs when none has."""
    warnings = [f"{row['run_dir']}: {NO_EVALUATION}; not plotted" for row in rows if "step" not in row]
    warnings += [f"{row['run_dir']}: no {x} (space {row['space']}); not plotted" for row in rows
                 if "step" in row and row.get(x) is None]
    panels = {key: aggregate(rows, x, key) for key in metric_keys(rows)}
    warnings += [f"{key}: no run with a value of {x} has it; no panel" for key, points in panels.items() if not points]
    panels = {key: points for key, points in panels.items() if points}
    if not panels:
        raise ValueError(f"run_dirs: nothing to plot against {x}: " + "; ".join(warnings))
    return warnings, panels


def write_outputs(rows, x, prefix):
    """Writes PREFIX.png, PREFIX.csv and PREFIX.json atomically (ValueError when nothing can be plotted, see
    unplotted); returns their paths and the warnings."""
    columns = ["run_dir", "space", "s", "p", "step"] + sorted(
        {k for r in rows for k in r} - {"run_dir", "space", "s", "p", "step"})
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    paths = {"png": f"{prefix}.png", "csv": f"{prefix}.csv", "json": f"{prefix}.json"}
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    warnings, panels = unplotted(rows, x)
    plots.sweep(panels, paths["png"], xlabel=x, title=f"{len(rows)} runs")
    files.write_bytes_atomically(paths["csv"], table.getvalue().encode())
    files.write_bytes_atomically(paths["json"], json.dumps({"x": x, "rows": rows, "points": panels}, indent=1,
                                                           sort_keys=True).encode())
    return {**paths, "warnings": warnings}


def series_by_quantity(run_dirs, quantities) -> dict:
    """{quantity: {run name: [(step, value), ...]}} from the runs' metrics.jsonl (evaluation metrics included)."""
    found = {}
    for run_dir in run_dirs:
        name = os.path.basename(os.path.normpath(run_dir))
        for record in run_dir_lib.read_metrics(run_dir):
            for key, value in record.items():
                wanted = key in quantities or (registry.is_metric_label(key) and not key.endswith("_std"))
                if wanted and isinstance(value, (int, float)) and "step" in record:
                    found.setdefault(key, {}).setdefault(name, []).append((record["step"], float(value)))
    return found
