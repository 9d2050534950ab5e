"""Write samples of a generator, from an exported SavedModel or a run directory: N samples as a PNG grid and/or
an .npz, or one PNG per seed into a folder (the input of pytorch-fid, clean-fid and torch-fidelity).

  python tools/sample.py --saved_model=exports/cifar10_l10 --num=64 --seed=3 --png=samples.png --npz=samples.npz
  python tools/sample.py --run_dir=runs/cifar10_l10 --num=16 --png=samples.png
  python tools/sample.py --saved_model=exports/cifar10_l10 --seeds=0-49999 --outdir=fid_folder
  python tools/sample.py --saved_model=exports/cifar10_l10 --interpolate=3,7 --frames=10 --png=strip.png

Seed k's image is the first sample of `--num=1 --seed=k` (bwgan_tf.latents), written as seedKKKKKK.png; seeds go
through the generator in batches of --batch_size, any number of them. The work is bwgan_tf.runs.samples.
"""
from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.io import files, images

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


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    from bwgan_tf.runs import generators, samples  # after bwgan_tf.io.cli, which quiets TensorFlow's start-up

    if FLAGS.interpolate is not None:
        if not FLAGS.png or len(FLAGS.interpolate) < 2:
            raise cli.usage_error("--interpolate takes two or more seeds (A,B) and writes the strip to --png")
        seeds = [samples.parse_seeds(seed)[0] for seed in FLAGS.interpolate]
        files.check_output(FLAGS.png, "--png")
        sampler, _ = generators.open_images(FLAGS.saved_model, FLAGS.run_dir)
        images.write_png(FLAGS.png, samples.interpolation_strip(sampler, seeds, FLAGS.frames))
        print(f"wrote {FLAGS.png}")
        return
    if FLAGS.seeds is not None or FLAGS.outdir is not None:
        if not (FLAGS.seeds and FLAGS.outdir) or FLAGS.png or FLAGS.npz:
            raise cli.usage_error("--seeds and --outdir go together, without --png and --npz")
        seeds = samples.parse_seeds(FLAGS.seeds)
        files.check_output_dir(FLAGS.outdir, "--outdir")  # before any work, so that none is lost
        sampler, _ = generators.open_images(FLAGS.saved_model, FLAGS.run_dir)
        written = samples.write_seed_folder(sampler, seeds, FLAGS.outdir, FLAGS.batch_size)
        print(f"wrote {written} images to {FLAGS.outdir}")
        return
    if not (FLAGS.png or FLAGS.npz):
        raise cli.usage_error("give --png and/or --npz, or --seeds and --outdir")
    for name in ("png", "npz"):  # checked before sampling, so that no work is lost
        if getattr(FLAGS, name):
            files.check_output(getattr(FLAGS, name), f"--{name}")
    sampler, limit = generators.open_images(FLAGS.saved_model, FLAGS.run_dir)
    batch = samples.samples_uint8(sampler, FLAGS.num, FLAGS.seed, limit, repr(FLAGS.saved_model))
    if FLAGS.png:
        images.write_png(FLAGS.png, images.grid(batch))
        print(f"wrote {FLAGS.png}")
    if FLAGS.npz:
        samples.write_npz(FLAGS.npz, batch, FLAGS.seed)
        print(f"wrote {FLAGS.npz}")


if __name__ == "__main__":
    cli.run(main)
