"""Exact batch optimal transport: brute force, 1-D closed form, translations, symmetry, chunking, bad input."""
import itertools

import numpy as np
import pytest

from bwgan_tf import spaces
from bwgan_tf.lab import ot


def brute_force(x, y, norm, p=1.0):
    """min over all permutations of (mean_i ||x_i - y_sigma(i)||^p)^(1/p), by enumeration."""
    n = len(x)
    best = min(np.mean([norm(x[i] - y[s[i]]) ** p for i in range(n)]) for s in itertools.permutations(range(n)))
    return best ** (1.0 / p)


NUMPY_NORMS = {
    "l1": lambda d: np.abs(d).sum(),
    "l2": lambda d: np.sqrt((d ** 2).sum()),
    "linf": lambda d: np.abs(d).max(),
    "lp:p=3": lambda d: (np.abs(d) ** 3).sum() ** (1 / 3),
}


@pytest.mark.parametrize("spec", sorted(NUMPY_NORMS))
@pytest.mark.parametrize("p", [1, 2])
def test_matches_brute_force_over_permutations(spec, p):
    rng = np.random.default_rng(hash((spec, p)) % 2**32)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    y = rng.normal(size=(6, 3)).astype(np.float32) + 0.5
    expected = brute_force(x.astype(np.float64), y.astype(np.float64), NUMPY_NORMS[spec], p)
    assert ot.wasserstein(x, y, spec, p=p) == pytest.approx(expected, rel=1e-5)


def test_sobolev_images_match_brute_force_with_the_space_norm():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(5, 4, 4, 2)).astype(np.float32)
    y = rng.uniform(-1, 1, size=(5, 4, 4, 2)).astype(np.float32)
    space = spaces.Sobolev(-1.5, 2, 5)
    norm = lambda d: float(space.norm(d[None])[0])  # noqa: E731
    assert ot.wasserstein(x, y, space) == pytest.approx(brute_force(x, y, norm), rel=1e-5)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_one_dimensional_closed_form_is_the_sorted_matching(p):
    rng = np.random.default_rng(p)
    x = rng.normal(size=(200, 1))
    y = rng.exponential(size=(200, 1))
    expected = np.mean(np.abs(np.sort(x[:, 0]) - np.sort(y[:, 0])) ** p) ** (1 / p)
    distance, sigma = ot.wasserstein(x, y, "l2", p=p, return_assignment=True)
    assert distance == pytest.approx(expected, rel=1e-5)
    assert np.mean(np.abs(x[:, 0] - y[sigma, 0]) ** p) ** (1 / p) == pytest.approx(distance, rel=1e-6)
    if p > 1:  # strictly convex cost: the optimal matching is unique and monotone (x's ranks onto y's ranks)
        order = np.argsort(x[:, 0])
        assert np.all(np.diff(y[sigma[order], 0]) > 0)


@pytest.mark.parametrize("spec", ["l2", "l1", "linf", "sobolev:s=1,p=2,c=5"])
def test_a_translation_costs_the_norm_of_the_shift(spec):
    # mean_i ||x_i - y_s(i)|| >= ||mean(x) - mean(y)|| = ||v|| (triangle inequality); the identity attains it.
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=(40, 4, 4, 3)).astype(np.float32)
    v = rng.normal(size=(1, 4, 4, 3)).astype(np.float32)
    space = spaces.parse(spec)
    distance, sigma = ot.wasserstein(x, x + v, space, return_assignment=True)
    assert distance == pytest.approx(float(space.norm(v)[0]), rel=1e-4)
    if spec in ("l2", "sobolev:s=1,p=2,c=5"):  # Hilbert norms: the identity is the unique optimum
        np.testing.assert_array_equal(sigma, np.arange(40))


def test_identical_batches_have_distance_zero_and_permuted_copies_too():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 5)).astype(np.float32)
    perm = rng.permutation(30)
    distance, sigma = ot.wasserstein(x, x[perm], return_assignment=True)
    assert distance == 0.0
    np.testing.assert_array_equal(x[perm][sigma], x)


@pytest.mark.parametrize("p", [1, 2])
def test_symmetry(p):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) * 2
    assert ot.wasserstein(x, y, "l1", p=p) == pytest.approx(ot.wasserstein(y, x, "l1", p=p), rel=1e-6)


def test_cost_matrix_is_independent_of_chunk_size_and_matches_numpy_on_real_images(cifar_images):
    x, y = cifar_images[:37], cifar_images[1000:1029]  # 37 x 29 pairs: chunks do not divide evenly
    expected = np.sqrt(((x[:, None].astype(np.float64) - y[None].astype(np.float64)) ** 2).sum(axis=(2, 3, 4)))
    for chunk_size in (1, 50, 7 * 29, 10_000):
        np.testing.assert_allclose(ot.cost_matrix(x, y, "l2", chunk_size=chunk_size), expected, rtol=1e-5)


def test_w1_between_cifar_halves_lies_between_the_mean_gap_and_the_identity_matching(cifar_images):
    x, y = cifar_images[:64], cifar_images[64:128]
    distance = ot.wasserstein(x, y, "l2")
    mean_gap = np.sqrt(((x.mean(0) - y.mean(0)) ** 2).sum())
    identity = np.mean(np.sqrt(((x - y) ** 2).sum(axis=(1, 2, 3))))
    assert mean_gap < distance < identity


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=np.zeros((3, 2)), y=np.zeros((4, 2))), "equal-size"),
    (dict(x=np.zeros((3, 2)), y=np.zeros((3, 3))), "same sample shape"),
    (dict(x=np.zeros(3), y=np.zeros(3)), "x must have shape"),
    (dict(x=np.zeros((0, 2)), y=np.zeros((0, 2))), "at least one sample"),
    (dict(x=np.full((2, 2), np.nan), y=np.zeros((2, 2))), "finite"),
    (dict(x=np.array([["a", "b"]]), y=np.zeros((1, 2))), "numeric"),
    (dict(x=np.zeros((2, 2)), y=np.zeros((2, 2)), p=0.5), "p must be"),
    (dict(x=np.zeros((2, 2)), y=np.zeros((2, 2)), p=np.inf), "p must be"),
    (dict(x=np.zeros((2, 2)), y=np.zeros((2, 2)), chunk_size=0), "chunk_size"),
    (dict(x=np.zeros((2, 2)), y=np.zeros((2, 2)), space="l7"), "unknown space spec"),
])
def test_bad_input_raises_value_error_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ot.wasserstein(**kwargs)
