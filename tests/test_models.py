"""The papers' architectures: shapes, ranges, parameter counts, resampling, XLA training, determinism."""
import numpy as np
import pytest
import tensorflow as tf

from bwgan_tf import models
from bwgan_tf.models.layers import NearestUpsample2D, mean_pool

TINY = [("resnet", (32, 32, 3), 8), ("resnet", (64, 64, 3), 8), ("dcgan", (64, 64, 3), 4), ("dcgan", (32, 32, 1), 4),
        ("mlp", (16, 16, 3), 16), ("toy_mlp", (2,), 16)]


def test_every_registered_architecture_has_a_tiny_case():
    """A new entry of models.ARCHITECTURES fails here until it has a tiny case, which the shape tests then run."""
    assert {architecture for architecture, _, _ in TINY} == set(models.ARCHITECTURES)


@pytest.mark.parametrize("architecture,shape,width", TINY)
def test_generators_and_critics_have_the_documented_shapes_and_ranges(architecture, shape, width):
    generator = models.build_generator(architecture, image_shape=shape, latent_dim=16, width=width)
    critic = models.build_critic(architecture, image_shape=shape, width=width)
    samples = generator(tf.random.stateless_normal([3, 16], seed=[0, 1]) * 5, training=False)
    assert samples.shape == (3,) + shape
    if architecture not in ("toy_mlp", "mlp"):  # the MLPs' outputs are linear
        assert np.all(np.abs(samples.numpy()) <= 1.0)
    scores = critic(samples)
    assert scores.shape == (3,)


def test_the_wgan_mlp_has_three_hidden_layers_of_512_and_a_linear_output():
    """Official WGAN mlp.py: Linear(nz, 512) ReLU, 2 x (Linear(512, 512) ReLU), Linear(512, 64*64*3)."""
    generator = models.build_generator("mlp", image_shape=(64, 64, 3), latent_dim=100)
    out = 64 * 64 * 3
    assert generator.count_params() == (100 * 512 + 512) + 2 * (512 * 512 + 512) + (512 * out + out)
    assert generator.layers[-1].get_config()["activation"] == "linear"
    critic = models.build_critic("mlp", image_shape=(64, 64, 3))
    assert critic.count_params() == (out * 512 + 512) + 2 * (512 * 512 + 512) + (512 + 1)


def conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


def test_full_size_cifar_resnet_matches_a_hand_count_of_parameters():
    """W = 128, appendix B: dense to 4x4x128, 3 up-blocks (1x1 shortcut, two 3x3 convs, two BNs), BN, 3x3 conv."""
    w = 128
    up_block = conv_params(1, w, w) + 2 * conv_params(3, w, w) + 2 * 4 * w
    expected_g = (128 * 16 * w + 16 * w) + 3 * up_block + 4 * w + conv_params(3, w, 3)
    first = conv_params(1, 3, w) + conv_params(3, 3, w) + conv_params(3, w, w)
    down = conv_params(1, w, w) + 2 * conv_params(3, w, w)
    plain = 2 * conv_params(3, w, w)
    expected_d = first + down + 2 * plain + (w + 1)
    generator = models.build_generator("resnet")
    critic = models.build_critic("resnet")
    assert generator.count_params() == expected_g
    assert critic.count_params() == expected_d
    assert generator(tf.zeros([2, 128])).shape == (2, 32, 32, 3)
    assert critic(tf.zeros([2, 32, 32, 3])).shape == (2,)


@pytest.mark.parametrize("architecture,shape,width", TINY)
@pytest.mark.parametrize("normalization", [None, "layer"])
def test_no_critic_contains_batch_norm_unless_asked(architecture, shape, width, normalization):
    critic = models.build_critic(architecture, image_shape=shape, width=width, normalization=normalization)
    kinds = {type(layer).__name__ for layer in critic.layers}
    assert "BatchNormalization" not in kinds
    assert ("LayerNormalization" in kinds) == (normalization == "layer")


def test_batch_norm_critic_is_available_for_weight_clipping_and_generator_batch_norm_is_optional():
    critic = models.build_critic("dcgan", image_shape=(32, 32, 3), width=4, normalization="batch")
    assert any(isinstance(layer, tf.keras.layers.BatchNormalization) for layer in critic.layers)
    generator = models.build_generator("dcgan", image_shape=(32, 32, 3), width=4, latent_dim=8, batch_norm=False)
    assert not any(isinstance(layer, tf.keras.layers.BatchNormalization) for layer in generator.layers)


def test_upsampling_is_nearest_neighbour_and_mean_pool_is_the_2x2_block_mean():
    x = tf.random.stateless_normal([2, 5, 3, 4], seed=[3, 4])
    expected = tf.image.resize(x, [10, 6], method="nearest")
    np.testing.assert_array_equal(NearestUpsample2D()(x).numpy(), expected.numpy())
    y = np.random.default_rng(0).normal(size=(2, 6, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(mean_pool(y).numpy(), y.reshape(2, 3, 2, 2, 2, 3).mean(axis=(2, 4)), rtol=1e-6)


@pytest.mark.parametrize("architecture,shape", [("resnet", (16, 16, 3)), ("dcgan", (16, 16, 3))])
def test_a_gradient_step_through_generator_and_critic_compiles_with_xla_on_cpu(architecture, shape):
    generator = models.build_generator(architecture, image_shape=shape, latent_dim=8, width=4)
    critic = models.build_critic(architecture, image_shape=shape, width=4)
    optimizer = tf.keras.optimizers.SGD(0.01)
    variables = generator.trainable_variables + critic.trainable_variables

    @tf.function(jit_compile=True)
    def step(z):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(critic(generator(z, training=True), training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    before = [v.numpy().copy() for v in generator.trainable_variables]
    assert np.isfinite(step(tf.ones([2, 8])).numpy())
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, generator.trainable_variables))


def test_the_same_seed_gives_the_same_initial_weights():
    def weights(seed):
        return [w.numpy() for w in models.build_critic("resnet", width=4, seed=seed).weights]
    for a, b in zip(weights(3), weights(3)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(weights(3), weights(4)))


@pytest.mark.parametrize("call,argument", [
    (lambda: models.build_generator("vgg"), "architecture must be one of"),
    (lambda: models.build_generator("resnet", image_shape=(28, 28, 1)), "image_shape"),
    (lambda: models.build_generator("resnet", image_shape=(32, 16, 3)), "image_shape"),
    (lambda: models.build_critic("dcgan", image_shape=(2,)), "image_shape"),
    (lambda: models.build_critic("resnet", width=0), "width"),
    (lambda: models.build_generator("mlp", latent_dim=-1), "latent_dim"),
    (lambda: models.build_critic("resnet", normalization="instance"), "normalization"),
])
def test_bad_arguments_raise_value_errors_naming_them(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


def test_benchmark_counts_the_cifar_critic_macs_by_hand():
    """tools/benchmarks/train_step.forward_macs against a hand count of the W = 128 CIFAR critic (32x32 input)."""
    train_step = pytest.importorskip("tools.benchmarks.train_step")
    w = 128
    first = 16 * 16 * 3 * w + 32 * 32 * 9 * 3 * w + 32 * 32 * 9 * w * w  # shortcut after pooling; two 3x3 convs
    down = 8 * 8 * w * w + 2 * 16 * 16 * 9 * w * w  # 1x1 shortcut after pooling; convs at 16x16
    plain = 2 * 8 * 8 * 9 * w * w
    assert train_step.forward_macs(models.build_critic("resnet")) == first + down + 2 * plain + w
