"""The EMA generator as a SavedModel that plain TensorFlow (or TensorFlow Serving) can call.

Signatures:
  serving_default  {num_samples: int32 [], seed: int64 []} -> {images: uint8 [N, H, W, C]}
  generate         {z: float32 [N, latent_dim]}            -> {images: float32 [N, H, W, C] in [-1, 1]}
  latent           {}                                      -> {latent_dim: int32 [], image_shape: int32 [rank],
                                                               max_samples: int32 []}
The same seed gives the same images (stateless normal draws); num_samples outside 1..max_samples fails with an
InvalidArgumentError naming the limit. assets/generator.json repeats the metadata for clients that read files.
Exports are atomic: written beside the target, then renamed into place.
"""
import json
import os
import shutil
import tempfile

import tensorflow as tf

from bwgan_tf import checks, latents


class GeneratorModule(tf.Module):
    """The serving wrapper around a generator keras.Model (run in inference mode)."""

    def __init__(self, generator: tf.keras.Model, latent_dim: int, max_samples: int):
        super().__init__()
        self.generator = generator
        self.latent_dim = int(latent_dim)
        self.max_samples = int(max_samples)
        self.image_shape = tuple(int(d) for d in generator.output_shape[1:])

    def _images(self, z):
        return tf.cast(self.generator(z, training=False), tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="z")])
    def generate(self, z):
        tf.debugging.assert_equal(tf.shape(z)[1], self.latent_dim,
                                  message=f"z must have shape [N, {self.latent_dim}]")
        return {"images": self._images(z)}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="num_samples"),
                                  tf.TensorSpec([], tf.int64, name="seed")])
    def sample(self, num_samples, seed):
        tf.debugging.assert_greater_equal(num_samples, 1, message=f"num_samples must be in 1..{self.max_samples}")
        tf.debugging.assert_less_equal(num_samples, self.max_samples,
                                       message=f"num_samples must be in 1..{self.max_samples} (max_samples)")
        z = latents.for_seed(seed, num_samples, self.latent_dim)
        images = self._images(z)
        return {"images": tf.cast(tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8)}

    @tf.function(input_signature=[])
    def latent(self):
        return {"latent_dim": tf.constant(self.latent_dim, tf.int32),
                "image_shape": tf.constant(self.image_shape, tf.int32),
                "max_samples": tf.constant(self.max_samples, tf.int32)}


def check_saved_model(path, name: str = "--saved_model") -> str:
    """`path` when it is a SavedModel folder (holds saved_model.pb); else a ValueError naming `name`."""
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        why = "no saved_model.pb in it" if os.path.isdir(path) else "no such folder"
        raise ValueError(f"{name}: no SavedModel at {path!r} ({why}); give a folder written by tools/export.py")
    return path


def export_generator(generator: tf.keras.Model, export_dir: str, *, latent_dim: int, max_samples: int = 1024,
                     overwrite: bool = False, metadata: dict = None) -> str:
    """Writes the SavedModel of ``generator`` to export_dir atomically and returns export_dir.

    Raises ValueError for a bad argument or an existing export_dir without overwrite.
    """
    checks.positive_int(max_samples, "max_samples")
    checks.positive_int(latent_dim, "latent_dim")
    if len(generator.output_shape) != 4:
        raise ValueError(f"generator must produce images [N, H, W, C], got output shape {generator.output_shape}; "
                         f"2-D toy generators are not exported")
    export_dir = os.path.abspath(export_dir)
    if os.path.exists(export_dir) and not overwrite:
        raise ValueError(f"export_dir {export_dir!r} exists; pass overwrite=True (--overwrite) to replace it")
    parent = os.path.dirname(export_dir)
    os.makedirs(parent, exist_ok=True)
    module = GeneratorModule(generator, latent_dim, max_samples)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        signatures = {"serving_default": module.sample, "generate": module.generate, "latent": module.latent}
        tf.saved_model.save(module, staging, signatures=signatures)
        info = dict(metadata or {}, latent_dim=module.latent_dim, image_shape=list(module.image_shape),
                    max_samples=module.max_samples, signatures=sorted(signatures))
        os.makedirs(os.path.join(staging, "assets"), exist_ok=True)
        with open(os.path.join(staging, "assets", "generator.json"), "w") as f:
            json.dump(info, f, indent=2)
        _swap_into_place(staging, export_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return export_dir


def _swap_into_place(staging: str, export_dir: str) -> None:
    """Renames staging to export_dir; an existing export is moved aside first and deleted only afterwards."""
    if not os.path.exists(export_dir):
        os.rename(staging, export_dir)
        return
    old = tempfile.mkdtemp(prefix=".replaced-", dir=os.path.dirname(export_dir))
    os.rmdir(old)
    os.rename(export_dir, old)
    try:
        os.rename(staging, export_dir)
    except BaseException:
        os.rename(old, export_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)
