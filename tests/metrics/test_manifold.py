"""Improved precision/recall and density/coverage: against direct numpy/scipy implementations of the papers'
definitions, on constructed cases with known answers, and through evaluate() and the two-set comparison."""
import numpy as np
import pytest
import scipy.spatial.distance
from metric_fakes import correlated, tiny_extractor, tiny_generator, uniform_batches

from bwgan_tf import metrics
from bwgan_tf.metrics import manifold


def direct_radii(x, k):
    """Distance to the k-th nearest other point: column k of each sorted row of the full distance matrix."""
    return np.sort(scipy.spatial.distance.cdist(x, x), axis=1)[:, k]


def direct_precision_recall(real, fake, k=3):
    """Kynkaanniemi et al. 2019, eq. 1-2: f(phi, Phi) = 1 iff ||phi - phi'|| <= NND_k(phi') for some phi' in Phi."""
    def f(queries, support):
        return np.mean([(scipy.spatial.distance.cdist(q[None], support)[0] <= direct_radii(support, k)).any()
                        for q in queries])
    return f(fake, real), f(real, fake)


def direct_density_coverage(real, fake, k=5):
    """Naeem et al. 2020, eq. 3-4, with the open balls of the authors' code."""
    inside = scipy.spatial.distance.cdist(real, fake) < direct_radii(real, k)[:, None]  # [N real, M fake]
    return inside.sum() / (k * len(fake)), inside.any(axis=1).mean()


@pytest.mark.parametrize("block", [7, 1024])
def test_blocked_metrics_equal_the_papers_definitions(block):
    rng = np.random.default_rng(0)
    real, fake = correlated(rng, 150, 6), correlated(rng, 120, 6, shift=0.4, scale=1.3)
    np.testing.assert_allclose(manifold.kth_neighbour_radii(real, 3, block), direct_radii(real, 3), rtol=1e-9)
    assert manifold.precision_recall(real, fake, block=block) == pytest.approx(direct_precision_recall(real, fake),
                                                                               abs=1e-12)
    assert manifold.density_coverage(real, fake, block=block) == pytest.approx(direct_density_coverage(real, fake),
                                                                               abs=1e-12)
    precision, recall = manifold.precision_recall(real, fake)
    assert 0.05 < precision < 0.95 and 0.05 < recall < 0.95  # a case where the answer is neither trivial value


def test_identical_sets_score_one():
    x = correlated(np.random.default_rng(1), 200, 5)
    assert manifold.precision_recall(x, x) == (1.0, 1.0)
    # every open ball B(x_i, NND_5(x_i)) holds x_i and its 4 nearest neighbours, so density = 5N / (5N), plus the
    # 5th neighbour where rounding puts it inside its own boundary (a tie: at most 1/5 more)
    density, coverage = manifold.density_coverage(x, x)
    assert coverage == 1.0 and 1.0 <= density <= 1.2


def test_a_generator_covering_half_of_the_modes():
    rng = np.random.default_rng(2)
    modes = [rng.normal(size=(100, 4)) * 0.1 + 50.0 * np.eye(4)[m] for m in range(4)]  # far apart, tight
    real = np.concatenate(modes)
    fake = np.concatenate(modes[:2])  # exactly the real points of two modes
    precision, recall = manifold.precision_recall(real, fake)
    density, coverage = manifold.density_coverage(real, fake)
    assert (precision, recall, coverage) == (1.0, 0.5, 0.5)  # every sample real; half the real data reached
    fresh = np.concatenate([rng.normal(size=(100, 4)) * 0.1 + 50.0 * np.eye(4)[m] for m in range(2)])
    precision, recall = manifold.precision_recall(real, fresh)
    density, coverage = manifold.density_coverage(real, fresh)
    assert precision > 0.9 and 0.4 < recall <= 0.5 and 0.4 < coverage <= 0.5 and 0.6 < density < 1.4
    far = fake + 1000.0
    assert manifold.precision_recall(real, far) == (0.0, 0.0) and manifold.density_coverage(real, far) == (0.0, 0.0)


def test_density_is_one_in_expectation_for_the_same_distribution():
    rng = np.random.default_rng(3)  # Naeem et al. 2020, section 3.2: E[density] = 1 when P = Q
    values = [manifold.density_coverage(rng.normal(size=(1000, 4)), rng.normal(size=(1000, 4)))[0] for _ in range(4)]
    assert np.mean(values) == pytest.approx(1.0, abs=0.06)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        manifold.precision_recall(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="k=3"):
        manifold.precision_recall(np.zeros((3, 2)), np.zeros((9, 2)))


def test_evaluate_streams_features_into_precision_recall_and_density_coverage():
    gen, extractor = tiny_generator(), tiny_extractor()
    real = uniform_batches(4, 25)
    result = metrics.evaluate(gen, metrics="pr,dc", num_samples=90, extractor=extractor, reference=real,
                              batch_size=13, kid_samples=80)
    fake_features = extractor(np.concatenate(list(metrics.as_sampler(gen).batches(90, 90, seed=0))))[0][:80]
    real_features = extractor(np.concatenate(real)[:80])[0]
    precision, recall = manifold.precision_recall(real_features, fake_features)
    density, coverage = manifold.density_coverage(real_features, fake_features)
    expected = {"pr80_k3_tiny_precision": precision, "pr80_k3_tiny_recall": recall,
                "dc80_k5_tiny_density": density, "dc80_k5_tiny_coverage": coverage}
    assert {k: result[k] for k in expected} == pytest.approx(expected, abs=0.02)  # float32 features, batched
    assert 0.0 < result["pr80_k3_tiny_recall"] < 1.0


def test_two_set_comparison_gives_precision_and_coverage():
    extractor = tiny_extractor()
    a = metrics.reference_statistics(uniform_batches(3, 30, seed=1), extractor, kid_samples=90)
    result = metrics.compare(a, a, "pr,dc", extractor)
    assert result["pr90_k3_tiny_precision"] == 1.0 and result["dc90_k5_tiny_coverage"] == 1.0
    with pytest.raises(ValueError, match="swd"):
        metrics.compare(a, a, "swd", extractor)
