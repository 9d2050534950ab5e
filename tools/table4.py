"""The Table 4 protocol of Adler & Lunz 2018 as one command: the 100k-step main run of a preset, its SGDR ensemble
(5 warm restarts of 10,000 generator steps, one EMA snapshot each) and the scores of 50,000 ensemble samples.

  python tools/table4.py --preset=cifar10_l10 --output_dir=runs/table4_l10 --inception=/data/inception  # IS 8.31
  python tools/table4.py --preset=cifar10_sobolev --output_dir=runs/table4_sobolev --inception=/data/inception

Every training flag of tools/train.py overrides the preset. Run the same command again to resume whichever stage
was interrupted. The scores are printed and written to OUTPUT_DIR/sgdr/table4.json, which names the metrics
computed: IS needs TF-GAN's Inception module (--inception); without it only FID is computed, and the record says
so. Exit codes as tools/train.py.
"""
import json
import sys

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf import train
from bwgan_tf.runs import restarts, table4
from bwgan_tf.train import config as config_lib

FLAGS = flags.FLAGS
config_lib.define_flags(FLAGS)
flags.DEFINE_integer("restarts", restarts.RESTARTS, "Warm restarts = generators of the ensemble (paper: 5).")
flags.DEFINE_integer("restart_steps", restarts.RESTART_STEPS, "Generator steps per restart (paper: 10,000).")
flags.DEFINE_integer("num_samples", 50_000, "Ensemble samples scored (paper: 50,000).")
flags.DEFINE_string("metrics", None, "Metrics to compute (default: is,fid with --inception, else fid).")
flags.DEFINE_string("classifier", None, "A stand-in Keras classifier instead of Inception (its own metric names).")
flags.DEFINE_string("cache_dir", None, "Cache of reference statistics (default: none).")
flags.mark_flag_as_required("output_dir")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    given = config_lib.given_flags(FLAGS)
    try:
        config = train.make_config(given.pop("preset", None), **given)
        record = table4.run(config, restarts=FLAGS.restarts, restart_steps=FLAGS.restart_steps,
                            num_samples=FLAGS.num_samples, metrics=FLAGS.metrics, inception=FLAGS.inception,
                            classifier=FLAGS.classifier, cache_dir=FLAGS.cache_dir)
    except (ValueError, train.RunDirectoryBusy) as error:
        message = str(error)
        named = message.split()[0].rstrip(":") in (*config_lib.names(), "restarts", "restart_steps", "num_samples")
        raise cli.usage_error(f"--{message}" if named else message) from error
    except train.NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(3)
    except train.TrainingInterrupted as stopped:
        sys.exit(stopped.exit_code)
    print(json.dumps(record, sort_keys=True))


if __name__ == "__main__":
    cli.run(main)
