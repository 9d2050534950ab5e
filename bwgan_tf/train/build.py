"""From a TrainConfig to a compiled WassersteinGAN, and back from a run directory's checkpoints."""
import os
import time
from typing import Optional, Tuple

import tensorflow as tf

from bwgan_tf import data, gan, lipschitz, models, parameters, schedules
from bwgan_tf.train import run_dir as run_dir_lib
from bwgan_tf.train.config import TrainConfig


def resolve_xla(config: TrainConfig) -> bool:
    """"auto": XLA where it was measured faster: on GPU always; on CPU for the MLPs (XLA's CPU convolutions are
    slower than oneDNN's, BUILD_NOTES.md). Never under a distribution strategy (cross-replica updates)."""
    if config.strategy != "default":
        return False
    if config.xla != "auto":
        return config.xla
    return bool(tf.config.list_physical_devices("GPU")) or all(
        name in ("mlp", "toy_mlp") for name in config.architectures)


def native_bfloat16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes bfloat16 natively: x86 AVX512_BF16 or AMX-BF16, or Arm's BF16 extension (the
    flags of /proc/cpuinfo; False where there is none)."""
    try:
        with open(cpuinfo) as f:
            features = {word for line in f if line.startswith(("flags", "Features")) for word in line.split()}
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16", "bf16"} & features)


def resolve_mixed_precision(config: TrainConfig) -> bool:
    """"auto": mixed_bfloat16 for the convolutional models on CPUs with native bfloat16, where the study measured
    it faster with FID within the seed-to-seed spread (BUILD_NOTES.md); float32 on GPU and for the MLPs."""
    if config.mixed_precision != "auto":
        return config.mixed_precision
    if tf.config.list_physical_devices("GPU"):
        return False
    return native_bfloat16() and not all(name in ("mlp", "toy_mlp") for name in config.architectures)


def lambda_gamma(config: TrainConfig) -> Tuple[float, float]:
    """The config's lam and gamma as numbers: "auto" from 2,000 real images (parameters.resolve_lambda_gamma);
    0 and 1 for a strategy that uses neither."""
    if not lipschitz.STRATEGIES[config.lipschitz].uses_lambda_gamma:
        return 0.0, 1.0
    real = None
    if "auto" in (config.lam, config.gamma):
        real = data.take(config.dataset, parameters.MIN_HEURISTIC_IMAGES, data_dir=config.data_dir,
                         seed=config.seed, image_size=config.image_size)
    return parameters.resolve_lambda_gamma(config.space, config.lam, config.gamma, real, config.gamma_rule)


def base_lr(config: TrainConfig) -> float:
    """The learning rate before decay: --lr, or the strategy's paper default."""
    return lipschitz.STRATEGIES[config.lipschitz].default_lr if config.lr is None else config.lr


def build_generator(config: TrainConfig) -> tf.keras.Model:
    """The config's generator, freshly initialised."""
    generator_name, critic_name = config.architectures
    return models.build_generator(generator_name, image_shape=data.sample_shape(config.dataset, config.image_size),
                                  latent_dim=config.latent_dim, batch_norm=config.generator_batch_norm,
                                  width=config.width if generator_name == critic_name else None, seed=config.seed)


def build_model(config: TrainConfig, lr_plan: Optional[list] = None) -> gan.WassersteinGAN:
    """The compiled WassersteinGAN of a config whose lam and gamma are numbers (see lambda_gamma).

    lr_plan: the run's learning-rate plan as config.json stores it (bwgan_tf.schedules); default: linear decay to
    0 over config.steps when config.lr_decay."""
    image_shape = data.sample_shape(config.dataset, config.image_size)
    generator = build_generator(config)
    critic = models.build_critic(config.architectures[1], image_shape=image_shape, width=config.width,
                                 seed=config.seed + 1, normalization=config.critic_normalization,
                                 output_scale=config.gamma if config.scale_critic_output else 1.0)
    strategy = lipschitz.build(config.lipschitz, space=config.space, lam=config.lam, gamma=config.gamma,
                               clip=config.clip, one_sided=config.one_sided)
    model = gan.WassersteinGAN(generator, critic, latent_dim=config.latent_dim, lipschitz=strategy,
                               n_critic=config.n_critic, ema_decay=config.ema_decay, drift=config.drift,
                               drift_mode=config.drift_mode,
                               seed=config.seed, generator_batch_factor=config.generator_batch_factor,
                               critic_schedule=config.critic_schedule)
    optimizers = schedules.paper_optimizers(config.lipschitz, lr=config.lr, n_critic=config.n_critic,
                                      decay_steps=(lr_plan or config.steps) if config.lr_decay else None,
                                      betas=(config.adam_beta1, config.adam_beta2))
    if tf.keras.mixed_precision.global_policy().name == "mixed_float16":
        optimizers = tuple(tf.keras.mixed_precision.LossScaleOptimizer(o) for o in optimizers)
    model.compile(*optimizers, jit_compile=resolve_xla(config))
    return model


def checkpoint_manager(model: Optional[gan.WassersteinGAN], run_dir: str, keep: int = 3) -> tf.train.CheckpointManager:
    """The run's CheckpointManager (model None: only to list the checkpoints)."""
    checkpoint = tf.train.Checkpoint(**(model.checkpoint_items() if model is not None else {}))
    return tf.train.CheckpointManager(checkpoint, run_dir_lib.checkpoint_dir(run_dir), max_to_keep=keep)


def checkpoint_step(path: str) -> int:
    """The generator step a checkpoint is named after (CheckpointManager's ckpt-<step>)."""
    return int(path.rsplit("-", 1)[1])


def copy_checkpoint(checkpoint: str, run_dir: str) -> str:
    """Copies a checkpoint's files byte for byte into run_dir's checkpoints as its only one; returns the copy."""
    target = run_dir_lib.checkpoint_dir(run_dir)
    for path in tf.io.gfile.glob(checkpoint + ".*"):
        tf.io.gfile.copy(path, os.path.join(target, os.path.basename(path)), overwrite=True)
    copied = os.path.join(target, os.path.basename(checkpoint))
    now = time.time()  # CheckpointManager lists only checkpoints newer than the last preserved timestamp
    tf.compat.v1.train.update_checkpoint_state(target, copied, all_model_checkpoint_paths=[copied],
                                               all_model_checkpoint_timestamps=[now], last_preserved_timestamp=now - 1)
    return copied


def intact_checkpoint(manager: tf.train.CheckpointManager, print_fn=print) -> Optional[str]:
    """The newest of the manager's checkpoints whose every tensor reads back; a damaged one (truncated or missing
    data file) is reported and skipped. None when there is none; RuntimeError when all are damaged."""
    damaged = []
    for path in reversed(manager.checkpoints):
        try:
            reader = tf.train.load_checkpoint(path)
            for name in reader.get_variable_to_shape_map():
                reader.get_tensor(name)
        except (tf.errors.OpError, ValueError, IndexError, RuntimeError, OSError) as error:  # what the reader raises
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            print_fn(f"checkpoint {path} is damaged ({type(error).__name__}: {message}); trying the one before",
                     flush=True)
            damaged.append(path)
            continue
        return path
    if damaged:
        raise RuntimeError(f"every checkpoint in {manager.directory} is damaged ({', '.join(damaged)}); move them "
                           f"away to start the run afresh")
    return None


def read_config(run_dir: str) -> TrainConfig:
    """The TrainConfig saved in a run directory (lam and gamma as resolved); a setting that config.json holds with
    a bad value is a ValueError that starts with the file's path."""
    saved = run_dir_lib.read_config(run_dir)
    try:
        return TrainConfig.from_dict(saved, ignore_unknown=True)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{run_dir_lib.config_path(run_dir)}: {error}") from None


def load_model(run_dir: str, checkpoint: Optional[str] = None) -> Tuple[gan.WassersteinGAN, TrainConfig]:
    """The model of a run directory restored from its latest (or the given) checkpoint, and its config."""
    config = read_config(run_dir)
    model = build_model(config)
    manager = checkpoint_manager(model, run_dir)
    path = checkpoint or manager.latest_checkpoint
    if path is None:
        raise ValueError(f"run_dir: {run_dir!r} has no checkpoint yet")
    manager.checkpoint.restore(path).expect_partial()
    return model, config
