"""Plots of runs with matplotlib (Agg, no display): metric curves against generator steps, written atomically."""
from typing import Dict, Sequence, Tuple

from bwgan_tf import files


def _figure(width=6.4, height=4.0):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt, plt.subplots(figsize=(width, height), dpi=120)


def _save(plt, figure, path: str) -> str:
    import io
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return files.write_bytes_atomically(path, buffer.getvalue())


def curves(series: Dict[str, Sequence[Tuple[float, float]]], path: str, *, title: str, ylabel: str,
           xlabel: str = "generator steps", log_y: bool = False) -> str:
    """One line per name through its (x, y) points, markers at the points; a PNG at `path`."""
    if not series:
        raise ValueError("series: nothing to plot")
    plt, (figure, axes) = _figure()
    for name, points in sorted(series.items()):
        points = sorted(points)
        axes.plot([x for x, _ in points], [y for _, y in points], marker="o", markersize=3, label=name)
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if log_y:
        axes.set_yscale("log")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return _save(plt, figure, path)
