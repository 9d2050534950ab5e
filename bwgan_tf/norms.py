"""The numeric kernels of the norms in bwgan_tf.spaces: the stable L^p norm and the Sobolev Fourier multiplier
(Adler & Lunz 2018, eqs. 6-7). Tensors in, tensors out; no knowledge of Space objects."""
import math
from typing import Tuple

import numpy as np
import tensorflow as tf


def as_float_images(x, allowed_ranks: Tuple[int, ...], what: str) -> tf.Tensor:
    """Converts x to a float32 tensor, rejecting integer dtypes and wrong ranks."""
    x = tf.convert_to_tensor(x)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise ValueError(f"x must be a floating-point tensor (images scaled to [-1, 1]), got dtype {x.dtype.name}")
    rank = x.shape.rank
    if rank not in allowed_ranks:
        raise ValueError(f"x must have rank {' or '.join(map(str, allowed_ranks))} ({what}), got shape {x.shape}")
    return tf.cast(x, tf.float32)


def lp_norm(x: tf.Tensor, p: float) -> tf.Tensor:
    """(sum_i |x_i|^p)^(1/p) over all but the first axis, shape [N].

    Stable for exponents up to ~1e2 and magnitudes 1e-4..1e4: each sample is divided by its largest
    magnitude m (held constant for autodiff, which is exact because the norm is 1-homogeneous) as the
    official stable_norm does. A zero sample has norm 0 and gradient 0.
    """
    axes = list(range(1, x.shape.rank))
    a = tf.abs(x)
    m = tf.stop_gradient(tf.reduce_max(a, axis=axes))
    if math.isinf(p):
        return tf.reduce_max(a, axis=axes)
    if p == 1.0:
        return tf.reduce_sum(a, axis=axes)
    nonzero = m > 0
    m_safe = tf.where(nonzero, m, tf.ones_like(m))
    scale = tf.reshape(m_safe, [-1] + [1] * (x.shape.rank - 1))
    s = tf.reduce_sum(tf.pow(a / scale, p), axis=axes)
    s_safe = tf.where(nonzero, s, tf.ones_like(s))  # keeps the gradient of s^(1/p) finite at 0
    return tf.where(nonzero, m_safe * tf.pow(s_safe, 1.0 / p), tf.zeros_like(m))


def sobolev_symbol(height: int, width: int, s: float, c: float) -> np.ndarray:
    """Fourier multiplier (1 + c |xi|^2)^(s/2) on the DFT grid, shape [H, W] (eq. 7).

    xi_k = min(k, N - k) / floor(N / 2) per axis, i.e. 1 at the Nyquist frequency, as in the
    official BWGAN code. The symbol is even in xi, so the filter is real and self-adjoint.
    """

    def axis_freq(n: int) -> np.ndarray:
        k = np.arange(n, dtype=np.float64)
        return np.minimum(k, n - k) / max(n // 2, 1)

    xi2 = axis_freq(height)[:, None] ** 2 + axis_freq(width)[None, :] ** 2
    return (1.0 + c * xi2) ** (s / 2.0)


def sobolev_filter(x, s: float, c: float = 5.0) -> tf.Tensor:
    """F^-1[(1 + c|xi|^2)^(s/2) F x] per channel of x, shape [N, H, W, C] (Adler & Lunz 2018, eq. 7)."""
    x = as_float_images(x, (4,), "[N, H, W, C] images")
    if s == 0:
        return x
    height, width = x.shape[1], x.shape[2]
    if height is None or width is None:
        raise ValueError(f"x must have static height and width for the Sobolev filter, got shape {x.shape}")
    symbol = tf.constant(sobolev_symbol(height, width, s, c), dtype=tf.complex64)
    channels_first = tf.transpose(x, [0, 3, 1, 2])
    spectrum = tf.signal.fft2d(tf.complex(channels_first, tf.zeros_like(channels_first)))
    filtered = tf.math.real(tf.signal.ifft2d(spectrum * symbol))
    return tf.transpose(filtered, [0, 2, 3, 1])


def duality_map(h: tf.Tensor, q: float) -> tf.Tensor:
    """J_q(h) with <h, J(h)> = ||h||_q^2 and ||J(h)||_p = ||h||_q, per sample (L^q -> L^p)."""
    rank_ones = [1] * (h.shape.rank - 1)
    norm = tf.reshape(lp_norm(h, q), [-1] + rank_ones)
    if math.isinf(q):  # all mass on one largest entry
        flat = tf.reshape(h, [tf.shape(h)[0], -1])
        first = tf.one_hot(tf.argmax(tf.abs(flat), axis=1), tf.shape(flat)[1], dtype=h.dtype)
        return tf.reshape(first * tf.sign(flat), tf.shape(h)) * norm
    if q == 1.0:
        return tf.sign(h) * norm
    m = tf.reshape(tf.reduce_max(tf.abs(h), axis=list(range(1, h.shape.rank))), [-1] + rank_ones)
    m = tf.where(m > 0, m, tf.ones_like(m))
    relative_norm = norm / m
    safe = tf.where(relative_norm > 0, relative_norm, tf.ones_like(relative_norm))
    return m * tf.sign(h) * tf.pow(tf.abs(h) / m, q - 1.0) * tf.pow(safe, 2.0 - q)
