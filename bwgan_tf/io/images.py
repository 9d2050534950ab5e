"""Pictures of a run: image grids, signed maps, atomic PNG writing (TF's PNG encoder)."""
from typing import Optional

import numpy as np
import tensorflow as tf

from bwgan_tf.io import files


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats -> uint8 0..255 (round((x + 1) * 127.5), clipped)."""
    images = np.asarray(images, np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


GRID_CHANNELS = (1, 3)


def check_grid_shape(sample_shape, name: str = "images") -> None:
    """ValueError naming `name` unless samples of this shape can be drawn: 2-D points, or [H, W, C] images with C
    in GRID_CHANNELS (grey or RGB grids)."""
    shape = tuple(sample_shape)
    if shape != (2,) and (len(shape) != 3 or shape[-1] not in GRID_CHANNELS):
        raise ValueError(f"{name}: samples of shape {shape} cannot be drawn as sample grids: images need "
                         f"{' or '.join(map(str, GRID_CHANNELS))} channels (or 2-D points)")


def grid(images, columns: Optional[int] = None, padding: int = 1) -> np.ndarray:
    """[N, H, W, C] uint8 -> one [rows*(H+p)+p, columns*(W+p)+p, C] uint8 image (C of 1 or 3)."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must be [N, H, W, C], got shape {images.shape}")
    check_grid_shape(images.shape[1:])
    n, h, w, c = images.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    canvas = np.zeros((rows * (h + padding) + padding, columns * (w + padding) + padding, c), np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        canvas[top:top + h, left:left + w] = image
    return canvas


def signed_to_uint8(values) -> np.ndarray:
    """Signed maps (gradients) -> uint8 with 0 at mid-grey, each sample scaled by its largest magnitude."""
    values = np.asarray(values, np.float32)
    scale = np.abs(values).reshape(len(values), -1).max(axis=1).reshape((-1,) + (1,) * (values.ndim - 1))
    return to_uint8(values / np.where(scale > 0, scale, 1.0))


def write_png(path: str, image) -> str:
    """Writes a uint8 [H, W, C] image as PNG with tf.io.encode_png, atomically (temp file + rename)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3:
        raise ValueError(f"image must be uint8 [H, W, C], got {image.dtype} {image.shape}")
    return files.write_bytes_atomically(path, tf.io.encode_png(image).numpy())
