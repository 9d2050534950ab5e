"""tf.data pipelines: TFDS (cifar10, celeb_a, lsun_bedroom), image folders, .npz arrays and the 2-D toys.

Every pipeline yields float32 batches [B, H, W, C] in [-1, 1] (toys: [B, 2]), shuffled with a seed, repeated,
batched with drop_remainder, mapped in parallel (deterministic order) and prefetched; the same seed gives the
same batches.

Specs (``KNOWN_SPECS``):
* ``cifar10``: TFDS, 32x32 (Adler & Lunz 2018; Gulrajani et al. 2017).
* ``celeb_a``: TFDS 178x218 (WxH) faces; the central 108x108 crop resized to 64x64, as DCGAN / BEGAN
  preprocessing: the crop keeps the face and drops most background, so 64x64 pixels are spent on the face.
* ``lsun_bedroom``: TFDS ``lsun/bedroom``; shorter side resized to 64, then a central 64x64 crop (WGAN paper).
* ``folder:PATH``: any tree of PNG/JPEG files of any size; shorter side to ``image_size`` (default 64), central
  crop. Unreadable files are skipped and counted in a warning.
* ``npz:PATH``: NHWC arrays; key ``x_train`` / ``x_test`` for split train / test, else the only (first) array.
  uint8 is mapped to [-1, 1]; floats must already lie in [-1, 1].
* ``toy:8gaussians``, ``toy:25gaussians``, ``toy:swissroll``, ``toy:parallel_lines[:theta=T]``
  (see bwgan_tf.toy).
"""
import logging
import os
from typing import Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

from bwgan_tf import toy

KNOWN_SPECS = ("cifar10", "celeb_a", "lsun_bedroom", "folder:PATH", "npz:PATH", "toy:8gaussians",
               "toy:25gaussians", "toy:swissroll", "toy:parallel_lines[:theta=T]")
SPLITS = ("train", "test", "validation")
_TFDS = {"cifar10": ("cifar10", 32), "celeb_a": ("celeb_a", 64), "lsun_bedroom": ("lsun/bedroom", 64)}
CELEBA_CROP = 108  # central 108x108 of the 178x218 CelebA image (DCGAN / BEGAN practice)
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_SHUFFLE_BUFFER = 10_000
_LOG = logging.getLogger(__name__)


def _known() -> str:
    return ", ".join(KNOWN_SPECS)


def _parse(spec) -> Tuple[str, str, Dict[str, float]]:
    """spec -> (kind, argument, params); kind in tfds names, 'folder', 'npz', 'toy'."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"dataset spec must be a non-empty string, got {spec!r}; known specs: {_known()}")
    if spec in _TFDS:
        return spec, "", {}
    kind, sep, rest = spec.partition(":")
    if kind in ("folder", "npz") and sep and rest:
        return kind, rest, {}
    if kind == "toy" and sep:
        name, _, options = rest.partition(":")
        if name not in toy.NAMES:
            raise ValueError(f"unknown toy in dataset spec {spec!r}; known specs: {_known()}")
        params = {}
        for item in filter(None, options.split(",")):
            key, eq, value = item.partition("=")
            if not eq or key not in toy.PARAMETERS[name]:
                raise ValueError(f"dataset spec {spec!r}: bad parameter {item!r}; toy:{name} takes "
                                 f"{list(toy.PARAMETERS[name]) or 'no parameters'}")
            try:
                params[key] = float(value)
            except ValueError:
                raise ValueError(f"dataset spec {spec!r}: parameter {key} must be a number, got {value!r}") from None
        return "toy", name, params
    raise ValueError(f"unknown dataset spec {spec!r}; known specs: {_known()}")


def _check_int(name, value, minimum=1, optional=False):
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{' or None' if optional else ''}, got {value!r}")


def _check(split, batch_size, image_size, seed):
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    _check_int("batch_size", batch_size)
    _check_int("image_size", image_size, optional=True)
    _check_int("seed", seed, minimum=0)


def sample_shape(spec, image_size: Optional[int] = None) -> tuple:
    """Shape of one sample: (32, 32, 3) for cifar10, (64, 64, 3) for celeb_a / lsun / folders, (2,) for toys."""
    kind, argument, _ = _parse(spec)
    _check_int("image_size", image_size, optional=True)
    if kind == "toy":
        return (2,)
    if kind == "npz":
        shape = _npz_array(argument, "train").shape[1:]
        if len(shape) == 2:
            shape = shape + (1,)
        return (image_size, image_size, shape[2]) if image_size else tuple(int(d) for d in shape)
    size = image_size or (_TFDS[kind][1] if kind in _TFDS else 64)
    return (size, size, 3)


def toy_modes(spec) -> Tuple[np.ndarray, float]:
    """(centres [K, 2], std) of a toy mixture spec (toy:8gaussians, toy:25gaussians), after rescaling."""
    kind, argument, _ = _parse(spec)
    if kind != "toy":
        raise ValueError(f"spec must be a toy mixture (toy:8gaussians or toy:25gaussians), got {spec!r}")
    return toy.modes(argument)


# ---------------------------------------------------------------------------------------------- preprocessing
def _to_unit(images):
    """uint8 (or float in [0, 255]) -> float32 in [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _resize_center_crop(image, size: int):
    """Shorter side resized to `size` (antialiased bilinear), then the central size x size crop; float32 out."""
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = size / tf.minimum(h, w)
    new_h = tf.maximum(size, tf.cast(tf.math.round(h * scale), tf.int32))
    new_w = tf.maximum(size, tf.cast(tf.math.round(w * scale), tf.int32))
    resized = tf.image.resize(tf.cast(image, tf.float32), tf.stack([new_h, new_w]), antialias=True)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return resized[top:top + size, left:left + size, :]


def _finish(images, size):
    """float32 in [0, 255] -> [-1, 1], clipped (antialiased resizing can overshoot) with a static shape."""
    images = tf.clip_by_value(images / 127.5 - 1.0, -1.0, 1.0)
    return tf.ensure_shape(images, [size, size, 3]) if images.shape.rank == 3 else images


# ---------------------------------------------------------------------------------------------- sources
def _tfds_source(kind, split, data_dir, download, seed, shuffle):
    """Dataset of one image per element: uint8 [H, W, 3] (cifar10) or encoded bytes (celeb_a, lsun)."""
    import tensorflow_datasets as tfds

    name = _TFDS[kind][0]
    searched = data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")
    prepare = (f"prepare it with `tfds build {name} --data_dir={searched}`"
               + (f" (manual download: put the archives in {os.path.join(searched, 'downloads', 'manual')} "
                  f"and pass --manual_dir)" if kind != "cifar10" else "")
               + ", or call bwgan_tf.data.load(..., download=True) where there is internet")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        if download:
            builder.download_and_prepare()
        read_config = tfds.ReadConfig(shuffle_seed=seed)
        # celeb_a / lsun: keep the JPEG bytes through the shuffle buffer (10k decoded images would take GBs)
        decoders = {"image": tfds.decode.SkipDecoding()} if kind != "cifar10" else None
        ds = builder.as_dataset(split=split, shuffle_files=shuffle, read_config=read_config, decoders=decoders)
    except (AssertionError, FileNotFoundError, tf.errors.NotFoundError) as error:
        raise FileNotFoundError(f"TFDS dataset {name!r} (spec {kind!r}, split {split!r}) not found in {searched}: "
                                f"{prepare}. ({type(error).__name__}: {error})") from None
    except (KeyError, ValueError) as error:
        raise ValueError(f"TFDS dataset {name!r}: cannot read split {split!r} from {searched}: {error}") from None
    return ds.map(lambda example: example["image"], num_parallel_calls=tf.data.AUTOTUNE)


def _decoded(image):
    """An image tensor, decoding it first when the reader kept the encoded bytes (SkipDecoding)."""
    if image.dtype == tf.string:
        return tf.io.decode_image(image, channels=3, expand_animations=False)
    return image


def _folder_files(path):
    """Sorted image paths under `path` that PIL can open, and the number skipped as unreadable."""
    from PIL import Image

    if not os.path.isdir(path):
        raise ValueError(f"folder spec: {path!r} is not a directory")
    candidates = sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files
                        if f.lower().endswith(_IMAGE_EXTENSIONS))
    good, bad = [], 0
    for file in candidates:
        try:
            with Image.open(file) as image:
                image.verify()
            good.append(file)
        except Exception:  # noqa: BLE001  (PIL raises many types for corrupt files)
            bad += 1
    if bad:
        _LOG.warning("folder %s: skipped %d unreadable or corrupt image file(s) of %d", path, bad, len(candidates))
    if not good:
        raise ValueError(f"folder spec: no readable PNG/JPEG images under {path!r} "
                         f"({len(candidates)} candidate file(s), {bad} unreadable)")
    return good


def _npz_array(path, split):
    if not os.path.isfile(path):
        raise ValueError(f"npz spec: no such file {path!r}")
    with np.load(path) as archive:
        keys = list(archive.files)
        if not keys:
            raise ValueError(f"npz spec: {path!r} holds no arrays")
        wanted = {"train": "x_train", "test": "x_test", "validation": "x_validation"}[split]
        if wanted in keys:
            key = wanted
        elif any(k in keys for k in ("x_train", "x_test", "x_validation")):
            raise ValueError(f"npz spec: {path!r} has no array {wanted!r} for split {split!r}; arrays: {keys}")
        else:
            key = keys[0]
        array = archive[key]
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[0] == 0:
        raise ValueError(f"npz spec: array {key!r} in {path!r} must be non-empty NHWC, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"npz spec: array {key!r} must be uint8 or float, got {array.dtype}")
    low, high = float(array.min()), float(array.max())
    if not (np.isfinite(low) and np.isfinite(high)) or low < -1.0 - 1e-4 or high > 1.0 + 1e-4:
        raise ValueError(f"npz spec: float array {key!r} must lie in [-1, 1], found [{low:g}, {high:g}]; "
                         f"store uint8 or rescale")
    return array.astype(np.float32)


def _options(ds):
    options = tf.data.Options()
    options.deterministic = True
    return ds.with_options(options)


def load(spec, split: str = "train", batch_size: int = 64, data_dir: Optional[str] = None, download: bool = False,
         seed: int = 0, image_size: Optional[int] = None, repeat: bool = True, shuffle: bool = True) -> tf.data.Dataset:
    """Batches [batch_size, *sample_shape(spec, image_size)] float32 in [-1, 1] (toys: [batch_size, 2]).

    Shuffled (buffer of 10k examples, or a full permutation for npz / folders) with `seed`, repeated unless
    repeat=False, batched with drop_remainder, mapped in parallel with deterministic order and prefetched.
    Toys are infinite: repeat and shuffle do not apply. Raises ValueError on a bad spec / argument and
    FileNotFoundError when a TFDS dataset is not prepared in `data_dir`.
    """
    kind, argument, params = _parse(spec)
    _check(split, batch_size, image_size, seed)
    auto = tf.data.AUTOTUNE
    if kind == "toy":
        return _options(toy.dataset(argument, batch_size, seed, params).prefetch(auto))
    if kind == "npz":
        array = _npz_array(argument, split)
        n = array.shape[0]
        constant = tf.constant(array)
        ds = tf.data.Dataset.range(n)
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = ds.batch(batch_size, drop_remainder=True)

        def gather(index):
            images = tf.gather(constant, index)
            images = _to_unit(images) if array.dtype == np.uint8 else images
            if image_size and image_size != array.shape[1]:
                images = tf.clip_by_value(tf.image.resize(images, [image_size, image_size], antialias=True), -1., 1.)
            return images

        return _options(ds.map(gather, num_parallel_calls=auto).prefetch(auto))
    if kind == "folder":
        files = _folder_files(argument)
        size = image_size or 64
        ds = tf.data.Dataset.from_tensor_slices(files)
        if shuffle:
            ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()

        def decode(file):
            image = tf.io.decode_image(tf.io.read_file(file), channels=3, expand_animations=False)
            return _finish(_resize_center_crop(image, size), size)

        ds = ds.map(decode, num_parallel_calls=auto).ignore_errors()  # files corrupt past the header
        return _options(ds.batch(batch_size, drop_remainder=True).prefetch(auto))
    # TFDS
    ds = _tfds_source(kind, split, data_dir, download, seed, shuffle)
    size = image_size or _TFDS[kind][1]
    if shuffle:
        ds = ds.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if kind == "cifar10":
        ds = ds.batch(batch_size, drop_remainder=True)

        def convert(images):
            images = _to_unit(images)
            if size != 32:
                images = tf.clip_by_value(tf.image.resize(images, [size, size], antialias=True), -1.0, 1.0)
            return images

        return _options(ds.map(convert, num_parallel_calls=auto).prefetch(auto))
    if kind == "celeb_a":
        def crop(image):
            image = tf.image.resize_with_crop_or_pad(_decoded(image), CELEBA_CROP, CELEBA_CROP)  # central 108x108
            return _finish(tf.image.resize(tf.cast(image, tf.float32), [size, size], antialias=True), size)
        ds = ds.map(crop, num_parallel_calls=auto)
    else:  # lsun_bedroom
        ds = ds.map(lambda image: _finish(_resize_center_crop(_decoded(image), size), size), num_parallel_calls=auto)
    return _options(ds.batch(batch_size, drop_remainder=True).prefetch(auto))


def take(spec, num: int, split: str = "train", data_dir: Optional[str] = None, seed: int = 0,
         image_size: Optional[int] = None) -> np.ndarray:
    """The first `num` samples of the seeded, shuffled pipeline as float32 [num, ...] (all, if the split is smaller)."""
    _check_int("num", num)
    if _parse(spec)[0] == "toy":
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
    _check_int("global_batch_size", global_batch_size)
    if global_batch_size % replicas:
        raise ValueError(f"global_batch_size {global_batch_size} must be a multiple of the {replicas} replicas")
    return strategy.experimental_distribute_dataset(load(spec, batch_size=global_batch_size, **kwargs))
