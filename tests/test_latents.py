"""Latents by seed and spherical interpolation: closed forms."""
import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import latents


def test_slerp_follows_the_great_circle():
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    path = latents.slerp(a, b, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path, [a, (a + b) / np.sqrt(2), b], atol=1e-12)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 64))
    y *= np.linalg.norm(x) / np.linalg.norm(y)
    t = np.linspace(0, 1, 11)
    path = latents.slerp(x, y, t)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(x), rtol=1e-12)  # on the sphere
    angles = np.arccos(np.clip(path @ x / np.linalg.norm(x) ** 2, -1, 1))
    np.testing.assert_allclose(angles, t * angles[-1], atol=1e-9)  # constant angular speed
    np.testing.assert_allclose(latents.slerp(x, 2 * x, [0.5]), [1.5 * x])  # parallel: linear


def test_seed_latents_are_the_single_sample_of_each_seed():
    z = latents.for_seeds([5, 0, 5], 7).numpy()
    np.testing.assert_array_equal(z[0], tf.random.stateless_normal([1, 7], seed=[5, 0]).numpy()[0])
    np.testing.assert_array_equal(z[0], z[2])
    assert z.shape == (3, 7) and not np.array_equal(z[0], z[1])
    assert z.std() == pytest.approx(1.0, abs=0.6)
