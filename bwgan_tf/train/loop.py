"""The training run: prepare the run directory, build or restore the model, fit with the callbacks."""
import json

import tensorflow as tf

from bwgan_tf import data
from bwgan_tf.train import build, callbacks
from bwgan_tf.train import run_dir as run_dir_lib
from bwgan_tf.train.config import TrainConfig

# Settings that define the model and the data it learns; a resumed run must agree on them.
MODEL_KEYS = ("dataset", "image_size", "space", "lipschitz", "architecture", "width", "latent_dim",
              "critic_normalization", "generator_batch_norm", "n_critic", "batch_size", "seed")


class NonFiniteLossError(RuntimeError):
    """A training scalar became NaN or infinite; the run stopped and kept its last good checkpoint."""


def prepare_run_dir(config: TrainConfig) -> TrainConfig:
    """Creates output_dir (or checks that an existing run agrees on MODEL_KEYS) and writes config.json.

    Returns the config with lam and gamma resolved (a resumed run keeps the values it resolved first).
    """
    run_dir = config.output_dir
    if not run_dir:
        raise ValueError("output_dir is required")
    if run_dir_lib.exists(run_dir):
        saved = run_dir_lib.read_config(run_dir)
        changed = [k for k in MODEL_KEYS if saved.get(k) != getattr(config, k)]
        if changed:
            details = ", ".join(f"{k}: {saved.get(k)!r} there, {getattr(config, k)!r} now" for k in changed)
            raise ValueError(f"output_dir: {run_dir!r} holds a different run ({details}); resume it with the same "
                             f"settings or choose another output_dir")
        config = config.replace(lam=saved["lam"], gamma=saved["gamma"])
        source = saved.get("lam_gamma_source")
    else:
        source = {k: ("heuristic" if getattr(config, k) == "auto" else "given") for k in ("lam", "gamma")}
        lam, gamma = build.resolve_lambda_gamma(config)
        config = config.replace(lam=lam, gamma=gamma)
    run_dir_lib.create(run_dir)
    run_dir_lib.write_config(run_dir, dict(config.to_dict(), lam_gamma_source=source))
    return config


def _distribution(name: str) -> tf.distribute.Strategy:
    return tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.get_strategy()


def _policy(enabled: bool) -> str:
    if not enabled:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def train(config, print_fn=print) -> str:
    """Trains (or resumes) the run described by ``config`` (a TrainConfig, or a dict of its fields) and returns
    its run directory.

    Raises ValueError for bad settings and NonFiniteLossError when a training scalar becomes NaN/inf.
    """
    config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
    config = prepare_run_dir(config)
    print_fn("config: " + json.dumps(config.to_dict(), sort_keys=True), flush=True)
    previous_policy = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(_policy(config.mixed_precision))
    try:
        return _train(config, print_fn)
    finally:
        tf.keras.mixed_precision.set_global_policy(previous_policy)


def _train(config: TrainConfig, print_fn) -> str:
    run_dir = config.output_dir
    with _distribution(config.strategy).scope():
        model = build.build_model(config)
    manager = build.checkpoint_manager(model, run_dir, config.keep_checkpoints)
    if manager.latest_checkpoint:
        manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        print_fn(f"resumed from {manager.latest_checkpoint}", flush=True)
    start = int(model.generator_steps.numpy())
    if manager.latest_checkpoint and start != int(manager.latest_checkpoint.rsplit("-", 1)[1]):
        raise RuntimeError(f"{manager.latest_checkpoint} restored generator step {start}, not the step it is named "
                           f"after: the checkpoint is inconsistent")
    run_dir_lib.truncate_metrics(run_dir, start)
    remaining = config.steps - start
    if remaining <= 0:
        print_fn(f"run complete: {start} of {config.steps} generator steps already done", flush=True)
        return run_dir
    dataset = data.load(config.dataset, "train", batch_size=config.batch_size * config.n_critic,
                        data_dir=config.data_dir, seed=config.seed * 1_000_003 + start, image_size=config.image_size)
    toy = data.sample_shape(config.dataset, config.image_size) == (2,)
    examples = data.take(config.dataset, 1000 if toy else 8, data_dir=config.data_dir, seed=config.seed + 1,
                         image_size=config.image_size)
    writer = tf.summary.create_file_writer(run_dir_lib.tensorboard_dir(run_dir))
    guard = callbacks.NonFiniteGuard()
    active = [guard, callbacks.MetricsLogger(run_dir, writer, config.steps, config.log_every, start, print_fn),
              callbacks.CheckpointSaver(manager, config.checkpoint_every),
              callbacks.SampleWriter(run_dir, writer, config.sample_every, examples, config.space, seed=config.seed)]
    if config.eval_every:
        from bwgan_tf.train.evaluation import EvaluationCallback  # imports TF-GAN; only needed when evaluating
        active.append(EvaluationCallback(
            run_dir, reference=config.dataset, eval_every=config.eval_every, metrics=config.eval_metrics,
            num_samples=config.eval_num_samples, classifier=config.eval_classifier, inception=config.inception,
            data_dir=config.data_dir, seed=config.seed))
    for callback in active:
        callback.guard = guard
    print_fn(f"training {remaining} generator steps ({config.n_critic} critic steps each, batch "
             f"{config.batch_size}) in {run_dir}", flush=True)
    model.fit(dataset, epochs=1, steps_per_epoch=remaining, callbacks=active, verbose=0)
    writer.flush()
    if guard.failure is not None:
        step, term, value = guard.failure
        raise NonFiniteLossError(f"training stopped at generator step {step}: {term} is {value}; the last good "
                                 f"checkpoint is {manager.latest_checkpoint}")
    return run_dir
