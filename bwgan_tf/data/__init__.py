"""Data: dataset specs, their sources (TFDS, image folders, .npz), the 2-D toys and the tf.data pipeline."""
from bwgan_tf.data.pipeline import distribute, load, take
from bwgan_tf.data.specs import (
    KNOWN_SPECS,
    SPLITS,
    absolute,
    fingerprint,
    num_images,
    repeat_warning,
    sample_shape,
    toy_modes,
)

__all__ = ["KNOWN_SPECS", "SPLITS", "absolute", "distribute", "fingerprint", "load", "num_images", "repeat_warning",
           "sample_shape", "take", "toy_modes"]
