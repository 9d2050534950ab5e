"""DCGAN generator and critic (Radford et al. 2016) as used by the WGAN paper (Arjovsky et al. 2017, section 4).

Generator: z -> 4x4x(8W) by a 4x4 transposed conv, then stride-2 4x4 transposed convs halving the channels up to the
image size, tanh; batch norm + ReLU between (batch norm optional: the WGAN paper's "no BN" generator).
Critic: stride-2 4x4 convs doubling the channels down to 4x4, LeakyReLU(0.2), a final 4x4 valid conv to one score;
normalisation none, layer, or batch (the WGAN paper's weight-clipping critic used batch norm).
"""
import tensorflow as tf

from bwgan_tf.models.layers import Initializers, critic_normalization, doublings_from_4x4

layers = tf.keras.layers


def _num_stages(image_shape) -> int:
    return doublings_from_4x4(image_shape, "DCGAN", "64x64 in the WGAN paper")


def generator(image_shape=(64, 64, 3), latent_dim=128, width=64, batch_norm=True, seed=0) -> tf.keras.Model:
    init = Initializers(seed)
    stages = _num_stages(image_shape)
    z = tf.keras.Input([latent_dim], name="z")
    x = layers.Reshape([1, 1, latent_dim])(z)
    channels = width * 2 ** (stages - 1)
    x = layers.Conv2DTranspose(channels, 4, padding="valid", use_bias=not batch_norm,
                               kernel_initializer=init.normal(), name="project")(x)
    for i in range(stages):
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU()(x)
        last = i == stages - 1
        channels = image_shape[-1] if last else channels // 2
        x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=last or not batch_norm,
                                   kernel_initializer=init.normal(), name=f"up{i}")(x)
    return tf.keras.Model(z, layers.Activation("tanh", dtype="float32")(x), name="dcgan_generator")


def critic(image_shape=(64, 64, 3), width=64, normalization=None, seed=0) -> tf.keras.Model:
    init = Initializers(seed)
    stages = _num_stages(image_shape)
    images = tf.keras.Input(image_shape, name="images")
    x = images
    channels = width
    for i in range(stages):
        x = layers.Conv2D(channels, 4, strides=2, padding="same", kernel_initializer=init.normal(), name=f"down{i}")(x)
        norm = critic_normalization(normalization, name=f"norm{i}") if i > 0 else None
        if norm is not None:
            x = norm(x)
        x = layers.LeakyReLU(0.2)(x)
        channels *= 2
    score = layers.Conv2D(1, 4, padding="valid", kernel_initializer=init.normal(), name="score", dtype="float32")(x)
    return tf.keras.Model(images, layers.Reshape([])(score), name="dcgan_critic")
