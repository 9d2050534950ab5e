"""Sample quality: Inception Score, FID and KID (TF-GAN's estimators or the own formulas), improved precision/recall and
density/coverage on the same features, and the sliced Wasserstein distance, streamed over many samples.

  estimators    IS, FID, KID in float64: TF-GAN's where it imports, else formulas'
                (compat.estimators_implementation() chooses)
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
  registry      the metrics by name, their declared traits and protocol-stating labels
  definitions   the registered metrics: is, fid, kid, pr, dc, swd
  evaluator     evaluate(), resolve_extractor(), and compare(): fid / kid / pr / dc between two sets' statistics

Labels state the protocol (fid50k, is10k, pr10k_k3_precision); only the standard Inception network (the FID network
or TF-GAN's module) gives metrics named is/fid/kid; any other extractor's are named cs<N>_<name>, fd<N>_<name>, ...
Nothing here imports the training code: the training callback (bwgan_tf.train.evaluation) calls this package, and
opening a run directory or an export as an image set is bwgan_tf.runs.scoring.
"""
from bwgan_tf.metrics import definitions  # noqa: F401  (fills the registry)
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
from bwgan_tf.metrics.evaluator import SET_METRICS, compare, evaluate, resolve_extractor
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
    ALL,
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
from bwgan_tf.metrics.swd import DEFAULT_SWD_SAMPLES, sliced_wasserstein

__all__ = [
    "ALL",
    "SET_METRICS",
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
    "save_classifier",
    "train_classifier",
    "weights_fingerprint",
]
