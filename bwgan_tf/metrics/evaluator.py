"""evaluate(): the registered metrics of many generated samples, streamed batch by batch in bounded memory;
compare(): those defined between two sets' statistics (the two-set comparison of pytorch-fid and clean-fid)."""
import time

import numpy as np

from bwgan_tf import checks, compat
from bwgan_tf.io import progress
from bwgan_tf.metrics import features, registry, sampling, swd
from bwgan_tf.metrics.estimators import DEFAULT_KID_BLOCK_SIZE, DEFAULT_KID_SAMPLES, DEFAULT_SPLITS
from bwgan_tf.metrics.reference import check_not_degenerate, check_same_images, reference_statistics


def resolve_extractor(extractor=None, *, classifier=None, classifier_layer=None, inception=None,
                      allow_download=False, metrics=(), fid_precision="float32") -> features.FeatureExtractor:
    """A FeatureExtractor as given, else a Keras/SavedModel classifier (path or model), else TF-GAN's Inception
    TF-Hub module when `inception` is given, else the standard FID network (which has no logits: asking for
    'is' among `metrics` without `inception` raises InceptionUnavailableError saying where to get the module;
    fid_precision "bfloat16" runs it in bf16)."""
    if extractor is not None:
        if not isinstance(extractor, features.FeatureExtractor):
            raise ValueError(f"extractor must be a features.FeatureExtractor, got {type(extractor).__name__}")
        return extractor
    if classifier is not None:
        return features.keras_extractor(classifier, layer=classifier_layer)
    if inception is not None or allow_download:
        return features.inception_extractor(inception, allow_download=allow_download)
    logit_metrics = [m for m in registry.parse_metrics(metrics or "fid") if registry.METRICS[m].needs_logits]
    if logit_metrics:
        raise features.InceptionUnavailableError(
            f"--inception: {', '.join(logit_metrics)} needs the 1008-way logits of TF-GAN's Inception module, which "
            "the FID network (used for fid and kid) does not have. " + features.download_help())
    return features.fid_extractor(precision=fid_precision)


def evaluate(source, *, metrics=("is", "fid", "kid"), num_samples=50_000, extractor=None, reference=None,
             reference_stats=None, reference_split="train", reference_num=None, data_dir=None, batch_size=100,
             seed=0, splits=DEFAULT_SPLITS, kid_samples=DEFAULT_KID_SAMPLES, kid_block_size=DEFAULT_KID_BLOCK_SIZE,
             swd_samples=swd.DEFAULT_SWD_SAMPLES, cache_dir=None, latent_dim=None, image_size=None,
             generator=None) -> dict:
    """The registered metrics of `num_samples` generated samples, streamed batch by batch.

    Args:
      source: anything sampling.as_sampler accepts (WassersteinGAN, generator + latent_dim, SavedModel, Sampler).
      metrics: names from registry.METRICS ("is,fid" or a sequence; default is, fid and kid).
      extractor: a FeatureExtractor (resolve_extractor; default TF-GAN's Inception, which must be available).
      reference / reference_stats: real data (spec or batches, see reference_statistics) or
        precomputed stats; needed for all but is. reference_num defaults to num_samples; image_size brings a
        data spec's images to that side (data.load).
      kid_samples: generated and real feature rows used by kid, pr and dc; swd_samples: images used by swd.
      cache_dir: reference-statistics cache (None: none; reference.default_cache_dir() is the shared one).
      generator: a description (dict) of the generator scored, recorded as result["generator"]; default the
        sampler's own (`Sampler.description`, set by bwgan_tf.runs.generators: run directory, checkpoint, step).
    Returns:
      {label: value} with labels from registry.metric_label (stating the protocol, e.g. fid50k, kid10k_std), plus
      num_samples, extractor, estimators (the implementation of IS/FID/KID/SWD: 'tfgan' or 'own'), reference_count,
      seconds and, when known, generator.
    """
    start = time.perf_counter()
    metrics = registry.parse_metrics(metrics)
    extractor = resolve_extractor(extractor, metrics=metrics)
    sampler = sampling.as_sampler(source, latent_dim)
    num_samples = checks.integer(num_samples, "num_samples", minimum=2)
    batch_size = checks.positive_int(batch_size, "batch_size")
    for name in metrics:
        if registry.METRICS[name].needs_logits and not extractor.has_logits:
            raise ValueError(f"--metrics: {name!r} needs logits, and extractor {extractor.name!r} has none")
    settings = registry.Settings(num_samples, splits, kid_samples, kid_block_size, swd_samples, seed)
    registry.check_settings(metrics, settings)
    needing = registry.needing_reference(metrics)
    if needing and reference_stats is None:
        if reference is None:
            raise ValueError(f"--reference: {' and '.join(needing)} need real data (a dataset spec) or "
                             "reference_stats")
        reference_stats = reference_statistics(
            reference, extractor, num=reference_num or num_samples, split=reference_split, data_dir=data_dir,
            batch_size=batch_size, kid_samples=kid_samples, keep_images=registry.reference_images(metrics, settings),
            cache_dir=cache_dir, image_size=image_size)
    if needing:
        check_not_degenerate(reference_stats, extractor.name, "--reference")
        registry.check_reference(metrics, reference_stats, num_samples, settings)
    states = {name: registry.METRICS[name].state(settings) for name in metrics}
    featurised = any(registry.METRICS[name].uses_features for name in metrics)
    report = progress.Progress(f"features of {num_samples} samples ({extractor.name})", num_samples)
    for images in sampler.batches(num_samples, batch_size, seed):
        if needing:
            check_same_images(tuple(images.shape[1:]), reference_stats.image_shape)
        registry.check_images(metrics, images.shape[1:])
        feats, logits = extractor(images) if featurised else (None, None)  # image-only metrics need no features
        batch = registry.Batch(np.asarray(images), feats, logits)
        for state in states.values():
            state.update(batch)
        report.update(len(images))
    report.done()
    result = registry.results(states, settings, extractor, reference_stats)
    result.update(num_samples=num_samples, extractor=extractor.name, estimators=compat.estimators_implementation(),
                  seconds=time.perf_counter() - start)
    generator = generator if generator is not None else sampler.description
    if generator is not None:
        result["generator"] = dict(generator)
    if reference_stats is not None:
        result["reference_count"] = reference_stats.count
    return result


SET_METRICS = tuple(name for name, m in registry.METRICS.items() if hasattr(m.state, "values"))  # fid kid pr dc


def compare(samples, reference, metrics, extractor, kid_block_size=DEFAULT_KID_BLOCK_SIZE) -> dict:
    """{label: value} of fid, kid, pr and/or dc between two sets' statistics (labels as registry.metric_label,
    with the scored set's count)."""
    names = registry.parse_metrics(metrics)
    wrong = [name for name in names if name not in SET_METRICS]
    if wrong:
        raise ValueError(f"--metrics: between two image sets only {', '.join(SET_METRICS)} are defined, got "
                         f"{', '.join(wrong)}")
    check_same_images(samples.image_shape, reference.image_shape)
    check_not_degenerate(reference, extractor.name, "--reference")
    settings = registry.Settings(samples.count, kid_samples=len(samples.head_features), kid_block_size=kid_block_size)
    result = {"num_samples": samples.count, "reference_count": reference.count, "extractor": extractor.name,
              "estimators": compat.estimators_implementation()}
    for name in names:
        values = registry.METRICS[name].state.values(reference, samples, settings)
        result.update(registry.labelled(registry.metric_label(name, settings, extractor), values))
    return result
