"""IS, FID, precision and recall against the Sobolev exponent s or the L^p exponent p over several runs (Adler &
Lunz Figs. 2, 3, 6).

  python tools/plot_sweep.py --run_dirs=runs/s-2,runs/s-1,runs/s0,runs/s1 --x=s --output=sweep
    -> sweep.png (one panel per metric present: IS with +-std bars, FID, precision, recall), sweep.csv and
       sweep.json (one row per run)

Each run directory needs config.json (its space spec) and metrics.jsonl (the last evaluation is used). Runs at
the same s or p (several seeds) are one point: their mean, with their standard deviation as the error bar.
Without is/fid (no Inception) the classifier-feature metrics cs<N>_<name>/fd<N>_<name> are plotted under their own
names.
"""
import csv
import io
import json
import math
import os
import re
import statistics

from absl import flags

from bwgan_tf import cli, files, metrics, plots

FLAGS = flags.FLAGS
flags.DEFINE_list("run_dirs", None, "Run directories (comma-separated).")
flags.DEFINE_enum("x", "auto", ["auto", "s", "p"], "x axis: Sobolev s, exponent p, or auto (the one that varies).")
flags.DEFINE_string("output", "sweep", "Output prefix: PREFIX.png, PREFIX.csv, PREFIX.json.")

def choose_x(rows, x="auto"):
    if x != "auto":
        return x
    varying = [k for k in ("s", "p") if len({r.get(k) for r in rows if r.get(k) is not None}) > 1]
    return varying[0] if varying else "s"


PANELS = (r"is\d", r"cs\d", r"fid\d", r"fd\d", r"pr\d.*_precision$", r"pr\d.*_recall$")  # in this order


def metric_keys(rows) -> list:
    """The plotted keys: for each pattern of PANELS the first matching metric (not a _std); a stand-in's cs/fd
    only when the Inception is/fid is absent."""
    keys = sorted(set().union(*(r.keys() for r in rows)) if rows else set())
    chosen = [next((k for k in keys if re.match(p, k) and not k.endswith("_std")), None) for p in PANELS]
    score, stand_in_score, dist, stand_in_dist, precision, recall = chosen
    return [k for k in (score or stand_in_score, dist or stand_in_dist, precision, recall) if k]


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


def write_outputs(rows, x, prefix):
    """Writes PREFIX.png, PREFIX.csv and PREFIX.json atomically; returns their paths."""
    columns = ["run_dir", "space", "s", "p", "step"] + sorted(
        {k for r in rows for k in r} - {"run_dir", "space", "s", "p", "step"})
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    paths = {"png": f"{prefix}.png", "csv": f"{prefix}.csv", "json": f"{prefix}.json"}
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    panels = {key: aggregate(rows, x, key) for key in metric_keys(rows)}
    plots.sweep(panels or {"no metric": []}, paths["png"], xlabel=x, title=f"{len(rows)} runs")
    files.write_bytes_atomically(paths["csv"], table.getvalue().encode())
    files.write_bytes_atomically(paths["json"], json.dumps({"x": x, "rows": rows, "points": panels}, indent=1,
                                                           sort_keys=True).encode())
    return paths


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.run_dirs:
        raise cli.usage_error("--run_dirs: give at least one run directory")
    rows = metrics.sweep_table(FLAGS.run_dirs)
    x = choose_x(rows, FLAGS.x)
    print(json.dumps({"x": x, "runs": len(rows), **write_outputs(rows, x, FLAGS.output)}, sort_keys=True))


if __name__ == "__main__":
    cli.run(main)
