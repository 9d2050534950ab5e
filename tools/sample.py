"""Write samples of a generator, from an exported SavedModel or a run directory: N samples as a PNG grid and/or
an .npz, or one PNG per seed into a folder (the input of pytorch-fid, clean-fid and torch-fidelity).

  python tools/sample.py --saved_model=exports/cifar10_l10 --num=64 --seed=3 --png=samples.png --npz=samples.npz
  python tools/sample.py --run_dir=runs/cifar10_l10 --num=16 --png=samples.png
  python tools/sample.py --saved_model=exports/cifar10_l10 --seeds=0-49999 --outdir=fid_folder
  python tools/sample.py --saved_model=exports/cifar10_l10 --interpolate=3,7 --frames=10 --png=strip.png

Seed k's image is the first sample of `--num=1 --seed=k` (z = stateless normal keyed by (k, 0)), written as
seedKKKKKK.png; seeds go through the generator in batches of --batch_size, any number of them.
"""
import io
import os

import numpy as np
from absl import flags

from bwgan_tf import cli, export, files, images, latents

FLAGS = flags.FLAGS
flags.DEFINE_string("saved_model", None, "An export of tools/export.py.")
flags.DEFINE_string("run_dir", None, "Or a training run directory (its EMA generator).")
flags.DEFINE_integer("num", 64, "Number of samples (an export serves at most its max_samples).", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
flags.DEFINE_string("png", None, "PNG grid to write.")
flags.DEFINE_string("npz", None, ".npz to write (images: uint8 [N, H, W, C]).")
flags.DEFINE_string("seeds", None, "Seeds of one image each: A-B (inclusive) and/or comma-separated, e.g. 0-49999.")
flags.DEFINE_string("outdir", None, "With --seeds: the folder that receives seedKKKKKK.png per seed.")
flags.DEFINE_integer("batch_size", 256, "Seeds per generator call with --seeds.", lower_bound=1)
flags.DEFINE_list("interpolate", None, "A,B[,C...]: a strip of --frames images along the spherical path between the "
                                       "latents of seeds A and B (and on to C ...), written to --png.")
flags.DEFINE_integer("frames", 8, "Images per segment of an --interpolate strip.", lower_bound=2)


def parse_seeds(text: str) -> list:
    """'0-3,7' -> [0, 1, 2, 3, 7]; ValueError naming --seeds."""
    seeds = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise ValueError(f"--seeds: {part!r} is not a seed or a range A-B of seeds >= 0") from None
        if low < 0 or high < low:
            raise ValueError(f"--seeds: {part!r} must be a seed >= 0 or a range A-B with 0 <= A <= B")
        seeds.extend(range(low, high + 1))
    if not seeds:
        raise ValueError("--seeds: give seeds such as 0-49999 or 1,5,9")
    return seeds


def generator_of(saved_model=None, run_dir=None):
    """(z [N, latent_dim] -> uint8 images, latent_dim) of an export or a run's EMA generator."""
    import tensorflow as tf

    if (saved_model is None) == (run_dir is None):
        raise ValueError("give exactly one of --saved_model and --run_dir")
    if saved_model is not None:
        loaded = tf.saved_model.load(export.check_saved_model(saved_model))
        generate = loaded.signatures["generate"]
        return (lambda z: images.to_uint8(generate(z=z)["images"].numpy()),
                int(loaded.signatures["latent"]()["latent_dim"]))
    from bwgan_tf import train
    generator, config = train.load_generator(run_dir)
    if len(generator.output_shape) != 4:
        raise ValueError(f"--run_dir: {run_dir!r} generates 2-D points, not images")
    return lambda z: images.to_uint8(generator(z, training=False).numpy()), config.latent_dim


def write_seed_folder(generate, latent_dim: int, seeds, outdir: str, batch_size: int = 256) -> int:
    """seedKKKKKK.png in outdir for each seed k (z keyed by (k, 0)); returns the number written."""
    from bwgan_tf import progress

    os.makedirs(outdir, exist_ok=True)
    width = max(6, len(str(max(seeds))))
    report = progress.Progress(f"images of {len(seeds)} seeds", len(seeds))
    for start in range(0, len(seeds), batch_size):
        chunk = seeds[start:start + batch_size]
        for k, image in zip(chunk, generate(latents.seed_latents(chunk, latent_dim))):
            images.write_png(os.path.join(outdir, f"seed{k:0{width}d}.png"), image)
        report.update(len(chunk))
    report.done()
    return len(seeds)


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
    if FLAGS.interpolate is not None:
        if not FLAGS.png or len(FLAGS.interpolate) < 2:
            raise cli.usage_error("--interpolate takes two or more seeds (A,B) and writes the strip to --png")
        seeds = [parse_seeds(seed)[0] for seed in FLAGS.interpolate]
        files.check_output(FLAGS.png, "--png")
        generate, latent_dim = generator_of(FLAGS.saved_model, FLAGS.run_dir)
        ends = latents.seed_latents(seeds, latent_dim).numpy()
        path = np.concatenate([latents.slerp(a, b, np.linspace(0, 1, FLAGS.frames))[(1 if i else 0):]
                               for i, (a, b) in enumerate(zip(ends, ends[1:]))]).astype(np.float32)
        images.write_png(FLAGS.png, images.grid(generate(path), columns=len(path)))
        print(f"wrote {FLAGS.png}")
        return
    if FLAGS.seeds is not None or FLAGS.outdir is not None:
        if not (FLAGS.seeds and FLAGS.outdir) or FLAGS.png or FLAGS.npz:
            raise cli.usage_error("--seeds and --outdir go together, without --png and --npz")
        seeds = parse_seeds(FLAGS.seeds)
        if os.path.isfile(FLAGS.outdir):
            raise ValueError(f"--outdir: {FLAGS.outdir!r} is a file; give a folder")
        generate, latent_dim = generator_of(FLAGS.saved_model, FLAGS.run_dir)
        written = write_seed_folder(generate, latent_dim, seeds, FLAGS.outdir, FLAGS.batch_size)
        print(f"wrote {written} images to {FLAGS.outdir}")
        return
    if not (FLAGS.png or FLAGS.npz):
        raise cli.usage_error("give --png and/or --npz, or --seeds and --outdir")
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
