"""Sample quality of a generator (is, fid, kid, pr, dc, swd), or fid / kid / pr / dc between any two image sets;
prints one JSON line whose labels state the protocol (fid50k, kid10k, pr10k_k3_precision, ...).

  python tools/evaluate.py --run_dir=runs/l10                                   # fid, kid vs the run's data, 50k
  python tools/evaluate.py --samples=exports/l10 --reference=cifar10 --num_samples=10000
  python tools/evaluate.py --samples=folder:samples/ --reference=npz:../shared/data/cifar10_subset.npz
  python tools/evaluate.py --run_dir=runs/l10 --metrics=is,fid --inception=/data/inception   # IS needs TF-Hub
  python tools/evaluate.py --run_dir=runs/l10 --metrics=fid,pr,dc,swd --num_samples=10000

fid and kid use the standard FID network (TF Inception 2015-12-05 pool_3 in Keras; `make inception` sets it up
once); is needs the logits of TF-GAN's TF-Hub module (--inception=PATH). --classifier uses another network,
and its results are named after it (cs/fd/kd<N>_<name>), never IS/FID/KID. pr (k=3) and dc (k=5) use the same
features as fid (the first --kid_samples of each side); swd uses the images (TF-GAN's implementation).
"""
import json

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf import checks, metrics
from bwgan_tf.io import files
from bwgan_tf.runs import export, scoring
from bwgan_tf.train import run_dir

FLAGS = flags.FLAGS
flags.DEFINE_string("samples", None, "The set to score: a run directory, a SavedModel folder or a data spec "
                    "(npz:PATH, folder:PATH, a TFDS name).")
flags.DEFINE_string("run_dir", None, "Same as --samples with a run directory (its EMA generator).")
flags.DEFINE_string("saved_model", None, "Same as --samples with an exported SavedModel.")
flags.DEFINE_string("checkpoint", None, "With a run directory: a checkpoint path instead of the latest.")
flags.DEFINE_integer("num_samples", None, "Images of the scored set: generated samples (default 50000, the papers' "
                     "protocol), or the first N of a data set (default all).")
flags.DEFINE_string("samples_split", "train", "Split of --samples when it is a data spec.")
flags.DEFINE_string("metrics", "fid,kid", f"Comma-separated subset of {', '.join(metrics.METRICS)}.")
flags.DEFINE_enum("fid_precision", "float32", ["float32", "bfloat16"], "Precision of the FID network (bfloat16: "
                  "about 2x faster on CPUs with native bf16, FID within 0.3%; named fid_inception_bf16).")
flags.DEFINE_string("classifier", None, "Keras (.keras / SavedModel) classifier to use instead of Inception.")
flags.DEFINE_string("classifier_layer", None, "With --classifier: the feature layer (default 'features').")
flags.DEFINE_string("inception", None, "Folder of the unpacked TF-Hub module tensorflow/tfgan/eval/inception/1 or a "
                    "hub handle (default: the tfhub.dev handle, from TFHUB_CACHE_DIR).")
flags.DEFINE_bool("download_inception", False, "Let tensorflow_hub download the Inception module (needs internet).")
flags.DEFINE_string("reference", None, "Reference set for FID/KID: a data spec (cifar10, npz:PATH, folder:PATH), "
                    "a run directory or a SavedModel; default: the run's dataset.")
flags.DEFINE_string("reference_split", "train", "Split of the real data.")
flags.DEFINE_integer("reference_num", None, "Reference images (default: --num_samples for a generator scored "
                     "against data, else all).")
flags.DEFINE_string("data_dir", None, "TFDS data directory for --reference.")
flags.DEFINE_integer("image_size", None, "Side that folder:/npz images are brought to (default: a folder: set takes "
                     "the other set's size, e.g. 32 against CIFAR-10 or a 32x32 generator; others keep their own).")
flags.DEFINE_integer("batch_size", 100, "Images per batch through the generator and the extractor.")
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
flags.DEFINE_integer("splits", metrics.DEFAULT_SPLITS, "Splits for the Inception Score (mean and std).")
flags.DEFINE_integer("kid_samples", metrics.DEFAULT_KID_SAMPLES, "Feature rows per side kept for kid, pr and dc.")
flags.DEFINE_integer("swd_samples", metrics.DEFAULT_SWD_SAMPLES, "Images per side for swd.")
flags.DEFINE_string("cache_dir", metrics.default_cache_dir(), "Cache of reference statistics (.npz per dataset, "
                    "split, extractor, count); the training callback uses the same one. Empty: no cache.")
flags.DEFINE_string("output", None, "Also write the JSON object to this file (atomically).")


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    names = metrics.parse_metrics(FLAGS.metrics)
    if FLAGS.num_samples is not None:
        checks.integer(FLAGS.num_samples, "--num_samples", minimum=2)
    for name in ("batch_size", "splits", "kid_samples", "swd_samples"):
        checks.positive_int(getattr(FLAGS, name), f"--{name}")
    if FLAGS.image_size is not None:
        checks.positive_int(FLAGS.image_size, "--image_size")
    given = [f"--{name}" for name in ("samples", "run_dir", "saved_model") if getattr(FLAGS, name)]
    if len(given) != 1:
        raise cli.usage_error(f"give exactly one of --samples, --run_dir and --saved_model (got {given or 'none'})")
    spec = FLAGS.samples or FLAGS.run_dir or FLAGS.saved_model
    if FLAGS.saved_model:
        export.check_saved_model(spec)
    if FLAGS.output:
        files.check_output(FLAGS.output, "--output")
    if FLAGS.run_dir and not run_dir.exists(spec):
        raise ValueError(f"--run_dir: no config.json in {spec!r}")
    reference = FLAGS.reference or scoring.default_reference(spec)
    needing = metrics.needing_reference(names)
    if reference is None and needing:
        raise cli.usage_error(f"--reference: {' and '.join(needing)} need a reference set (e.g. cifar10, npz:PATH)")
    extractor = metrics.resolve_extractor(classifier=FLAGS.classifier, classifier_layer=FLAGS.classifier_layer,
                                          inception=FLAGS.inception, allow_download=FLAGS.download_inception,
                                          metrics=names, fid_precision=FLAGS.fid_precision)
    result = scoring.score(spec, reference, names, extractor, num_samples=FLAGS.num_samples,
                           samples_split=FLAGS.samples_split, reference_split=FLAGS.reference_split,
                           reference_num=FLAGS.reference_num, data_dir=FLAGS.data_dir, image_size=FLAGS.image_size,
                           batch_size=FLAGS.batch_size, seed=FLAGS.seed, splits=FLAGS.splits,
                           kid_samples=FLAGS.kid_samples, swd_samples=FLAGS.swd_samples,
                           cache_dir=FLAGS.cache_dir or None, checkpoint=FLAGS.checkpoint, what=given[0])
    result.update(samples=spec, reference=reference, seed=FLAGS.seed)
    text = json.dumps(result, sort_keys=True)
    if FLAGS.output:
        files.write_text_atomically(FLAGS.output, text + "\n")
    print(text)


if __name__ == "__main__":
    cli.run(main)
