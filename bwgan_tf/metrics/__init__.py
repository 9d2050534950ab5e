"""Sample quality: Inception Score, FID and KID (TF-GAN's estimators or the own formulas), improved precision/recall and
density/coverage on the same features, and the sliced Wasserstein distance, streamed over many samples.

  estimators    IS, FID, KID in float64: TF-GAN's where it imports, else formulas' (implementation() chooses)
  formulas      the estimators (and SWD) written out in numpy/scipy, checked against TF-GAN's recorded outputs
  accumulators  streaming state: running moments, split-by-split classifier score, first rows
  fid_inception the standard FID network (TF Inception 2015-12-05, pool_3) in Keras; fid_weights converts it
  features      feature extractors: the FID network (default for fid, kid), TF-GAN's Inception module (TF-Hub,
                needed for is), Keras / SavedModel classifiers
  classifier    a small CIFAR-10 classifier (build, train, save) whose features stand in for Inception
  sampling      Sampler: generated images from stateless latents
  reference     reference statistics of real data and their cache
  manifold      k-NN precision/recall (Kynkaanniemi et al.) and density/coverage (Naeem et al.), blocked numpy
  swd           sliced Wasserstein distance over a Laplacian pyramid (TF-GAN or formulas, deterministic)
  registry      the metrics by name (is, fid, kid, pr, dc, swd) and their protocol-stating labels
  evaluator     evaluate(), resolve_extractor()
  sets          image sets (data spec, run directory, SavedModel) and fid / kid / pr / dc between two of them
  sweep         sweep_table(): one row per run directory

Labels state the protocol (fid50k, is10k, pr10k_k3_precision); only the standard Inception network (the FID network
or TF-GAN's module) gives metrics named is/fid/kid; any other extractor's are named cs<N>_<name>, fd<N>_<name>, ...
The training callback is bwgan_tf.train.evaluation.EvaluationCallback.
"""
from bwgan_tf.metrics.accumulators import ClassifierScoreAccumulator, HeadAccumulator, MomentAccumulator
from bwgan_tf.metrics.classifier import build_classifier, load_labelled_npz, save_classifier, train_classifier
from bwgan_tf.metrics.estimators import (
    DEFAULT_KID_BLOCK_SIZE,
    DEFAULT_KID_SAMPLES,
    DEFAULT_SPLITS,
    classifier_score,
    frechet_distance,
    frechet_distance_from_activations,
    kernel_distance,
)
from bwgan_tf.metrics.evaluator import evaluate, resolve_extractor
from bwgan_tf.metrics.features import (
    INCEPTION_HANDLE,
    FeatureExtractor,
    InceptionUnavailableError,
    download_help,
    fid_extractor,
    inception_extractor,
    keras_extractor,
    load_inception,
    random_extractor,
    sanitize_name,
    weights_fingerprint,
)
from bwgan_tf.metrics.manifold import density_coverage, precision_recall
from bwgan_tf.metrics.reference import (
    ReferenceStats,
    check_not_degenerate,
    check_same_images,
    default_cache_dir,
    reference_statistics,
)
from bwgan_tf.metrics.registry import (
    METRICS,
    Metric,
    is_metric_label,
    metric_label,
    needing_reference,
    parse_metrics,
    register,
)
from bwgan_tf.metrics.sampling import Sampler, as_sampler
from bwgan_tf.metrics.sets import compare, image_size_for, open_generator, set_statistics
from bwgan_tf.metrics.swd import DEFAULT_SWD_SAMPLES, sliced_wasserstein
from bwgan_tf.metrics.sweep import sweep_table

__all__ = [
    "DEFAULT_KID_BLOCK_SIZE",
    "DEFAULT_KID_SAMPLES",
    "DEFAULT_SPLITS",
    "DEFAULT_SWD_SAMPLES",
    "INCEPTION_HANDLE",
    "METRICS",
    "ClassifierScoreAccumulator",
    "FeatureExtractor",
    "HeadAccumulator",
    "InceptionUnavailableError",
    "Metric",
    "MomentAccumulator",
    "ReferenceStats",
    "Sampler",
    "as_sampler",
    "compare",
    "download_help",
    "fid_extractor",
    "build_classifier",
    "check_not_degenerate",
    "check_same_images",
    "classifier_score",
    "default_cache_dir",
    "evaluate",
    "frechet_distance",
    "frechet_distance_from_activations",
    "image_size_for",
    "inception_extractor",
    "keras_extractor",
    "kernel_distance",
    "load_inception",
    "load_labelled_npz",
    "density_coverage",
    "is_metric_label",
    "metric_label",
    "precision_recall",
    "sliced_wasserstein",
    "needing_reference",
    "parse_metrics",
    "random_extractor",
    "reference_statistics",
    "register",
    "resolve_extractor",
    "sanitize_name",
    "set_statistics",
    "open_generator",
    "save_classifier",
    "sweep_table",
    "train_classifier",
    "weights_fingerprint",
]
