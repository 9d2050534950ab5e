"""Plots of runs with matplotlib (Agg, no display): metric curves against generator steps and sweeps against s or p,
written atomically."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from bwgan_tf.io import files


def _figure(width=6.4, height=4.0, ncols=1):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt, plt.subplots(1, ncols, figsize=(width, height), dpi=120)


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


def bands(series: Dict[str, Sequence[Tuple[float, float, float, float]]], path: str, *, title: str, ylabel: str,
          xlabel: str = "generator steps") -> str:
    """One line per name through its (x, mean) points and a shaded band from low to high at each x (the spread
    over seeds); a PNG at `path`."""
    if not series:
        raise ValueError("series: nothing to plot")
    plt, (figure, axes) = _figure()
    for name, points in series.items():
        x, mean, low, high = zip(*sorted(points))
        line, = axes.plot(x, mean, marker="o", markersize=3, label=name)
        axes.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return _save(plt, figure, path)


def sweep(panels: Dict[str, Sequence[Tuple[float, float, Optional[float]]]], path: str, *, xlabel: str,
          title: str = "") -> str:
    """One panel per metric: (x, value, error or None) points joined in x order, with error bars where given
    (Adler & Lunz Figs. 2-3: IS and FID against s or p); a PNG at `path`."""
    if not panels or not all(panels.values()):
        raise ValueError(f"panels: each needs a point, got {sorted(panels)} with {[len(p) for p in panels.values()]}")
    plt, (figure, axes) = _figure(width=4.6 * len(panels), height=3.6, ncols=len(panels))
    for ax, (metric, points) in zip(getattr(axes, "flat", [axes]), panels.items()):
        points = sorted(points)
        errors = [e if e is not None else 0.0 for _, _, e in points]
        ax.errorbar([x for x, _, _ in points], [y for _, y, _ in points], yerr=errors, marker="o", capsize=3)
        ax.set_xticks(sorted({x for x, _, _ in points}))
        ax.set(title=f"{metric} against {xlabel}", xlabel=xlabel, ylabel=metric)
        ax.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    return _save(plt, figure, path)


def toy_picture(real, fake, field, extent: float) -> np.ndarray:
    """Real (blue) and generated (orange) 2-D points over the critic's filled contours, with axes, a legend and a
    colour bar, as a uint8 [H, W, 3] image (for PNGs and TensorBoard). field: critic values on a square grid over
    [-extent, extent]^2, row 0 at y = +extent."""
    plt, (figure, axes) = _figure(width=5.2, height=4.4)
    axis = np.linspace(-extent, extent, field.shape[0])
    contours = axes.contourf(axis, axis[::-1], field, levels=12, cmap="RdBu_r", alpha=0.8)
    figure.colorbar(contours, ax=axes, label="critic D(x)")
    axes.scatter(real[:, 0], real[:, 1], s=3, color="tab:blue", label="real")
    axes.scatter(fake[:, 0], fake[:, 1], s=3, color="tab:orange", label="generated")
    axes.set(xlim=(-extent, extent), ylim=(-extent, extent), xlabel="x1", ylabel="x2", aspect="equal")
    axes.legend(loc="upper right", fontsize="small", markerscale=3)
    figure.tight_layout()
    figure.canvas.draw()
    picture = np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()
    plt.close(figure)
    return picture
