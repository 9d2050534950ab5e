"""l2 Lipschitz constants of convolutions: the DFT formula, checked by power iteration and dense SVD.

A 2-D convolution with circular padding, stride 1 and no bias is diagonalised by the 2-D DFT: at each
frequency (u, v) it multiplies the C_in-vector of input coefficients by the C_in x C_out matrix
K^(u, v) = sum_{a,b} k[a, b] exp(-2 pi i (a u / H + b v / W)). Its l2 operator norm is therefore

    ||conv||_2 = max_{u, v} sigma_max(K^(u, v))        (Sedghi, Gupta & Long 2019, Thm 6; the WGAN-GP
                                                         summary's one-layer argument)

which is what ``conv_lipschitz`` computes (exactly, for circular padding). Zero padding is not circular:
bwgan_tf.lab.lipschitz_bound bounds zero-padded layers, and whole critics, with it.
"""
import time
from collections.abc import Sequence
from typing import Callable

import numpy as np
import tensorflow as tf

from bwgan_tf import checks


# --------------------------------------------------------------------------------------------------
# One convolution
# --------------------------------------------------------------------------------------------------
def _check_kernel(kernel) -> np.ndarray:
    if isinstance(kernel, (tf.Tensor, tf.Variable)):
        kernel = kernel.numpy()
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or not np.issubdtype(kernel.dtype, np.number):
        raise ValueError("kernel must be a numeric [kh, kw, C_in, C_out] array (tf.nn.conv2d layout), got shape "
                         f"{kernel.shape}")
    if not np.all(np.isfinite(kernel)):
        raise ValueError("kernel must hold finite values only")
    return kernel.astype(np.float64)


def check_input_hw(input_hw, kernel_hw: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """(height, width) as ints, at least the kernel size; ValueError naming input_hw otherwise."""
    try:
        height, width = (int(v) for v in input_hw)
        ok = all(float(v) == int(v) for v in input_hw)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"input_hw must be a pair of positive integers (height, width), got {input_hw!r}")
    if height < kernel_hw[0] or width < kernel_hw[1]:
        raise ValueError(f"input_hw {tuple(input_hw)} must be at least the kernel size {kernel_hw}")
    return height, width


def frequency_singular_values(kernel, input_hw) -> np.ndarray:
    """Singular values of K^(u, v) for every DFT frequency, shape [H, W, min(C_in, C_out)] (descending)."""
    kernel = _check_kernel(kernel)
    height, width = check_input_hw(input_hw, kernel.shape[:2])
    spectrum = np.fft.fft2(kernel, s=(height, width), axes=(0, 1))  # [H, W, C_in, C_out]
    return np.linalg.svd(spectrum, compute_uv=False)


def conv_lipschitz(kernel, input_hw) -> float:
    """l2 operator norm of the circular, stride-1, bias-free convolution with ``kernel`` on H x W inputs.

    Args:
      kernel: [kh, kw, C_in, C_out] (tf.nn.conv2d / Keras Conv2D layout), kh <= H, kw <= W.
      input_hw: (H, W), the spatial size of the input.
    Returns:
      max over frequencies of the largest singular value of the per-frequency C_in x C_out DFT matrix.
    """
    return float(frequency_singular_values(kernel, input_hw)[..., 0].max())


def circular_conv2d(x, kernel) -> tf.Tensor:
    """tf.nn.conv2d (cross-correlation, stride 1, no bias) on the periodically extended input, 'same' size.

    x [N, H, W, C_in] -> [N, H, W, C_out]; the linear operator whose norm ``conv_lipschitz`` computes.
    """
    kernel = tf.convert_to_tensor(kernel, tf.float32)
    x = tf.convert_to_tensor(x, tf.float32)
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    top, left = (kh - 1) // 2, (kw - 1) // 2
    bottom, right = kh - 1 - top, kw - 1 - left
    height, width = int(x.shape[1]), int(x.shape[2])
    rows = [i % height for i in range(-top, height + bottom)]
    cols = [j % width for j in range(-left, width + right)]
    wrapped = tf.gather(tf.gather(x, rows, axis=1), cols, axis=2)
    return tf.nn.conv2d(wrapped, kernel, strides=1, padding="VALID")


def power_iteration(operator: Callable[[tf.Tensor], tf.Tensor], input_shape: Sequence[int], iterations: int = 100,
                    seed: int = 0) -> float:
    """Largest singular value of a linear ``operator`` by power iteration on A^T A (A^T by autodiff).

    Args:
      operator: a linear map taking a tensor of shape [1, *input_shape].
      input_shape: the per-sample input shape.
      iterations: power steps; the estimate increases towards sigma_max from below.
      seed: seed of the stateless random start.
    """
    iterations = checks.positive_int(iterations, "iterations")
    shape = [1] + [int(d) for d in input_shape]
    v = tf.random.stateless_normal(shape, seed=[int(seed), 0])
    v = v / tf.norm(v)

    @tf.function
    def step(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            av = operator(v)
            half_square = 0.5 * tf.reduce_sum(tf.square(av))
        atav = tape.gradient(half_square, v)  # A^T A v
        return atav / tf.norm(atav), tf.norm(av)

    for _ in range(iterations):
        v, _ = step(v)
    return float(tf.norm(operator(v)))


def dense_matrix(operator: Callable[[tf.Tensor], tf.Tensor], input_shape: Sequence[int]) -> np.ndarray:
    """The matrix [out_dim, in_dim] of a linear operator, by applying it to the standard basis (tiny sizes)."""
    shape = [int(d) for d in input_shape]
    n = int(np.prod(shape))
    basis = tf.reshape(tf.eye(n), [n] + shape)
    return tf.reshape(operator(basis), [n, -1]).numpy().T


VERIFY_CASES = (((3, 3, 3, 64), (32, 32)), ((3, 3, 64, 64), (16, 16)), ((3, 3, 2, 3), (6, 6)), ((5, 5, 1, 2), (8, 8)))


def verify_random_kernels(cases=VERIFY_CASES, iterations: int = 200, seed: int = 0) -> list[dict]:
    """For He-initialised random kernels: the DFT formula, power iteration and (tiny sizes) dense SVD.

    Returns one dict per (kernel shape, input_hw) with ``dft``, ``power_iteration``, ``dense_svd`` (None
    when the operator has more than 400 inputs) and the seconds each took.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for shape, hw in cases:
        kernel = (rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[:3]))).astype(np.float32)
        operator = lambda x, k=kernel: circular_conv2d(x, k)  # noqa: E731
        start = time.perf_counter()
        dft = conv_lipschitz(kernel, hw)
        dft_seconds = time.perf_counter() - start
        start = time.perf_counter()
        power = power_iteration(operator, (*hw, shape[2]), iterations, seed)
        power_seconds = time.perf_counter() - start
        dense = None
        if hw[0] * hw[1] * shape[2] <= 400:
            dense = float(np.linalg.svd(dense_matrix(operator, (*hw, shape[2])), compute_uv=False)[0])
        rows.append({"kernel": list(shape), "input_hw": list(hw), "dft": dft, "power_iteration": power,
                     "dense_svd": dense, "dft_seconds": dft_seconds, "power_seconds": power_seconds})
    return rows
