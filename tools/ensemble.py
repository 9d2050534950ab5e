"""The SGDR phase of Adler & Lunz 2018, Table 4, on a finished run: N warm restarts of K generator steps (cosine
annealing from the run's initial lr to 0 in each, Loshchilov & Hutter eq. 5) and the ensemble of the N EMA snapshots.

  python tools/ensemble.py --run_dir=runs/cifar10_l10        # 5 x 10,000 steps into runs/cifar10_l10/sgdr
  python tools/export.py --run_dir=runs/cifar10_l10/sgdr --export_dir=exports/l10_ensemble
  python tools/evaluate.py --run_dir=runs/cifar10_l10/sgdr --num_samples=50000

The phase is a run directory of its own (the finished run is only read); run the command again to resume it.
tools/sample.py, tools/evaluate.py and tools/export.py given the phase's directory use the ensemble (each sample
from one snapshot, chosen from its latent vector: bwgan_tf.runs.ensemble). Exit codes as tools/train.py.
"""
import sys

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf import train
from bwgan_tf.runs import restarts

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", None, "A finished training run (its last checkpoint at its --steps).")
flags.DEFINE_integer("restarts", restarts.RESTARTS, "Warm restarts = generators of the ensemble (paper: 5).")
flags.DEFINE_integer("restart_steps", restarts.RESTART_STEPS, "Generator steps per restart (paper: 10,000).")
flags.DEFINE_string("output_dir", None, "The phase's run directory (default: RUN_DIR/sgdr).")
flags.mark_flag_as_required("run_dir")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
        phase = restarts.run(FLAGS.run_dir, FLAGS.restarts, FLAGS.restart_steps, FLAGS.output_dir)
    except (ValueError, train.RunDirectoryBusy) as error:
        named = str(error).split()[0].rstrip(":") in ("run_dir", "restarts", "restart_steps", "output_dir")
        raise cli.usage_error(f"--{error}" if named else str(error)) from error
    except train.NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(3)
    except train.TrainingInterrupted as stopped:
        sys.exit(stopped.exit_code)
    print(f"SGDR ensemble: {phase}")


if __name__ == "__main__":
    cli.run(main)
