"""The EMA generator as a SavedModel that plain TensorFlow (or TensorFlow Serving) can call.

Signatures:
  serving_default  {num_samples: int32 [], seed: int64 []} -> {images: uint8 [N, H, W, C]}
  generate         {z: float32 [N, latent_dim]}            -> {images: float32 [N, H, W, C] in [-1, 1]}
  latent           {}                                      -> {latent_dim: int32 [], image_shape: int32 [rank],
                                                               max_samples: int32 []}
The same seed gives the same images (stateless normal draws); num_samples outside 1..max_samples fails with an
InvalidArgumentError naming the limit, and so does a z of more than max_samples rows in generate: both bounds are
checked before any latent is drawn or the generator runs. assets/generator.json repeats the metadata (and where the
generator came from) for clients that read files. Exports are atomic: written beside the target, then renamed into
place; an existing folder is replaced only when it is an earlier export (check_export_dir).
"""
import json
import os
import shutil
import tempfile
from typing import Optional

import tensorflow as tf

from bwgan_tf import checks, latents
from bwgan_tf.io import files

_CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # holds bwgan_tf/


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
        rows = tf.shape(z)[0]
        checked = [tf.debugging.assert_equal(tf.shape(z)[1], self.latent_dim,
                                             message=f"z must have shape [N, {self.latent_dim}]"),
                   tf.debugging.assert_less_equal(rows, self.max_samples,
                                                  message=f"z must have at most {self.max_samples} rows "
                                                          f"(max_samples); call generate in chunks")]
        with tf.control_dependencies(checked):  # the bounds hold before the generator runs
            z = tf.identity(z)
        return {"images": self._images(z)}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="num_samples"),
                                  tf.TensorSpec([], tf.int64, name="seed")])
    def sample(self, num_samples, seed):
        checked = [tf.debugging.assert_greater_equal(num_samples, 1,
                                                     message=f"num_samples must be in 1..{self.max_samples}"),
                   tf.debugging.assert_less_equal(num_samples, self.max_samples,
                                                  message=f"num_samples must be in 1..{self.max_samples} "
                                                          "(max_samples)")]
        with tf.control_dependencies(checked):  # the bounds hold before any latent is drawn
            num_samples = tf.identity(num_samples)
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


EXPORT_FILES = ("saved_model.pb", os.path.join("assets", "generator.json"))  # what export_generator writes


def is_export(path: str) -> bool:
    """Whether `path` is a folder written by export_generator: a real folder (no link) holding saved_model.pb and
    assets/generator.json with the export's metadata."""
    if os.path.islink(path) or not all(os.path.isfile(os.path.join(path, f)) for f in EXPORT_FILES):
        return False
    try:
        info = files.read_json(os.path.join(path, EXPORT_FILES[1]))
    except ValueError:
        return False
    return isinstance(info, dict) and {"latent_dim", "image_shape", "max_samples", "signatures"} <= set(info)


def _within(inner: str, outer: str) -> bool:
    """Whether `inner` is `outer` or lies inside it (real paths)."""
    inner, outer = os.path.realpath(inner), os.path.realpath(outer)
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


def check_export_dir(export_dir, overwrite: bool = False, run_dir: Optional[str] = None,
                     name: str = "export_dir") -> str:
    """The absolute export_dir when an export may be written there: a new folder in a writable place, or with
    overwrite an earlier export of this package (is_export) that holds neither the run directory, the working
    directory nor this checkout. Else a ValueError naming `name`; nothing is touched."""
    path = os.path.abspath(os.fspath(export_dir))
    if os.path.lexists(path):
        if not overwrite:
            raise ValueError(f"{name}: {export_dir!r} exists; pass --overwrite (overwrite=True) to replace an earlier "
                             "export there")
        protected = {"the working directory": os.getcwd(), "this checkout": _CHECKOUT}
        if run_dir is not None:
            protected["the run directory"] = run_dir
        for what, folder in protected.items():
            if _within(folder, path):
                raise ValueError(f"{name}: {export_dir!r} holds {what} ({folder}); --overwrite replaces only an "
                                 "earlier export, so nothing was touched")
        if not is_export(path):
            kind = ("a symbolic link" if os.path.islink(path) else "a file" if not os.path.isdir(path)
                    else "not an export of bwgan_tf (no saved_model.pb and assets/generator.json written by "
                         "tools/export.py)")
            raise ValueError(f"{name}: {export_dir!r} is {kind}; --overwrite replaces only an earlier export, so "
                             "nothing was touched: choose a new folder, or remove this one yourself")
    files.check_output_dir(os.path.dirname(path), name)
    return path


def export_generator(generator: tf.keras.Model, export_dir: str, *, latent_dim: int, max_samples: int = 1024,
                     overwrite: bool = False, metadata: dict = None, run_dir: Optional[str] = None) -> str:
    """Writes the SavedModel of ``generator`` to export_dir atomically and returns export_dir.

    With overwrite, only an earlier export is replaced (check_export_dir; `run_dir`, the run exported, is
    protected too). Raises ValueError for a bad argument or an export_dir that may not be written.
    """
    checks.positive_int(max_samples, "max_samples")
    checks.positive_int(latent_dim, "latent_dim")
    if len(generator.output_shape) != 4:
        raise ValueError(f"generator must produce images [N, H, W, C], got output shape {generator.output_shape}; "
                         f"2-D toy generators are not exported")
    export_dir = check_export_dir(export_dir, overwrite, run_dir)
    parent = os.path.dirname(export_dir)
    os.makedirs(parent, exist_ok=True)
    module = GeneratorModule(generator, latent_dim, max_samples)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the export from a serving process's user
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


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (os.umask sets it while reading)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0o22)
        os.umask(mask)
        return mask


def _swap_into_place(staging: str, export_dir: str) -> None:
    """Renames staging to export_dir. An existing folder there must still be an export (is_export, checked again
    now that the new one is written): it is renamed aside, the new one renamed into place, and only then is the
    old one deleted; if the second rename fails, the old one is put back. Between the two renames (microseconds)
    the path is absent; a process killed there leaves the old export in .replaced-* beside it."""
    if not os.path.lexists(export_dir):
        os.rename(staging, export_dir)
        return
    if not is_export(export_dir):
        raise ValueError(f"export_dir: {export_dir!r} changed while the export was written and is no longer an "
                         "export; nothing was replaced")
    old = tempfile.mkdtemp(prefix=".replaced-", dir=os.path.dirname(export_dir))
    os.rmdir(old)
    os.rename(export_dir, old)
    try:
        os.rename(staging, export_dir)
    except BaseException:
        os.rename(old, export_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)
