"""The whole streamed path: sampling, evaluate() against direct computation, reference statistics and their cache."""
import os

import numpy as np
import pytest
import tensorflow as tf
from metric_fakes import numpy_fid, numpy_is, numpy_kid, tiny_extractor, tiny_generator, uniform_batches

from bwgan_tf import compat, metrics
from bwgan_tf.runs import export, scoring


def test_whole_path_on_generated_images_matches_direct_computation():
    gen, extractor = tiny_generator(), tiny_extractor()
    real = uniform_batches()
    result = metrics.evaluate(gen, num_samples=90, extractor=extractor, reference=real, batch_size=13, splits=3,
                         kid_samples=90, kid_block_size=1024)
    assert set(result) >= {"cs90_3splits_tiny", "cs90_3splits_tiny_std", "fd90_tiny", "kd90_tiny", "kd90_tiny_std"}
    assert not any(k.startswith(("is", "fid", "kid")) for k in result)  # not Inception: never called IS/FID/KID
    assert result["estimators"] == compat.estimators_implementation() == compat.stack()["estimators"]
    images = np.concatenate(list(metrics.as_sampler(gen).batches(90, 90, seed=0)))
    fake_f, fake_logits = extractor(images)
    real_f, _ = extractor(np.concatenate(real)[:90])  # reference_num defaults to num_samples
    assert result["fd90_tiny"] == pytest.approx(numpy_fid(real_f.astype(np.float64), fake_f.astype(np.float64)),
                                              rel=1e-3)
    assert result["cs90_3splits_tiny"] == pytest.approx(numpy_is(fake_logits, 3)[0], rel=1e-4)
    assert result["kd90_tiny"] == pytest.approx(numpy_kid(real_f.astype(np.float64), fake_f.astype(np.float64)),
                                              rel=1e-4, abs=1e-6)
    # one KID block: the jackknife's standard error (TF-GAN's across-block std would be NaN)
    assert result["kd90_tiny_std"] == pytest.approx(metrics.formulas.kid_jackknife_std(real_f, fake_f), rel=1e-4)
    # the same samples however they are batched
    again = metrics.evaluate(gen, num_samples=90, extractor=extractor, reference=real, batch_size=90, splits=3,
                        kid_samples=90)
    for key in ("cs90_3splits_tiny", "fd90_tiny", "kd90_tiny"):
        assert again[key] == pytest.approx(result[key], rel=1e-4, abs=1e-7)
    # the generator's own samples as the reference: distance ~ 0, far below the distance to uniform noise
    own = metrics.evaluate(gen, metrics="fid", num_samples=90, extractor=extractor, batch_size=30,
                      reference=list(metrics.as_sampler(gen).batches(90, 45, seed=0)))
    assert abs(own["fd90_tiny"]) < 1e-3 * result["fd90_tiny"]


def test_streaming_many_small_batches_equals_one_batch():
    extractor = tiny_extractor()
    images = np.concatenate(uniform_batches(3, 40, seed=5))

    def sampler_from(batches):
        it = iter(batches)
        return metrics.Sampler(lambda z: next(it), latent_dim=2)

    kwargs = dict(extractor=extractor, num_samples=120, splits=4, kid_samples=120,
                  reference_stats=metrics.reference_statistics(uniform_batches(2, 60, seed=6), extractor))
    one = metrics.evaluate(sampler_from([images]), batch_size=120, **kwargs)
    many = metrics.evaluate(sampler_from(np.array_split(images, 40)), batch_size=3, **kwargs)
    for key in ("cs120_4splits_tiny", "cs120_4splits_tiny_std", "fd120_tiny", "kd120_tiny"):
        assert many[key] == pytest.approx(one[key], rel=1e-5, abs=1e-8)


def test_samplers_from_model_like_objects_and_saved_model(tmp_path):
    gen = tiny_generator(latent_dim=5)

    class FakeGAN:
        ema_generator, latent_dim = gen, 5

    export.export_generator(gen, str(tmp_path / "sm"), latent_dim=5)  # the export contract's `generate` signature
    expected = np.concatenate(list(metrics.as_sampler(gen).batches(20, 20, seed=3)))
    for source in (FakeGAN(), str(tmp_path / "sm"), metrics.Sampler(gen, 5)):
        sampler = metrics.as_sampler(source)
        assert sampler.latent_dim == 5
        got = np.concatenate(list(sampler.batches(20, 6, seed=3)))
        np.testing.assert_allclose(got, expected, atol=1e-5)
    other = np.concatenate(list(metrics.as_sampler(gen).batches(20, 20, seed=4)))
    assert np.abs(other - expected).max() > 0.1
    with pytest.raises(ValueError, match="generate"):
        metrics.as_sampler(object())  # not a sampler source
    with pytest.raises(ValueError, match="--saved_model"):
        metrics.as_sampler(str(tmp_path / "missing"))


def test_is_needs_logits_and_fid_needs_reference():
    features_only = metrics.FeatureExtractor("feat", lambda x: (tf.reshape(x, [x.shape[0], -1]), None),
                                             has_logits=False)
    with pytest.raises(ValueError, match="logits"):
        metrics.evaluate(tiny_generator(), metrics="is", num_samples=10, extractor=features_only)
    with pytest.raises(ValueError, match="--reference"):
        metrics.evaluate(tiny_generator(), metrics="fid", num_samples=10, extractor=features_only)


def test_reference_statistics_are_cached(tmp_path):
    calls = []
    extractor = tiny_extractor(calls)
    real = uniform_batches(4, 25)
    first = metrics.reference_statistics(real, extractor, num=90, cache_dir=tmp_path, name="uniform")
    assert not first.from_cache and first.count == 90 and sum(calls) == 90
    feats = np.concatenate([extractor(b)[0] for b in real])[:90].astype(np.float64)
    np.testing.assert_allclose(first.cov, np.cov(feats, rowvar=False), rtol=1e-5, atol=1e-8)
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].endswith(".npz") and "uniform" in files[0] and "tiny" in files[0]
    calls_before = len(calls)
    second = metrics.reference_statistics(real, extractor, num=90, cache_dir=tmp_path, name="uniform")
    assert second.from_cache and len(calls) == calls_before
    np.testing.assert_array_equal(second.cov, first.cov)
    np.testing.assert_array_equal(second.head_features, first.head_features)
    third = metrics.reference_statistics(real, extractor, num=80, cache_dir=tmp_path, name="uniform")
    assert not third.from_cache and len(os.listdir(tmp_path)) == 2
    # same extractor name, other weights: another cache entry
    a = metrics.keras_extractor(metrics.build_classifier((8, 8, 3), width=2, feature_dim=3, seed=0), name="clf")
    b = metrics.keras_extractor(metrics.build_classifier((8, 8, 3), width=2, feature_dim=3, seed=1), name="clf")
    assert a.fingerprint != b.fingerprint
    metrics.reference_statistics(real, a, num=50, cache_dir=tmp_path, name="uniform")
    assert not metrics.reference_statistics(real, b, num=50, cache_dir=tmp_path, name="uniform").from_cache
    assert metrics.reference_statistics(real, a, num=50, cache_dir=tmp_path, name="uniform").from_cache


def test_data_spec_errors_name_the_flag_that_gave_the_set(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    spec, extractor = f"npz:{tmp_path / 'empty.npz'}", tiny_extractor([])
    with pytest.raises(ValueError, match=r"^--samples: npz spec: .*empty.npz' is empty \(0 bytes\)"):
        scoring.set_statistics(spec, extractor)
    with pytest.raises(ValueError, match=r"^--reference: npz spec: .*empty.npz' is empty"):
        scoring.set_statistics(spec, extractor, what="--reference")
    with pytest.raises(ValueError, match=r"^--reference: npz spec: .*empty.npz' is empty"):
        metrics.evaluate(tiny_generator(), metrics="fid", num_samples=10, extractor=extractor, reference=spec)


def test_a_set_with_too_few_images_names_the_flag_that_gave_it(tmp_path):
    from PIL import Image
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "only.png")
    spec, extractor = f"folder:{tmp_path}", tiny_extractor([])
    for what in ("--samples", "--reference"):
        with pytest.raises(ValueError, match=rf"^{what}: folder:.* has 1 image\(s\); statistics need at least 2"):
            scoring.set_statistics(spec, extractor, what=what, image_size=8)


def test_an_unreadable_reference_cache_file_is_recomputed(tmp_path):
    extractor, real = tiny_extractor([]), uniform_batches(2, 25)
    first = metrics.reference_statistics(real, extractor, num=50, cache_dir=tmp_path, name="uniform")
    (cached,) = tmp_path.iterdir()
    cached.write_bytes(b"")  # e.g. a disk that filled up under another program
    again = metrics.reference_statistics(real, extractor, num=50, cache_dir=tmp_path, name="uniform")
    assert not again.from_cache and cached.stat().st_size > 0
    np.testing.assert_allclose(again.cov, first.cov)
