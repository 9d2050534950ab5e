"""Run a study: train its runs (skipping finished ones, resuming interrupted ones), evaluate FID on their kept
checkpoints with the standard FID network, and write table.json / table.md, fid.png, sample grids and exports.

  python tools/study.py --output_dir=/data/study                       # the CPU-scale CIFAR-10 study
  python tools/study.py --study=cifar10_paper --output_dir=/data/paper # the paper's Figs. 2-3 runs (GPU, TFDS)
  python tools/study.py --output_dir=/data/study --only=l2_bf16_s0 --skip_training   # evaluate and report only
  python tools/study.py --study=cifar10_seeds --output_dir=results/cifar10_seeds --runs_dir=/scratch/seeds
      # which norm, with 3 seeds and both drifts; checkpoints in scratch space, commit the results folder
"""
from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.runs import study

FLAGS = flags.FLAGS
flags.DEFINE_enum("study", "cifar10_cpu", list(study.STUDIES), "Which study.")
flags.DEFINE_string("output_dir", None, "Study directory (runs/, table.*, fid.png, grids/, exports/).")
flags.DEFINE_string("runs_dir", None, "Where the run directories (checkpoints) live, if not OUTPUT_DIR/runs: e.g. "
                    "scratch space, with OUTPUT_DIR a results folder under git (a run it records as finished is "
                    "not trained again).")
flags.DEFINE_string("data", study.SUBSET, "The .npz of real images of the CPU study (x_train / x_test).")
flags.DEFINE_list("only", None, "Run names to process (default: all of the study's runs, in order).")
flags.DEFINE_integer("steps", None, "Override the runs' generator steps (e.g. a quick try).", lower_bound=1)
flags.DEFINE_boolean("skip_training", False, "Only evaluate and report what has been trained.")
flags.DEFINE_enum("fid_precision", "bfloat16", ["float32", "bfloat16"], "Precision of the FID network.")
flags.mark_flag_as_required("output_dir")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    result = study.run(FLAGS.study, FLAGS.output_dir, data_path=FLAGS.data, only=FLAGS.only, steps=FLAGS.steps,
                       train_runs=not FLAGS.skip_training, fid_precision=FLAGS.fid_precision,
                       runs_dir=FLAGS.runs_dir)
    print(study.markdown(result["rows"]))
    print(f"study directory: {FLAGS.output_dir}")


if __name__ == "__main__":
    cli.run(main)
