"""Training application: the typed configuration, the papers' presets, the run directory, callbacks and loop."""
from bwgan_tf.train.build import build_model, load_generator, load_model, read_config
from bwgan_tf.train.config import TrainConfig
from bwgan_tf.train.loop import MODEL_KEYS, NonFiniteLossError, train
from bwgan_tf.train.presets import PRESETS, make_config

__all__ = ["MODEL_KEYS", "NonFiniteLossError", "PRESETS", "TrainConfig", "build_model", "load_generator",
           "load_model", "make_config", "read_config", "train"]
