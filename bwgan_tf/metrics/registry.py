"""The metrics by name: one registry, filled by `@register` (StyleGAN2-ADA's metrics/metric_main.py is the model);
the metrics themselves are defined in metrics.definitions, which the package imports.

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
from typing import Callable, Optional, Tuple

import numpy as np

from bwgan_tf import checks
from bwgan_tf.metrics import estimators, swd


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
    reference_images: str  # the Settings field: how many real images the reference must keep ("" for none)
    plotted: Tuple[str, ...]  # the value suffixes drawn as panels of a sweep plot ("" is the value itself)
    state: type


METRICS: dict[str, Metric] = {}


def register(name: str, *, prefix: Optional[str] = None, needs_logits: bool = False, needs_reference: bool = False,
             uses_features: bool = True, samples: str = "", qualifier: Callable[[Settings], str] = lambda s: "",
             reference_images: str = "", plotted: Tuple[str, ...] = ()):
    """Class decorator adding a metric's state class to METRICS under `name`. A state class may also define
    static check_settings(settings), check_images(shape) and check_reference(reference_images, num), run
    before any sample is drawn."""

    def decorator(state):
        METRICS[name] = Metric(name, prefix or name, needs_logits, needs_reference, uses_features, samples,
                               qualifier, reference_images, tuple(plotted), state)
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


def label_pattern() -> "re.Pattern":
    """What metric_label writes: a registered name or prefix, then the sample count."""
    stems = sorted({stem for m in METRICS.values() for stem in (m.name, m.prefix)}, key=len, reverse=True)
    return re.compile(rf"^({'|'.join(map(re.escape, stems))})\d+k?(_|$)")


def is_metric_label(key: str) -> bool:
    """Whether a metrics.jsonl key is a metric's value (or its _std) as metric_label names them."""
    return bool(label_pattern().match(key))


def plotted_labels(keys) -> list:
    """The keys a sweep plot draws, one panel each in registry order: for every plotted value of every metric, the
    first key labelled by its Inception name, else by its stand-in prefix (never a _std)."""
    keys, chosen = sorted(keys), []
    for metric in METRICS.values():
        for suffix in metric.plotted:
            for stem in (metric.name, metric.prefix):
                pattern = re.compile(rf"^{re.escape(stem)}\d+k?.*{re.escape(suffix)}$")
                found = next((k for k in keys if pattern.match(k) and not k.endswith("_std")), None)
                if found:
                    chosen.append(found)
                    break
    return chosen


def labelled(stem: str, values: dict) -> dict:
    """{stem + suffix: value}; non-finite values (TF-GAN's KID std of a single block) become None (JSON null)."""
    return {stem + suffix: float(v) if np.isfinite(v) else None for suffix, v in values.items()}


def parse_metrics(metrics) -> tuple:
    """'is,fid' or a sequence -> a tuple of registered names, without repeats (ValueError naming a bad one)."""
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    if not names:
        raise ValueError(f"--metrics: give at least one of {', '.join(METRICS)}")
    return tuple(dict.fromkeys(checks.one_of(name, "--metrics", METRICS) for name in names))


def needing_reference(metrics) -> list:
    """The names among `metrics` that need real data."""
    return [name for name in parse_metrics(metrics) if METRICS[name].needs_reference]


def reference_images(metrics, settings: Settings) -> int:
    """How many real images the reference statistics must keep for `metrics` (0: none)."""
    fields = [METRICS[name].reference_images for name in parse_metrics(metrics)]
    return max([getattr(settings, field) for field in fields if field], default=0)


def check_settings(metrics, settings: Settings) -> None:
    """ValueError when a metric among `metrics` cannot be computed with `settings`."""
    for name in parse_metrics(metrics):
        check = getattr(METRICS[name].state, "check_settings", None)
        if check is not None:
            check(settings)


def check_images(metrics, shape) -> None:
    """ValueError when a metric among `metrics` cannot score images of `shape` [H, W, C]."""
    for name in parse_metrics(metrics):
        check = getattr(METRICS[name].state, "check_images", None)
        if check is not None:
            check(tuple(shape))


def check_reference(metrics, reference, num_samples: int, settings: Settings) -> None:
    """ValueError when the reference statistics lack what a metric among `metrics` needs for `num_samples`."""
    for name in parse_metrics(metrics):
        metric = METRICS[name]
        check = getattr(metric.state, "check_reference", None)
        if check is not None:
            check(reference.images, min(num_samples, getattr(settings, metric.samples or "num_samples")))


def results(states: dict, settings: Settings, extractor, reference) -> dict:
    """{label: value} of every state's result, labelled by metric_label (see labelled)."""
    result = {}
    for name, state in states.items():
        result.update(labelled(metric_label(name, settings, extractor), state.result(reference)))
    return result
