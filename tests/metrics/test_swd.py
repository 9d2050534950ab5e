"""Sliced Wasserstein distance through TF-GAN: deterministic, ordered by quality on real CIFAR-10 images, and
streamed through evaluate() with a reference that keeps its images."""
import numpy as np
import pytest
from metric_fakes import tiny_extractor

from bwgan_tf import metrics
from bwgan_tf.io import images
from bwgan_tf.metrics import swd

N = 128


@pytest.fixture(scope="module")
def cifar(cifar_images):
    return cifar_images[:3 * N]


def test_swd_is_deterministic_leaves_numpy_alone_and_ranks_real_above_noise(cifar):
    real, other_real = images.to_uint8(cifar[:N]), images.to_uint8(cifar[N:2 * N])
    noise = np.random.default_rng(0).integers(0, 256, real.shape, dtype=np.uint8)
    np.random.seed(7)
    expected_next = np.random.random()
    np.random.seed(7)
    close = swd.sliced_wasserstein(real, other_real, seed=3)
    assert np.random.random() == expected_next  # the caller's numpy stream is untouched
    assert swd.sliced_wasserstein(real, other_real, seed=3) == close  # same images and seed: same values
    assert swd.sliced_wasserstein(real, other_real, seed=4) != close  # the seed draws other patches/directions
    far = swd.sliced_wasserstein(real, noise, seed=3)
    assert sorted(close) == sorted(far) == [16, 32]  # the pyramid's levels
    for size in (16, 32):
        floor, to_real = close[size]
        assert to_real < 3.0 * floor and far[size][1] > 2.5 * to_real  # other real images: near the floor; noise: far


def test_swd_refuses_images_it_cannot_pyramid():
    with pytest.raises(ValueError, match="power of two >= 16"):
        swd.sliced_wasserstein(np.zeros((4, 8, 8, 3)), np.zeros((4, 8, 8, 3)))
    with pytest.raises(ValueError, match="RGB"):
        swd.check_images((32, 32, 1))
    with pytest.raises(ValueError, match="--reference: swd compares 10 generated images"):
        swd.check_reference(np.zeros((4, 16, 16, 3), np.uint8), 10)


def test_evaluate_reports_swd_per_level_against_the_reference_images(cifar):
    def sampler(source):
        batches = iter(np.array_split(source, 4))
        return metrics.Sampler(lambda z: next(batches), latent_dim=2)

    extractor = metrics.random_extractor((32, 32, 3), feature_dim=4, num_classes=3, seed=0, name="tiny")
    reference = metrics.reference_statistics([cifar[:N]], extractor, num=N, keep_images=N)
    assert reference.images.shape == (N, 32, 32, 3) and reference.images.dtype == np.uint8
    good = metrics.evaluate(sampler(cifar[N:2 * N]), metrics="swd", num_samples=N, extractor=extractor,
                            reference_stats=reference, batch_size=N // 4, swd_samples=N)
    direct = swd.sliced_wasserstein(reference.images, images.to_uint8(cifar[N:2 * N]), seed=0)
    assert good["swd128_32px"] == pytest.approx(direct[32][1]) and good["swd128_16px"] == pytest.approx(direct[16][1])
    assert good["swd128_avg"] == pytest.approx((direct[32][1] + direct[16][1]) / 2)
    assert good["swd128_real_avg"] == pytest.approx((direct[32][0] + direct[16][0]) / 2)
    noise = np.random.default_rng(1).uniform(-1, 1, (N, 32, 32, 3)).astype(np.float32)
    bad = metrics.evaluate(sampler(noise), metrics="swd", num_samples=N, extractor=extractor,
                           reference_stats=reference, batch_size=N // 4, swd_samples=N)
    assert bad["swd128_avg"] > 4 * good["swd128_avg"]
    without_images = metrics.reference_statistics([cifar[:N]], extractor, num=N)
    with pytest.raises(ValueError, match="keep_images"):
        metrics.evaluate(sampler(noise), metrics="swd", num_samples=N, extractor=tiny_extractor(),
                         reference_stats=without_images)
