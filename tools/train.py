"""Train a Wasserstein GAN: a paper preset, overridden by any flag; the run directory resumes after a kill.

  python tools/train.py --preset=cifar10_l10 --output_dir=runs/cifar10_l10
  python tools/train.py --preset=toy_8gaussians --steps=2000 --output_dir=runs/toy
  python tools/train.py --dataset=npz:../shared/data/cifar10_subset.npz --space=sobolev:s=-1.5,p=2 \\
      --width=32 --steps=200 --output_dir=runs/subset
  python tools/train.py --output_dir=runs/cifar10_l10 --resume           # continue with the saved settings

Bad flags exit with code 2; a NaN/inf training scalar stops the run with exit code 3, keeping the last checkpoint.
"""
import sys

from absl import flags

from bwgan_tf import cli, experiment

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", None, list(experiment.PRESETS), "A paper experiment; flags override its values.")
flags.DEFINE_string("dataset", None, "Data spec: cifar10, celeb_a, lsun_bedroom, npz:PATH, folder:PATH, toy:NAME.")
flags.DEFINE_string("data_dir", None, "TFDS data directory.")
flags.DEFINE_integer("image_size", None, "Resolution for celeb_a, lsun_bedroom and folder: data.")
flags.DEFINE_string("space", None, "Banach space spec: l2, lp:p=10, sobolev:s=-1.5,p=2,c=5, ...")
flags.DEFINE_string("lipschitz", None, "gradient_penalty | weight_clipping | c_transform | quotient_penalty.")
flags.DEFINE_string("lam", None, "Penalty weight lambda: a number or 'auto' (E||X||_B, section 3.2).")
flags.DEFINE_string("gamma", None, "Critic scale gamma: a number or 'auto' (E||X||_B*, section 3.2).")
flags.DEFINE_float("clip", None, "Weight-clipping bound c (WGAN).")
flags.DEFINE_boolean("one_sided", None, "Penalise only dual norms above gamma.")
flags.DEFINE_integer("n_critic", None, "Critic updates per generator update.")
flags.DEFINE_integer("batch_size", None, "Samples per critic update.")
flags.DEFINE_integer("steps", None, "Generator steps of the whole run.")
flags.DEFINE_float("lr", None, "Learning rate (default: 2e-4 Adam for penalties, 5e-5 RMSProp for clipping).")
flags.DEFINE_boolean("lr_decay", None, "Decay the learning rate linearly to 0 over --steps.")
flags.DEFINE_float("ema_decay", None, "Decay of the generator's weight average used for samples and export.")
flags.DEFINE_string("architecture", None, "resnet | dcgan | mlp | toy_mlp, or GENERATOR/CRITIC (e.g. mlp/dcgan).")
flags.DEFINE_integer("width", None, "Channels / units (default: the architecture's paper value).")
flags.DEFINE_integer("latent_dim", None, "Size of z.")
flags.DEFINE_string("critic_normalization", None, "none | layer | batch (batch only with weight clipping).")
flags.DEFINE_string("output_dir", None, "Run directory (required); an existing one is resumed.")
flags.DEFINE_integer("seed", None, "Seed of initial weights, data order and training draws.")
flags.DEFINE_string("xla", None, "true | false | auto (auto: where measured faster).")
flags.DEFINE_boolean("mixed_precision", None, "mixed_float16 on GPU, mixed_bfloat16 on CPU; norms stay float32.")
flags.DEFINE_enum("strategy", None, list(experiment.STRATEGIES), "mirrored: all visible GPUs (or virtual CPUs).")
flags.DEFINE_integer("checkpoint_every", None, "Generator steps between checkpoints.")
flags.DEFINE_integer("sample_every", None, "Generator steps between sample grids (0: only at the end).")
flags.DEFINE_integer("eval_every", None, "Generator steps between IS/FID evaluations (0: none).")
flags.DEFINE_string("eval_metrics", None, "Comma list of is, fid, kid.")
flags.DEFINE_integer("eval_num_samples", None, "Generated samples per evaluation.")
flags.DEFINE_string("eval_classifier", None, "Keras/SavedModel classifier to use instead of Inception.")
flags.DEFINE_string("inception", None, "Local path or hub handle of TF-GAN's Inception module.")
flags.DEFINE_integer("log_every", None, "Generator steps between metrics.jsonl lines and progress lines.")
flags.DEFINE_integer("keep_checkpoints", None, "Checkpoints kept on disk.")
flags.DEFINE_boolean("resume", False, "Continue the run in --output_dir with its saved settings (flags given "
                                      "here override the saved ones that may change, e.g. --steps).")
flags.DEFINE_integer("virtual_cpus", 0, "Split the CPU into this many logical devices (to try --strategy=mirrored "
                                        "without GPUs).", lower_bound=0)
flags.mark_flag_as_required("output_dir")

CONFIG_FLAGS = [name for name in experiment.DEFAULTS if name in FLAGS and name != "preset"]


def config_from_flags() -> dict:
    """The run's config: the preset (or, with --resume, the saved run) overridden by the flags given."""
    given = {name: FLAGS[name].value for name in CONFIG_FLAGS if FLAGS[name].present}
    if FLAGS.resume:
        saved = experiment.read_config(FLAGS.output_dir)
        base = {k: v for k, v in saved.items() if k in experiment.DEFAULTS}
        base.update(given)
        return experiment.validate(dict(experiment.DEFAULTS, **base))
    return experiment.make_config(FLAGS.preset, **given)


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.virtual_cpus:
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * FLAGS.virtual_cpus)
    try:
        config = config_from_flags()
    except ValueError as error:  # config errors start with the key, which is the flag's name
        raise cli.usage_error(f"--{error}" if str(error).split(":")[0] in experiment.DEFAULTS else str(error))
    try:
        run_dir = experiment.train(config)
    except experiment.NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(3)
    print(f"run directory: {run_dir}")


if __name__ == "__main__":
    cli.run(main)
