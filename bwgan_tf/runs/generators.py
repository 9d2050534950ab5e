"""The one way to open a generator: a run directory (its EMA generator at the latest or a given checkpoint; a
finished SGDR phase's ensemble of snapshots) or an exported SavedModel, as a metrics.Sampler.

Every generator opened here comes with a description of what was opened (`describe`, attached to the Sampler as
`sampler.description`), which evaluation records carry: for a run directory its path, the checkpoint read and the
generator step it holds, and which generator (the EMA generator, or the SGDR ensemble with its snapshots); for an
export its path (and, for exports written since, the run and checkpoint it came from). A run that is still
training is read at one checkpoint, resolved once, so the description names exactly the weights scored.
"""
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


def open_run(run_dir: str, checkpoint: Optional[str] = None) -> Tuple[tf.keras.Model, TrainConfig, dict]:
    """(the EMA generator of a run directory at its latest or the given checkpoint, the run's config, the
    description of what was opened); for a finished SGDR phase without a checkpoint given, the ensemble of its
    snapshots (runs.restarts.load_ensemble)."""
    saved = run_dir_lib.read_config(run_dir)
    run_dir_lib.check_stack(saved, run_dir)  # its checkpoints are read by the Keras that wrote them
    where = {"kind": "run_dir", "run_dir": os.path.abspath(run_dir)}
    if checkpoint is None and schedules.is_sgdr(saved.get("lr_plan")):
        from bwgan_tf.runs import restarts  # restarts trains; only an SGDR phase needs it
        generator, config = restarts.load_ensemble(run_dir)
        count = int(saved["lr_plan"]["restarts"])
        snapshots = [os.path.abspath(run_dir_lib.snapshot_path(run_dir, r)) for r in range(1, count + 1)]
        return generator, config, dict(where, generator="sgdr_ensemble", members=count, snapshots=snapshots)
    if checkpoint is None:  # resolved once: a trainer may write a newer one while this one is read
        checkpoint = tf.train.latest_checkpoint(run_dir_lib.checkpoint_dir(run_dir))
        if checkpoint is None:
            raise ValueError(f"run_dir: {run_dir!r} has no checkpoint yet")
    model, config = build.load_model(run_dir, checkpoint)
    return model.ema_generator, config, dict(where, generator="ema", ema_decay=config.ema_decay,
                                             checkpoint=os.path.abspath(checkpoint),
                                             step=int(model.generator_steps.numpy()))


def load_generator(run_dir: str, checkpoint: Optional[str] = None) -> Tuple[tf.keras.Model, TrainConfig]:
    """The EMA generator of a run directory (latest or given checkpoint) and the run's config; for a finished SGDR
    phase without a checkpoint given, the ensemble of its snapshots (see open_run, which also describes it)."""
    generator, config, _ = open_run(run_dir, checkpoint)
    return generator, config


def describe_export(path: str) -> dict:
    """{"kind": "export", "path": ...} and, when its assets/generator.json records it, where it was exported from."""
    description = {"kind": "export", "path": os.path.abspath(path)}
    info_path = os.path.join(path, "assets", "generator.json")
    if os.path.isfile(info_path):
        info = files.read_json(info_path)
        if isinstance(info, dict) and isinstance(info.get("source"), dict):
            description["exported_from"] = info["source"]
    return description


def _described(sampler: sampling.Sampler, description: dict) -> sampling.Sampler:
    sampler.description = description
    return sampler


def open_generator(spec, checkpoint: Optional[str] = None) -> Optional[sampling.Sampler]:
    """A Sampler (with its `description`) when `spec` is a run directory or a SavedModel folder, else None (a data
    spec).

    Raises ValueError for a folder that is neither, or a checkpoint given with anything but a run directory."""
    if not isinstance(spec, (str, os.PathLike)) or not os.path.isdir(spec):
        if checkpoint:
            raise ValueError("--checkpoint goes with a run directory")
        return None
    spec = os.fspath(spec)
    if run_dir_lib.exists(spec):
        if checkpoint:
            files.check_checkpoint(checkpoint)
        generator, config, description = open_run(spec, checkpoint=checkpoint)
        return _described(sampling.as_sampler(generator, config.latent_dim), description)
    if os.path.isfile(os.path.join(spec, "saved_model.pb")):
        if checkpoint:
            raise ValueError("--checkpoint goes with a run directory, not a SavedModel")
        return _described(sampling.as_sampler(export.check_saved_model(spec)), describe_export(spec))
    raise ValueError(f"{spec!r} is a folder but neither a run directory (config.json) nor a SavedModel "
                     "(saved_model.pb); for a folder of images write folder:PATH")


def open_images(saved_model: Optional[str] = None, run_dir: Optional[str] = None) -> Tuple[sampling.Sampler,
                                                                                         Optional[int]]:
    """(the Sampler, with its `description`, of exactly one of an export and a run directory that generates images,
    the most samples it serves at once: an export's max_samples, None for a run). Raises ValueError naming the
    flag."""
    if (saved_model is None) == (run_dir is None):
        raise ValueError("give exactly one of --saved_model and --run_dir")
    if saved_model is not None:
        loaded = tf.saved_model.load(export.check_saved_model(saved_model))
        limit = int(loaded.signatures["latent"]()["max_samples"]) if "latent" in loaded.signatures else None
        return _described(sampling.as_sampler(loaded), describe_export(saved_model)), limit
    if not run_dir_lib.exists(run_dir):
        raise ValueError(f"--run_dir: no config.json in {run_dir!r}")
    generator, config, description = open_run(run_dir)
    if len(generator.output_shape) != 4:
        raise ValueError(f"--run_dir: {run_dir!r} generates 2-D points, not images")
    return _described(sampling.as_sampler(generator, config.latent_dim), description), None
