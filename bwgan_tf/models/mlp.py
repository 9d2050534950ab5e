"""Multilayer perceptrons: the WGAN paper's MLP generator/critic for images (Arjovsky et al. 2017, Fig. 8; the
official mlp.py: 3 hidden layers of 512 ReLU units and a linear output) and the WGAN-GP toy networks for 2-D data
(Gulrajani et al. 2017: 3 hidden layers of 512 ReLU)."""
import numpy as np
import tensorflow as tf

from bwgan_tf.models.layers import Initializers, critic_normalization

layers = tf.keras.layers


def _hidden(x, init, width, depth, normalization=None):
    for i in range(depth):
        x = layers.Dense(width, kernel_initializer=init.he(), name=f"hidden{i}")(x)
        norm = critic_normalization(normalization, axis=(-1,), name=f"norm{i}") if normalization else None
        if norm is not None:
            x = norm(x)
        x = layers.ReLU()(x)
    return x


def generator(image_shape=(64, 64, 3), latent_dim=128, width=512, depth=3, output_activation="linear",
              seed=0) -> tf.keras.Model:
    """z -> depth ReLU layers of ``width`` -> prod(image_shape) outputs (linear, as the official WGAN mlp.py)."""
    init = Initializers(seed)
    z = tf.keras.Input([latent_dim], name="z")
    x = _hidden(z, init, width, depth)
    x = layers.Dense(int(np.prod(image_shape)), kernel_initializer=init.glorot(), name="out")(x)
    x = layers.Reshape(image_shape)(x)
    return tf.keras.Model(z, layers.Activation(output_activation, dtype="float32")(x), name="mlp_generator")


def critic(image_shape=(64, 64, 3), width=512, depth=3, normalization=None, seed=0) -> tf.keras.Model:
    """samples -> flatten -> depth ReLU layers of ``width`` -> one score [N]."""
    init = Initializers(seed)
    inputs = tf.keras.Input(image_shape, name="samples")
    x = _hidden(layers.Flatten()(inputs), init, width, depth, normalization)
    score = layers.Dense(1, kernel_initializer=init.glorot(), name="score", dtype="float32")(x)
    return tf.keras.Model(inputs, layers.Reshape([])(score), name="mlp_critic")
