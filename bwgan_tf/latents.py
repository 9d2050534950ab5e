"""Latent vectors by seed and paths between them (tools/sample.py: one image per seed, interpolation strips)."""
from typing import Sequence

import numpy as np
import tensorflow as tf


def seed_latents(seeds: Sequence[int], latent_dim: int) -> tf.Tensor:
    """[len(seeds), latent_dim]: row i is the stateless normal keyed by (seeds[i], 0), i.e. the one sample that
    tools/sample.py --num=1 --seed=k and the export's serving signature draw for seed k."""
    return tf.concat([tf.random.stateless_normal([1, latent_dim], seed=[int(k), 0]) for k in seeds], axis=0)


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
