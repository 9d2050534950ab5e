"""Write N samples of a generator as a PNG grid and/or an .npz, from an exported SavedModel or a run directory.

  python tools/sample.py --saved_model=exports/cifar10_l10 --num=64 --seed=3 --png=samples.png --npz=samples.npz
  python tools/sample.py --run_dir=runs/cifar10_l10 --num=16 --png=samples.png
"""
import io

import numpy as np
from absl import flags

from bwgan_tf import cli, export, files, images

FLAGS = flags.FLAGS
flags.DEFINE_string("saved_model", None, "An export of tools/export.py.")
flags.DEFINE_string("run_dir", None, "Or a training run directory (its EMA generator).")
flags.DEFINE_integer("num", 64, "Number of samples (an export serves at most its max_samples).", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
flags.DEFINE_string("png", None, "PNG grid to write.")
flags.DEFINE_string("npz", None, ".npz to write (images: uint8 [N, H, W, C]).")


def samples_uint8(saved_model=None, run_dir=None, num=64, seed=0) -> np.ndarray:
    """uint8 [num, H, W, C] samples, the same for the same seed from a SavedModel or the run it came from."""
    import tensorflow as tf  # after bwgan_tf.cli, which quiets TensorFlow's start-up

    if (saved_model is None) == (run_dir is None):
        raise ValueError("give exactly one of --saved_model and --run_dir")
    if saved_model is not None:
        loaded = tf.saved_model.load(export.check_saved_model(saved_model))
        limit = int(loaded.signatures["latent"]()["max_samples"]) if "latent" in loaded.signatures else num
        if num > limit:
            raise ValueError(f"--num: {saved_model!r} serves at most {limit} samples (its max_samples), got {num}; "
                             f"ask for fewer or export again with tools/export.py --max_samples={num}")
        return loaded.signatures["serving_default"](num_samples=tf.constant(num, tf.int32),
                                                    seed=tf.constant(seed, tf.int64))["images"].numpy()
    from bwgan_tf import train
    generator, config = train.load_generator(run_dir)
    if len(generator.output_shape) != 4:
        raise ValueError(f"--run_dir: {run_dir!r} generates 2-D points, not images")
    z = tf.random.stateless_normal([num, config.latent_dim], seed=tf.constant([seed, 0], tf.int64))
    return images.to_uint8(generator(z, training=False).numpy())


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if not (FLAGS.png or FLAGS.npz):
        raise cli.usage_error("give --png and/or --npz")
    for name in ("png", "npz"):  # checked before sampling, so that no work is lost
        if getattr(FLAGS, name):
            files.check_output(getattr(FLAGS, name), f"--{name}")
    batch = samples_uint8(FLAGS.saved_model, FLAGS.run_dir, FLAGS.num, FLAGS.seed)
    if FLAGS.png:
        images.write_png(FLAGS.png, images.grid(batch))
        print(f"wrote {FLAGS.png}")
    if FLAGS.npz:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, images=batch, seed=FLAGS.seed)
        files.write_bytes_atomically(FLAGS.npz, buffer.getvalue())
        print(f"wrote {FLAGS.npz}")


if __name__ == "__main__":
    cli.run(main)
