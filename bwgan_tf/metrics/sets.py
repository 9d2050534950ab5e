"""Image sets for the metrics and FID / KID between any two of them (the two-set comparison of pytorch-fid and
clean-fid). A set spec is a data spec of bwgan_tf.data (npz:PATH, folder:PATH, a TFDS name), a run directory
(its EMA generator) or an exported SavedModel."""
import os

from bwgan_tf import checks, files
from bwgan_tf.metrics import estimators, registry, sampling
from bwgan_tf.metrics.reference import check_not_degenerate, check_same_images, reference_statistics

ALL = 10**12  # "every image of the set": reference_statistics stops at the end of the split


def open_generator(spec, checkpoint=None):
    """A Sampler when `spec` is a run directory or a SavedModel folder, else None (a data spec)."""
    if not isinstance(spec, str) or not os.path.isdir(spec):
        if checkpoint:
            raise ValueError("--checkpoint goes with a run directory")
        return None
    from bwgan_tf.train import run_dir  # imported here: data and SavedModel sets need no training code
    if run_dir.exists(spec):
        from bwgan_tf.train import build
        if checkpoint:
            files.check_checkpoint(checkpoint)
        generator, config = build.load_generator(spec, checkpoint=checkpoint)
        return sampling.as_sampler(generator, config.latent_dim)
    if os.path.isfile(os.path.join(spec, "saved_model.pb")):
        if checkpoint:
            raise ValueError("--checkpoint goes with a run directory, not a SavedModel")
        return sampling.as_sampler(spec)
    raise ValueError(f"{spec!r} is a folder but neither a run directory (config.json) nor a SavedModel "
                     "(saved_model.pb); for a folder of images write folder:PATH")


def image_size_for(spec, other, checkpoint=None):
    """The side a folder set's images are brought to when compared with `other`: the other set's (a generator's
    output or a data spec's images); None when `spec` is no folder or `other` is one too (data.load's default)."""
    from bwgan_tf import data  # imported here: generated sets need no data pipeline
    if not (isinstance(spec, str) and spec.startswith("folder:")) or other is None or other.startswith("folder:"):
        return None
    sampler = open_generator(other, checkpoint)
    shape = next(sampler.batches(1, 1)).shape[1:] if sampler is not None else data.sample_shape(other)
    return int(shape[0]) if len(shape) == 3 else None


def set_statistics(spec, extractor, *, num=None, split="train", data_dir=None, batch_size=100, seed=0,
                   kid_samples=estimators.DEFAULT_KID_SAMPLES, cache_dir=None, checkpoint=None, what="--samples",
                   image_size=None):
    """ReferenceStats of a set: `num` generated samples (default 50,000) of a generator, or the first `num`
    images (default all) of a data set (brought to `image_size`, see data.load), in the data's order (cached by
    spec like any reference). Errors in the spec start with `what`, the flag that gave it."""
    with checks.named(what):
        sampler = open_generator(spec, checkpoint)
    if sampler is not None:
        num = checks.integer(num or 50_000, "num_samples", minimum=2)
        return reference_statistics(sampler.batches(num, batch_size, seed), extractor, num=num,
                                    kid_samples=kid_samples, name=None)
    return reference_statistics(spec, extractor, num=num or ALL, split=split, data_dir=data_dir,
                                batch_size=batch_size, kid_samples=kid_samples, cache_dir=cache_dir, what=what,
                                image_size=image_size)


SET_METRICS = tuple(name for name, m in registry.METRICS.items() if hasattr(m.state, "values"))  # fid kid pr dc


def compare(samples, reference, metrics, extractor, kid_block_size=estimators.DEFAULT_KID_BLOCK_SIZE) -> dict:
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
    result = {"num_samples": samples.count, "reference_count": reference.count, "extractor": extractor.name}
    for name in names:
        values = registry.METRICS[name].state.values(reference, samples, settings)
        result.update(registry.labelled(registry.metric_label(name, settings, extractor), values))
    return result
