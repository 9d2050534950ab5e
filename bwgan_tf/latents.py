"""The one rule from seeds to latent vectors, and paths between them.

z = stateless normal [num, latent_dim] keyed by (seed, index): every sample the package draws for a user comes from
it, so the same seed gives the same images in Python, from a run directory, from an export's serving signature and
on the command line. ``for_seed(k, n)`` is index 0 (tools/sample.py --seed=k, the export's serving_default, the
study's grids); image k of a seed folder is row 0 of ``for_seed(k, 1)``; evaluations draw chunks 0, 1, ... of their
seed (metrics.sampling).
"""
from typing import Sequence

import numpy as np
import tensorflow as tf


def keyed(seed, index, num, latent_dim) -> tf.Tensor:
    """[num, latent_dim] standard normal latents keyed by (seed, index); seed and num may be tensors."""
    seed = tf.cast(seed, tf.int64)
    key = tf.stack([seed, tf.cast(index, tf.int64) + tf.zeros_like(seed)])
    return tf.random.stateless_normal(tf.stack([num, latent_dim]), seed=key)


def for_seed(seed, num, latent_dim) -> tf.Tensor:
    """The `num` latent vectors of `seed`: keyed by (seed, 0)."""
    return keyed(seed, 0, num, latent_dim)


def for_seeds(seeds: Sequence[int], latent_dim: int) -> tf.Tensor:
    """[len(seeds), latent_dim]: row i is the first latent vector of seeds[i], i.e. the one sample that
    tools/sample.py --num=1 --seed=k and the export's serving signature draw for seed k."""
    return tf.concat([for_seed(int(k), 1, latent_dim) for k in seeds], axis=0)


def slerp(a, b, t) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for GAN latents) between vectors a and b at fractions t:
    sin((1 - t) w) / sin(w) a + sin(t w) / sin(w) b with w the angle between them; linear when they are parallel.
    Returns [len(t), dim]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)[:, None]
    cosine = np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300)
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
