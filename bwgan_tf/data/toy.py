"""2-D toy distributions as seeded, infinite tf.data pipelines of [B, 2] float32 batches.

* ``8gaussians``, ``25gaussians``, ``swissroll``: Gulrajani et al. 2017, the toy code of WGAN-GP (gan_toy.py):
  8 Gaussians of std 0.02 on the circle of radius 2, all divided by 1.414; 25 Gaussians of std 0.05 on the grid
  {-4, -2, 0, 2, 4}^2, divided by 2.828; the swiss roll of sklearn ``make_swiss_roll(noise=0.25)``, columns
  (x, z) divided by 7.5.
* ``parallel_lines``: Arjovsky et al. 2017, Example 1: (theta, Z) with Z ~ U[0, 1]; ``theta`` a spec parameter.

Batch i is drawn with stateless ops from the seed (seed, i), so a pipeline is reproducible, parallel and
XLA-independent.
"""
import math
from typing import Dict, Tuple

import numpy as np
import tensorflow as tf

NAMES = ("8gaussians", "25gaussians", "swissroll", "parallel_lines")
PARAMETERS: Dict[str, Tuple[str, ...]] = {"8gaussians": (), "25gaussians": (), "swissroll": (),
                                          "parallel_lines": ("theta",)}

_SQRT_HALF = 1.0 / math.sqrt(2.0)


def modes(name: str) -> Tuple[np.ndarray, float]:
    """(centres [K, 2], std) of the mixture components after the WGAN-GP rescaling; mixtures only."""
    if name == "8gaussians":
        unit = np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (_SQRT_HALF, _SQRT_HALF), (_SQRT_HALF, -_SQRT_HALF),
                         (-_SQRT_HALF, _SQRT_HALF), (-_SQRT_HALF, -_SQRT_HALF)], dtype=np.float64)
        return (2.0 * unit / 1.414).astype(np.float32), 0.02 / 1.414
    if name == "25gaussians":
        grid = np.array([(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)])
        return (grid / 2.828).astype(np.float32), 0.05 / 2.828
    raise ValueError(f"toy {name!r} has no discrete modes; modes exist for toy:8gaussians and toy:25gaussians")


def sample(name: str, batch_size: int, seed, params=None) -> tf.Tensor:
    """One [batch_size, 2] float32 batch drawn with stateless ops from `seed` (shape [2] int)."""
    params = params or {}
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    if name in ("8gaussians", "25gaussians"):
        centres, std = modes(name)
        index = tf.random.stateless_uniform([batch_size], seeds[0], 0, len(centres), dtype=tf.int32)
        noise = tf.random.stateless_normal([batch_size, 2], seeds[1])
        return tf.gather(tf.constant(centres), index) + std * noise
    if name == "swissroll":
        # sklearn.datasets.make_swiss_roll: t = 1.5 pi (1 + 2 U); (t cos t, 21 U, t sin t) + noise * N(0, I).
        t = 1.5 * math.pi * (1.0 + 2.0 * tf.random.stateless_uniform([batch_size], seeds[0]))
        noise = 0.25 * tf.random.stateless_normal([batch_size, 2], seeds[1])
        return (tf.stack([t * tf.cos(t), t * tf.sin(t)], axis=1) + noise) / 7.5
    if name == "parallel_lines":
        z = tf.random.stateless_uniform([batch_size, 1], seeds[0])
        return tf.concat([tf.fill([batch_size, 1], float(params.get("theta", 0.0))), z], axis=1)
    raise ValueError(f"unknown toy {name!r}; known: {', '.join(NAMES)}")


def dataset(name: str, batch_size: int, seed: int = 0, params=None, start: int = 0) -> tf.data.Dataset:
    """Infinite dataset of [batch_size, 2] batches i = start, start + 1, ...; batch i uses the stateless seed
    (seed, i)."""
    if name not in NAMES:
        raise ValueError(f"unknown toy {name!r}; known: {', '.join(NAMES)}")
    counter = tf.data.Dataset.counter(start)
    return counter.map(lambda i: sample(name, batch_size, tf.stack([tf.constant(seed, tf.int64), i]), params),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
