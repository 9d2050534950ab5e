"""Building blocks shared by the architectures: XLA-friendly resampling and seeded initialisers."""
import itertools
import math

import tensorflow as tf


class NearestUpsample2D(tf.keras.layers.Layer):
    """Nearest-neighbour 2x up-sampling by tf.repeat.

    keras UpSampling2D lowers to ResizeNearestNeighbor, whose gradient has no XLA CPU kernel in TF 2.15; tf.repeat
    compiles everywhere and gives the same values.
    """

    def call(self, x):
        return tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)


def mean_pool(x):
    """Mean of each 2x2 block (the WGAN-GP code's MeanPool), [N, H, W, C] -> [N, H/2, W/2, C]."""
    return tf.keras.layers.AveragePooling2D(2)(x)


class Initializers:
    """Seeded initialisers, one fresh seed per call, so a model's initial weights depend on its seed alone."""

    def __init__(self, seed: int):
        self._seeds = itertools.count(int(seed) * 1000)

    def he(self):
        return tf.keras.initializers.HeUniform(seed=next(self._seeds))

    def glorot(self):
        return tf.keras.initializers.GlorotUniform(seed=next(self._seeds))

    def normal(self, stddev=0.02):
        return tf.keras.initializers.RandomNormal(stddev=stddev, seed=next(self._seeds))


def critic_normalization(kind, axis=(1, 2, 3), name=None):
    """No normalisation, layer norm over ``axis``, or batch norm (weight-clipping critics of the WGAN paper only)."""
    if kind is None:
        return None
    if kind == "layer":
        return tf.keras.layers.LayerNormalization(axis=list(axis), name=name)
    if kind == "batch":
        return tf.keras.layers.BatchNormalization(name=name)
    raise ValueError(f"normalization must be one of None, 'layer', 'batch', got {kind!r}")


def doublings_from_4x4(image_shape, architecture: str, example: str) -> int:
    """log2(H / 4) for a square power-of-two image of size >= 16: the up-sampling stages from a 4x4 start."""
    height, width, _ = image_shape
    stages = math.log2(height / 4) if height == width and height >= 16 else -1
    if stages != int(stages) or stages < 2:
        raise ValueError(f"image_shape for {architecture} must be square with a power-of-two size >= 16 ({example}), "
                         f"got {tuple(image_shape)}")
    return int(stages)
