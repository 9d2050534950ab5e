"""The sample-quality estimators in float64, by TF-GAN 2.1 where it imports and by the package's own `formulas` where
it does not (TF-GAN 2.1 imports tf.estimator, which TF 2.16 removed). The two agree within 1e-6 relative
(tests/metrics/test_formulas.py); `compat.estimators_implementation()` makes the choice, here and for
swd.sliced_wasserstein.

- Inception/classifier score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), on `splits` consecutive
  splits, mean and std over splits.
- Frechet distance (Heusel et al. 2017): |m1 - m2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)).
- Kernel distance (Binkowski et al. 2018): TF-GAN's unbiased block estimator of MMD^2 with the cubic kernel
  (x.y/d + 1)^3, and its standard error across blocks (one block: the jackknife's).

With swd, the only module importing tensorflow_gan, and only when it is used.
"""
import numpy as np

from bwgan_tf import compat
from bwgan_tf.metrics import formulas
from bwgan_tf.metrics.formulas import split_sizes  # noqa: F401 (the accumulators split with it)

DEFAULT_SPLITS = 10
DEFAULT_KID_SAMPLES = 10_000  # activations per side kept for KID
DEFAULT_KID_BLOCK_SIZE = 1024


def split_score(logits) -> float:
    """The classifier score exp(E KL(p(y|x) || p(y))) of one split [N, K], in float64."""
    logits = formulas.check_logits(logits)
    if compat.estimators_implementation() == "own":
        return formulas.split_score(logits)
    import tensorflow as tf
    import tensorflow_gan as tfgan
    return float(tfgan.eval.classifier_score_from_logits(tf.constant(logits, tf.float64)))


def classifier_score(logits, splits=DEFAULT_SPLITS):
    """Inception/classifier score exp(E KL(p(y|x) || p(y))) over `splits` consecutive splits -> (mean, std).

    The logits are rounded to float32 first, as the streaming ClassifierScoreAccumulator keeps them."""
    logits = formulas.check_logits(np.asarray(logits, np.float32))
    bounds = np.cumsum(split_sizes(len(logits), splits))[:-1]
    scores = [split_score(part) for part in np.split(logits, bounds)]
    return float(np.mean(scores)), float(np.std(scores))


def frechet_distance(mean1, cov1, mean2, cov2) -> float:
    """|m1 - m2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)) in float64 (TF-GAN's trace_sqrt_product or formulas')."""
    mean1, cov1, mean2, cov2 = formulas.check_moments(mean1, cov1, mean2, cov2)
    if compat.estimators_implementation() == "own":
        return formulas.frechet_distance(mean1, cov1, mean2, cov2)
    import tensorflow as tf
    from tensorflow_gan.python.eval.classifier_metrics import trace_sqrt_product
    mean1, cov1, mean2, cov2 = (tf.constant(x, tf.float64) for x in (mean1, cov1, mean2, cov2))
    trace = tf.linalg.trace(cov1 + cov2) - 2.0 * trace_sqrt_product(cov1, cov2)
    return float(tf.reduce_sum(tf.math.squared_difference(mean1, mean2)) + trace)


def frechet_distance_from_activations(activations1, activations2) -> float:
    """The Frechet distance of the activations' means and unbiased covariances, in float64 (holds all of them)."""
    a, b = formulas.check_activations(activations1, activations2)
    if compat.estimators_implementation() == "own":
        return formulas.frechet_distance_from_activations(a, b)
    import tensorflow as tf
    import tensorflow_gan as tfgan
    return float(tfgan.eval.frechet_classifier_distance_from_activations(tf.constant(a), tf.constant(b)))


def kernel_distance(activations1, activations2, max_block_size=DEFAULT_KID_BLOCK_SIZE):
    """TF-GAN's unbiased KID block estimator with kernel (x.y/d + 1)^3, in float64 -> (kid, std error).

    The std is estimated across blocks of <= max_block_size rows; with one block (as few samples as the block size)
    it is the block's delete-one jackknife standard error (formulas.kid_jackknife_std), where TF-GAN gives NaN.

    TF-GAN 2.1 calls `.shape.assert_has_rank` on its inputs, so they are passed as tensors (eager works)."""
    a, b = formulas.check_activations(activations1, activations2)
    sizes, _ = formulas.kid_blocks(len(a), len(b), max_block_size)  # ValueError when a block has < 2 rows
    if compat.estimators_implementation() == "own":
        kid, std = formulas.kernel_distance(a, b, max_block_size=max_block_size)
    else:
        import tensorflow as tf
        import tensorflow_gan as tfgan
        kid, std = tfgan.eval.kernel_classifier_distance_and_std_from_activations(
            tf.constant(a), tf.constant(b), max_block_size=max_block_size)
    if len(sizes) == 1:
        std = formulas.kid_jackknife_std(a, b)
    return float(kid), float(std)
