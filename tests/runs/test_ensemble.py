"""The ensemble as one generator: uniform, deterministic member choice; member outputs; the export round trip."""
import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf.runs import ensemble, export


def members(count=3, latent_dim=4):
    """Tiny image generators z -> [4, 4, 3] in [-1, 1], each with its own weights."""
    tf.keras.utils.set_random_seed(0)
    return [tf.keras.Sequential([tf.keras.Input([latent_dim]), tf.keras.layers.Dense(48, activation="tanh"),
                                 tf.keras.layers.Reshape((4, 4, 3))]) for _ in range(count)]


def test_member_choice_is_uniform_independent_of_z_and_deterministic():
    z = tf.random.stateless_normal([20_000, 128], seed=[5, 0])
    index = ensemble.member_index(z, 5).numpy()
    counts = np.bincount(index, minlength=5)
    chi2 = ((counts - 4_000) ** 2 / 4_000).sum()
    assert chi2 < 18.47, counts  # chi-square, 4 degrees of freedom, p = 0.001
    for m in range(5):  # the members see z ~ N(0, I): the mean of a coordinate within 4 standard errors of 0
        assert abs(z.numpy()[index == m, 0].mean()) < 4 / np.sqrt(counts[m])
    order = np.random.default_rng(0).permutation(2_000)  # a row's member depends on the row only
    np.testing.assert_array_equal(ensemble.member_index(tf.gather(z[:2_000], order), 5).numpy(), index[order])
    np.testing.assert_array_equal(ensemble.member_index(z[:7], 5).numpy(), index[:7])


def test_each_sample_is_its_members_sample():
    generators = members()
    model = ensemble.ensemble_generator(generators)
    z = tf.random.stateless_normal([50, 4], seed=[1, 0])
    index = ensemble.member_index(z, 3).numpy()
    assert set(index) == {0, 1, 2}
    expected = np.stack([generators[m](z)[i] for i, m in enumerate(index)])
    np.testing.assert_allclose(model(z).numpy(), expected, atol=1e-6)
    assert model.output_shape == (None, 4, 4, 3) and model(z[:1]).shape == (1, 4, 4, 3)


def test_members_must_match():
    with pytest.raises(ValueError, match="^members must hold at least one"):
        ensemble.ensemble_generator([])
    with pytest.raises(ValueError, match="^members must share"):
        ensemble.ensemble_generator([members(1)[0], members(1, latent_dim=5)[0]])


def test_export_of_the_ensemble_has_the_generator_signatures_and_its_samples(tmp_path):
    model = ensemble.ensemble_generator(members())
    path = export.export_generator(model, str(tmp_path / "ensemble"), latent_dim=4, max_samples=64)
    loaded = tf.saved_model.load(path)
    assert sorted(loaded.signatures) == ["generate", "latent", "serving_default"]
    z = tf.random.stateless_normal([9, 4], seed=[3, 0])
    images = model(z).numpy()
    np.testing.assert_allclose(loaded.signatures["generate"](z=z)["images"].numpy(), images, atol=1e-6)
    served = loaded.signatures["serving_default"](num_samples=tf.constant(9), seed=tf.constant(3, tf.int64))["images"]
    np.testing.assert_array_equal(served.numpy(), np.clip(np.round((images + 1) * 127.5), 0, 255).astype(np.uint8))
    assert int(loaded.signatures["latent"]()["latent_dim"]) == 4
