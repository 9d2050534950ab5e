"""IS, FID, precision and recall against the Sobolev exponent s or the L^p exponent p over several runs (Adler &
Lunz Figs. 2, 3, 6).

  python tools/plot_sweep.py --run_dirs=runs/s-2,runs/s-1,runs/s0,runs/s1 --x=s --output=sweep
    -> sweep.png (one panel per metric present: IS with +-std bars, FID, precision, recall), sweep.csv and
       sweep.json (one row per run)

Each run directory needs config.json (its space spec) and metrics.jsonl (the last evaluation is used: one made
during training with --eval_every, or written by tools/study.py; tools/evaluate.py writes none there). A run without
one is named on stderr and left out; when no run has one, exit 2. Runs at
the same s or p (several seeds) are one point: their mean, with their standard deviation as the error bar.
Without is/fid (no Inception) the classifier-feature metrics cs<N>_<name>/fd<N>_<name> are plotted under their own
names.
"""
import json
import sys

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.runs import sweep

FLAGS = flags.FLAGS
flags.DEFINE_list("run_dirs", None, "Run directories (comma-separated).")
flags.DEFINE_enum("x", "auto", ["auto", "s", "p"], "x axis: Sobolev s, exponent p, or auto (the one that varies).")
flags.DEFINE_string("output", "sweep", "Output prefix: PREFIX.png, PREFIX.csv, PREFIX.json.")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.run_dirs:
        raise cli.usage_error("--run_dirs: give at least one run directory")
    rows = sweep.sweep_table(FLAGS.run_dirs)
    x = sweep.choose_x(rows, FLAGS.x)
    written = sweep.write_outputs(rows, x, FLAGS.output)
    for warning in written["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps({"x": x, "runs": len(rows), **written}, sort_keys=True))


if __name__ == "__main__":
    cli.run(main)
