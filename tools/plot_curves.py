"""Training curves of one or several runs from their metrics.jsonl: one PNG per quantity against generator steps.

  python tools/plot_curves.py --run_dirs=runs/l2,runs/sobolev --output=curves
    -> curves_wasserstein.png, curves_critic_loss.png, curves_generator_loss.png, curves_grad_norm.png and one per
       evaluation metric (e.g. curves_fid2k_train.png), one line per run

--quantities picks others (any key of the metrics.jsonl records, e.g. penalty, lr, steps_per_s).
"""
import json

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.io import plots
from bwgan_tf.runs import sweep
from bwgan_tf.train import run_dir as run_dir_lib

FLAGS = flags.FLAGS
flags.DEFINE_list("run_dirs", None, "Run directories (comma-separated).")
flags.DEFINE_list("quantities", ["wasserstein", "critic_loss", "generator_loss", "grad_norm"],
                  "Training scalars to plot; every evaluation metric found is plotted too.")
flags.DEFINE_string("output", "curves", "Output prefix: PREFIX_<quantity>.png.")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.run_dirs:
        raise cli.usage_error("--run_dirs: give at least one run directory")
    for run_dir in FLAGS.run_dirs:
        if not run_dir_lib.exists(run_dir):
            raise ValueError(f"--run_dirs: {run_dir!r} is not a run directory (no config.json)")
    found = sweep.series_by_quantity(FLAGS.run_dirs, FLAGS.quantities)
    if not found:
        raise ValueError(f"--run_dirs: no {', '.join(FLAGS.quantities)} or evaluation metrics in their metrics.jsonl")
    written = {quantity: plots.curves(series, f"{FLAGS.output}_{quantity}.png", title=quantity, ylabel=quantity)
               for quantity, series in sorted(found.items())}
    print(json.dumps(written, sort_keys=True))


if __name__ == "__main__":
    cli.run(main)
