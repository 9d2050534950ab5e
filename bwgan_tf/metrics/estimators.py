"""TF-GAN's sample-quality estimators, in float64; the only module of the package that imports tensorflow_gan.

- Inception/classifier score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), on `splits` consecutive
  splits, mean and std over splits (`classifier_score_from_logits`).
- Frechet distance (Heusel et al. 2017): |m1 - m2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)) (`trace_sqrt_product`,
  `frechet_classifier_distance_from_activations`).
- Kernel distance (Binkowski et al. 2018): TF-GAN's unbiased block estimator of MMD^2 with the cubic kernel
  (x.y/d + 1)^3 (`kernel_classifier_distance_and_std_from_activations`).
"""
import numpy as np
import tensorflow as tf
import tensorflow_gan as tfgan
from tensorflow_gan.python.eval.classifier_metrics import trace_sqrt_product

DEFAULT_SPLITS = 10
DEFAULT_KID_SAMPLES = 10_000  # activations per side kept for KID
DEFAULT_KID_BLOCK_SIZE = 1024


def split_sizes(num: int, splits: int = DEFAULT_SPLITS) -> list:
    """Sizes of `splits` consecutive splits of `num` samples (numpy's array_split)."""
    if splits < 1 or num < splits:
        raise ValueError(f"splits must be in [1, num_samples={num}], got {splits}")
    return [len(s) for s in np.array_split(np.arange(num), splits)]


def split_score(logits) -> float:
    """TF-GAN's classifier_score_from_logits of one split [N, K], in float64."""
    return float(tfgan.eval.classifier_score_from_logits(tf.constant(logits, tf.float64)))


def classifier_score(logits, splits=DEFAULT_SPLITS):
    """Inception/classifier score exp(E KL(p(y|x) || p(y))) over `splits` consecutive splits -> (mean, std)."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape [N, K], got {logits.shape}")
    bounds = np.cumsum(split_sizes(len(logits), splits))[:-1]
    scores = [split_score(part) for part in np.split(logits.astype(np.float32), bounds)]
    return float(np.mean(scores)), float(np.std(scores))


def frechet_distance(mean1, cov1, mean2, cov2) -> float:
    """|m1 - m2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)) in float64, with TF-GAN's trace_sqrt_product."""
    mean1, mean2 = tf.constant(mean1, tf.float64), tf.constant(mean2, tf.float64)
    cov1, cov2 = tf.constant(cov1, tf.float64), tf.constant(cov2, tf.float64)
    d = mean1.shape[0] if mean1.shape.rank == 1 else None
    if d is None or mean2.shape != [d] or cov1.shape != [d, d] or cov2.shape != [d, d]:
        raise ValueError(f"means [D] and covariances [D, D] must match, got {mean1.shape}, {cov1.shape}, "
                         f"{mean2.shape}, {cov2.shape}")
    trace = tf.linalg.trace(cov1 + cov2) - 2.0 * trace_sqrt_product(cov1, cov2)
    return float(tf.reduce_sum(tf.math.squared_difference(mean1, mean2)) + trace)


def frechet_distance_from_activations(activations1, activations2) -> float:
    """TF-GAN's frechet_classifier_distance_from_activations in float64 (holds all activations)."""
    return float(tfgan.eval.frechet_classifier_distance_from_activations(
        tf.constant(activations1, tf.float64), tf.constant(activations2, tf.float64)))


def kernel_distance(activations1, activations2, max_block_size=DEFAULT_KID_BLOCK_SIZE):
    """TF-GAN's unbiased KID block estimator with kernel (x.y/d + 1)^3, in float64 -> (kid, std error).

    The std is estimated across blocks of <= max_block_size rows, so it is NaN when there is only one block.

    TF-GAN 2.1 calls `.shape.assert_has_rank` on its inputs, so they are passed as tensors (eager works)."""
    a = tf.constant(np.asarray(activations1), tf.float64)
    b = tf.constant(np.asarray(activations2), tf.float64)
    if a.shape.rank != 2 or b.shape.rank != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"activations must be [N, D] and [M, D], got {a.shape} and {b.shape}")
    if min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("KID needs at least 2 activations on each side")
    kid, std = tfgan.eval.kernel_classifier_distance_and_std_from_activations(a, b, max_block_size=max_block_size)
    return float(kid), float(std)
