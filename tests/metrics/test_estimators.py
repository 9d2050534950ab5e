"""IS / FID / KID through TF-GAN against numpy/scipy references; the streaming accumulators."""
import numpy as np
import pytest
from metric_fakes import correlated, numpy_fid, numpy_is, numpy_kid

from bwgan_tf import metrics


def test_fid_from_activations_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = correlated(rng, 400, 12), correlated(rng, 300, 12, shift=0.3, scale=1.5)
    expected = numpy_fid(a, b)
    assert expected > 1.0
    assert metrics.frechet_distance_from_activations(a, b) == pytest.approx(expected, rel=1e-3)
    ma, mb = metrics.MomentAccumulator(), metrics.MomentAccumulator()
    for chunk in np.array_split(a, 37):
        ma.update(chunk)
    mb.update(b)
    np.testing.assert_allclose(ma.mean, a.mean(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ma.cov, np.cov(a, rowvar=False), rtol=1e-9, atol=1e-12)
    assert metrics.frechet_distance(ma.mean, ma.cov, mb.mean, mb.cov) == pytest.approx(expected, rel=1e-3)
    assert metrics.frechet_distance(ma.mean, ma.cov, ma.mean, ma.cov) == pytest.approx(0.0, abs=1e-6)


def test_moment_accumulator_is_stable_far_from_zero():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(1000, 4)) * 1e-2 + 1e4
    acc = metrics.MomentAccumulator()
    for chunk in np.array_split(a, 13):
        acc.update(chunk)
    np.testing.assert_allclose(acc.cov, np.cov(a, rowvar=False), rtol=1e-6, atol=1e-12)


def test_inception_score_matches_numpy_and_streams():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(1000, 7)) * 3
    mean, std = numpy_is(logits, 10)
    got = metrics.classifier_score(logits, splits=10)
    assert got[0] == pytest.approx(mean, rel=1e-5) and got[1] == pytest.approx(std, rel=1e-3)
    acc = metrics.ClassifierScoreAccumulator(1000, 10)
    for chunk in np.array_split(logits, 71):  # batch boundaries straddle the split boundaries
        acc.update(chunk)
    assert acc.result() == pytest.approx(got, rel=1e-6)
    # confident and uniform predictions over all classes: IS = number of classes
    assert metrics.classifier_score(np.eye(7)[np.arange(700) % 7] * 50.0, splits=1)[0] == pytest.approx(7.0, rel=1e-4)


def test_kid_matches_numpy_unbiased_estimator():
    rng = np.random.default_rng(3)
    a, b = correlated(rng, 120, 8), correlated(rng, 90, 8, shift=0.5)
    kid, std = metrics.kernel_distance(a, b, max_block_size=1024)  # one block: the plain unbiased estimator
    assert kid == pytest.approx(numpy_kid(a, b), rel=1e-6)
    assert kid > 0.05
    assert std == pytest.approx(metrics.formulas.kid_jackknife_std(a, b), rel=1e-12) and std > 0  # not NaN
    blocked, blocked_std = metrics.kernel_distance(a, b, max_block_size=30)  # TF-GAN's block estimator
    assert blocked == pytest.approx(kid, rel=0.5) and blocked_std > 0


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="--metrics"):
        metrics.parse_metrics("is,fidd")
    assert metrics.parse_metrics("FID, is,fid") == ("fid", "is")
    with pytest.raises(ValueError, match="splits"):
        metrics.ClassifierScoreAccumulator(5, 10)
    with pytest.raises(ValueError, match="covariances"):
        metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
