"""Statistics over seeds: runs named CONFIGURATION_s<seed> are grouped by configuration, and each metric gets its
mean, standard deviation (ddof 1) and 95% interval for the mean, mean +- t(0.975, n - 1) s / sqrt(n) (Student's t;
none for a single seed). The plot draws each configuration's mean curve with its seeds' range as a band.
"""
import math
import re
import statistics
from typing import Dict, List, Optional

from scipy import stats

from bwgan_tf.io import plots

SEED = re.compile(r"^(?P<configuration>.+)_s(?P<seed>\d+)$")


def configuration(run: str) -> str:
    """'l10_normalized_s2' -> 'l10_normalized' (a name without a seed suffix is its own configuration)."""
    match = SEED.match(run)
    return match.group("configuration") if match else run


def interval(values: List[float], level: float = 0.95) -> Dict[str, Optional[float]]:
    """{n, mean, std, low, high}: the sample mean, its standard deviation (ddof 1) and the Student-t interval for
    the mean at `level`; std and the interval are None for fewer than two values."""
    values = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(values)
    if not n:
        return {"n": 0, "mean": None, "std": None, "low": None, "high": None}
    mean = statistics.fmean(values)
    if n < 2:
        return {"n": 1, "mean": mean, "std": None, "low": None, "high": None}
    std = statistics.stdev(values)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)
    return {"n": n, "mean": mean, "std": std, "low": mean - half, "high": mean + half}


def summary(rows: List[dict], columns: List[str]) -> List[dict]:
    """One row per configuration (in order of first appearance): its seeds and interval(...) of each column."""
    groups: Dict[str, List[dict]] = {}
    for row in rows:
        groups.setdefault(configuration(row["run"]), []).append(row)
    result = []
    for name, members in groups.items():
        entry = {"configuration": name, "seeds": sorted(int(SEED.match(r["run"]).group("seed")) if SEED.match(
            r["run"]) else 0 for r in members)}
        for column in columns:
            entry[column] = interval([r.get(column) for r in members])
        result.append(entry)
    return result


def _cell(value: dict, digits: int) -> str:
    if not value["n"]:
        return ""
    if value["std"] is None:
        return f"{value['mean']:.{digits}f} (1 seed)"
    mean, std, low, high = (f"{value[k]:.{digits}f}" for k in ("mean", "std", "low", "high"))
    return f"{mean} +- {std} [{low}, {high}]"


def markdown(summary_rows: List[dict], columns: List[str], digits: int = 1) -> str:
    """The summary as a Markdown table: mean +- std [95% interval] per cell."""
    head = ["configuration", "seeds"] + columns
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in summary_rows:
        cells = [row["configuration"], ",".join(map(str, row["seeds"]))]
        cells += [_cell(row[c], 3 if c.startswith("pr") else digits) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def band_plot(curves: Dict[str, Dict[int, float]], path: str, *, ylabel: str, title: str) -> str:
    """curves: {run: {step: value}}; one line per configuration through the mean over its seeds at each step, and
    a band from the lowest to the highest seed (plots.bands)."""
    grouped: Dict[str, Dict[int, List[float]]] = {}
    for run, points in curves.items():
        for step, value in points.items():
            grouped.setdefault(configuration(run), {}).setdefault(int(step), []).append(float(value))
    series = {}
    for name, by_step in grouped.items():
        steps = sorted(by_step)
        seeds = max(len(v) for v in by_step.values())
        label = f"{name} ({seeds} seed{'s' if seeds > 1 else ''})"
        series[label] = [(s, statistics.fmean(by_step[s]), min(by_step[s]), max(by_step[s])) for s in steps]
    return plots.bands(series, path, ylabel=ylabel, title=title)
