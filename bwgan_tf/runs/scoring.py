"""The metrics of any image set against any other (what tools/evaluate.py prints): a set is a data spec of
bwgan_tf.data (npz:PATH, folder:PATH, a TFDS name), a run directory (its EMA generator) or an exported SavedModel.

A generator scored against data streams its samples through metrics.evaluate (every metric); any other pair is
summarised once per set and compared (metrics.compare: fid, kid, pr, dc), as pytorch-fid and clean-fid do. Each
generator is opened once (runs.generators), and the result names it: "generator" (and "reference_generator")
describe the run directory, checkpoint and step, or the export, that was scored. Generated samples are never
cached; data sets are, keyed by their content (metrics.reference_cache).
"""
from typing import Optional

from bwgan_tf import checks, metrics
from bwgan_tf import data as data_lib
from bwgan_tf.runs import generators
from bwgan_tf.train import run_dir as run_dir_lib


def _is_folder(spec) -> bool:
    return isinstance(spec, str) and spec.startswith("folder:")


def image_size_for(spec, other, checkpoint=None) -> Optional[int]:
    """The side a folder set's images are brought to when compared with `other`: the other set's (a generator's
    output, given as a spec or an open Sampler, or a data spec's images); None when `spec` is no folder or `other`
    is one too (data.load's default)."""
    if not _is_folder(spec) or other is None or _is_folder(other):
        return None
    sampler = other if isinstance(other, metrics.Sampler) else generators.open_generator(other, checkpoint)
    shape = next(sampler.batches(1, 1)).shape[1:] if sampler is not None else data_lib.sample_shape(other)
    return int(shape[0]) if len(shape) == 3 else None


def set_statistics(spec, extractor, *, num=None, split="train", data_dir=None, batch_size=100, seed=0,
                   kid_samples=metrics.DEFAULT_KID_SAMPLES, cache_dir=None, checkpoint=None, what="--samples",
                   image_size=None) -> metrics.ReferenceStats:
    """ReferenceStats of a set: `num` generated samples (default 50,000) of a generator (a spec, or a Sampler
    already open; never cached), or the first `num` images (default all) of a data set (brought to `image_size`,
    see data.load), in the data's order (cached by spec and content like any reference). Errors in the spec start
    with `what`, the flag that gave it."""
    if isinstance(spec, metrics.Sampler):
        sampler = spec
    else:
        with checks.named(what):
            sampler = generators.open_generator(spec, checkpoint)
    if sampler is not None:
        num = checks.integer(num or 50_000, "num_samples", minimum=2)
        return metrics.reference_statistics(sampler.batches(num, batch_size, seed), extractor, num=num,
                                            kid_samples=kid_samples, name=None, what=what)
    return metrics.reference_statistics(spec, extractor, num=num or metrics.ALL, split=split, data_dir=data_dir,
                                        batch_size=batch_size, kid_samples=kid_samples, cache_dir=cache_dir,
                                        what=what, image_size=image_size)


def default_reference(spec) -> Optional[str]:
    """The data a run directory trained on (its dataset spec); None for any other set."""
    return run_dir_lib.read_config(spec)["dataset"] if run_dir_lib.exists(spec) else None


def score(spec, reference, metric_names, extractor, *, num_samples=None, samples_split="train",
          reference_split="train", reference_num=None, data_dir=None, image_size=None, batch_size=100, seed=0,
          splits=metrics.DEFAULT_SPLITS, kid_samples=metrics.DEFAULT_KID_SAMPLES,
          swd_samples=metrics.DEFAULT_SWD_SAMPLES, cache_dir=None, checkpoint=None, what="--samples") -> dict:
    """{label: value} of `metric_names` for the set `spec` against the set `reference` (see the module doc), plus
    the counts and the extractor's name. Errors name the flag of the set (`what` or --reference)."""
    names = metrics.parse_metrics(metric_names)
    with checks.named(what):
        sampler = generators.open_generator(spec, checkpoint)
    with checks.named("--reference"):
        other = None if reference is None else generators.open_generator(reference)
    common = dict(data_dir=data_dir, batch_size=batch_size, kid_samples=kid_samples)
    if sampler is not None and other is None:
        num = checks.integer(num_samples or 50_000, "--num_samples", minimum=2)
        return metrics.evaluate(sampler, metrics=names, num_samples=num, extractor=extractor, reference=reference,
                                reference_split=reference_split, reference_num=reference_num, seed=seed,
                                splits=splits, swd_samples=swd_samples, cache_dir=cache_dir,
                                image_size=image_size or image_size_for(reference, sampler), **common)
    samples = set_statistics(sampler or spec, extractor, num=num_samples, split=samples_split, seed=seed,
                             cache_dir=cache_dir, checkpoint=checkpoint, what=what,
                             image_size=image_size or image_size_for(spec, other or reference), **common)
    real = set_statistics(other or reference, extractor, num=reference_num, split=reference_split, seed=seed + 1,
                          cache_dir=cache_dir, what="--reference",
                          image_size=image_size or image_size_for(reference, sampler or spec, checkpoint), **common)
    result = metrics.compare(samples, real, names, extractor)
    for name, opened in (("generator", sampler), ("reference_generator", other)):
        if opened is not None and opened.description is not None:
            result[name] = dict(opened.description)
    return result
