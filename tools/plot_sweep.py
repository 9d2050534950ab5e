"""IS and FID against the Sobolev exponent s or the L^p exponent p over several runs (Adler & Lunz Figs. 2, 3, 6).

  python tools/plot_sweep.py --run_dirs=runs/s-2,runs/s-1,runs/s0,runs/s1 --x=s --output=sweep
    -> sweep.png (two panels: IS with +-std bars, FID), sweep.csv and sweep.json (one row per run)

Each run directory needs config.json (its space spec) and metrics.jsonl (the last evaluation is used).
Drawn with PIL (matplotlib is not a dependency). Without is/fid (no Inception) the classifier-feature
metrics cs_<name>/fd_<name> are plotted under their own names.
"""
import csv
import io
import json
import math
import os

from absl import flags
from PIL import Image, ImageDraw

from bwgan_tf import cli, files, metrics

FLAGS = flags.FLAGS
flags.DEFINE_list("run_dirs", None, "Run directories (comma-separated).")
flags.DEFINE_enum("x", "auto", ["auto", "s", "p"], "x axis: Sobolev s, exponent p, or auto (the one that varies).")
flags.DEFINE_string("output", "sweep", "Output prefix: PREFIX.png, PREFIX.csv, PREFIX.json.")

WIDTH, HEIGHT, MARGIN = 420, 320, 50


def choose_x(rows, x="auto"):
    if x != "auto":
        return x
    varying = [k for k in ("s", "p") if len({r.get(k) for r in rows if r.get(k) is not None}) > 1]
    return varying[0] if varying else "s"


def metric_keys(rows):
    """(score key, distance key): is/fid, else the first cs_*/fd_* present."""
    keys = set().union(*(r.keys() for r in rows)) if rows else set()
    score = "is" if "is" in keys else next((k for k in sorted(keys) if k.startswith("cs_") and not k.endswith("_std")),
                                           None)
    dist = "fid" if "fid" in keys else next((k for k in sorted(keys) if k.startswith("fd_")), None)
    return score, dist


def _ticks(lo, hi, n=5):
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)], lo, hi


def draw_panel(draw, origin, points, title, xlabel):
    """Points [(x, y, err or None)] as a line with markers and error bars in a box at origin (x0, y0)."""
    ox, oy = origin
    left, top, right, bottom = ox + MARGIN, oy + 30, ox + WIDTH - 15, oy + HEIGHT - MARGIN
    draw.rectangle([left, top, right, bottom], outline="black")
    draw.text((left, oy + 8), title, fill="black")
    draw.text(((left + right) // 2 - 10, bottom + 28), xlabel, fill="black")
    if not points:
        draw.text((left + 10, (top + bottom) // 2), "no data", fill="gray")
        return
    xs = [p[0] for p in points]
    ys = [v for p in points for v in (p[1] - (p[2] or 0), p[1] + (p[2] or 0))]
    xt, x0, x1 = _ticks(min(xs), max(xs))
    yt, y0, y1 = _ticks(min(ys), max(ys))
    px = lambda v: left + 10 + (right - left - 20) * (v - x0) / (x1 - x0)  # noqa: E731
    py = lambda v: bottom - 10 - (bottom - top - 20) * (v - y0) / (y1 - y0)  # noqa: E731
    for v in xt:
        draw.line([px(v), bottom, px(v), bottom + 4], fill="black")
        draw.text((px(v) - 12, bottom + 8), f"{v:.3g}", fill="black")
    for v in yt:
        draw.line([left - 4, py(v), left, py(v)], fill="black")
        draw.text((ox + 2, py(v) - 6), f"{v:.3g}", fill="black")
    pts = sorted(points)
    draw.line([(px(x), py(y)) for x, y, _ in pts], fill="blue", width=2)
    for x, y, err in pts:
        if err:
            draw.line([px(x), py(y - err), px(x), py(y + err)], fill="blue")
        draw.ellipse([px(x) - 3, py(y) - 3, px(x) + 3, py(y) + 3], fill="blue")


def render(rows, x) -> Image.Image:
    score, dist = metric_keys(rows)
    image = Image.new("RGB", (2 * WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    for i, key in enumerate((score, dist)):
        points = [(float(r[x]), float(r[key]), r.get(f"{key}_std")) for r in rows
                  if key and r.get(x) is not None and isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
        draw_panel(draw, (i * WIDTH, 0), points, f"{key or 'none'} vs {x}", x)
    return image


def write_outputs(rows, x, prefix):
    """Writes PREFIX.png, PREFIX.csv and PREFIX.json atomically; returns their paths."""
    png = io.BytesIO()
    render(rows, x).save(png, format="PNG")
    columns = ["run_dir", "space", "s", "p", "step"] + sorted(
        {k for r in rows for k in r} - {"run_dir", "space", "s", "p", "step"})
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    paths = {"png": f"{prefix}.png", "csv": f"{prefix}.csv", "json": f"{prefix}.json"}
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    files.write_bytes_atomically(paths["png"], png.getvalue())
    files.write_bytes_atomically(paths["csv"], table.getvalue().encode())
    files.write_bytes_atomically(paths["json"], json.dumps({"x": x, "rows": rows}, indent=1, sort_keys=True).encode())
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
