"""Trains a small CIFAR-10 classifier whose features stand in for Inception where its weights are missing.

  python tools/train_classifier.py --output=cifar_classifier.keras
  python tools/evaluate.py --run_dir=runs/x --classifier=cifar_classifier.keras --metrics=fid \
      --reference=npz:../shared/data/cifar10_subset.npz                     # reported as fd<N>_cifar_classifier

Prints one JSON line with the test accuracy. The model is written atomically as a .keras file.
"""
import json
import os
import pathlib
import time

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf import checks, metrics
from bwgan_tf.io import files

DEFAULT_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10_subset.npz"

FLAGS = flags.FLAGS
flags.DEFINE_string("data", str(DEFAULT_DATA), "An .npz with x_train/y_train (and x_test/y_test) arrays.")
flags.DEFINE_string("output", "cifar_classifier.keras", "Where to save the model (.keras); its stem names the "
                    "metrics (fd<N>_<stem>).")
flags.DEFINE_integer("epochs", 12, "Training epochs.")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_integer("width", 32, "Channels of the first conv stage (then x2, x4).")
flags.DEFINE_integer("feature_dim", 128, "Width of the 'features' layer used for Frechet distances.")
flags.DEFINE_float("learning_rate", 2e-3, "Adam learning rate (cosine decay to 0).")
flags.DEFINE_integer("max_train", None, "Use only the first N training images.")
flags.DEFINE_integer("max_test", None, "Use only the first N test images.")
flags.DEFINE_integer("seed", 0, "Seed of initialisation, shuffling and flips.")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    for name in ("epochs", "batch_size", "width", "feature_dim"):
        checks.positive_int(getattr(FLAGS, name), f"--{name}")
    if not FLAGS.output.endswith(".keras"):
        raise ValueError(f"--output must end with .keras, got {FLAGS.output!r}")
    files.check_output(FLAGS.output, "--output")
    start = time.perf_counter()
    model, accuracy = metrics.train_classifier(
        FLAGS.data, epochs=FLAGS.epochs, batch_size=FLAGS.batch_size, width=FLAGS.width,
        feature_dim=FLAGS.feature_dim, learning_rate=FLAGS.learning_rate, max_train=FLAGS.max_train,
        max_test=FLAGS.max_test, seed=FLAGS.seed)
    path = metrics.save_classifier(model, FLAGS.output)
    print(json.dumps({"test_accuracy": accuracy, "output": os.path.abspath(path), "epochs": FLAGS.epochs,
                      "seconds": round(time.perf_counter() - start, 1),
                      "name": metrics.sanitize_name(pathlib.Path(path).stem)}, sort_keys=True))


if __name__ == "__main__":
    cli.run(main)
