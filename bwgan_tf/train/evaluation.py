"""EvaluationCallback: the registered metrics of the EMA generator during training (bwgan_tf.metrics.evaluate).

This module is the training code's only door to bwgan_tf.metrics (the metrics never import training code).

Results go through bwgan_tf.train.run_dir: a metrics.jsonl record {"event": "evaluation", "step": ...} and
TensorBoard scalars in tensorboard/eval. Like every StepCallback it does nothing once the NaN guard has stopped
the run, so a non-finite model is never evaluated.
"""
import os
import time

import tensorflow as tf

from bwgan_tf import checks, compat
from bwgan_tf import metrics as metrics_lib
from bwgan_tf.metrics import reference as reference_lib
from bwgan_tf.metrics import registry
from bwgan_tf.train import run_dir as run_dir_lib
from bwgan_tf.train.callbacks import StepCallback

UNITS = ("steps", "epochs")


def check_metrics(names) -> tuple:
    """The metric names of an --eval_metrics value (ValueError naming a bad one): train.config validates with it."""
    return metrics_lib.parse_metrics(names)


class EvaluationCallback(StepCallback):
    """Evaluates the EMA generator during WassersteinGAN.fit; writes TensorBoard scalars and metrics.jsonl.

    Args:
      run_dir: run directory; results are appended to run_dir/metrics.jsonl as
        {"event": "evaluation", "step": generator_steps, "epoch": ..., "generator": {"kind": "training", "run_dir",
        "generator": "ema", "step"}, <labels>: ...} and written as
        TensorBoard scalars "eval/<label>" to run_dir/tensorboard/eval at step = generator steps.
      reference: real-data spec for bwgan_tf.data (or reference_stats=ReferenceStats); needed for fid/kid.
      eval_every: evaluate every this many generator steps (unit="steps": model.generator_steps, one per
        train batch) or epochs (unit="epochs").
      metrics: names from bwgan_tf.metrics.METRICS ("is", "fid", "kid", "pr", "dc", "swd").
      num_samples: generated samples per evaluation (the papers use 50000; cheaper values during training).
      extractor / classifier / inception: the features (see metrics.resolve_extractor); default the standard
        FID network, resolved at on_train_begin (so a missing network fails before training starts).
      cache_dir: reference-statistics cache (default metrics.default_cache_dir(), the one tools/evaluate.py uses).
      seed: the same latent vectors at every evaluation; at_train_end: also evaluate after the last step.
    `history` holds every result dict.
    """

    def __init__(self, run_dir, *, reference=None, eval_every=5000, unit="steps", metrics=("fid",),
                 num_samples=10_000, extractor=None, classifier=None, inception=None, reference_stats=None,
                 reference_split="train", reference_num=None, data_dir=None, batch_size=100, seed=0,
                 splits=metrics_lib.DEFAULT_SPLITS, kid_samples=metrics_lib.DEFAULT_KID_SAMPLES, cache_dir=None,
                 at_train_end=True):
        super().__init__()
        self.unit = checks.one_of(unit, "unit", UNITS)
        self.eval_every = checks.positive_int(eval_every, "eval_every")
        self.metrics = metrics_lib.parse_metrics(metrics)
        needing = metrics_lib.needing_reference(self.metrics)
        if needing and reference is None and reference_stats is None:
            raise ValueError(f"reference: {' and '.join(needing)} need a real-data spec or reference_stats")
        self.run_dir = os.fspath(run_dir)
        self.reference, self.reference_stats = reference, reference_stats
        self.num_samples, self.batch_size, self.seed, self.splits = num_samples, batch_size, seed, splits
        self.reference_split, self.reference_num, self.data_dir = reference_split, reference_num, data_dir
        self.kid_samples, self.at_train_end = kid_samples, at_train_end
        self.cache_dir = cache_dir or reference_lib.default_cache_dir()
        self._extractor_args = dict(extractor=extractor, classifier=classifier, inception=inception)
        self.extractor = None
        self.history = []
        self._writer = None
        self._last_step = None

    def on_train_begin(self, logs=None):
        if self.extractor is None:
            self.extractor = metrics_lib.resolve_extractor(**self._extractor_args, metrics=self.metrics)
        if self.reference_stats is None and metrics_lib.needing_reference(self.metrics):
            self.reference_stats = metrics_lib.reference_statistics(
                self.reference, self.extractor, num=self.reference_num or self.num_samples,
                split=self.reference_split, data_dir=self.data_dir, batch_size=self.batch_size,
                kid_samples=self.kid_samples, cache_dir=self.cache_dir,
                keep_images=registry.reference_images(self.metrics, registry.Settings(self.num_samples)),
                what="--dataset")

    def _due(self, logs=None) -> bool:
        return not self.stopped() and self.step() != self._last_step and self.scalars(logs) is not None

    def on_train_batch_end(self, batch, logs=None):
        if self.unit == "steps" and self.step() % self.eval_every == 0 and self._due(logs):
            self.evaluate_now()

    def on_epoch_end(self, epoch, logs=None):
        if self.unit == "epochs" and (epoch + 1) % self.eval_every == 0 and self._due():
            result = self.evaluate_now(epoch=epoch)
            if logs is not None:
                logs.update({k: v for k, v in result.items() if isinstance(v, float)})

    def on_train_end(self, logs=None):
        if self.at_train_end and not self.interrupted() and self._due():
            self.evaluate_now()

    def evaluate_now(self, epoch=None) -> dict:
        """Evaluates the model's EMA generator now and records the result."""
        if self.extractor is None:
            self.on_train_begin()
        step = self.step()
        result = metrics_lib.evaluate(
            self.model, metrics=self.metrics, num_samples=self.num_samples, extractor=self.extractor,
            reference_stats=self.reference_stats, batch_size=self.batch_size, seed=self.seed, splits=self.splits,
            kid_samples=self.kid_samples, generator={"kind": "training", "run_dir": os.path.abspath(self.run_dir),
                                                     "generator": "ema", "step": step})
        result.update(event="evaluation", step=step, time=time.time())
        if epoch is not None:
            result["epoch"] = int(epoch)
        self._last_step = step
        self.history.append(result)
        run_dir_lib.create(self.run_dir)
        run_dir_lib.append_metrics(self.run_dir, result)
        self._write_scalars(result, step)
        return result

    def _write_scalars(self, result: dict, step: int) -> None:
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(run_dir_lib.tensorboard_dir(self.run_dir, "eval"))
        with self._writer.as_default():
            for key, value in result.items():
                if registry.is_metric_label(key) and value is not None:
                    compat.summary_scalar(f"eval/{key}", value, step=step)
            self._writer.flush()
