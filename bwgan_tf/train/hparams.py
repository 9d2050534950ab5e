"""The run's hyperparameters in TensorBoard's HParams plugin, so a sweep over s and p is one table and one
parallel-coordinates view (its metrics are the run's train/ and eval/ scalars). Without tensorboard installed
(TensorFlow >= 2.16 does not install it) the table is not written, and the first start of a process says so once."""
import math

import tensorflow as tf

from bwgan_tf import compat, spaces
from bwgan_tf.train.config import TrainConfig

LOGGED = ("space", "lipschitz", "lam", "gamma", "lr", "n_critic", "batch_size", "generator_batch_size", "width",
          "architecture", "dataset", "ema_decay", "drift", "drift_mode", "scale_critic_output", "mixed_precision",
          "seed", "steps")
_told = []  # the missing-tensorboard notice was printed in this process


def values(config: TrainConfig) -> dict:
    """The logged settings (None as "none") plus the space's smoothness s and exponent p (l2: s 0, p 2)."""
    logged = {name: "none" if getattr(config, name) is None else getattr(config, name) for name in LOGGED}
    logged.update(zip(("s", "p"), (math.nan if v is None else float(v)
                                   for v in spaces.parse(config.space).sweep_axes)))
    return logged


def write(writer, config: TrainConfig, print_fn=print) -> bool:
    """Writes the session's hyperparameters to `writer`'s event file; False (and, once per process, a line through
    print_fn saying why) when tensorboard is not installed."""
    api = compat.hparams_api()
    if api is None:
        if not _told:
            _told.append(True)
            print_fn(f"note: {compat.TENSORBOARD_MISSING}", flush=True)
        return False
    with writer.as_default():
        api.hparams(values(config), trial_id=config.output_dir)
    tf.summary.flush(writer)
    return True
