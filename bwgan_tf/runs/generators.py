"""The one way to open a generator: a run directory (its EMA generator at the latest or a given checkpoint; a
finished SGDR phase's ensemble of snapshots) or an exported SavedModel, as a metrics.Sampler."""
import os
from typing import Optional, Tuple

import tensorflow as tf

from bwgan_tf import schedules
from bwgan_tf.io import files
from bwgan_tf.metrics import sampling
from bwgan_tf.runs import export
from bwgan_tf.train import build
from bwgan_tf.train import run_dir as run_dir_lib
from bwgan_tf.train.config import TrainConfig


def load_generator(run_dir: str, checkpoint: Optional[str] = None) -> Tuple[tf.keras.Model, TrainConfig]:
    """The EMA generator of a run directory (latest or given checkpoint) and the run's config; for a finished SGDR
    phase without a checkpoint given, the ensemble of its snapshots (runs.restarts.load_ensemble)."""
    if checkpoint is None and schedules.is_sgdr(run_dir_lib.read_config(run_dir).get("lr_plan")):
        from bwgan_tf.runs import restarts  # restarts trains; only an SGDR phase needs it
        return restarts.load_ensemble(run_dir)
    model, config = build.load_model(run_dir, checkpoint)
    return model.ema_generator, config


def open_generator(spec, checkpoint: Optional[str] = None) -> Optional[sampling.Sampler]:
    """A Sampler when `spec` is a run directory or a SavedModel folder, else None (a data spec).

    Raises ValueError for a folder that is neither, or a checkpoint given with anything but a run directory."""
    if not isinstance(spec, (str, os.PathLike)) or not os.path.isdir(spec):
        if checkpoint:
            raise ValueError("--checkpoint goes with a run directory")
        return None
    spec = os.fspath(spec)
    if run_dir_lib.exists(spec):
        if checkpoint:
            files.check_checkpoint(checkpoint)
        generator, config = load_generator(spec, checkpoint=checkpoint)
        return sampling.as_sampler(generator, config.latent_dim)
    if os.path.isfile(os.path.join(spec, "saved_model.pb")):
        if checkpoint:
            raise ValueError("--checkpoint goes with a run directory, not a SavedModel")
        return sampling.as_sampler(export.check_saved_model(spec))
    raise ValueError(f"{spec!r} is a folder but neither a run directory (config.json) nor a SavedModel "
                     "(saved_model.pb); for a folder of images write folder:PATH")


def open_images(saved_model: Optional[str] = None, run_dir: Optional[str] = None) -> Tuple[sampling.Sampler,
                                                                                         Optional[int]]:
    """(the Sampler of exactly one of an export and a run directory that generates images, the most samples it
    serves at once: an export's max_samples, None for a run). Raises ValueError naming the flag."""
    if (saved_model is None) == (run_dir is None):
        raise ValueError("give exactly one of --saved_model and --run_dir")
    if saved_model is not None:
        loaded = tf.saved_model.load(export.check_saved_model(saved_model))
        limit = int(loaded.signatures["latent"]()["max_samples"]) if "latent" in loaded.signatures else None
        return sampling.as_sampler(loaded), limit
    if not run_dir_lib.exists(run_dir):
        raise ValueError(f"--run_dir: no config.json in {run_dir!r}")
    generator, config = load_generator(run_dir)
    if len(generator.output_shape) != 4:
        raise ValueError(f"--run_dir: {run_dir!r} generates 2-D points, not images")
    return sampling.as_sampler(generator, config.latent_dim), None
