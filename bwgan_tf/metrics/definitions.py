"""The registered metrics (bwgan_tf.metrics.registry): IS, FID, KID, precision/recall, density/coverage, SWD.

Each is a streaming state class: built with the evaluation's Settings, fed every batch of generated images with their
features and logits (`update(Batch)`), then `result(reference)` -> {suffix: value}. A new metric is one class here
with its traits in `@register`; the tests that run over every metric pick it up.
"""
import numpy as np

from bwgan_tf.io import images
from bwgan_tf.metrics import accumulators, estimators, manifold, swd
from bwgan_tf.metrics.registry import Batch, Settings, register


def _splits(settings: Settings) -> str:
    return "" if settings.splits == estimators.DEFAULT_SPLITS else f"_{settings.splits}splits"


@register("is", prefix="cs", needs_logits=True, qualifier=_splits, plotted=("",))
class InceptionScore:
    """Salimans et al. 2016: exp(E_x KL(p(y|x) || p(y))) on `splits` consecutive splits; mean and std over splits.
    Only the current split's logits are held."""

    def __init__(self, settings: Settings):
        self.scores = accumulators.ClassifierScoreAccumulator(settings.num_samples, settings.splits)

    @staticmethod
    def check_settings(settings: Settings):
        if settings.num_samples < settings.splits:
            raise ValueError(f"--num_samples must be >= --splits ({settings.splits}), got {settings.num_samples}")

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


@register("fid", prefix="fd", needs_reference=True, plotted=("",))
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
          qualifier=lambda settings: f"_k{manifold.PRECISION_RECALL_K}", plotted=("_precision", "_recall"))
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


@register("swd", needs_reference=True, uses_features=False, samples="swd_samples", reference_images="swd_samples")
class SlicedWasserstein:
    """Sliced Wasserstein distance over a Laplacian pyramid (Karras et al. 2018) through TF-GAN, between the first
    `swd_samples` generated images and the reference's first real images (as uint8): one value per level and
    their average (the real-vs-real average, the sampling floor, as _real_avg)."""

    def __init__(self, settings: Settings):
        self.head = accumulators.HeadAccumulator(settings.swd_samples, np.uint8)
        self.seed = settings.seed

    check_images = staticmethod(lambda shape: swd.check_images(shape, "--metrics"))
    check_reference = staticmethod(swd.check_reference)

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
