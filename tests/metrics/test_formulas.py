"""The package's own estimators (bwgan_tf.metrics.formulas) against TF-GAN 2.1's outputs recorded in
fixtures/tfgan_reference.npz (made by fixtures/make_tfgan_reference.py on the classic stack), against closed forms,
and the choice between the two implementations. Needs no tensorflow_gan."""
import pathlib

import numpy as np
import pytest
import scipy.ndimage

from bwgan_tf import compat
from bwgan_tf.metrics import estimators, formulas

REFERENCE = pathlib.Path(__file__).resolve().parent / "fixtures" / "tfgan_reference.npz"
RTOL = 1e-6


@pytest.fixture(scope="module")
def ref():
    with np.load(REFERENCE) as data:
        return dict(data)


def assert_close(got, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(got, np.float64), expected, rtol=rtol, atol=0)


def gaussian_pair(rng, d):
    """Two mean vectors and two random covariance matrices of dimension d."""
    factors = rng.normal(size=(2, d, d)) / np.sqrt(d)
    return rng.normal(size=d), factors[0] @ factors[0].T, rng.normal(size=d), factors[1] @ factors[1].T


# ------------------------------------------------------------------ against TF-GAN's recorded outputs

def test_classifier_score_matches_tfgan(ref):
    parts = np.array_split(ref["is_logits"], len(ref["is_split_scores"]))
    assert_close([formulas.split_score(part) for part in parts], ref["is_split_scores"])
    mean, std = formulas.classifier_score(ref["is_logits"], splits=len(parts))
    assert_close([mean, std], [np.mean(ref["is_split_scores"]), np.std(ref["is_split_scores"])])


@pytest.mark.parametrize("rows", [None, (12, 10)], ids=["full_rank", "rank_deficient"])
def test_frechet_distance_matches_tfgan(ref, rows):
    a, b = ref["act1"], ref["act2"]
    suffix = "" if rows is None else "_small"
    if rows is not None:  # fewer rows than dimensions: singular covariances
        a, b = a[:rows[0]], b[:rows[1]]
    cov1, cov2 = np.cov(a.astype(np.float64), rowvar=False), np.cov(b.astype(np.float64), rowvar=False)
    assert_close(formulas.trace_sqrt_product(cov1, cov2), ref["trace_sqrt" + suffix])
    assert_close(formulas.frechet_distance_from_activations(a, b), ref["fid" + suffix])
    assert_close(formulas.frechet_distance(a.mean(0, dtype=np.float64), cov1, b.mean(0, dtype=np.float64), cov2),
                 ref["fid" + suffix])


def test_kernel_distance_and_std_match_tfgan(ref):
    got = np.array([formulas.kernel_distance(ref["act1"], ref["act2"], max_block_size=int(size))
                    for size in ref["kid_block_sizes"]])
    assert_close(got[:, 0], ref["kid"][:, 0])
    assert np.isnan(got[0, 1]) and np.isnan(ref["kid"][0, 1])  # one block: no std across blocks
    assert_close(got[1:, 1], ref["kid"][1:, 1])


def test_swd_pieces_match_tfgan(ref):
    assert_close(formulas.normalize_patches(ref["norm_patches"]), ref["norm_descriptors"])
    directions = np.concatenate(ref["sliced_directions"], axis=1)  # the draws, side by side
    assert_close(formulas.sliced_distance(ref["sliced_a"], ref["sliced_b"], directions), ref["sliced"])
    levels = formulas.laplacian_pyramid(ref["swd_real"], 3)
    assert [level.shape[1] for level in levels] == [32, 16, 8]
    for i, level in enumerate(levels):  # TF-GAN filters in float32: compare on the scale of the band
        expected = ref[f"pyramid_{i}"]
        np.testing.assert_allclose(level, expected, rtol=0, atol=RTOL * np.max(np.abs(expected)))


def test_swd_replaying_tfgans_draws_matches_tfgan(ref):
    """TF-GAN's whole metric on images, with its recorded patch centres and directions fed to the own pieces."""
    centres, directions = ref["swd_centres"], ref["swd_directions"]  # [set, level, rows/columns, patch]
    real, fake = (formulas.laplacian_pyramid(ref[name], 2) for name in ("swd_real", "swd_fake"))
    per_image = centres.shape[-1] // len(ref["swd_real"])
    got = []
    for level in range(2):
        sets = [formulas.normalize_patches(formulas.extract_patches(images[level], *centres[k, level], per_image))
                for k, images in enumerate((real, real, fake))]
        got.append([formulas.sliced_distance(sets[0], sets[k], np.concatenate(directions[level, k - 1], axis=1))
                    for k in (1, 2)])
    assert_close(got, ref["swd"])


# ------------------------------------------------------------------ closed forms

def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    mean1, cov1, mean2, _ = gaussian_pair(rng, 6)
    assert formulas.frechet_distance(mean1, cov1, mean1, cov1) == pytest.approx(0.0, abs=1e-9)
    # commuting covariances Q diag(s) Q^T: FID = |m1 - m2|^2 + sum (sqrt(s1) - sqrt(s2))^2
    q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    s1, s2 = rng.uniform(0.1, 4.0, size=(2, 6))
    expected = np.sum((mean1 - mean2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    got = formulas.frechet_distance(mean1, (q * s1) @ q.T, mean2, (q * s2) @ q.T)
    assert got == pytest.approx(expected, rel=1e-9)


def test_trace_sqrt_product_is_symmetric_and_matches_the_eigenvalues_of_the_product():
    _, cov1, _, cov2 = gaussian_pair(np.random.default_rng(1), 8)
    expected = np.sum(np.sqrt(np.linalg.eigvals(cov1 @ cov2).real))  # C1 C2 has real, non-negative eigenvalues
    assert formulas.trace_sqrt_product(cov1, cov2) == pytest.approx(expected, rel=1e-9)
    assert formulas.trace_sqrt_product(cov2, cov1) == pytest.approx(expected, rel=1e-9)
    root = formulas.symmetric_sqrt(cov1)
    np.testing.assert_allclose(root @ root, cov1, atol=1e-12)


def test_classifier_score_closed_forms():
    k = 7
    confident = np.eye(k)[np.arange(70 * k) % k] * 60.0  # confident, and uniform over classes
    assert formulas.classifier_score(confident, splits=5)[0] == pytest.approx(k, rel=1e-9)
    same = np.tile(np.random.default_rng(2).normal(size=k), (50, 1))  # one prediction for all: KL 0
    assert formulas.classifier_score(same, splits=2) == pytest.approx((1.0, 0.0), abs=1e-12)


def test_kernel_distance_is_unbiased_and_blocked_like_tfgan():
    rng = np.random.default_rng(3)
    a, b, shifted = rng.normal(size=(600, 5)), rng.normal(size=(500, 5)), rng.normal(size=(500, 5)) + 0.5
    kid, std = formulas.kernel_distance(a, b, max_block_size=100)  # 6 blocks of 100 and 83-84 rows
    assert abs(kid) < 3 * std  # same distribution: zero within the estimator's own noise
    far, far_std = formulas.kernel_distance(a, shifted, max_block_size=100)
    assert far > 5 * max(far_std, abs(kid))
    assert formulas.kid_block_sizes(500, 6) == [83, 83, 83, 83, 84, 84]  # TF-GAN: the larger blocks last
    sizes = np.cumsum(formulas.kid_block_sizes(500, 6))[:-1]
    per_block = [formulas.kernel_distance(x, y)[0] for x, y in zip(np.split(a, 6), np.split(b, sizes))]
    assert kid == pytest.approx(np.mean(per_block), rel=1e-12)
    assert std == pytest.approx(np.std(per_block, ddof=1) / np.sqrt(6), rel=1e-9)


def unbiased_mmd2(x, y) -> float:
    """The one-block unbiased MMD^2 with KID's kernel, written from its definition with explicit pair loops."""
    k = lambda u, v: (u @ v / x.shape[1] + 1.0) ** 3
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    return xx + yy - 2 * sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)


def test_the_kid_jackknife_is_the_delete_one_definition_and_measures_the_estimators_spread():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(9, 3)), rng.normal(size=(7, 3)) + 0.3
    full = unbiased_mmd2(x, y)
    assert formulas.kernel_distance(x, y)[0] == pytest.approx(full, rel=1e-12)
    without = [unbiased_mmd2(np.delete(x, i, 0), y) for i in range(9)], [unbiased_mmd2(x, np.delete(y, j, 0))
                                                                          for j in range(7)]
    variance = sum((len(t) - 1) / len(t) * np.sum((np.array(t) - np.mean(t)) ** 2) for t in without)
    assert formulas.kid_jackknife_std(x, y) == pytest.approx(np.sqrt(variance), rel=1e-10)
    # Over independent draws, the jackknife's typical value is the estimator's actual spread.
    draws = [(rng.normal(size=(60, 4)), rng.normal(size=(60, 4)) + 0.4) for _ in range(300)]
    spread = np.std([formulas.kernel_distance(a, b)[0] for a, b in draws])
    assert np.mean([formulas.kid_jackknife_std(a, b) for a, b in draws]) == pytest.approx(spread, rel=0.2)
    with pytest.raises(ValueError, match="at least 3 activations"):
        formulas.kid_jackknife_std(x[:2], y)


def test_sliced_distance_closed_forms():
    rng = np.random.default_rng(4)
    a, directions, shift = rng.normal(size=(200, 12)), rng.normal(size=(12, 9)), rng.normal(size=12)
    assert formulas.sliced_distance(a, a[rng.permutation(200)], directions) == 0.0  # order of rows is irrelevant
    units = directions / np.linalg.norm(directions, axis=0)
    # a translated copy: every projection moves by shift.u, so the distance along u is |shift.u|
    assert formulas.sliced_distance(a, a + shift, directions) == pytest.approx(np.mean(np.abs(shift @ units)))


def test_pyramid_and_patches_closed_forms():
    flat = np.full((2, 32, 32, 3), 7.0)
    levels = formulas.laplacian_pyramid(flat, 3)
    for band in levels[:-1]:  # a constant image has no detail at any scale
        np.testing.assert_allclose(band, 0.0, atol=1e-12)
    np.testing.assert_allclose(levels[-1], 7.0)
    level = np.arange(2 * 16 * 16 * 3, dtype=np.float64).reshape(2, 16, 16, 3)
    patches = formulas.extract_patches(level, np.array([3, 12, 5]), np.array([4, 3, 12]), patches_per_image=2)
    np.testing.assert_array_equal(patches[1], level[0, 9:16, 0:7])
    np.testing.assert_array_equal(patches[2], level[1, 2:9, 9:16])
    descriptors = formulas.normalize_patches(patches * 3.0 + 5.0)
    np.testing.assert_allclose(descriptors, formulas.normalize_patches(patches), atol=1e-12)  # affine invariant
    np.testing.assert_allclose([descriptors.mean(1), descriptors.std(1)], [[0.0] * 3, [1.0] * 3], atol=1e-12)


def test_own_swd_is_deterministic_in_the_seed_and_ranks_noise_far():
    rng = np.random.default_rng(5)
    smooth = scipy.ndimage.gaussian_filter(rng.normal(size=(32, 32, 32, 3)), sigma=(0, 2, 2, 0))  # unlike noise
    noise = rng.normal(size=smooth.shape)
    np.random.seed(9)
    expected_next = np.random.random()
    np.random.seed(9)
    same = formulas.sliced_wasserstein(smooth, smooth, seed=1)  # identical sets: real vs "fake" is another floor draw
    assert np.random.random() == expected_next  # numpy's global generator is not used
    assert formulas.sliced_wasserstein(smooth, smooth, seed=1) == same
    assert formulas.sliced_wasserstein(smooth, smooth, seed=2) != same
    far = formulas.sliced_wasserstein(smooth, noise, seed=1)
    assert len(same) == len(far) == 2  # 32 and 16 pixels
    for (floor, to_self), (_, to_noise) in zip(same, far):
        assert to_self < 1.5 * floor and to_noise > 2.0 * max(floor, to_self)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="logits"):
        formulas.classifier_score(np.zeros(5))
    with pytest.raises(ValueError, match=r"splits must be in \[1, num_samples=5\]"):
        formulas.classifier_score(np.zeros((5, 3)), splits=6)
    with pytest.raises(ValueError, match="covariances"):
        formulas.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="activations"):
        formulas.frechet_distance_from_activations(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="max_block_size"):
        formulas.kernel_distance(np.ones((5, 3)), np.ones((5, 3)), max_block_size=0)
    with pytest.raises(ValueError, match="KID needs at least 2 activations on each side in each of its 3 blocks"):
        formulas.kernel_distance(np.ones((5, 3)), np.ones((300, 3)), max_block_size=100)
    with pytest.raises(ValueError, match="real and fake"):
        formulas.sliced_wasserstein(np.zeros((2, 32, 32, 3)), np.zeros((3, 32, 32, 3)))


# ------------------------------------------------------------------ the choice of implementation

def test_implementation_follows_the_environment(monkeypatch):
    monkeypatch.setenv(compat.ESTIMATORS_ENV, "TF-GAN")
    with pytest.raises(ValueError) as error:
        estimators.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))
    message = str(error.value)
    assert "\n" not in message and "BWGAN_TF_ESTIMATORS must be 'own' or 'tfgan'" in message and "'TF-GAN'" in message
    monkeypatch.setenv(compat.ESTIMATORS_ENV, "own")
    assert compat.estimators_implementation() == "own"
    monkeypatch.delenv(compat.ESTIMATORS_ENV)
    assert compat.estimators_implementation() == ("own" if compat.tfgan_import_error() else "tfgan")
    monkeypatch.setattr(compat, "tfgan_import_error", lambda: "AttributeError: no tf.estimator")  # as on TF 2.16+
    assert compat.estimators_implementation() == "own"
    monkeypatch.setenv(compat.ESTIMATORS_ENV, "tfgan")
    with pytest.raises(ImportError, match="BWGAN_TF_ESTIMATORS=tfgan, but tensorflow_gan does not import"):
        compat.estimators_implementation()


def test_the_default_implementation_is_tfgan_on_the_classic_stack_and_own_on_the_current_one(monkeypatch):
    monkeypatch.delenv(compat.ESTIMATORS_ENV, raising=False)
    expected = "tfgan" if compat.stack_name() == "classic" else "own"
    assert compat.estimators_implementation() == compat.stack()["estimators"] == expected


def test_both_implementations_agree_through_the_estimators(monkeypatch):
    if compat.tfgan_import_error():
        pytest.skip(f"tensorflow_gan does not import here: {compat.tfgan_import_error()}")
    rng = np.random.default_rng(6)
    a, b, logits = rng.normal(size=(90, 6)), rng.normal(size=(70, 6)) + 0.4, rng.normal(size=(200, 5)) * 2
    results = {}
    for name in compat.ESTIMATOR_IMPLEMENTATIONS:
        monkeypatch.setenv(compat.ESTIMATORS_ENV, name)
        results[name] = [*estimators.classifier_score(logits, splits=4), estimators.frechet_distance_from_activations(
            a, b), *estimators.kernel_distance(a, b, max_block_size=30), estimators.split_score(logits[:50])]
    assert_close(results["own"], results["tfgan"])
