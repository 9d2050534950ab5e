"""tf.data pipelines over the sources: seeded shuffles, batches, parallel maps, prefetch.

Every pipeline yields float32 batches [B, H, W, C] in [-1, 1] (toys: [B, 2]), shuffled with a seed, repeated,
batched with drop_remainder, mapped in parallel (deterministic order) and prefetched; the same seed gives the
same batches. ``start_batch=k`` yields the same stream from its batch k on without computing the first k
(toys, npz and folders: epoch e is the stateless permutation keyed by (seed, e)), so a resumed run sees the data
an uninterrupted run would have seen; TFDS streams are re-shuffled with seed + k instead.

``shard=(i, n)`` is worker i's part of each batch for multi-worker training: rows i*B/n .. (i+1)*B/n of the batch
one process would load. Toys, npz and folders read and decode only those samples, so n workers together see
exactly one process's batches; TFDS streams are split by example instead (each worker shuffles its 1/n of the
examples: the same distribution, not the same batches).
"""
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from bwgan_tf import checks
from bwgan_tf.data import sources, specs, toy

_SHUFFLE_BUFFER = 10_000


def _options(ds):
    options = tf.data.Options()
    options.deterministic = True
    return ds.with_options(options)


def load(spec, split: str = "train", batch_size: int = 64, data_dir: Optional[str] = None, download: bool = False,
         seed: int = 0, image_size: Optional[int] = None, repeat: bool = True, shuffle: bool = True,
         drop_remainder: bool = True, start_batch: int = 0, flip: bool = False, dequantize: bool = False,
         shard: Tuple[int, int] = (0, 1)) -> tf.data.Dataset:
    """Batches [batch_size, *sample_shape(spec, image_size)] float32 in [-1, 1] (toys: [batch_size, 2]); with
    shard=(i, n) worker i's [batch_size / n] part of each (see the module docstring).

    Shuffled (buffer of 10k examples, or a full permutation for npz / folders) with `seed`, repeated unless
    repeat=False, batched with drop_remainder (drop_remainder=False keeps a last, smaller batch: every image once
    with repeat=False), mapped in parallel with deterministic order and prefetched. start_batch: see the module
    docstring. flip / dequantize: random horizontal flips and dequantisation noise (see augment). Toys are
    infinite: repeat and shuffle do not apply. Raises ValueError on a bad spec / argument and FileNotFoundError
    when a TFDS dataset is not prepared in `data_dir`.
    """
    kind, argument, params = specs.parse(spec)
    specs.check_arguments(split, batch_size, image_size, seed)
    start_batch = checks.integer(start_batch, "start_batch", 0)
    rows = shard_rows(batch_size, shard)
    auto = tf.data.AUTOTUNE
    if kind == "toy":
        if flip or dequantize:
            raise ValueError(f"flip and dequantize apply to images, not to the 2-D points of {spec!r}")
        ds = toy.dataset(argument, batch_size, seed, params, start=start_batch)
        return _options((ds if shard[1] == 1 else ds.map(lambda points: points[rows[0]:rows[1]])).prefetch(auto))
    ds = _image_batches(kind, argument, params, split, batch_size, data_dir, download, seed, image_size, repeat,
                        shuffle, drop_remainder, start_batch, shard)
    if flip or dequantize:
        keys = tf.data.Dataset.counter(start_batch)
        ds = tf.data.Dataset.zip((keys, ds)).map(
            lambda i, images: augment(images, [seed, i], flip, dequantize, rows + (batch_size,)),
            num_parallel_calls=auto)
    return _options(ds.prefetch(auto))


def shard_rows(batch_size: int, shard: Tuple[int, int]) -> Tuple[int, int]:
    """(first, last + 1) row of worker i's part of a batch, shard = (i, n); ValueError naming the argument."""
    index, count = shard
    checks.positive_int(count, "shard count")
    if not 0 <= index < count:
        raise ValueError(f"shard index must be in [0, {count}), got {index}")
    if batch_size % count:
        raise ValueError(f"batch_size {batch_size} must be a multiple of the {count} workers sharing it")
    part = batch_size // count
    return index * part, (index + 1) * part


def augment(images: tf.Tensor, key, flip: bool, dequantize: bool, rows=None) -> tf.Tensor:
    """The official codes' augmentation of a batch in [-1, 1], drawn statelessly from `key` ([seed, batch index],
    so a resumed run draws the same): each image flipped left-right with probability 1/2 (adler-j/bwgan), and
    dequantisation noise U[0, 1/256) in [0, 1] units, i.e. U[0, 2/256) here (adler-j/bwgan, WGAN-GP).
    rows=(first, end, B): `images` are rows first..end-1 of a batch of B, drawn for the whole batch and sliced."""
    key = tf.cast(tf.stack(key), tf.int64)
    first, end, total = rows or (0, tf.shape(images)[0], tf.shape(images)[0])
    if flip:
        heads = tf.random.stateless_uniform([total, 1, 1, 1], seed=key)[first:end] < 0.5
        images = tf.where(heads, tf.reverse(images, axis=[2]), images)
    if dequantize:
        noise_key = tf.random.experimental.stateless_fold_in(key, 1)
        shape = tf.concat([[total], tf.shape(images)[1:]], axis=0)
        images = images + tf.random.stateless_uniform(shape, seed=noise_key, maxval=2.0 / 256)[first:end]
    return images


def _image_batches(kind, argument, params, split, batch_size, data_dir, download, seed, image_size, repeat, shuffle,
                   drop_remainder, start_batch, shard) -> tf.data.Dataset:
    """The batched images of an npz, folder or TFDS spec (see load)."""
    auto = tf.data.AUTOTUNE
    first, end = shard_rows(batch_size, shard)
    if kind == "npz":
        array = sources.npz_array(argument, split, params.get("range"))
        constant = tf.constant(array)
        ds = _indices(array.shape[0], seed, shuffle, repeat, start_batch * batch_size)
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        if shard[1] > 1:
            ds = ds.map(lambda index: index[first:end])

        def gather(index):
            images = tf.gather(constant, index)
            images = sources.to_unit(images) if array.dtype == np.uint8 else images
            if image_size and image_size != array.shape[1]:
                images = tf.clip_by_value(tf.image.resize(images, [image_size, image_size], antialias=True), -1., 1.)
            return images

        return ds.map(gather, num_parallel_calls=auto)
    if kind == "folder":
        files = tf.constant(sources.folder_files(argument))
        size = image_size or 64
        ds = _indices(len(files), seed, shuffle, repeat, start_batch * batch_size)
        if shard[1] > 1:
            ds = ds.batch(batch_size, drop_remainder=drop_remainder).map(lambda index: index[first:end]).unbatch()

        def decode(index):
            image = tf.io.decode_image(tf.io.read_file(files[index]), channels=3, expand_animations=False)
            return sources.finish(sources.resize_center_crop(image, size), size)

        ds = ds.map(decode, num_parallel_calls=auto).ignore_errors()  # files corrupt past the header
        return ds.batch(end - first, drop_remainder=drop_remainder)
    # TFDS
    seed += start_batch
    ds = sources.tfds_source(kind, split, data_dir, download, seed, shuffle)
    if shard[1] > 1:
        ds = ds.shard(shard[1], shard[0])
    batch_size = end - first
    size = image_size or sources.TFDS[kind][1]
    if shuffle:
        ds = ds.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if kind == "cifar10":
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)

        def convert(images):
            images = sources.to_unit(images)
            if size != 32:
                images = tf.clip_by_value(tf.image.resize(images, [size, size], antialias=True), -1.0, 1.0)
            return images

        return ds.map(convert, num_parallel_calls=auto)
    if kind == "celeb_a" and params.get("crop") == "official":
        def official_crop(image):
            top, left, side = sources.CELEBA_OFFICIAL_CROP
            image = tf.cast(sources.decoded(image)[top:top + side, left:left + side], tf.float32)
            return sources.finish(tf.image.resize(image, [size, size], method="bilinear"), size)
        ds = ds.map(official_crop, num_parallel_calls=auto)
    elif kind == "celeb_a":
        def crop(image):
            crop = sources.CELEBA_CROP  # central 108x108
            image = tf.image.resize_with_crop_or_pad(sources.decoded(image), crop, crop)
            return sources.finish(tf.image.resize(tf.cast(image, tf.float32), [size, size], antialias=True), size)
        ds = ds.map(crop, num_parallel_calls=auto)
    else:  # lsun_bedroom
        def crop_bedroom(image):
            return sources.finish(sources.resize_center_crop(sources.decoded(image), size), size)

        ds = ds.map(crop_bedroom, num_parallel_calls=auto)
    return ds.batch(batch_size, drop_remainder=drop_remainder)


def _indices(n: int, seed: int, shuffle: bool, repeat: bool, start: int) -> tf.data.Dataset:
    """Element indices of the stream from element `start` on: epoch e is range(n), or its stateless permutation
    keyed by (seed, e) when shuffling; repeat=False stops after the first epoch."""
    first_epoch, offset = divmod(start, n)
    epochs = tf.data.Dataset.counter(first_epoch) if repeat else tf.data.Dataset.range(first_epoch, first_epoch + 1)

    def epoch_indices(epoch):
        indices = tf.range(n, dtype=tf.int64)
        if shuffle:
            key = tf.stack([tf.constant(seed, tf.int64), epoch])
            indices = tf.random.experimental.stateless_shuffle(indices, seed=key)
        return tf.data.Dataset.from_tensor_slices(indices)

    return epochs.flat_map(epoch_indices).skip(offset)


def take(spec, num: int, split: str = "train", data_dir: Optional[str] = None, seed: int = 0,
         image_size: Optional[int] = None) -> np.ndarray:
    """The first `num` samples of the seeded, shuffled pipeline as float32 [num, ...] (all, if the split is smaller)."""
    checks.positive_int(num, "num")
    if specs.parse(spec)[0] == "toy":
        return next(iter(load(spec, split, batch_size=num, seed=seed))).numpy()
    dataset = load(spec, split, batch_size=1, data_dir=data_dir, seed=seed, image_size=image_size, repeat=False)
    out = np.concatenate([images.numpy() for images in dataset.unbatch().batch(256).take(-(-num // 256))])[:num]
    if not len(out):
        raise ValueError(f"spec {spec!r} split {split!r} yielded no samples")
    return out


def distribute(spec, strategy: tf.distribute.Strategy, global_batch_size: int = 64, **kwargs):
    """load(spec, batch_size=global_batch_size, ...) split over the strategy's replicas
    (strategy.experimental_distribute_dataset); the global batch must divide evenly."""
    replicas = strategy.num_replicas_in_sync
    checks.positive_int(global_batch_size, "global_batch_size")
    if global_batch_size % replicas:
        raise ValueError(f"global_batch_size {global_batch_size} must be a multiple of the {replicas} replicas")
    return strategy.experimental_distribute_dataset(load(spec, batch_size=global_batch_size, **kwargs))
