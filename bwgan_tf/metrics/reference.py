"""Reference statistics of real data: the feature mean, unbiased covariance, first feature rows (for KID,
precision/recall, density/coverage) and optionally first images (for SWD), cached.

The cache (metrics.reference_cache) is one .npz per (reference, split, extractor name and weights fingerprint, num,
kid_samples, images) in a folder, whose key also holds what the set contains (a content hash of an npz file or an
image folder), so an edited set misses it; `default_cache_dir()` ($BWGAN_TF_CACHE/reference or
~/.cache/bwgan_tf/reference) is the one default, shared by tools/evaluate.py and the training callback.
"""
import json

import numpy as np

from bwgan_tf import checks
from bwgan_tf.io import images, progress
from bwgan_tf.metrics import accumulators, reference_cache
from bwgan_tf.metrics.estimators import DEFAULT_KID_SAMPLES
from bwgan_tf.metrics.reference_cache import default_cache_dir

ALL = 10**12  # "every image of the set": reference_statistics stops at the end of the split
__all__ = ["ALL", "ReferenceStats", "check_not_degenerate", "check_same_images", "default_cache_dir",
           "reference_statistics"]


class ReferenceStats:
    """Mean [D], unbiased covariance [D, D] and the first rows [K, D] of a set's features, its first images as
    uint8 (None unless kept), the shape (H, W, C) of its images (None when unknown) and whether it came from the
    cache."""

    def __init__(self, mean, cov, count, head_features, key="", from_cache=False, image_shape=None, images=None):
        self.mean, self.cov, self.count = np.asarray(mean), np.asarray(cov), int(count)
        self.head_features = np.asarray(head_features, np.float32)
        self.images = None if images is None or not len(images) else np.asarray(images, np.uint8)
        self.key, self.from_cache = key, from_cache
        self.image_shape = None if image_shape is None or not len(image_shape) else tuple(int(d) for d in image_shape)


def check_same_images(shape_a, shape_b, what: str = "--samples") -> None:
    """ValueError when two image sets differ in size or channels (their distance would be silently wrong)."""
    if shape_a is not None and shape_b is not None and tuple(shape_a) != tuple(shape_b):
        raise ValueError(f"{what}: images of shape {'x'.join(map(str, shape_a))} are compared with a reference of "
                         f"{'x'.join(map(str, shape_b))}; both sets must have the same size and channels")


def check_not_degenerate(stats: "ReferenceStats", extractor_name: str, what: str) -> None:
    """ValueError when the features hardly vary (relative total variance < 1e-6): a distance between such feature
    sets is near zero whatever the images, so it would be silently wrong."""
    variance = float(np.trace(stats.cov)) if stats.count > 1 else 0.0
    size = variance + float(np.dot(stats.mean, stats.mean))
    if not variance > 1e-6 * size:
        raise ValueError(f"{what}: the features of {extractor_name!r} are degenerate (total variance {variance:.3g} "
                         f"for a squared mean norm of {size - variance:.3g}): every image maps to nearly the same "
                         "point, so FID/KID would be near zero whatever the images; use another extractor or layer")


def _real_batches(spec, num, split, data_dir, batch_size, what, image_size=None):
    """The first `num` images of a data spec in batches; the spec's errors start with `what` (the flag)."""
    from bwgan_tf import data  # imported here: evaluation of generated samples alone needs no data pipeline
    with checks.named(what):
        dataset = data.load(spec, split=split, batch_size=batch_size, data_dir=data_dir, repeat=False, shuffle=False,
                            drop_remainder=False, image_size=image_size)
    return _head(dataset, num)


def _head(dataset, num):
    seen = 0
    for batch in dataset:
        batch = batch[0] if isinstance(batch, (tuple, list)) else batch
        yield batch[:num - seen]
        seen += int(batch.shape[0])
        if seen >= num:
            return


def _from_arrays(arrays: dict) -> ReferenceStats:
    return ReferenceStats(arrays["mean"], arrays["cov"], arrays["count"], arrays["head_features"], str(arrays["key"]),
                          from_cache=True, image_shape=arrays.get("image_shape"), images=arrays.get("images"))


def _arrays(stats: ReferenceStats) -> dict:
    return dict(mean=stats.mean, cov=stats.cov, count=stats.count, head_features=stats.head_features, key=stats.key,
                image_shape=np.asarray(stats.image_shape or (), np.int64),
                images=stats.images if stats.images is not None else np.zeros((0,), np.uint8))


def _cache_key(real, label, split, extractor, num, kid_samples, keep_images, image_size, what):
    """The cache key of a set, or None when it cannot be cached: a data spec is keyed by what it contains
    (data.fingerprint: None for a missing file, whose error comes from reading it); batches only under a name,
    marked as such so that they never share a data spec's key."""
    key = {"reference": label, "split": split, "extractor": extractor.name, "num": num,
           "kid_samples": int(kid_samples), "weights": getattr(extractor, "fingerprint", "")}
    if keep_images:
        key["images"] = int(keep_images)
    if image_size:
        key["image_size"] = int(image_size)
    if isinstance(real, str):
        from bwgan_tf import data  # imported here: evaluation of generated samples alone needs no data pipeline
        with checks.named(what):
            content = data.fingerprint(real)
        if content is None:
            return None
        key["content"] = content
    else:
        key["source"] = "named batches"
    return key


def reference_statistics(real, extractor, *, num=50_000, split="train", data_dir=None, batch_size=100,
                         kid_samples=DEFAULT_KID_SAMPLES, keep_images=0, cache_dir=None, name=None,
                         what="--reference", image_size=None) -> ReferenceStats:
    """Feature statistics of real data, computed once and cached.

    Args:
      real: a dataset spec for bwgan_tf.data.load (streamed, unshuffled) or an iterable of image batches
        [B, H, W, C] in [-1, 1] (then `name` labels it in the cache key; without a name nothing is cached).
      extractor: a features.FeatureExtractor.
      num: number of real samples (fewer if the split is smaller; `count` says how many).
      kid_samples: feature rows kept (KID, precision/recall and density/coverage use the first ones: keep the data
        unsorted); keep_images: images kept as uint8 (for SWD).
      cache_dir: folder of the .npz cache (None: no cache; default_cache_dir() is the shared one), keyed by
        reference, split, extractor name and weights fingerprint, num, kid_samples, keep_images and, for npz: and
        folder: specs, a hash of their content (metrics.reference_cache); a hit is reported on stderr.
      what: the flag that gave the set `real`; its errors (e.g. an empty .npz, too few images) start with it.
      image_size: the size a data spec's images are brought to (data.load; None: the spec's own).
    """
    num = checks.integer(num, "reference_num", minimum=2)
    is_spec = isinstance(real, str)
    label = real if is_spec else name
    path = key = None
    if cache_dir and label:
        key = _cache_key(real, label, split, extractor, num, kid_samples, keep_images, image_size, what)
    if key is not None:
        path = reference_cache.path_for(cache_dir, key)
        cached = reference_cache.read(path, key, label, what)
        if cached is not None:
            return _from_arrays(cached)
    batches = _real_batches(real, num, split, data_dir, batch_size, what, image_size) if is_spec else real
    moments, head, seen = accumulators.MomentAccumulator(), accumulators.HeadAccumulator(kid_samples), 0
    kept = accumulators.HeadAccumulator(keep_images, np.uint8)
    total = num if num < 10**9 else None  # ALL: every image of a data set, count unknown in advance
    shape, report = None, progress.Progress(f"features of {label or 'the reference'} ({extractor.name})", total)
    for batch in batches:
        batch = batch[:num - seen]
        if len(batch) == 0:
            break
        check_same_images(tuple(batch.shape[1:]), shape, what)
        shape = tuple(batch.shape[1:])
        feats, _ = extractor(batch)
        moments.update(feats)
        head.update(feats)
        if kept.count < keep_images:
            kept.update(images.to_uint8(batch[:keep_images - kept.count]))
        seen += len(batch)
        report.update(len(batch))
    report.done()
    if seen < 2:
        raise ValueError(f"{what}: {label or 'the set'} has {seen} image(s); statistics need at least 2")
    stats = ReferenceStats(moments.mean, moments.cov, moments.count, head.rows, image_shape=shape, images=kept.rows)
    if path:
        stats.key = json.dumps(key, sort_keys=True)
        reference_cache.write(path, _arrays(stats), what)
    return stats

