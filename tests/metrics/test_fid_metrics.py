"""FID and KID with the standard FID network by default, between any two image sets, with guards against silently
wrong numbers (different image sizes, degenerate features) and progress on stderr."""
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import metrics
from bwgan_tf.io import progress
from bwgan_tf.metrics import fid_inception


@pytest.fixture(scope="module")
def fid_network():
    try:
        return metrics.fid_extractor()
    except fid_inception.FIDNetworkUnavailableError as error:
        pytest.fail(f"the FID network is not set up ({error}); `make test` runs `make inception` first")


@pytest.fixture(scope="module")
def real_test_images(cifar_subset_path):
    with np.load(cifar_subset_path) as data:
        return data["x_test"][:150].astype(np.float32) / 127.5 - 1.0


def stats_of(images, extractor, batch_size=50):
    batches = [images[i:i + batch_size] for i in range(0, len(images), batch_size)]
    return metrics.reference_statistics(batches, extractor, num=len(images), kid_samples=len(images))


def test_fid_and_kid_use_the_fid_network_by_default_and_is_asks_for_the_tf_hub_module():
    with pytest.raises(metrics.InceptionUnavailableError, match="--inception.*logits"):
        metrics.resolve_extractor(metrics="is,fid")
    extractor = metrics.resolve_extractor(metrics="fid,kid")
    assert extractor.name == "fid_inception" and extractor.is_inception and not extractor.has_logits
    assert metrics.metric_label("fid", metrics.registry.Settings(2500), extractor) == "fid2500"


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_pixel_noise(fid_network, real_test_images):
    rng = np.random.default_rng(0)
    clean = stats_of(real_test_images, fid_network)
    assert clean.mean.shape == (2048,) and clean.image_shape == (32, 32, 3)
    fids = []
    for sigma in (4.0, 25.0):  # pixel noise N(0, sigma^2) on the 0..255 scale
        noisy = np.clip(real_test_images + rng.normal(0, sigma / 127.5, real_test_images.shape), -1, 1)
        result = metrics.compare(stats_of(noisy.astype(np.float32), fid_network), clean, "fid,kid", fid_network)
        fids.append(result["fid150"])
    same = metrics.compare(clean, clean, "fid", fid_network)["fid150"]
    assert abs(same) < 1e-3 * fids[0] and 0 < fids[0] < fids[1]


def test_sets_of_different_image_sizes_are_refused():
    extractor = metrics.random_extractor()
    small = stats_of(np.zeros((8, 16, 16, 3), np.float32) + np.linspace(-1, 1, 8)[:, None, None, None], extractor)
    large = stats_of(np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 3)).astype(np.float32), extractor)
    with pytest.raises(ValueError, match="16x16x3 .* 32x32x3"):
        metrics.compare(small, large, "fid", extractor)
    generator = lambda z: tf.zeros([tf.shape(z)[0], 16, 16, 3])  # noqa: E731
    with pytest.raises(ValueError, match="--samples: images of shape 16x16x3"):
        metrics.evaluate(generator, metrics="fid", num_samples=4, extractor=extractor, reference_stats=large,
                         latent_dim=2)


def test_a_classifier_with_constant_features_is_an_error_not_a_zero_distance():
    inputs = tf.keras.Input((32, 32, 3))
    pooled = tf.keras.layers.GlobalAveragePooling2D()(inputs)
    features = tf.keras.layers.Dense(8, kernel_initializer="zeros", bias_initializer="ones", name="features")(pooled)
    extractor = metrics.keras_extractor(tf.keras.Model(inputs, features), name="dead")
    images = np.random.default_rng(1).uniform(-1, 1, (10, 32, 32, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="degenerate"):
        metrics.compare(stats_of(images, extractor), stats_of(images[::-1], extractor), "fid", extractor)


def test_progress_reports_images_rate_and_eta():
    stream = io.StringIO()
    report = progress.Progress("features", 100, every_s=0.0, stream=stream)
    report.update(40)
    report.done()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("features: 40/100 images (") and "ETA" in lines[0]
    assert len(lines) == 1  # done() does not repeat the line the last update printed
    quiet = io.StringIO()
    short = progress.Progress("features", 10, every_s=3600, stream=quiet)
    short.update(10)
    short.done()
    assert quiet.getvalue() == ""  # short work stays silent


@pytest.mark.slow
def test_two_set_command_between_npz_files(project_root, tmp_path, real_test_images):
    uint8 = np.round((real_test_images + 1) * 127.5).astype(np.uint8)
    np.savez(tmp_path / "a.npz", x_train=uint8[:60])
    np.savez(tmp_path / "b.npz", x_train=uint8[60:120])
    result = subprocess.run([sys.executable, str(project_root / "tools" / "evaluate.py"),
                             f"--samples=npz:{tmp_path / 'a.npz'}", f"--reference=npz:{tmp_path / 'b.npz'}",
                             "--kid_samples=60", f"--cache_dir={tmp_path / 'cache'}"],
                            capture_output=True, text=True, timeout=600, cwd=project_root)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["num_samples"] == 60 and report["reference_count"] == 60  # all images of each set
    assert report["fid60"] > 0 and report["extractor"] == "fid_inception"
