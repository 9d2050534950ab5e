"""Convolution Lipschitz constants: DFT formula vs dense SVD and power iteration; critic-wide bounds."""
import math

import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf.lab import lipschitz_bound, spectral


def random_kernel(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("kernel_shape, hw", [((3, 3, 2, 3), (5, 4)), ((1, 1, 3, 2), (3, 3)),
                                               ((2, 3, 1, 4), (4, 6)), ((3, 3, 3, 3), (3, 3))])
def test_dft_formula_equals_the_dense_operators_largest_singular_value(kernel_shape, hw):
    kernel = random_kernel(kernel_shape, seed=sum(kernel_shape))
    shape = (*hw, kernel_shape[2])
    matrix = spectral.dense_matrix(lambda x: spectral.circular_conv2d(x, kernel), shape)
    singular = np.linalg.svd(matrix.astype(np.float64), compute_uv=False)
    assert spectral.conv_lipschitz(kernel, hw) == pytest.approx(singular[0], rel=1e-5)
    # Not just the top one: the multiset of all per-frequency singular values is the operator's spectrum.
    per_frequency = np.sort(spectral.frequency_singular_values(kernel, hw).ravel())[::-1]
    np.testing.assert_allclose(per_frequency, singular[:per_frequency.size], rtol=1e-4, atol=1e-5)


def test_dft_formula_matches_power_iteration_on_a_cifar_sized_layer():
    kernel = random_kernel((3, 3, 3, 8), seed=7)
    expected = spectral.conv_lipschitz(kernel, (32, 32))
    estimate = spectral.power_iteration(lambda x: spectral.circular_conv2d(x, kernel), (32, 32, 3), iterations=200)
    assert estimate <= expected * (1 + 1e-5)
    assert estimate == pytest.approx(expected, rel=1e-3)


def test_closed_forms():
    # A 1x1 convolution is the channel matrix at every pixel: its norm is the matrix's spectral norm.
    w = random_kernel((1, 1, 4, 3), seed=1)
    assert spectral.conv_lipschitz(w, (6, 6)) == pytest.approx(np.linalg.norm(w[0, 0], 2), rel=1e-6)
    # A single-channel non-negative filter peaks at frequency 0 with the sum of its taps.
    k = np.abs(random_kernel((3, 3, 1, 1), seed=2))
    assert spectral.conv_lipschitz(k, (8, 8)) == pytest.approx(k.sum(), rel=1e-6)
    # The discrete Laplacian's symbol 4 - 2cos(u) - 2cos(v) peaks at 8 (u = v = pi) on even grids.
    lap = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], np.float32)[:, :, None, None]
    assert spectral.conv_lipschitz(lap, (8, 8)) == pytest.approx(8.0, rel=1e-6)
    assert spectral.conv_lipschitz(lap, (7, 7)) < 8.0  # no Nyquist frequency on odd grids


@pytest.mark.parametrize("kwargs, match", [
    (dict(kernel=np.zeros((3, 3, 2)), input_hw=(4, 4)), "kernel must be"),
    (dict(kernel=np.zeros((3, 3, 1, 1)), input_hw=(2, 4)), "at least the kernel size"),
    (dict(kernel=np.zeros((3, 3, 1, 1)), input_hw=(4,)), "input_hw must be"),
    (dict(kernel=np.zeros((3, 3, 1, 1)), input_hw=(4.5, 4)), "input_hw must be"),
    (dict(kernel=np.full((1, 1, 1, 1), np.inf), input_hw=(4, 4)), "finite"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spectral.conv_lipschitz(**kwargs)


def test_two_by_two_mean_pool_has_norm_one_half():
    pool = tf.keras.layers.AveragePooling2D(2)
    matrix = spectral.dense_matrix(pool, (4, 6, 2))
    assert np.linalg.svd(matrix, compute_uv=False)[0] == pytest.approx(0.5, rel=1e-6)
    critic = tf.keras.Sequential([tf.keras.Input((4, 6, 2)), pool])
    assert lipschitz_bound.critic_lipschitz_bound(critic)["bound"] == pytest.approx(0.5)


def residual_critic(seed=0, padding="same"):
    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((8, 8, 3))
    h = tf.keras.layers.Conv2D(4, 3, padding=padding)(x)
    branch = tf.keras.layers.ReLU()(h)
    branch = tf.keras.layers.Conv2D(4, 3, padding=padding)(branch)
    h = tf.keras.layers.Add()([h, branch])
    h = tf.keras.layers.AveragePooling2D(2)(h)
    h = tf.keras.layers.ReLU()(h)
    h = tf.keras.layers.GlobalAveragePooling2D()(h)  # layers, not tf ops on Keras tensors (Keras 3 refuses those)
    out = tf.keras.layers.Dense(1)(h)
    return tf.keras.Model(x, tf.keras.layers.Reshape(())(out))


def test_residual_critic_bound_is_the_product_with_one_plus_branch():
    critic = residual_critic()
    report = lipschitz_bound.critic_lipschitz_bound(critic)
    convs = [layer for layer in critic.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    dense = next(layer for layer in critic.layers if isinstance(layer, tf.keras.layers.Dense))
    c1 = spectral.conv_lipschitz(convs[0].kernel, (10, 10))  # 'same' zero padding: the enlarged circular grid
    c2 = spectral.conv_lipschitz(convs[1].kernel, (10, 10))
    expected = c1 * (1 + c2) * 0.5 * (1 / math.sqrt(16)) * np.linalg.norm(dense.kernel.numpy(), 2)
    assert report["bound"] == pytest.approx(expected, rel=1e-6)
    assert report["unbounded"] == []


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_bound_dominates_gradient_norms_and_zero_padded_layers(padding):
    critic = residual_critic(seed=3, padding=padding) if padding == "same" else tf.keras.Sequential(
        [tf.keras.Input((8, 8, 3)), tf.keras.layers.Conv2D(4, 3, padding="valid"), tf.keras.layers.ReLU(),
         tf.keras.layers.Conv2D(2, 3, padding="valid", strides=2), tf.keras.layers.Flatten(), tf.keras.layers.Dense(1)])
    bound = lipschitz_bound.critic_lipschitz_bound(critic)["bound"]
    x = tf.random.stateless_uniform([256, 8, 8, 3], seed=[1, 2], minval=-1, maxval=1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(critic(x))
    grads = tape.gradient(total, x)
    assert float(tf.reduce_max(tf.norm(tf.reshape(grads, [256, -1]), axis=1))) <= bound
    # Each zero-padded conv alone: its dense matrix's norm is below the enlarged-grid circular value.
    conv = next(layer for layer in critic.layers if isinstance(layer, tf.keras.layers.Conv2D))
    matrix = spectral.dense_matrix(lambda v: tf.nn.conv2d(v, conv.kernel, 1, padding.upper()), (8, 8, 3))
    grid = (10, 10) if padding == "same" else (8, 8)
    assert np.linalg.svd(matrix, compute_uv=False)[0] <= spectral.conv_lipschitz(conv.kernel, grid) * (1 + 1e-6)


def test_layer_norm_makes_the_bound_infinite_and_is_named():
    x = tf.keras.Input((4,))
    h = tf.keras.layers.Dense(3, name="d")(x)
    h = tf.keras.layers.LayerNormalization(name="ln")(h)
    report = lipschitz_bound.critic_lipschitz_bound(tf.keras.Model(x, tf.keras.layers.Dense(1)(h)))
    assert math.isinf(report["bound"]) and report["unbounded"] == ["ln"]


def test_input_hw_clones_a_size_agnostic_critic_and_rejects_a_mismatch():
    tf.keras.utils.set_random_seed(0)
    x = tf.keras.Input((None, None, 2))
    h = tf.keras.layers.Conv2D(3, 3, padding="same")(x)
    critic = tf.keras.Model(x, tf.keras.layers.GlobalAveragePooling2D()(h))
    kernel = critic.layers[1].kernel
    report = lipschitz_bound.critic_lipschitz_bound(critic, input_hw=(6, 6))
    assert report["bound"] == pytest.approx(spectral.conv_lipschitz(kernel, (8, 8)) / 6, rel=1e-6)
    with pytest.raises(ValueError, match="input_hw"):
        lipschitz_bound.critic_lipschitz_bound(residual_critic(), input_hw=(16, 16))
    with pytest.raises(ValueError, match="critic must be"):
        lipschitz_bound.critic_lipschitz_bound("resnet")


@pytest.mark.slow
def test_lipschitz_bound_tool_needs_exactly_one_source(project_root):
    import subprocess
    import sys
    for args in ([], ["--run_dir=/tmp/x", "--architecture=resnet"]):
        result = subprocess.run([sys.executable, str(project_root / "tools" / "lipschitz_bound.py"), *args],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and "exactly one of --run_dir and --architecture" in result.stderr


def test_verify_rows_agree():
    rows = spectral.verify_random_kernels(cases=(((3, 3, 2, 3), (5, 5)),), iterations=100)
    (row,) = rows
    assert row["dense_svd"] == pytest.approx(row["dft"], rel=1e-5)
    assert row["power_iteration"] <= row["dft"] * (1 + 1e-5)


def test_the_projects_resnet_critic_is_bounded_end_to_end():
    resnet = pytest.importorskip("bwgan_tf.models.resnet")
    critic = resnet.critic(width=8, seed=1)
    report = lipschitz_bound.critic_lipschitz_bound(critic)
    assert report["unbounded"] == [] and math.isfinite(report["bound"])
    assert sum(r["type"] == "Add" for r in report["layers"]) == 4  # the four residual sums
    x = tf.random.stateless_uniform([32, 32, 32, 3], seed=[0, 1], minval=-1, maxval=1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(critic(x))
    grads = tf.reshape(tape.gradient(total, x), [32, -1])
    assert float(tf.reduce_max(tf.norm(grads, axis=1))) <= report["bound"]
    layer_norm = lipschitz_bound.critic_lipschitz_bound(resnet.critic(width=8, normalization="layer"))
    assert math.isinf(layer_norm["bound"]) and "block0_norm" in layer_norm["unbounded"]


@pytest.mark.slow
def test_lipschitz_bound_tool_on_a_fresh_architecture(project_root):
    pytest.importorskip("bwgan_tf.models")
    import json
    import subprocess
    import sys
    result = subprocess.run([sys.executable, str(project_root / "tools" / "lipschitz_bound.py"), "--architecture=mlp",
                             "--image_size=8", "--width=8", "--empirical=16"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["unbounded"] == [] and 0 < report["max_gradient_norm"] <= report["bound"] < math.inf
