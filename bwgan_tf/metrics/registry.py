"""The metrics by name: one registry, filled by `@register` (StyleGAN2-ADA's metrics/metric_main.py is the model).

Each entry is a streaming state class: built with the evaluation's Settings, it is fed every batch of generated
images with their features and logits (`update(Batch)`) and then computes its values from what it accumulated and
the reference statistics (`result`, a dict {suffix: value}).

Labels state the protocol: the metric, the number of generated samples it used (fid50k, is10k, kid10k,
pr10k_k3_precision, swd8192_32px) and, for any extractor but TF-GAN's Inception network, the extractor's name (the
Inception-only metrics is/fid/kid become cs/fd/kd: fd10k_cifar10_classifier), so an Inception Score of 10
splits of 1,000 samples is never read as the papers' 50k protocol, nor a stand-in's number as the papers'.
"""
import dataclasses
import re
from typing import Callable, Optional

import numpy as np

from bwgan_tf import checks, images
from bwgan_tf.metrics import accumulators, estimators, manifold, swd


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the states need to know about one evaluation."""

    num_samples: int
    splits: int = estimators.DEFAULT_SPLITS
    kid_samples: int = estimators.DEFAULT_KID_SAMPLES  # generated rows kept for kid, pr and dc
    kid_block_size: int = estimators.DEFAULT_KID_BLOCK_SIZE
    swd_samples: int = swd.DEFAULT_SWD_SAMPLES
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Batch:
    """One batch of generated samples: images [B, H, W, C] in [-1, 1], features [B, D], logits [B, K] or None."""

    images: np.ndarray
    features: np.ndarray
    logits: Optional[np.ndarray]


@dataclasses.dataclass(frozen=True)
class Metric:
    """A registered metric: `state(settings)` has update(batch) and result(reference) -> {suffix: value}. A state
    class with a static `values(reference, generated, settings)` is also defined between two sets' statistics
    (anything with mean, cov and head_features, e.g. two ReferenceStats: sets.compare)."""

    name: str  # its label stem with TF-GAN's Inception: is, fid, kid, pr, dc, swd
    prefix: str  # its stem with any other extractor, followed by _<extractor name>
    needs_logits: bool
    needs_reference: bool
    uses_features: bool  # False: computed from the images, so no extractor's name in its label
    samples: str  # the Settings field capping the generated samples it uses ("" for all of them)
    qualifier: Callable[[Settings], str]  # protocol detail after the count, e.g. _k3
    state: type


METRICS: dict[str, Metric] = {}
LABEL = re.compile(r"^(is|fid|kid|cs|fd|kd|pr|dc|swd)\d+k?(_|$)")  # what metric_label writes


def register(name: str, *, prefix: Optional[str] = None, needs_logits: bool = False, needs_reference: bool = False,
             uses_features: bool = True, samples: str = "", qualifier: Callable[[Settings], str] = lambda s: ""):
    """Class decorator adding a metric's state class to METRICS under `name`."""

    def decorator(state):
        METRICS[name] = Metric(name, prefix or name, needs_logits, needs_reference, uses_features, samples,
                               qualifier, state)
        return state

    return decorator


def count_label(num: int) -> str:
    """50000 -> '50k', 2500 -> '2500'."""
    return f"{num // 1000}k" if num % 1000 == 0 else str(num)


def metric_label(name: str, settings: Settings, extractor) -> str:
    """The label stem of metric `name` in an evaluation with `settings` and `extractor` (see the module doc; None
    stands for TF-GAN's Inception network)."""
    metric = METRICS[name]
    used = settings.num_samples
    if metric.samples:
        used = min(used, getattr(settings, metric.samples))
    stem = f"{count_label(used)}{metric.qualifier(settings)}"
    if not metric.uses_features or extractor is None or extractor.is_inception:
        return f"{name}{stem}"
    return f"{metric.prefix}{stem}_{extractor.name}"


def is_metric_label(key: str) -> bool:
    """Whether a metrics.jsonl key is a metric's value (or its _std) as metric_label names them."""
    return bool(LABEL.match(key))


def labelled(stem: str, values: dict) -> dict:
    """{stem + suffix: value}; non-finite values (TF-GAN's KID std of a single block) become None (JSON null)."""
    return {stem + suffix: float(v) if np.isfinite(v) else None for suffix, v in values.items()}


def _splits(settings: Settings) -> str:
    return "" if settings.splits == estimators.DEFAULT_SPLITS else f"_{settings.splits}splits"


@register("is", prefix="cs", needs_logits=True, qualifier=_splits)
class InceptionScore:
    """Salimans et al. 2016: exp(E_x KL(p(y|x) || p(y))) on `splits` consecutive splits; mean and std over splits.
    Only the current split's logits are held."""

    def __init__(self, settings: Settings):
        self.scores = accumulators.ClassifierScoreAccumulator(settings.num_samples, settings.splits)

    def update(self, batch: Batch):
        self.scores.update(batch.logits)

    def result(self, reference):
        mean, std = self.scores.result()
        return {"": mean, "_std": std}


class _FromStatistics:
    """A state whose result is `values(reference, self, settings)`: it exposes what it accumulated as a set's
    statistics."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def result(self, reference):
        return self.values(reference, self, self.settings)


@register("fid", prefix="fd", needs_reference=True)
class FrechetDistance(_FromStatistics):
    """Heusel et al. 2017: |m - m_w|^2 + Tr(C + C_w - 2 (C C_w)^(1/2)) from running float64 means and unbiased
    covariances (Chan et al. parallel update), never from all activations."""

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.moments = accumulators.MomentAccumulator()

    def update(self, batch: Batch):
        self.moments.update(batch.features)

    mean = property(lambda self: self.moments.mean)
    cov = property(lambda self: self.moments.cov)

    @staticmethod
    def values(reference, generated, settings):
        return {"": estimators.frechet_distance(reference.mean, reference.cov, generated.mean, generated.cov)}


class _FeatureHead(_FromStatistics):
    """Keeps the first `kid_samples` generated features (generated samples are i.i.d., so a fair subset)."""

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.head = accumulators.HeadAccumulator(settings.kid_samples)

    def update(self, batch: Batch):
        self.head.update(batch.features)

    head_features = property(lambda self: self.head.rows)


@register("kid", prefix="kd", needs_reference=True, samples="kid_samples")
class KernelDistance(_FeatureHead):
    """Binkowski et al. 2018: TF-GAN's block estimator (cubic kernel (x.y/d + 1)^3) on the first `kid_samples`
    features of each side."""

    @staticmethod
    def values(reference, generated, settings):
        kid, std = estimators.kernel_distance(reference.head_features, generated.head_features,
                                              max_block_size=settings.kid_block_size)
        return {"": kid, "_std": std}


@register("pr", needs_reference=True, samples="kid_samples",
          qualifier=lambda settings: f"_k{manifold.PRECISION_RECALL_K}")
class PrecisionRecall(_FeatureHead):
    """Improved precision and recall (Kynkaanniemi et al. 2019, k = 3) of the first `kid_samples` features of
    each side."""

    @staticmethod
    def values(reference, generated, settings):
        precision, recall = manifold.precision_recall(reference.head_features, generated.head_features)
        return {"_precision": precision, "_recall": recall}


@register("dc", needs_reference=True, samples="kid_samples",
          qualifier=lambda settings: f"_k{manifold.DENSITY_COVERAGE_K}")
class DensityCoverage(_FeatureHead):
    """Density and coverage (Naeem et al. 2020, k = 5) of the first `kid_samples` features of each side."""

    @staticmethod
    def values(reference, generated, settings):
        density, coverage = manifold.density_coverage(reference.head_features, generated.head_features)
        return {"_density": density, "_coverage": coverage}


@register("swd", needs_reference=True, uses_features=False, samples="swd_samples")
class SlicedWasserstein:
    """Sliced Wasserstein distance over a Laplacian pyramid (Karras et al. 2018) through TF-GAN, between the first
    `swd_samples` generated images and the reference's first real images (as uint8): one value per level and
    their average (the real-vs-real average, the sampling floor, as _real_avg)."""

    def __init__(self, settings: Settings):
        self.head = accumulators.HeadAccumulator(settings.swd_samples, np.uint8)
        self.seed = settings.seed

    def update(self, batch: Batch):
        self.head.update(images.to_uint8(batch.images))

    def result(self, reference):
        fake = self.head.rows
        swd.check_reference(reference.images, len(fake))
        levels = swd.sliced_wasserstein(reference.images[:len(fake)], fake, seed=self.seed)
        result = {f"_{size}px": to_fake for size, (_, to_fake) in levels.items()}
        result["_avg"] = float(np.mean([to_fake for _, to_fake in levels.values()]))
        result["_real_avg"] = float(np.mean([floor for floor, _ in levels.values()]))
        return result


def parse_metrics(metrics) -> tuple:
    """'is,fid' or a sequence -> a tuple of registered names, without repeats (ValueError naming a bad one)."""
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    if not names:
        raise ValueError(f"--metrics: give at least one of {', '.join(METRICS)}")
    return tuple(dict.fromkeys(checks.one_of(name, "--metrics", METRICS) for name in names))


def needing_reference(metrics) -> list:
    """The names among `metrics` that need real data."""
    return [name for name in parse_metrics(metrics) if METRICS[name].needs_reference]


def results(states: dict, settings: Settings, extractor, reference) -> dict:
    """{label: value} of every state's result, labelled by metric_label (see labelled)."""
    result = {}
    for name, state in states.items():
        result.update(labelled(metric_label(name, settings, extractor), state.result(reference)))
    return result
