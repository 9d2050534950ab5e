"""Exact optimal transport between two equal-size batches with a Banach cost c(x, y) = ||x - y||_B.

Between two empirical measures with n atoms of mass 1/n each, the Kantorovich problem has an optimal plan
that is a permutation (Birkhoff-von Neumann), so

    W_p(X, Y)^p = min_sigma (1/n) sum_i ||x_i - y_sigma(i)||_B^p                      (Villani 2009, Thm 4.1)

is solved exactly by the assignment problem (scipy.optimize.linear_sum_assignment). The n x n cost
matrix is computed with the project's norms (``space.norm`` on differences) a bounded number of pairs
at a time, so 1,000 x 1,000 CIFAR-10 images need only ``chunk_size`` difference images in memory.
Nothing here knows about Keras models.
"""
import functools
from typing import Union

import numpy as np
import tensorflow as tf
from scipy import optimize

from bwgan_tf import checks, spaces

DEFAULT_CHUNK_SIZE = 2048


def _as_batch(value, name: str) -> np.ndarray:
    if isinstance(value, tf.Tensor):
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be a numeric array of samples [N, ...], got dtype {array.dtype}")
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape [N, D] or [N, H, W, C], got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {array.shape}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite values only")
    return array


def _check_p(p) -> float:
    p = checks.number(p, "p")
    if p < 1:
        raise ValueError(f"p must be a finite number >= 1, got {p!r}")
    return p


def cost_matrix(x, y, space: Union[str, spaces.Space] = "l2", chunk_size: int = DEFAULT_CHUNK_SIZE) -> np.ndarray:
    """C[i, j] = ||x_i - y_j||_B, float64 [N, M], computed ``chunk_size`` pairs at a time.

    Args:
      x: samples [N, ...]; y: samples [M, ...] of the same per-sample shape.
      space: a Space or spec (see spaces.parse).
      chunk_size: pairs (difference samples) per ``space.norm`` call; bounds memory.
    """
    space = spaces.parse(space)
    x, y = _as_batch(x, "x"), _as_batch(y, "y")
    chunk_size = checks.positive_int(chunk_size, "chunk_size")
    if x.shape[1:] != y.shape[1:]:
        raise ValueError(f"x and y must have the same sample shape, got x {x.shape} and y {y.shape}")
    n, m = x.shape[0], y.shape[0]
    chunk_size = min(chunk_size, n * m)
    xt, yt = tf.constant(x), tf.constant(y)
    chunk_norms = _chunk_norms(space, chunk_size)
    costs = np.empty(n * m, dtype=np.float64)
    for start in range(0, n * m, chunk_size):
        stop = min(start + chunk_size, n * m)
        costs[start:stop] = chunk_norms(xt, yt, tf.constant(start))[:stop - start].numpy()
    return costs.reshape(n, m)


@functools.lru_cache(maxsize=64)
def _chunk_norms(space: spaces.Space, chunk_size: int):
    """A traced function (one per space and chunk size, retraced per input shape) for chunk_size pair norms."""

    @tf.function
    def chunk_norms(xt, yt, start):  # every chunk has chunk_size pairs (the last one wraps around)
        m = tf.shape(yt)[0]
        index = (start + tf.range(chunk_size)) % (tf.shape(xt)[0] * m)
        return space.norm(tf.gather(xt, index // m) - tf.gather(yt, index % m))

    return chunk_norms


def wasserstein(x, y, space: Union[str, spaces.Space] = "l2", p: float = 1, chunk_size: int = DEFAULT_CHUNK_SIZE,
                return_assignment: bool = False) -> Union[float, tuple[float, np.ndarray]]:
    """Exact W_p between the uniform empirical measures of two equal-size batches, cost ||x - y||_B.

    W_p = (min_sigma (1/n) sum_i ||x_i - y_sigma(i)||_B^p)^(1/p), solved by linear_sum_assignment.

    Args:
      x, y: samples [N, ...] (vectors [N, D] or images [N, H, W, C]), the same N and sample shape.
      space: a Space or spec for the cost norm.
      p: exponent >= 1 (finite).
      chunk_size: pairs per norm evaluation when building the cost matrix.
      return_assignment: also return sigma (int array [N]) with x[i] transported to y[sigma[i]].
    Returns:
      W_p as a Python float, or (W_p, sigma).
    """
    p = _check_p(p)
    x_batch, y_batch = _as_batch(x, "x"), _as_batch(y, "y")
    if x_batch.shape[0] != y_batch.shape[0]:
        raise ValueError(f"x and y must be equal-size batches, got {x_batch.shape[0]} and {y_batch.shape[0]} samples")
    costs = cost_matrix(x_batch, y_batch, space, chunk_size)
    powered = costs if p == 1 else costs ** p
    rows, cols = optimize.linear_sum_assignment(powered)
    sigma = np.empty(x_batch.shape[0], dtype=np.int64)
    sigma[rows] = cols
    distance = float(np.mean(powered[rows, cols]) ** (1.0 / p))
    return (distance, sigma) if return_assignment else distance
