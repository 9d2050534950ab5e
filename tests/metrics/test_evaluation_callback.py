"""EvaluationCallback during fit: metrics.jsonl records, TensorBoard scalars, and nothing after a NaN stop."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from metric_fakes import FakeGAN, tiny_extractor, uniform_batches

from bwgan_tf import compat, metrics
from bwgan_tf.train.callbacks import Guard
from bwgan_tf.train.evaluation import EvaluationCallback


def test_evaluation_callback_writes_metrics_and_tensorboard(tmp_path):
    run_dir = tmp_path / "run"
    callback = EvaluationCallback(run_dir, reference=None, reference_stats=metrics.reference_statistics(
        uniform_batches(2, 30), tiny_extractor()), eval_every=3, metrics=("is", "fid"), num_samples=40,
                                  extractor=tiny_extractor(), batch_size=20, splits=2)
    model = FakeGAN()
    model.compile(run_eagerly=False)
    model.fit(tf.data.Dataset.from_tensor_slices(np.zeros((7, 1), np.float32)).batch(1), epochs=1, verbose=0,
              callbacks=[callback])
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3, 6, 7]  # every 3 generator steps, and at the end
    assert all(r["event"] == "evaluation" and r["fd40_tiny"] > 0 and r["cs40_2splits_tiny"] >= 1.0 for r in records)
    assert {r["estimators"] for r in records} == {compat.estimators_implementation()}  # named in every record
    assert records[0]["fd40_tiny"] == pytest.approx(records[1]["fd40_tiny"])  # same weights, same z: same result
    assert os.listdir(run_dir / "tensorboard" / "eval")
    with pytest.raises(ValueError, match="unit"):
        EvaluationCallback(run_dir, eval_every=3, unit="batches", metrics="is")
    with pytest.raises(ValueError, match="reference"):
        EvaluationCallback(run_dir, eval_every=3, metrics="fid")


class NaNAtStep(FakeGAN):
    """A FakeGAN whose loss turns NaN at generator step `bad_step`."""

    def __init__(self, bad_step):
        super().__init__()
        self.bad_step = bad_step

    def train_step(self, data):
        self.generator_steps.assign_add(1)
        nan = tf.constant(float("nan"))
        return {"generator_loss": tf.where(self.generator_steps == self.bad_step, nan, tf.constant(0.0))}


def test_evaluation_callback_does_nothing_after_a_nan_stop(tmp_path):
    run_dir = tmp_path / "run"
    extractor = tiny_extractor()
    guard = Guard()
    callback = EvaluationCallback(run_dir, reference_stats=metrics.reference_statistics(uniform_batches(2, 30),
                                                                                        extractor),
                                  eval_every=1, metrics=("is", "fid"), num_samples=40, extractor=extractor,
                                  batch_size=20, splits=2)
    for c in (guard, callback):
        c.guard = guard
    model = NaNAtStep(bad_step=2)
    model.compile(run_eagerly=False)
    model.fit(tf.data.Dataset.from_tensor_slices(np.zeros((5, 1), np.float32)).batch(1), epochs=1, verbose=0,
              callbacks=[guard, callback])
    assert guard.failure is not None and guard.failure[0] == 2
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1]  # not at the NaN step, not at the end of the stopped run
    assert [r["step"] for r in callback.history] == [1]
