"""The run's hyperparameters in TensorBoard's HParams plugin, so a sweep over s and p is one table and one
parallel-coordinates view (its metrics are the run's train/ and eval/ scalars)."""
import math

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from bwgan_tf import spaces
from bwgan_tf.train.config import TrainConfig

LOGGED = ("space", "lipschitz", "lam", "gamma", "lr", "n_critic", "batch_size", "generator_batch_size", "width",
          "architecture", "dataset", "ema_decay", "drift", "drift_mode", "scale_critic_output", "mixed_precision",
          "seed", "steps")


def values(config: TrainConfig) -> dict:
    """The logged settings (None as "none") plus the space's smoothness s and exponent p (l2: s 0, p 2)."""
    logged = {name: "none" if getattr(config, name) is None else getattr(config, name) for name in LOGGED}
    logged.update(zip(("s", "p"), (math.nan if v is None else float(v)
                                   for v in spaces.parse(config.space).sweep_axes)))
    return logged


def write(writer, config: TrainConfig) -> None:
    """Writes the session's hyperparameters to `writer`'s event file."""
    with writer.as_default():
        hp.hparams(values(config), trial_id=config.output_dir)
    tf.summary.flush(writer)
