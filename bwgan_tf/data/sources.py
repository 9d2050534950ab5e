"""Readers of the sources (TFDS, image folders, .npz) and the image preprocessing they share."""
import logging
import os

import numpy as np
import tensorflow as tf

from bwgan_tf.io import files, progress

TFDS = {"cifar10": ("cifar10", 32), "celeb_a": ("celeb_a", 64), "lsun_bedroom": ("lsun/bedroom", 64)}
CELEBA_CROP = 108  # central 108x108 of the 178x218 CelebA image (DCGAN / BEGAN practice)
CELEBA_OFFICIAL_CROP = (50, 25, 128)  # adler-j/bwgan: rows 50..177, columns 25..152
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_LOG = logging.getLogger(__name__)
_VERIFIED = {}  # (file, size, mtime_ns) -> whether PIL reads it
PROGRESS_EVERY_S = 10.0


def to_unit(images):
    """uint8 (or float in [0, 255]) -> float32 in [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def resize_center_crop(image, size: int):
    """Shorter side resized to `size` (antialiased bilinear), then the central size x size crop; float32 out."""
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = size / tf.minimum(h, w)
    new_h = tf.maximum(size, tf.cast(tf.math.round(h * scale), tf.int32))
    new_w = tf.maximum(size, tf.cast(tf.math.round(w * scale), tf.int32))
    resized = tf.image.resize(tf.cast(image, tf.float32), tf.stack([new_h, new_w]), antialias=True)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return resized[top:top + size, left:left + size, :]


def finish(images, size):
    """float32 in [0, 255] -> [-1, 1], clipped (antialiased resizing can overshoot) with a static shape."""
    images = tf.clip_by_value(images / 127.5 - 1.0, -1.0, 1.0)
    return tf.ensure_shape(images, [size, size, 3]) if images.shape.rank == 3 else images


# split "all": every image of the data set (the official BWGAN code trains on all 60k CIFAR-10 images)
TFDS_ALL = {"cifar10": "train+test", "celeb_a": "train+validation+test", "lsun_bedroom": "train+validation"}


def tfds_source(kind, split, data_dir, download, seed, shuffle):
    """Dataset of one image per element: uint8 [H, W, 3] (cifar10) or encoded bytes (celeb_a, lsun)."""
    import tensorflow_datasets as tfds

    split = TFDS_ALL[kind] if split == "all" else split
    name = TFDS[kind][0]
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


def decoded(image):
    """An image tensor, decoding it first when the reader kept the encoded bytes (SkipDecoding)."""
    if image.dtype == tf.string:
        return tf.io.decode_image(image, channels=3, expand_animations=False)
    return image


def _readable(file) -> bool:
    """Whether PIL can open and verify `file`; remembered per (file, size, mtime), so each file is opened once."""
    from PIL import Image

    stat = os.stat(file)
    key = (file, stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        try:
            with Image.open(file) as image:
                image.verify()
            _VERIFIED[key] = True
        except Exception:  # noqa: BLE001  (PIL raises many types for corrupt files)
            _VERIFIED[key] = False
    return _VERIFIED[key]


def folder_candidates(path):
    """Sorted paths of the PNG/JPEG files under `path` (readable or not)."""
    return sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files
                  if f.lower().endswith(_IMAGE_EXTENSIONS))


def folder_files(path):
    """Sorted image paths under `path` that PIL can open (the others are skipped and counted in a warning); a
    progress line on stderr every PROGRESS_EVERY_S while a large folder is checked."""
    if not os.path.isdir(path):
        raise ValueError(f"folder spec: {path!r} is not a directory")
    candidates = folder_candidates(path)
    good, report = [], progress.Progress(f"checking the images of folder {path}", len(candidates), PROGRESS_EVERY_S)
    for file in candidates:
        if _readable(file):
            good.append(file)
        report.update(1)
    report.done()
    bad = len(candidates) - len(good)
    if bad:
        _LOG.warning("folder %s: skipped %d unreadable or corrupt image file(s) of %d", path, bad, len(candidates))
    if not good:
        raise ValueError(f"folder spec: no readable PNG/JPEG images under {path!r} "
                         f"({len(candidates)} candidate file(s), {bad} unreadable)")
    return good


_SPLIT_KEYS = {"train": "x_train", "test": "x_test", "validation": "x_validation"}


def _split_array(archive, path, split):
    """(name, array) of a split: its x_<split> array, all x_* arrays concatenated for split "all", or the only
    (first) array of an archive without x_* names."""
    keys = list(archive.files)
    named = [k for k in _SPLIT_KEYS.values() if k in keys]
    if not named:
        return keys[0], archive[keys[0]]
    if split == "all":
        parts = [archive[k] for k in named]
        if len({(p.dtype, p.shape[1:]) for p in parts}) > 1:
            raise ValueError(f"npz spec: the arrays {named} of {path!r} differ in dtype or image shape")
        return "+".join(named), np.concatenate(parts)
    if _SPLIT_KEYS[split] not in keys:
        raise ValueError(f"npz spec: {path!r} has no array {_SPLIT_KEYS[split]!r} for split {split!r}; arrays: {keys}")
    return _SPLIT_KEYS[split], archive[_SPLIT_KEYS[split]]


def npz_array(path, split, value_range=None):
    """The images of an .npz spec as uint8 or float32 in [-1, 1], NHWC.

    Float arrays must lie in [-1, 1]; float arrays inside [0, 1] are refused unless `value_range` ((0, 1) or
    (-1, 1), the spec's range= option) says which they are, since reading [0, 1] images as [-1, 1] would silently
    turn them grey to white."""
    with files.open_npz(path, "npz spec") as archive:
        keys = list(archive.files)
        if not keys:
            raise ValueError(f"npz spec: {path!r} holds no arrays")
        key, array = _split_array(archive, path, split)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[0] == 0:
        raise ValueError(f"npz spec: array {key!r} in {path!r} must be non-empty NHWC, got shape {array.shape}")
    if array.dtype == np.uint8:
        if value_range:
            raise ValueError(f"npz spec: range= applies to float arrays; {key!r} in {path!r} is uint8 (0..255)")
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"npz spec: array {key!r} must be uint8 or float, got {array.dtype}")
    low, high = float(array.min()), float(array.max())
    lower, upper = value_range or (-1.0, 1.0)
    if not (np.isfinite(low) and np.isfinite(high)) or low < lower - 1e-4 or high > upper + 1e-4:
        raise ValueError(f"npz spec: float array {key!r} must lie in [{lower:g}, {upper:g}], found "
                         f"[{low:g}, {high:g}]; store uint8 or rescale")
    if value_range is None and low >= 0.0:
        raise ValueError(f"npz spec: float array {key!r} in {path!r} lies in [{low:g}, {high:g}], inside [0, 1], "
                         f"and would be read as [-1, 1] images; state its range: npz:{path}:range=0,1 for [0, 1] "
                         f"images, npz:{path}:range=-1,1 to take the values as they are")
    if value_range == (0.0, 1.0):
        array = array * 2.0 - 1.0
    return array.astype(np.float32)
