"""The training run: lock and prepare the run directory, build or restore the model, fit with the callbacks."""
import contextlib
import json
import os

import tensorflow as tf

from bwgan_tf import critic_schedule, data
from bwgan_tf.io import files, images
from bwgan_tf.train import build, callbacks, cluster, health, hparams, interrupt, resume
from bwgan_tf.train import run_dir as run_dir_lib
from bwgan_tf.train.config import TrainConfig


class NonFiniteLossError(RuntimeError):
    """A training scalar became NaN or infinite; the run stopped and kept its last good checkpoint."""


def _distribution(name: str) -> tf.distribute.Strategy:
    return tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.get_strategy()


def _policy(enabled: bool) -> str:
    if not enabled:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def train(config, print_fn=print, extra_callbacks=()) -> str:
    """Trains (or resumes) the run described by ``config`` (a TrainConfig, or a dict of its fields) and returns
    its run directory. extra_callbacks (callbacks.StepCallback) run after the standard ones (runs.restarts: the
    SGDR snapshots).

    Raises ValueError for bad settings (or settings that differ from the run directory's), RunDirectoryBusy when
    another trainer holds the run directory, NonFiniteLossError when a training scalar becomes NaN/inf,
    TrainingInterrupted after SIGINT/SIGTERM (a checkpoint at the step reached is saved first) and, with
    strategy multi_worker, cluster.WorkerLost when a peer worker died or stopped answering.
    """
    config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
    run_dir = config.output_dir
    if not run_dir:
        raise ValueError("output_dir is required")
    worker = cluster.Worker(config.collective_timeout) if config.strategy == "multi_worker" else None
    images.check_grid_shape(data.sample_shape(config.dataset, config.image_size), "dataset")
    if worker is not None and not worker.is_chief:  # reads the run directory, writes only into a scratch one
        with worker.scratch() as scratch:
            print_fn(f"{worker}: the chief writes {run_dir}; this worker writes into {scratch} (deleted)", flush=True)
            return _prepared(config, print_fn, worker, run_dir_lib.create(scratch), ())
    run_dir_lib.create(run_dir)
    with run_dir_lib.locked(run_dir):
        return _prepared(config, _also_logged(print_fn, run_dir), worker, run_dir, extra_callbacks)


def _prepared(config: TrainConfig, print_fn, worker, write_dir: str, extra_callbacks) -> str:
    """Finds the checkpoint to resume from, settles the run's config and trains; what the run writes goes to
    write_dir (the run directory, or a non-chief worker's scratch directory, which gets no extra_callbacks)."""
    manager = build.checkpoint_manager(None, config.output_dir)
    checkpoint = build.intact_checkpoint(manager, print_fn)
    start = build.checkpoint_step(checkpoint) if checkpoint else 0
    config, lr_plan, record = resume.prepare_run_dir(config, start, print_fn, write=write_dir == config.output_dir)
    print_fn("config: " + json.dumps(config.to_dict(), sort_keys=True), flush=True)
    previous_policy = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(_policy(config.mixed_precision))
    try:
        return _train(config, lr_plan, checkpoint, print_fn, worker, write_dir, extra_callbacks, record)
    finally:
        tf.keras.mixed_precision.set_global_policy(previous_policy)


def _also_logged(print_fn, run_dir: str):
    """print_fn that also appends each message to the run directory's log.txt."""

    def both(*args, **kwargs):
        print_fn(*args, **kwargs)
        run_dir_lib.append_log(run_dir, " ".join(str(a) for a in args))

    return both


def _train(config: TrainConfig, lr_plan, checkpoint, print_fn, worker, write_dir, extra_callbacks, record) -> str:
    run_dir, chief = config.output_dir, write_dir == config.output_dir
    with (worker.strategy if worker else _distribution(config.strategy)).scope():
        model = build.build_model(config, lr_plan)
    record()  # config.json and provenance: the run has started
    manager = build.checkpoint_manager(model, write_dir, config.keep_checkpoints)
    if checkpoint:
        manager.checkpoint.restore(checkpoint).assert_existing_objects_matched()
        print_fn(f"resumed from {checkpoint}", flush=True)
    start = int(model.generator_steps.numpy())
    if checkpoint and start != build.checkpoint_step(checkpoint):
        raise RuntimeError(f"{checkpoint} restored generator step {start}, not the step it is named after: the "
                           f"checkpoint is inconsistent")
    if worker:
        worker.check_same(start, "the generator step to resume from")
    run_dir_lib.truncate_metrics(write_dir, start)
    remaining = config.steps - start
    if remaining <= 0:
        print_fn(f"run complete: {start} of {config.steps} generator steps already done", flush=True)
        return run_dir
    repeats = data.repeat_warning(config.dataset, data.num_images(config.dataset, config.train_split),
                                  config.batch_size, config.n_critic)
    if repeats:
        print_fn(repeats, flush=True)

    schedule = critic_schedule.Schedule(config.critic_schedule, config.n_critic)

    def load(shard=(0, 1)):  # a worker's shard of each critic batch, grouped per generator step
        return schedule.group(data.load(
            config.dataset, config.train_split, batch_size=config.batch_size * schedule.batches_per_element,
            data_dir=config.data_dir, seed=config.seed * 1_000_003, image_size=config.image_size,
            start_batch=schedule.first_element(start), flip=config.flip, dequantize=config.dequantize, shard=shard),
            start)

    dataset = worker.distribute(load, config.batch_size) if worker else load()
    with interrupt.catching_signals() as signals:
        guard = callbacks.Guard(start, signals, agree=worker.agree if worker else None)
        saver = callbacks.CheckpointSaver(manager, config.checkpoint_every, start)
        writer = tf.summary.create_file_writer(run_dir_lib.tensorboard_dir(run_dir)) if chief else None
        logger, *others = _chief_callbacks(config, writer, start, print_fn) if chief else [None]
        active = [c for c in (guard, logger, saver, *others, *extra_callbacks) if c is not None]
        for callback in active:
            callback.guard = guard
        print_fn(f"training {remaining} generator steps ({config.n_critic} critic steps each, batch "
                 f"{config.batch_size}) in {run_dir}", flush=True)
        watching = worker.watchdog(lambda: f"last step {guard.step()}, last checkpoint "
                                           f"{_in_run_dir(manager.latest_checkpoint, run_dir)}"
                                   ) if worker else contextlib.nullcontext()
        try:
            with watching:
                model.fit(dataset, epochs=1, steps_per_epoch=remaining, callbacks=active, verbose=0)
        except cluster.PEER_ERRORS as error:
            if worker is None:
                raise
            raise worker.lost(error, guard.step(), _in_run_dir(manager.latest_checkpoint, run_dir)) from None
        except OSError as error:
            if not files.unwritable(error):
                raise
            raise OSError(error.errno, f"{error.strerror}; training stopped at generator step {guard.step()}, the "
                                       f"last checkpoint is {_in_run_dir(manager.latest_checkpoint, run_dir)}; make "
                                       f"room, then continue with: python tools/train.py --output_dir={run_dir} "
                                       f"--resume", error.filename) from None
        if writer is not None:
            writer.flush()
    saved = _in_run_dir(manager.latest_checkpoint, run_dir)
    if guard.failure is not None:
        step, term, value, finite = guard.failure
        raise NonFiniteLossError(f"training stopped at generator step {step}: {term} is {value} (finite at step "
                                 f"{finite}); the last good checkpoint is {saved}")
    if guard.signum is not None:
        stopped = interrupt.TrainingInterrupted(guard.signum, guard.step(), saved, run_dir)
        print_fn(str(stopped), flush=True)
        raise stopped
    return run_dir


def _chief_callbacks(config: TrainConfig, writer, start: int, print_fn) -> list:
    """The callbacks that write the run directory (metrics log first, samples, evaluations); writes reals.png and
    a new run's hyperparameters."""
    run_dir = config.output_dir
    toy = data.sample_shape(config.dataset, config.image_size) == (2,)
    real = data.take(config.dataset, 1000 if toy else 64, data_dir=config.data_dir, seed=config.seed + 1,
                     image_size=config.image_size)
    if not toy and not os.path.exists(run_dir_lib.reals_path(run_dir)):  # real images beside the generated grids
        images.write_png(run_dir_lib.reals_path(run_dir), images.grid(images.to_uint8(real)))
    examples = real if toy else real[:8]  # the real points of the 2-D pictures, or the images whose dD is shown
    if start == 0:
        hparams.write(writer, config, print_fn)
    watch = health.DriftWatch(config.drift, config.drift_mode) if config.drift else None
    active = [callbacks.MetricsLogger(run_dir, writer, config.steps, config.log_every, start, print_fn, watch),
              callbacks.SampleWriter(run_dir, writer, config.sample_every, examples, config.space, seed=config.seed)]
    if config.eval_every:
        from bwgan_tf.train.evaluation import EvaluationCallback  # imports TF-GAN; only needed when evaluating
        active.append(EvaluationCallback(
            run_dir, reference=config.dataset, eval_every=config.eval_every, metrics=config.eval_metrics,
            num_samples=config.eval_num_samples, classifier=config.eval_classifier, inception=config.inception,
            data_dir=config.data_dir, seed=config.seed))
    return active


def _in_run_dir(checkpoint, run_dir: str):
    """A checkpoint path as it is named in the run directory (a non-chief worker saves into its scratch one)."""
    return checkpoint and os.path.join(run_dir_lib.checkpoint_dir(run_dir), os.path.basename(checkpoint))
