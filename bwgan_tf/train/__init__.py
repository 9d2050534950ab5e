"""Training application: the typed configuration, the papers' presets, the run directory, callbacks and loop."""
from bwgan_tf.train.build import build_model, load_model, read_config
from bwgan_tf.train.cluster import WorkerLost
from bwgan_tf.train.config import TrainConfig, make_config
from bwgan_tf.train.interrupt import TrainingInterrupted
from bwgan_tf.train.loop import NonFiniteLossError, train
from bwgan_tf.train.presets import PRESETS
from bwgan_tf.train.resume import RESUMABLE
from bwgan_tf.train.run_dir import RunDirectoryBusy

__all__ = ["NonFiniteLossError", "PRESETS", "RESUMABLE", "RunDirectoryBusy", "TrainConfig", "TrainingInterrupted",
           "WorkerLost", "build_model", "load_model", "make_config", "read_config", "train"]
