"""The metrics by name: one registry, filled by `@register` (StyleGAN2-ADA's metrics/metric_main.py is the model).

Each entry is a streaming state class: built with the evaluation's Settings, it is fed every batch of generated
features and logits (`update`) and then computes its value from what it accumulated and the reference
statistics (`result`). The entry says whether it needs logits or real data and whether it reports a std.

Only TF-GAN's Inception network gives metrics named is/fid/kid; with any other extractor a metric is named
<prefix>_<extractor name> (cs_/fd_/kd_<name>), so a stand-in's numbers are never mistaken for the papers'.
"""
import dataclasses

from bwgan_tf import checks
from bwgan_tf.metrics import accumulators, estimators


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the states need to know about one evaluation."""

    num_samples: int
    splits: int = estimators.DEFAULT_SPLITS
    kid_samples: int = estimators.DEFAULT_KID_SAMPLES
    kid_block_size: int = estimators.DEFAULT_KID_BLOCK_SIZE


@dataclasses.dataclass(frozen=True)
class Metric:
    """A registered metric: `state(settings)` has update(features, logits) and result(reference_stats)."""

    name: str  # its label with TF-GAN's Inception: is, fid, kid
    prefix: str  # its label is <prefix>_<extractor name> with any other extractor
    needs_logits: bool
    needs_reference: bool
    has_std: bool  # result() returns (value, std), reported as <label> and <label>_std
    state: type


METRICS: dict[str, Metric] = {}


def register(name: str, *, prefix: str, needs_logits: bool = False, needs_reference: bool = False,
             has_std: bool = False):
    """Class decorator adding a metric's state class to METRICS under `name`."""

    def decorator(state):
        METRICS[name] = Metric(name, prefix, needs_logits, needs_reference, has_std, state)
        return state

    return decorator


@register("is", prefix="cs", needs_logits=True, has_std=True)
class InceptionScore:
    """Salimans et al. 2016: exp(E_x KL(p(y|x) || p(y))) on `splits` consecutive splits; mean and std over splits.
    Only the current split's logits are held."""

    def __init__(self, settings: Settings):
        self.scores = accumulators.ClassifierScoreAccumulator(settings.num_samples, settings.splits)

    def update(self, features, logits):
        self.scores.update(logits)

    def result(self, reference):
        return self.scores.result()


@register("fid", prefix="fd", needs_reference=True)
class FrechetDistance:
    """Heusel et al. 2017: |m - m_w|^2 + Tr(C + C_w - 2 (C C_w)^(1/2)) from running float64 means and unbiased
    covariances (Chan et al. parallel update), never from all activations."""

    def __init__(self, settings: Settings):
        self.moments = accumulators.MomentAccumulator()

    def update(self, features, logits):
        self.moments.update(features)

    def result(self, reference):
        return estimators.frechet_distance(reference.mean, reference.cov, self.moments.mean, self.moments.cov)


@register("kid", prefix="kd", needs_reference=True, has_std=True)
class KernelDistance:
    """Binkowski et al. 2018: TF-GAN's block estimator (cubic kernel (x.y/d + 1)^3) on the first `kid_samples`
    activations of each side (generated samples are i.i.d., so the first ones are a fair subset)."""

    def __init__(self, settings: Settings):
        self.head = accumulators.HeadAccumulator(settings.kid_samples)
        self.block_size = settings.kid_block_size

    def update(self, features, logits):
        self.head.update(features)

    def result(self, reference):
        return estimators.kernel_distance(reference.kid_features, self.head.rows, max_block_size=self.block_size)


def parse_metrics(metrics) -> tuple:
    """'is,fid' or a sequence -> a tuple of registered names, without repeats (ValueError naming a bad one)."""
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    if not names:
        raise ValueError(f"--metrics: give at least one of {', '.join(METRICS)}")
    return tuple(dict.fromkeys(checks.one_of(name, "--metrics", METRICS) for name in names))


def needing_reference(metrics) -> list:
    """The names among `metrics` that need real data."""
    return [name for name in parse_metrics(metrics) if METRICS[name].needs_reference]


def metric_labels(extractor) -> dict:
    """{'is': 'is', 'fid': 'fid', 'kid': 'kid'} for TF-GAN's Inception; cs_/fd_/kd_<name> for any other."""
    if extractor.is_inception:
        return {name: name for name in METRICS}
    return {name: f"{metric.prefix}_{extractor.name}" for name, metric in METRICS.items()}


def label_prefixes() -> tuple:
    """Prefixes of every metric label (is, fid, kid, cs_, fd_, kd_), for reading them back from metrics.jsonl."""
    return tuple(METRICS) + tuple(f"{metric.prefix}_" for metric in METRICS.values())
