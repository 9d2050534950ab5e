"""Dataset specs: parsing, the known names and the shape of one sample.

Specs (``KNOWN_SPECS``):
* ``cifar10``: TFDS, 32x32 (Adler & Lunz 2018; Gulrajani et al. 2017).
* ``celeb_a``: TFDS 178x218 (WxH) faces; the central 108x108 crop resized to 64x64, as DCGAN / BEGAN
  preprocessing: the crop keeps the face and drops most background, so 64x64 pixels are spent on the face.
  ``celeb_a:crop=official``: adler-j/bwgan's loader, the 128x128 crop at row 50, column 25, resized bilinearly.
* ``lsun_bedroom``: TFDS ``lsun/bedroom``; shorter side resized to 64, then a central 64x64 crop (WGAN paper).
* ``folder:PATH``: any tree of PNG/JPEG files of any size; shorter side to ``image_size`` (default 64), central
  crop. Unreadable files are skipped and counted in a warning.
* ``npz:PATH[:range=0,1|:range=-1,1]``: NHWC arrays; key ``x_train`` / ``x_test`` for split train / test (split
  all: every x_* array), else the only (first) array. uint8 is mapped to [-1, 1]; floats must lie in [-1, 1].
  Floats inside [0, 1] are refused unless the spec states their range: ``range=0,1`` maps them to [-1, 1],
  ``range=-1,1`` takes them as they are (reading [0, 1] images as [-1, 1] would silently make them grey to white).
* ``toy:8gaussians``, ``toy:25gaussians``, ``toy:swissroll``, ``toy:parallel_lines[:theta=T]``
  (see bwgan_tf.data.toy).
"""
import os
from typing import Dict, Optional, Tuple

import numpy as np

from bwgan_tf import checks
from bwgan_tf.data import sources, toy
from bwgan_tf.io import files

KNOWN_SPECS = ("cifar10", "celeb_a[:crop=official]", "lsun_bedroom", "folder:PATH", "npz:PATH[:range=0,1]",
               "toy:8gaussians", "toy:25gaussians", "toy:swissroll", "toy:parallel_lines[:theta=T]")
SPLITS = ("train", "test", "validation", "all")
NPZ_RANGES = {"0,1": (0.0, 1.0), "-1,1": (-1.0, 1.0)}


def _known() -> str:
    return ", ".join(KNOWN_SPECS)


def parse(spec) -> Tuple[str, str, Dict[str, object]]:
    """spec -> (kind, argument, params); kind in tfds names, 'folder', 'npz', 'toy'; npz params: {'range': (lo, hi)}
    when the spec states one."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"dataset spec must be a non-empty string, got {spec!r}; known specs: {_known()}")
    if spec in sources.TFDS:
        return spec, "", {}
    if spec.startswith("celeb_a:"):
        if spec not in ("celeb_a:crop=official", "celeb_a:crop=central"):
            raise ValueError(f"dataset spec {spec!r}: celeb_a takes crop=official or crop=central")
        return "celeb_a", "", {"crop": spec.rpartition("=")[2]}
    kind, sep, rest = spec.partition(":")
    if kind == "npz" and ":range=" in rest:
        path, _, value = rest.rpartition(":range=")
        if value not in NPZ_RANGES or not path:
            raise ValueError(f"dataset spec {spec!r}: range must be one of {', '.join(NPZ_RANGES)}, got {value!r}")
        return kind, path, {"range": NPZ_RANGES[value]}
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


def absolute(spec: str, base: Optional[str] = None) -> str:
    """The spec with the path of an npz: or folder: spec made absolute (from `base`, default the working
    directory), so that a run directory that stores it works from anywhere; other specs unchanged."""
    kind, path, _ = parse(spec)
    if kind not in ("npz", "folder") or os.path.isabs(path):
        return spec
    return spec.replace(path, os.path.abspath(os.path.join(base or os.getcwd(), path)), 1)


def fingerprint(spec) -> Optional[str]:
    """What identifies the images of a spec for caches of their statistics: for npz:PATH a content hash of the file,
    for folder:PATH one of its image files' names, sizes and bytes (so a file or folder edited in place gets a new
    fingerprint); "" for TFDS and toy specs, which are known by name; None when the file or folder is missing."""
    kind, argument, _ = parse(spec)
    if kind == "npz":
        return files.content_digest([argument]) if os.path.isfile(argument) else None
    if kind == "folder":
        return files.content_digest(sources.folder_candidates(argument), argument) if os.path.isdir(
            argument) else None
    return ""


def check_arguments(split, batch_size, image_size, seed):
    """ValueError naming the first of split, batch_size, image_size (None or >= 1), seed (>= 0) that is bad."""
    checks.one_of(split, "split", SPLITS)
    checks.positive_int(batch_size, "batch_size")
    if image_size is not None:
        checks.positive_int(image_size, "image_size")
    checks.integer(seed, "seed", minimum=0)


def sample_shape(spec, image_size: Optional[int] = None) -> tuple:
    """Shape of one sample: (32, 32, 3) for cifar10, (64, 64, 3) for celeb_a / lsun / folders, (2,) for toys."""
    kind, argument, params = parse(spec)
    if image_size is not None:
        checks.positive_int(image_size, "image_size")
    if kind == "toy":
        return (2,)
    if kind == "npz":
        shape = sources.npz_array(argument, "train", params.get("range")).shape[1:]
        if len(shape) == 2:
            shape = shape + (1,)
        return (image_size, image_size, shape[2]) if image_size else tuple(int(d) for d in shape)
    size = image_size or (sources.TFDS[kind][1] if kind in sources.TFDS else 64)
    return (size, size, 3)


def num_images(spec, split: str = "train") -> Optional[int]:
    """The number of images of an npz or folder spec's split; None for TFDS and toy specs."""
    kind, argument, params = parse(spec)
    if kind == "npz":
        return int(sources.npz_array(argument, split, params.get("range")).shape[0])
    if kind == "folder":
        return len(sources.folder_files(argument))
    return None


def repeat_warning(spec, num_images: Optional[int], batch_size: int, n_critic: int) -> Optional[str]:
    """A one-line warning when a data set holds fewer images than one generator step reads (batch_size * n_critic),
    so that images repeat within a step; None otherwise (or when num_images is unknown)."""
    needed = checks.positive_int(batch_size, "batch_size") * checks.positive_int(n_critic, "n_critic")
    if num_images is None or num_images >= needed:
        return None
    return (f"warning: dataset {spec} has {num_images} images, fewer than one training step reads (batch_size "
            f"{batch_size} x n_critic {n_critic} = {needed}), so images repeat within a step")


def toy_modes(spec) -> Tuple[np.ndarray, float]:
    """(centres [K, 2], std) of a toy mixture spec (toy:8gaussians, toy:25gaussians), after rescaling."""
    kind, argument, _ = parse(spec)
    if kind != "toy":
        raise ValueError(f"spec must be a toy mixture (toy:8gaussians or toy:25gaussians), got {spec!r}")
    return toy.modes(argument)
