"""Export a run's EMA generator as a SavedModel (signatures serving_default, generate, latent).

  python tools/export.py --run_dir=runs/cifar10_l10 --export_dir=exports/cifar10_l10
  saved_model_cli show --all --dir exports/cifar10_l10
"""
from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf import checks
from bwgan_tf.io import files
from bwgan_tf.runs import export, generators
from bwgan_tf.train import run_dir as train_run_dir

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", None, "Training run directory.")
flags.DEFINE_string("checkpoint", None, "A checkpoint path in --run_dir (default: the latest).")
flags.DEFINE_string("export_dir", None, "Where the SavedModel goes (written atomically).")
flags.DEFINE_integer("max_samples", 1024, "Largest num_samples that serving_default accepts.")
flags.DEFINE_bool("overwrite", False, "Replace an earlier export in --export_dir (atomically); any other existing "
                  "folder is refused.")
flags.mark_flags_as_required(["run_dir", "export_dir"])


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if not train_run_dir.exists(FLAGS.run_dir):
        raise ValueError(f"--run_dir: {FLAGS.run_dir!r} holds no config.json (not a bwgan_tf run directory)")
    if FLAGS.checkpoint:
        files.check_checkpoint(FLAGS.checkpoint)
    checks.positive_int(FLAGS.max_samples, "--max_samples")
    # before any work: --overwrite replaces only an earlier export, never a folder holding the run or the cwd
    export.check_export_dir(FLAGS.export_dir, FLAGS.overwrite, FLAGS.run_dir, "--export_dir")
    generator, config, source = generators.open_run(FLAGS.run_dir, FLAGS.checkpoint)
    metadata = {k: getattr(config, k) for k in ("dataset", "space", "lipschitz", "architecture", "preset")}
    path = export.export_generator(generator, FLAGS.export_dir, latent_dim=config.latent_dim,
                                   max_samples=FLAGS.max_samples, overwrite=FLAGS.overwrite,
                                   metadata=dict(metadata, source=source), run_dir=FLAGS.run_dir)
    print(f"exported {path} ({source['generator']} generator"
          + (f" of {source['checkpoint']}, generator step {source['step']})" if "step" in source else ")"))


if __name__ == "__main__":
    cli.run(main)
