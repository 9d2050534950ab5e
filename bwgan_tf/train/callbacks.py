"""Training callbacks: the guard (step count, NaN/inf stop, signal stop), metrics log, checkpoints, sample grids.

Each callback does nothing once the guard has seen a non-finite scalar, so nothing is logged or saved for such a
step; the scalars are read from the device only on steps where something is written.
"""
import errno
import os
import shutil
import time

import numpy as np
import tensorflow as tf

from bwgan_tf import compat, spaces
from bwgan_tf.io import images, progress
from bwgan_tf.train import health, toy_plots
from bwgan_tf.train import run_dir as run_dir_lib


class StepCallback(tf.keras.callbacks.Callback):
    """Base: the current generator step and the run's Guard (stop on a non-finite scalar or on a signal).

    Keras hands the step's scalars over as tensors (``_supports_tf_logs``); a callback reads them through
    ``scalars`` only on the steps where it writes something, so the other steps cost no host sync."""

    guard = None

    def __init__(self):
        super().__init__()
        self._supports_tf_logs = True

    def step(self) -> int:
        if self.guard is not None and self.guard.current is not None:
            return self.guard.current
        return int(self.model.generator_steps.numpy())

    def stopped(self) -> bool:
        """Whether the guard has seen a non-finite scalar."""
        return self.guard is not None and self.guard.failure is not None

    def interrupted(self) -> bool:
        """Whether a SIGINT/SIGTERM asked the run to stop."""
        return self.guard is not None and self.guard.signum is not None

    def scalars(self, logs=None):
        """The step's scalars as floats, or None when one is non-finite (the run then stops)."""
        if self.guard is None:
            return {k: float(v) for k, v in (logs or {}).items()}
        return self.guard.scalars(logs)


class Guard(StepCallback):
    """Counts generator steps from ``start_step`` without reading the model, stops the run when ``signals`` (an
    interrupt.SignalFlag) is set, and stops it at the first non-finite scalar that a callback reads; nothing is
    logged or saved for such a step. failure: (step, term, value, last step seen finite).

    agree: a multi-worker run's cluster.Worker.agree. The guard then reads the scalars after every step and the
    workers agree whether any of them was signalled or saw a non-finite scalar, so that all stop at the same step.
    """

    def __init__(self, start_step=None, signals=None, agree=None):
        super().__init__()
        self.start, self.current, self.signals = start_step, start_step, signals
        self.failure, self.last_finite, self.logs, self._read = None, start_step, None, (None, None)
        self.agree, self.agreed = agree, None

    @property
    def signum(self):
        """The signal the run stops on: this process's, or in a multi-worker run the one the workers agreed on."""
        if self.agree is not None:
            return self.agreed
        return None if self.signals is None else self.signals.signum

    def on_train_batch_end(self, batch, logs=None):
        if self.start is not None:
            self.current = self.start + batch + 1
        self.logs = logs
        if self.agree is not None:
            failed = self.scalars(logs) is None
            signum, failed_somewhere = self.agree(None if self.signals is None else self.signals.signum, failed)
            self.agreed = self.agreed or signum
            if failed_somewhere and self.failure is None:
                self.failure = (self.step(), "a training scalar", "non-finite on another worker", self.last_finite)
                self.model.stop_training = True
        if self.interrupted():
            self.model.stop_training = True

    def scalars(self, logs=None):
        step = self.step()
        if self._read[0] == step:
            return self._read[1]
        values = {k: float(v) for k, v in (logs if logs is not None else self.logs or {}).items()}
        bad = [(k, v) for k, v in values.items() if not np.isfinite(v)]
        if bad and self.failure is None:
            self.failure = (step, *bad[0], self.last_finite)
            self.model.stop_training = True
        elif not bad:
            self.last_finite = step
        self._read = (step, None if self.failure else values)
        return self._read[1]


class MetricsLogger(StepCallback):
    """Every log_every generator steps: a metrics.jsonl line with the step's scalars and the critic's health
    (train.health), TensorBoard scalars (train/..., health/...) and a progress line; a warning once when the drift
    term holds the critic (health.DriftWatch; drift_watch None: no watch)."""

    def __init__(self, run_dir, writer, total_steps, log_every, start_step, print_fn=print, drift_watch=None):
        super().__init__()
        self.run_dir = run_dir
        self.writer, self.total, self.every, self.print = writer, total_steps, log_every, print_fn
        self.last_time, self.last_step, self.start = None, start_step, start_step
        self.drift_watch = drift_watch

    def on_train_begin(self, logs=None):
        self.last_time = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self.step()
        if not self.stopped() and (step % self.every == 0 or step == self.total or step == self.start + 1):
            self.log(logs)

    def on_train_end(self, logs=None):
        if self.interrupted() and not self.stopped() and self.step() != self.last_step:
            self.log(None)  # the step the run stopped at

    def log(self, logs):
        values = self.scalars(logs)
        if values is None:
            return
        step = self.step()
        now = time.perf_counter()
        rate = (step - self.last_step) / max(now - self.last_time, 1e-9)
        self.last_time, self.last_step = now, step
        record = {"step": step, "time": time.time(), "steps_per_s": rate}
        record.update(values)
        record.update(health.critic_health(values))
        run_dir_lib.append_metrics(self.run_dir, record)
        with self.writer.as_default(step=step):
            for key, value in record.items():
                if key not in ("step", "time"):
                    compat.summary_scalar(f"{'health' if key in health.HEALTH_KEYS else 'train'}/{key}", value)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        scalars = " ".join(f"{k} {record[k]:.4g}" for k in ("wasserstein", "critic_loss", "generator_loss", "grad_norm")
                           if k in record)
        self.print(f"step {step}/{self.total} ({100 * step / self.total:.1f}%) | {rate:.2f} steps/s | "
                   f"ETA {progress.duration(eta)} | {scalars}", flush=True)
        warning = self.drift_watch.update(step, values) if self.drift_watch is not None else None
        if warning:
            self.print(warning, flush=True)


class CheckpointSaver(StepCallback):
    """Every checkpoint_every generator steps and at the end: CheckpointManager.save (written, then indexed).

    start_step: the step the run was restored at, which needs no new checkpoint; any other step is saved, so a
    damaged checkpoint that a resume skipped is written again when training reaches its step."""

    def __init__(self, manager, every, start_step=0):
        super().__init__()
        self.manager, self.every, self.saved = manager, every, start_step

    def save(self):
        """Saves the step's checkpoint. A checkpoint that cannot be written (disk full, no permission) raises
        OSError naming it, and the folder TensorFlow was writing it into (ckpt-<step>_temp) is removed."""
        step = self.step()
        if step != self.saved:
            path = os.path.join(self.manager.directory, f"ckpt-{step}")
            try:
                self.manager.save(checkpoint_number=step)
            except (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError) as error:
                shutil.rmtree(f"{path}_temp", ignore_errors=True)
                code = errno.ENOSPC if isinstance(error, tf.errors.ResourceExhaustedError) else errno.EACCES
                raise OSError(code, os.strerror(code), path) from None
            self.saved = step

    def on_train_batch_end(self, batch, logs=None):
        if not self.stopped() and self.step() % self.every == 0 and self.scalars(logs) is not None:
            self.save()

    def on_train_end(self, logs=None):
        if not self.stopped() and self.scalars() is not None:
            self.save()


class SampleWriter(StepCallback):
    """Every sample_every generator steps: samples/step_XXXXXXX.png of the EMA generator for a fixed z, and in
    TensorBoard the grid plus dD at real images, raw and as a direction in B (Adler & Lunz 2018, Figs. 8-14).

    dD(x) is an element of B*; the raw input gradient shows it in L^2 coordinates. To show what the critic "sees"
    in the chosen space we also draw spaces.dual_representation: the x in B with <dD, x> = ||dD||_{B*}^2 and
    ||x||_B = ||dD||_{B*}; for W^{s,2} that is the gradient mapped through the dual Sobolev filter twice
    (M_{-2s} dD, the Riesz representer), for L^p the duality map |g|^{q-1} sign g. Signed values are shown with
    0 at mid-grey (images.signed_to_uint8)."""

    def __init__(self, run_dir, writer, every, real_examples, space, num=64, seed=0):
        super().__init__()
        self.run_dir, self.writer, self.every = run_dir, writer, every
        self.real, self.space, self.num, self.seed = real_examples, spaces.parse(space), num, seed

    def on_train_batch_end(self, batch, logs=None):
        if not self.stopped() and self.every and self.step() % self.every == 0 and self.scalars(logs) is not None:
            self.write()

    def on_train_end(self, logs=None):  # an interrupted run stops quickly: no grid
        if not self.stopped() and not self.interrupted() and self.scalars() is not None:
            self.write()

    def write(self):
        step = self.step()
        if self.real.ndim == 2:
            picture = toy_plots.toy_picture(self.model, self.real, seed=self.seed)
        else:
            picture = images.grid(images.to_uint8(self.model.sample(self.num, self.seed).numpy()))
        images.write_png(run_dir_lib.sample_path(self.run_dir, step), picture)
        with self.writer.as_default(step=step):
            compat.summary_image("samples", picture[None])
            if self.real.ndim == 4:
                self._gradient_images()

    def _gradient_images(self):
        real = tf.constant(self.real[:8])
        with tf.GradientTape() as tape:
            tape.watch(real)
            scores = tf.reduce_sum(tf.cast(self.model.critic(real, training=False), tf.float32))
        gradient = tape.gradient(scores, real)
        compat.summary_image("dD/raw_gradient", _as_displayable(images.signed_to_uint8(gradient.numpy())),
                             max_outputs=8)
        if isinstance(self.space, (spaces.Lp, spaces.Sobolev)):
            direction = spaces.dual_representation(self.space, gradient).numpy()
            compat.summary_image("dD/direction_in_B", _as_displayable(images.signed_to_uint8(direction)),
                                 max_outputs=8)


def _as_displayable(batch: np.ndarray) -> np.ndarray:
    return batch if batch.shape[-1] in (1, 3, 4) else batch[..., :1]
