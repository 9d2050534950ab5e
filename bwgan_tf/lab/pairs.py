"""Pairs of distributions P, Q for the Wasserstein-estimation protocol (bwgan_tf.lab.estimation).

  gaussians_pair       N(+(s, s), I) vs N(-(s, s), I) in R^2 (Mallasto, Montufar & Gerolin, Fig. 2)
  parallel_lines_pair  (0, Z) vs (theta, Z), Z ~ U[0, 1] (Arjovsky et al. 2017, Example 1): W_1 = |theta|
  cifar_pair           real images vs the other half, or vs the images plus Gaussian noise

Each samples both sides from one stateless seed, inside tf.function / XLA.
"""
import dataclasses
import math
from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from bwgan_tf import checks, spaces
from bwgan_tf.io import files

SECOND_DISTRIBUTIONS = ("half", "noise:STD")


@dataclasses.dataclass(frozen=True)
class Pair:
    """Two distributions P, Q sampled together: ``sample(n, seed)`` -> (x [n, ...], y [n, ...]) float32.

    ``sample`` is a TF function of a stateless seed (int32 [2]) usable inside tf.function / XLA.
    ``population`` is the population W_1 in ``population_space`` where known (else None).
    """

    name: str
    sample_shape: tuple[int, ...]
    sample: Callable[[int, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]
    population: Optional[float] = None
    population_space: Optional[str] = None


def _split_seed(seed: tf.Tensor, k: int) -> tf.Tensor:
    return tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=k)


def gaussians_pair(shift: float = 1.0) -> Pair:
    """P = N(+(shift, shift), I), Q = N(-(shift, shift), I) in R^2 (Mallasto et al., Fig. 2).

    A translation: the population W_1 in any norm is ||(2 shift, 2 shift)||, 2 sqrt(2) in l2 for shift 1.
    """
    shift = float(shift)
    offset = tf.constant([shift, shift], tf.float32)

    def sample(n, seed):
        sx, sy = tf.unstack(_split_seed(seed, 2))
        return (tf.random.stateless_normal([n, 2], sx) + offset, tf.random.stateless_normal([n, 2], sy) - offset)

    return Pair(f"gaussians:shift={shift:g}", (2,), sample, population=2 * math.sqrt(2) * abs(shift),
                population_space="l2")


def parallel_lines_pair(theta: float) -> Pair:
    """P_0 = (0, Z), P_theta = (theta, Z), Z ~ U[0, 1] (Arjovsky et al. 2017, Example 1): W_1 = |theta|."""
    theta = checks.number(theta, "theta")

    def sample(n, seed):
        sx, sy = tf.unstack(_split_seed(seed, 2))
        zx, zy = tf.random.stateless_uniform([n, 1], sx), tf.random.stateless_uniform([n, 1], sy)
        return tf.concat([tf.zeros_like(zx), zx], 1), tf.concat([tf.fill(tf.shape(zy), theta), zy], 1)

    return Pair(f"parallel_lines:theta={theta:g}", (2,), sample, population=abs(theta), population_space="l2")


def load_cifar_images(path) -> np.ndarray:
    """x_train of an npz (uint8 [N, H, W, C]) as float32 in [-1, 1]."""
    with files.open_npz(path, "cifar_path") as data:
        if "x_train" not in data.files:
            raise ValueError(f"cifar_path must be an .npz with x_train uint8 [N, H, W, C]; {path} has {data.files}")
        images = data["x_train"]
    if images.ndim != 4:
        raise ValueError(f"cifar_path {path}: x_train must be [N, H, W, C], got shape {images.shape}")
    return images.astype(np.float32) / 127.5 - 1.0


def cifar_pair(images, second: str = "half", seed: int = 0) -> Pair:
    """P = real images, Q named by ``second``.

    Args:
      images: float32 [N, H, W, C] in [-1, 1].
      second: "half" (P and Q are two disjoint halves of the images, split by a seeded permutation) or
        "noise:STD" (P the images, Q independently drawn images plus N(0, STD^2) noise per pixel).
      seed: seed of the split.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[0] < 4:
        raise ValueError(f"images must be [N, H, W, C] with N >= 4, got shape {images.shape}")
    if second == "half":
        order = np.random.default_rng(seed).permutation(images.shape[0])
        half = images.shape[0] // 2
        first, other, noise = images[order[:half]], images[order[half:2 * half]], 0.0
    elif isinstance(second, str) and second.startswith("noise:"):
        try:
            noise = float(second.split(":", 1)[1])
        except ValueError:
            noise = float("nan")
        if not (math.isfinite(noise) and noise > 0):
            raise ValueError(f"second must be 'half' or 'noise:STD' with STD > 0, got {second!r}")
        first = other = images
    else:
        raise ValueError(f"second must be one of {', '.join(SECOND_DISTRIBUTIONS)}, got {second!r}")
    first_t, other_t = tf.constant(first), tf.constant(other)

    def sample(n, seed):
        sx, sy, sn = tf.unstack(_split_seed(seed, 3))
        ix = tf.random.stateless_uniform([n], sx, 0, first_t.shape[0], dtype=tf.int32)
        iy = tf.random.stateless_uniform([n], sy, 0, other_t.shape[0], dtype=tf.int32)
        x, y = tf.gather(first_t, ix), tf.gather(other_t, iy)
        if noise:
            y = y + noise * tf.random.stateless_normal(tf.shape(y), sn)
        return x, y

    return Pair(f"cifar10:{second}", tuple(images.shape[1:]), sample)


def population_distance(pair: Pair, space: spaces.Space) -> Optional[float]:
    """Population W_1 of a translation pair (Q = P - v) in any norm: ||v||; None for other pairs."""
    if pair.name.startswith("gaussians:shift="):
        shift = float(pair.name.split("=")[1])
        return float(space.norm(tf.constant([[2 * shift, 2 * shift]], tf.float32))[0])
    if pair.name.startswith("parallel_lines:theta="):
        theta = float(pair.name.split("=")[1])
        return float(space.norm(tf.constant([[theta, 0.0]], tf.float32))[0])
    return None
