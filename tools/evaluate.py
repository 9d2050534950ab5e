"""Evaluates a trained generator: IS / FID / KID (TF-GAN) over --num_samples samples; prints one JSON line.

  python tools/evaluate.py --run_dir=runs/l10 --inception=/data/inception              # IS, FID, KID, 50k
  python tools/evaluate.py --saved_model=export/l10 --metrics=fid --reference=cifar10 --inception=/data/inception
  python tools/evaluate.py --run_dir=runs/l10 --classifier=cifar_classifier.keras --metrics=is,fid \
      --reference=npz:../shared/data/cifar10_subset.npz --num_samples=5000          # fd_cifar_classifier, not FID

Without the Inception module (offline) the error says where to get it; --classifier uses another network, and
its results are named after it (cs_/fd_/kd_<name>), never IS/FID/KID.
"""
import json

from absl import flags

from bwgan_tf import checks, cli, files, metrics

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", None, "Run directory (config.json + checkpoints/); its EMA generator is evaluated.")
flags.DEFINE_string("checkpoint", None, "With --run_dir: a checkpoint path instead of the latest.")
flags.DEFINE_string("saved_model", None, "An exported SavedModel with a 'generate' signature {z} -> {images}.")
flags.DEFINE_integer("num_samples", 50_000, "Generated samples (the papers use 50000).")
flags.DEFINE_string("metrics", "is,fid,kid", f"Comma-separated subset of {', '.join(metrics.METRICS)}.")
flags.DEFINE_string("classifier", None, "Keras (.keras / SavedModel) classifier to use instead of Inception.")
flags.DEFINE_string("classifier_layer", None, "With --classifier: the feature layer (default 'features').")
flags.DEFINE_string("inception", None, "Folder of the unpacked TF-Hub module tensorflow/tfgan/eval/inception/1 or a "
                    "hub handle (default: the tfhub.dev handle, from TFHUB_CACHE_DIR).")
flags.DEFINE_bool("download_inception", False, "Let tensorflow_hub download the Inception module (needs internet).")
flags.DEFINE_string("reference", None, "Real-data spec for FID/KID (bwgan_tf.data, e.g. cifar10, npz:PATH); "
                    "default: the run's dataset.")
flags.DEFINE_string("reference_split", "train", "Split of the real data.")
flags.DEFINE_integer("reference_num", None, "Real samples for the reference statistics (default --num_samples).")
flags.DEFINE_string("data_dir", None, "TFDS data directory for --reference.")
flags.DEFINE_integer("batch_size", 100, "Images per batch through the generator and the extractor.")
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
flags.DEFINE_integer("splits", metrics.DEFAULT_SPLITS, "Splits for the Inception Score (mean and std).")
flags.DEFINE_integer("kid_samples", metrics.DEFAULT_KID_SAMPLES, "Activations per side kept for KID.")
flags.DEFINE_string("cache_dir", metrics.default_cache_dir(), "Cache of reference statistics (.npz per dataset, "
                    "split, extractor, count); the training callback uses the same one. Empty: no cache.")
flags.DEFINE_string("output", None, "Also write the JSON object to this file (atomically).")


def load_source(run_dir=None, saved_model=None, checkpoint=None):
    """(sampler source, the run's TrainConfig or None) from a run directory (train.load_generator) or a SavedModel."""
    if bool(run_dir) == bool(saved_model):
        raise cli.usage_error("give exactly one of --run_dir and --saved_model")
    if saved_model:
        if checkpoint:
            raise cli.usage_error("--checkpoint goes with --run_dir, not --saved_model")
        return metrics.as_sampler(saved_model), None
    from bwgan_tf import train  # imported here: a SavedModel needs no training code
    if not train.run_dir.exists(run_dir):
        raise ValueError(f"--run_dir: no config.json in {run_dir!r}")
    generator, config = train.load_generator(run_dir, checkpoint=checkpoint)
    return metrics.as_sampler(generator, config.latent_dim), config


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    names = metrics.parse_metrics(FLAGS.metrics)
    if FLAGS.num_samples < max(2, FLAGS.splits if "is" in names else 2):
        raise ValueError(f"--num_samples must be >= 2 and >= --splits, got {FLAGS.num_samples}")
    for name in ("batch_size", "splits", "kid_samples"):
        checks.positive_int(getattr(FLAGS, name), f"--{name}")
    source, config = load_source(FLAGS.run_dir, FLAGS.saved_model, FLAGS.checkpoint)
    reference = FLAGS.reference or (config.dataset if config is not None else None)
    needing = metrics.needing_reference(names)
    if reference is None and needing:
        raise cli.usage_error(f"--reference: {' and '.join(needing)} need a real-data spec (e.g. cifar10)")
    extractor = metrics.resolve_extractor(classifier=FLAGS.classifier, classifier_layer=FLAGS.classifier_layer,
                                          inception=FLAGS.inception, allow_download=FLAGS.download_inception)
    result = metrics.evaluate(
        source, metrics=names, num_samples=FLAGS.num_samples, extractor=extractor, reference=reference,
        reference_split=FLAGS.reference_split, reference_num=FLAGS.reference_num, data_dir=FLAGS.data_dir,
        batch_size=FLAGS.batch_size, seed=FLAGS.seed, splits=FLAGS.splits, kid_samples=FLAGS.kid_samples,
        cache_dir=FLAGS.cache_dir or None)
    result.update(source=FLAGS.run_dir or FLAGS.saved_model, reference=reference, seed=FLAGS.seed)
    text = json.dumps(result, sort_keys=True)
    if FLAGS.output:
        files.write_text_atomically(FLAGS.output, text + "\n")
    print(text)


if __name__ == "__main__":
    cli.run(main)
